//! Budgets for gossip: records and bytes per minute per publisher and per forwarding peer, and,
//! under the `open` policy, the total storage of each publisher that is not a partner. A valid
//! record over a budget is not stored (gossipsub hears `Ignore`; sync can bring it later when
//! the budget allows). Bounded: at most [`MAX_KEYS`] publishers and peers are tracked.

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

/// Every gossip budget of a node.
pub struct Budgets {
    publishers: Buckets<[u8; 32]>,
    peers: Buckets<PeerId>,
    /// Most bytes stored per non-partner publisher under `open`.
    storage_cap: u64,
    /// Bytes held per publisher, read from the store's total on first sight, then counted here.
    usage: Mutex<HashMap<[u8; 32], u64>>,
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
            storage_cap: config.publisher_storage_mib * 1024 * 1024,
            usage: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a record from its publisher's and its peer's budgets; `capped` asks for the storage
    /// cap too, with `held` counting the publisher's bytes held when it is first seen.
    pub fn admit(
        &self,
        publisher: &[u8; 32],
        peer: PeerId,
        bytes: usize,
        capped: bool,
        held: impl FnOnce() -> u64,
    ) -> Result<(), OverBudget> {
        if capped {
            self.within_storage(publisher, bytes, held)?;
        }
        if !self.publishers.take(*publisher, bytes) {
            return Err(OverBudget::Publisher);
        }
        if !self.peers.take(peer, bytes) {
            return Err(OverBudget::Peer);
        }
        Ok(())
    }

    /// Checks the storage cap alone (for records fetched by sync, which has no rate budget).
    pub fn within_storage(
        &self,
        publisher: &[u8; 32],
        bytes: usize,
        held: impl FnOnce() -> u64,
    ) -> Result<(), OverBudget> {
        let mut usage = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if usage.len() >= MAX_KEYS && !usage.contains_key(publisher) {
            usage.clear();
        }
        let used = *usage.entry(*publisher).or_insert_with(held);
        if used + bytes as u64 > self.storage_cap {
            return Err(OverBudget::Storage);
        }
        Ok(())
    }

    /// Counts bytes stored for a publisher.
    pub fn stored(&self, publisher: &[u8; 32], bytes: usize) {
        if let Some(used) = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_mut(publisher) {
            *used += bytes as u64;
        }
    }
}

/// Takes a valid gossiped record from its budgets (own records and records already held
/// cost nothing).
pub(super) fn within_budget(
    shared: &Shared,
    policy: &Policy,
    record: &Record,
    inbound: &Inbound,
) -> Result<(), OverBudget> {
    let publisher = record.publisher().0;
    if publisher == shared.own().0 || shared.store().contains(&record.id()).unwrap_or(false) {
        return Ok(());
    }
    let capped = capped(shared, policy, &publisher);
    shared.budgets.admit(&publisher, inbound.source, inbound.data.len(), capped, || held_bytes(shared, &publisher))
}

/// Whether a publisher's storage is capped: under `open`, unless it is a partner or us.
fn capped(shared: &Shared, policy: &Policy, publisher: &[u8; 32]) -> bool {
    policy.kind() == PolicyKind::Open && !policy.is_partner(publisher) && *publisher != shared.own().0
}

/// Bytes of a publisher's records held: the store keeps the total, so this reads one entry.
fn held_bytes(shared: &Shared, publisher: &[u8; 32]) -> u64 {
    shared.store().publisher_bytes(publisher).unwrap_or_default()
}

/// Whether a record fetched by sync fits its publisher's storage cap; counts it if so (the
/// caller stores it next). A record over the cap is dropped without fault.
pub(super) fn fetched_within_cap(shared: &Shared, policy: &Policy, publisher: &[u8; 32], bytes: usize) -> bool {
    if !capped(shared, policy, publisher) {
        return true;
    }
    match shared.budgets.within_storage(publisher, bytes, || held_bytes(shared, publisher)) {
        Ok(()) => {
            shared.budgets.stored(publisher, bytes);
            true
        }
        Err(over) => {
            shared.metrics.ignored(over.as_str());
            false
        }
    }
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
    fn the_storage_cap_counts_what_is_held_and_what_is_stored() {
        let config = TrustConfig { publisher_storage_mib: 1, ..TrustConfig::default() };
        let budgets = Budgets::new(&config);
        let peer = PeerId::random();
        assert_eq!(budgets.admit(&[1; 32], peer, 1000, true, || 1024 * 1024 - 2000), Ok(()));
        budgets.stored(&[1; 32], 1000);
        assert_eq!(budgets.admit(&[1; 32], peer, 1001, true, || 0), Err(OverBudget::Storage));
        assert_eq!(budgets.admit(&[1; 32], peer, 1000, false, || 0), Ok(()), "partners are not capped");
    }
}
