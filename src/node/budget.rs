//! Budgets for gossip: records and bytes per minute per publisher and per forwarding peer, and,
//! under the `open` policy, the total storage of each publisher that is not a partner (which
//! records fetched by sync count against too). A valid record over a budget is not stored
//! (gossipsub hears `Ignore`; sync can bring it later when the budget allows). Bounded: at most
//! [`MAX_KEYS`] publishers and peers are tracked; the storage cap reads the store's totals.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

use super::Shared;
use crate::config::TrustConfig;
use crate::net::{Inbound, PeerId};
use crate::record::Record;
use crate::trust::{Policy, PolicyKind};

/// Publishers or peers tracked at most; beyond that the buckets start afresh.
const MAX_KEYS: usize = 10_000;

/// A budget's allowance per minute (also the most it can save up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub records: f64,
    pub bytes: f64,
}

impl Allowance {
    fn per_second(self) -> Allowance {
        Allowance { records: self.records / 60.0, bytes: self.bytes / 60.0 }
    }
}

struct Bucket {
    records: f64,
    bytes: f64,
    refilled: Instant,
}

/// Token buckets, one per key.
pub struct Buckets<K> {
    allowance: Allowance,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq> Buckets<K> {
    pub fn new(allowance: Allowance) -> Self {
        Self { allowance, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one record of `bytes` from `key`'s budget; false (and nothing taken) when over it.
    pub fn take(&self, key: K, bytes: usize) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(&key) {
            buckets.clear();
        }
        let full = self.allowance;
        let bucket = buckets.entry(key).or_insert(Bucket { records: full.records, bytes: full.bytes, refilled: now });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        let rate = full.per_second();
        bucket.records = (bucket.records + elapsed * rate.records).min(full.records);
        bucket.bytes = (bucket.bytes + elapsed * rate.bytes).min(full.bytes);
        bucket.refilled = now;
        if bucket.records < 1.0 || bucket.bytes < bytes as f64 {
            return false;
        }
        bucket.records -= 1.0;
        bucket.bytes -= bytes as f64;
        true
    }
}

/// Why a valid record was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBudget {
    Publisher,
    Peer,
    Storage,
}

impl OverBudget {
    pub fn as_str(self) -> &'static str {
        match self {
            OverBudget::Publisher => "publisher-budget",
            OverBudget::Peer => "peer-budget",
            OverBudget::Storage => "publisher-storage",
        }
    }
}

/// Bytes of records taken in one batch (of gossip, or of a sync's fetch) and not stored yet,
/// by publisher: the storage cap counts them with what the store holds.
pub(super) type Pending = HashMap<[u8; 32], u64>;

/// The storage cap under `open`: bytes a publisher that is not a partner may have held.
pub struct StorageCap {
    cap: u64,
}

impl StorageCap {
    /// Whether `bytes` more of a publisher fit beside the `held` bytes the store has of it and
    /// what this batch already took; takes them if so.
    pub fn take(&self, publisher: &[u8; 32], bytes: usize, held: u64, pending: &mut Pending) -> bool {
        let taken = pending.entry(*publisher).or_default();
        if held + *taken + bytes as u64 > self.cap {
            return false;
        }
        *taken += bytes as u64;
        true
    }
}

/// Every gossip budget of a node.
pub struct Budgets {
    publishers: Buckets<[u8; 32]>,
    peers: Buckets<PeerId>,
    storage: StorageCap,
}

impl Budgets {
    pub fn new(config: &TrustConfig) -> Self {
        let mib = |n: u64| (n * 1024 * 1024) as f64;
        Self {
            publishers: Buckets::new(Allowance {
                records: config.publisher_records_per_minute as f64,
                bytes: mib(config.publisher_mib_per_minute),
            }),
            peers: Buckets::new(Allowance {
                records: config.peer_records_per_minute as f64,
                bytes: mib(config.peer_mib_per_minute),
            }),
            storage: StorageCap { cap: config.publisher_storage_mib * 1024 * 1024 },
        }
    }
}

/// Takes a valid gossiped record from its budgets (own records and records already held
/// cost nothing): the storage cap, then its publisher's and its peer's rates.
pub(super) fn within_budget(
    shared: &Shared,
    policy: &Policy,
    record: &Record,
    inbound: &Inbound,
    pending: &mut Pending,
) -> Result<(), OverBudget> {
    let publisher = record.publisher().0;
    if publisher == shared.own().0 || shared.store().contains(&record.id()).unwrap_or(false) {
        return Ok(());
    }
    if !within_cap(shared, policy, &publisher, inbound.data.len(), pending) {
        return Err(OverBudget::Storage);
    }
    let budgets = &shared.budgets;
    if !budgets.publishers.take(publisher, inbound.data.len()) {
        return Err(OverBudget::Publisher);
    }
    if !budgets.peers.take(inbound.source, inbound.data.len()) {
        return Err(OverBudget::Peer);
    }
    Ok(())
}

/// Whether a record of `bytes` fits its publisher's storage cap (always, unless the policy is
/// `open` and the publisher is neither a partner nor this node); takes it into `pending` if so.
/// The store keeps each publisher's total, so this reads one entry.
pub(super) fn within_cap(
    shared: &Shared,
    policy: &Policy,
    publisher: &[u8; 32],
    bytes: usize,
    pending: &mut Pending,
) -> bool {
    let capped = policy.kind() == PolicyKind::Open && !policy.is_partner(publisher) && *publisher != shared.own().0;
    if !capped {
        return true;
    }
    let held = shared.store().publisher_bytes(publisher).unwrap_or_default();
    shared.budgets.storage.take(publisher, bytes, held, pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_admits_a_minutes_worth_then_refuses_and_keeps_keys_apart() {
        let buckets = Buckets::new(Allowance { records: 5.0, bytes: 1000.0 });
        let admitted = (0..20).filter(|_| buckets.take(1u8, 10)).count();
        assert_eq!(admitted, 5);
        assert!(buckets.take(2u8, 10), "another key has its own budget");
        assert!(!buckets.take(3u8, 1001), "a record larger than the byte budget never fits");
    }

    #[test]
    fn the_storage_cap_counts_what_is_held_and_what_a_batch_took() {
        let cap = StorageCap { cap: 1024 * 1024 };
        let mut pending = Pending::new();
        let held = 1024 * 1024 - 2000;
        assert!(cap.take(&[1; 32], 1000, held, &mut pending));
        assert!(!cap.take(&[1; 32], 1001, held, &mut pending), "the batch's first record counts");
        assert!(cap.take(&[1; 32], 1000, held, &mut pending), "what is left still fits");
        assert!(cap.take(&[2; 32], 5000, 0, &mut pending), "another publisher has its own room");
        assert!(!cap.take(&[3; 32], 1024 * 1024 + 1, 0, &mut pending), "a record over the cap never fits");
    }
}
