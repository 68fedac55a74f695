//! The integrity pass run when the store was not closed cleanly: the records tree is the source
//! of truth, and every index must say exactly what the records tree implies.

use std::collections::{BTreeMap, BTreeSet};

use super::{Store, StoreError, head_key, history_key, parse_total, time_key, version_bytes};
use crate::record::{self, Version};

/// What the pass found and did.
pub(super) struct Repair {
    pub rebuilt: bool,
    pub dropped: u64,
}

/// The index entries the records tree implies.
#[derive(Default)]
struct Expected {
    ids: BTreeMap<Vec<u8>, Vec<u8>>,
    by_time: BTreeSet<Vec<u8>>,
    by_publisher: BTreeSet<Vec<u8>>,
    heads: BTreeMap<Vec<u8>, Version>,
    publisher_bytes: BTreeMap<[u8; 32], u64>,
    blob_names: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Compares the indexes with the records tree and rebuilds all of them when any differs.
/// Records that no longer decode, and second copies of a record, are removed (sync can fetch
/// anything lost again).
pub(super) fn check_and_repair(store: &Store) -> Result<Repair, StoreError> {
    let mut expected = Expected::default();
    let mut damaged = Vec::new();
    for entry in store.records.iter() {
        let (sequence, stored) = entry?;
        match store.decode_stored(&stored) {
            Ok(record) if !expected.ids.contains_key(&record.id().0[..]) => {
                expected.ids.insert(record.id().0.to_vec(), sequence.to_vec());
                let key = record.key();
                expected.by_time.insert(time_key(record.timestamp_ms(), record.id()));
                expected.by_publisher.insert(history_key(&key, record.version()));
                let head = expected.heads.entry(head_key(&key)).or_insert(record.version());
                *head = (*head).max(record.version());
                *expected.publisher_bytes.entry(record.publisher().0).or_default() +=
                    record.envelope_bytes().len() as u64;
                expected.blob_names.extend(super::blob_names::entries(&record));
            }
            _ => damaged.push(sequence),
        }
    }
    for sequence in &damaged {
        tracing::warn!(entry = %record::to_hex(sequence), "removing a damaged or repeated record; sync will fetch it again");
        store.records.remove(sequence)?;
    }
    let agrees = same_entries(&store.ids, &expected.ids)?
        && same_keys(&store.by_time, &expected.by_time)?
        && same_keys(&store.by_publisher, &expected.by_publisher)?
        && store.head_versions()? == expected.heads
        && totals(store)? == expected.publisher_bytes
        && same_entries(&store.blob_names, &expected.blob_names)?;
    if !agrees {
        tracing::warn!("the store's indexes disagree with its records; rebuilding them");
        rebuild(store, &expected)?;
        *store.head_counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
    store.flush()?;
    Ok(Repair { rebuilt: !agrees, dropped: damaged.len() as u64 })
}

/// Counts each publisher's bytes held from the records tree and writes the totals (a store of
/// the format before they were kept gets them this way).
pub(super) fn count_publisher_bytes(store: &Store) -> Result<(), StoreError> {
    let mut totals: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    for record in store.records() {
        let record = record?;
        *totals.entry(record.publisher().0).or_default() += record.envelope_bytes().len() as u64;
    }
    write_totals(store, &totals)
}

fn totals(store: &Store) -> Result<BTreeMap<[u8; 32], u64>, StoreError> {
    let mut out = BTreeMap::new();
    for entry in store.publisher_bytes.iter() {
        let (publisher, total) = entry?;
        let Ok(publisher) = <[u8; 32]>::try_from(publisher.as_ref()) else { continue };
        out.insert(publisher, parse_total(&total)?);
    }
    Ok(out)
}

fn write_totals(store: &Store, totals: &BTreeMap<[u8; 32], u64>) -> Result<(), StoreError> {
    store.publisher_bytes.clear()?;
    let mut batch = sled::Batch::default();
    for (publisher, total) in totals {
        batch.insert(&publisher[..], &total.to_be_bytes());
    }
    store.publisher_bytes.apply_batch(batch)?;
    Ok(())
}

fn same_keys(tree: &sled::Tree, expected: &BTreeSet<Vec<u8>>) -> Result<bool, StoreError> {
    let mut held = 0usize;
    for key in tree.iter().keys() {
        if !expected.contains(key?.as_ref()) {
            return Ok(false);
        }
        held += 1;
    }
    Ok(held == expected.len())
}

fn same_entries(tree: &sled::Tree, expected: &BTreeMap<Vec<u8>, Vec<u8>>) -> Result<bool, StoreError> {
    let mut held = 0usize;
    for entry in tree.iter() {
        let (key, value) = entry?;
        if expected.get(key.as_ref()).map(Vec::as_slice) != Some(value.as_ref()) {
            return Ok(false);
        }
        held += 1;
    }
    Ok(held == expected.len())
}

fn rebuild(store: &Store, expected: &Expected) -> Result<(), StoreError> {
    for tree in [&store.ids, &store.by_time, &store.by_publisher, &store.heads, &store.blob_names] {
        tree.clear()?;
    }
    let mut batch = sled::Batch::default();
    for (key, attachment) in &expected.blob_names {
        batch.insert(key.as_slice(), attachment.as_slice());
    }
    store.blob_names.apply_batch(batch)?;
    let mut batch = sled::Batch::default();
    for (id, sequence) in &expected.ids {
        batch.insert(id.as_slice(), sequence.as_slice());
    }
    store.ids.apply_batch(batch)?;
    let mut batch = sled::Batch::default();
    for key in &expected.by_time {
        batch.insert(key.as_slice(), &[]);
    }
    store.by_time.apply_batch(batch)?;
    let mut batch = sled::Batch::default();
    for key in &expected.by_publisher {
        batch.insert(key.as_slice(), &[]);
    }
    store.by_publisher.apply_batch(batch)?;
    let mut batch = sled::Batch::default();
    for (key, version) in &expected.heads {
        batch.insert(key.as_slice(), version_bytes(*version));
    }
    store.heads.apply_batch(batch)?;
    write_totals(store, &expected.publisher_bytes)
}
