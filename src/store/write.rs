//! How a batch of new records is written: under the single writer, without a multi-tree
//! transaction (DESIGN.md §5), in an order that keeps every index entry readable.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::packing::Packing;
use super::{Inserted, Store, StoreError, head_key, history_key, parse_version, time_key, version_bytes};
use crate::record::{Record, Version};

impl Store {
    /// Writes new records and their index entries, under `writing`: the records tree first and
    /// `ids` second, so that every index entry a reader finds points at a
    /// record it can read. A crash between two batches leaves the open marker set, and the
    /// next open checks every index against the records tree and rebuilds what disagrees (DESIGN
    /// §5: single writer, no multi-tree transaction, which takes a global lock and halves write
    /// speed).
    pub(super) fn write_indexed(&self, writes: &[Write]) -> Result<Vec<Inserted>, StoreError> {
        let mut outcomes = Vec::with_capacity(writes.len());
        let mut fresh: Vec<(&Write, bool)> = Vec::with_capacity(writes.len());
        let mut new_ids = HashSet::new();
        // The head of each key this batch touches, as it will be after the batch.
        let mut heads: HashMap<&[u8], Version> = HashMap::new();
        let mut added: BTreeMap<[u8; 32], u64> = BTreeMap::new();
        for write in writes {
            if !new_ids.insert(write.id) || self.ids.contains_key(write.id)? {
                outcomes.push(Inserted::AlreadyHeld);
                continue;
            }
            let current = match heads.get(write.head_key.as_slice()) {
                Some(version) => Some(*version),
                None => self.heads.get(&write.head_key)?.map(|value| parse_version(&value)).transpose()?,
            };
            let becomes_head = current.is_none_or(|current| write.version > current);
            if becomes_head {
                heads.insert(write.head_key.as_slice(), write.version);
            }
            *added.entry(write.publisher).or_default() += write.envelope_len;
            fresh.push((write, becomes_head));
            outcomes.push(Inserted::New { head: becomes_head });
        }
        // Plain inserts: a batch (like a transaction) seals sled's write buffer, which costs more
        // than the six inserts a record needs, and a crash is caught by the open marker anyway.
        for (write, _) in &fresh {
            self.records.insert(write.sequence, write.stored.as_slice())?;
        }
        for (write, _) in &fresh {
            self.ids.insert(write.id, &write.sequence)?;
        }
        for (key, attachment) in fresh.iter().flat_map(|(write, _)| &write.blob_names) {
            self.blob_names.insert(key.as_slice(), attachment.as_slice())?;
        }
        // The totals before the heads: `Store::heads` of a kind finds publishers by their totals.
        for (publisher, bytes) in &added {
            let held = self.publisher_bytes(publisher)?;
            self.publisher_bytes.insert(&publisher[..], &(held + bytes).to_be_bytes())?;
        }
        for (write, becomes_head) in &fresh {
            self.by_time.insert(write.time_key.as_slice(), &[])?;
            self.by_publisher.insert(write.history_key.as_slice(), &[])?;
            if *becomes_head
                && heads.get(write.head_key.as_slice()) == Some(&write.version)
                && self.heads.insert(write.head_key.as_slice(), version_bytes(write.version))?.is_none()
            {
                self.count_head(&write.head_key, 1);
            }
        }
        Ok(outcomes)
    }
}

/// Everything one insert writes, computed before anything is written.
pub(super) struct Write {
    sequence: [u8; 8],
    id: [u8; 32],
    publisher: [u8; 32],
    /// The envelope's length: what the publisher's total grows by.
    envelope_len: u64,
    version: Version,
    /// The id followed by the envelope, packed: the `records` value.
    stored: Vec<u8>,
    head_key: Vec<u8>,
    time_key: Vec<u8>,
    history_key: Vec<u8>,
    /// The `blob_names` entries: the files the record names.
    blob_names: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Write {
    pub(super) fn new(record: &Record, sequence: u64, packing: &Packing) -> Self {
        let key = record.key();
        let envelope = record.envelope_bytes();
        Write {
            sequence: sequence.to_be_bytes(),
            id: record.id().0,
            publisher: record.publisher().0,
            envelope_len: envelope.len() as u64,
            version: record.version(),
            stored: packing.pack(&record.id().0, &envelope),
            head_key: head_key(&key),
            time_key: time_key(record.timestamp_ms(), record.id()),
            history_key: history_key(&key, record.version()),
            blob_names: super::blob_names::entries(record),
        }
    }
}
