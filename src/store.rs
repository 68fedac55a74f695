//! The sled store: records by id, heads by key, and the indexes sync and listings read.
//!
//! Trees (all keys big-endian so byte order is numeric order):
//! - `records`: sequence number (8) → id (32) ‖ canonical envelope bytes. The source of truth;
//!   the id is kept beside the bytes so that damage to them is noticed. Keyed by
//!   arrival order, not by id, so that inserts append at the end of the tree: sled rewrites far
//!   less than with random 32-byte keys, which more than doubles ingest speed (see the ingest
//!   benchmark).
//! - `ids`: id (32) → sequence number (8).
//! - `heads`: publisher (32) ‖ kind ‖ 0x00 ‖ slug → revision (8) ‖ id (32).
//! - `by_time`: timestamp_ms (8) ‖ id (32) → empty. Every revision held; sync reads it.
//! - `by_publisher`: publisher (32) ‖ kind ‖ 0x00 ‖ slug ‖ 0x00 ‖ revision (8) ‖ id (32) → empty.
//! - `publisher_bytes`: publisher (32) → bytes of its envelopes held (8), so a storage cap is
//!   checked without reading the publisher's records.
//! - `meta`: the store's own bookkeeping (format, the open marker, the count of records a
//!   clean close left).
//! - `erased`: what is kept of revisions their publishers erased (`store/erasures.rs`).
//! - `blob_names`: SHA-256 (32) ‖ id (32) → the attachment as the record names it
//!   (`store/blob_names.rs`).
//!
//! One writer at a time (`Store::writing`) writes a batch of records with plain inserts, the
//! records tree first, then `ids`, then the other indexes, so a reader never finds an index
//! entry whose record it cannot read; no multi-tree transaction (DESIGN.md §5). Callers
//! acknowledge a write only after [`Store::flush`]. A marker in `meta` is set while the store is open and cleared on a
//! clean close, so a store that was not closed cleanly has its indexes checked against the
//! records tree, and rebuilt from it, when it is next opened.

mod blob_names;
mod check;
mod erasures;
mod identities;
mod keys;
mod packing;
mod write;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::identity::{Book, IdentityError};
use crate::record::{Key, Kind, Record, RecordId, Version};

use keys::{
    damaged, head_key, head_key_kind, history_key, parse_time_key, parse_total, parse_version, time_key, trailing_id,
    version_bytes,
};

pub use erasures::{Erased, erasable};
pub use packing::{Progress, Reporter, TRAIN_AT, report_progress_to};

const OPEN_MARKER: &[u8] = b"open";
const FORMAT_KEY: &[u8] = b"format";
/// Records held, kept here (`meta`) by a clean close so that the next open need not count them.
const COUNT_KEY: &[u8] = b"count";
/// How many times records were purged (`meta`), so that caches of the store know to rebuild.
const PURGES_KEY: &[u8] = b"purges";
/// Format 4 lists the files records name (`blob_names`); a store of format 3 gets the list
/// when first opened. Format 3 keeps envelopes compressed (`store/packing.rs`); a store of an older format has
/// them repacked when first opened. Format 2 added `publisher_bytes`; a format 1 store gets it
/// when first opened.
const FORMAT: &[u8] = b"4";
const FORMAT_WITHOUT_BLOB_NAMES: &[u8] = b"3";
const FORMAT_UNPACKED: &[u8] = b"2";
const FORMAT_WITHOUT_TOTALS: &[u8] = b"1";
const LOCK_FILE: &str = "citymesh.lock";

/// Tuning that comes from the configuration file.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// How often sled writes dirty buffers in the background; acknowledged writes are flushed
    /// explicitly whatever this is.
    pub flush_every_ms: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { cache_capacity: 64 * 1024 * 1024, flush_every_ms: Some(500) }
    }
}

/// Something the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{} is in use by another citymesh process", .0.display())]
    InUse(PathBuf),
    #[error("cannot open {}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("the database failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("the store at {} was written by a newer citymesh (store format {found})", path.display())]
    NewerFormat { path: PathBuf, found: String },
    #[error("stored record {id} is damaged: {problem}")]
    Damaged { id: String, problem: String },
}

/// What [`Store::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored; `head` tells whether it became its key's head.
    New { head: bool },
    /// This exact record (same id) was already held.
    AlreadyHeld,
    /// Not stored: its organisation's identity log refuses it (or, for a revision, refuses to
    /// take it in). Whether the sender is to blame is [`IdentityError::is_senders_fault`].
    Refused(IdentityError),
}

/// What opening found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The previous process did not close the store cleanly.
    pub unclean: bool,
    /// The indexes disagreed with the records tree and were rebuilt from it.
    pub rebuilt: bool,
    /// Records removed because their bytes no longer matched their id.
    pub dropped: u64,
}

/// The store. One per process; it holds the data directory's lock while open.
pub struct Store {
    db: sled::Db,
    records: sled::Tree,
    ids: sled::Tree,
    heads: sled::Tree,
    by_time: sled::Tree,
    by_publisher: sled::Tree,
    publisher_bytes: sled::Tree,
    meta: sled::Tree,
    erased: sled::Tree,
    blob_names: sled::Tree,
    /// How envelopes are compressed in `records`.
    packing: packing::Packing,
    /// Grows whenever a record is added: a cache of what the store holds is fresh while this
    /// has not changed.
    generation: AtomicU64,
    /// Records held, counted once at open and kept up to date by inserts.
    count: AtomicU64,
    /// Held while a batch draws its sequence numbers and commits, so batches commit in the
    /// order of their sequence numbers: a reader that resumes after the last sequence number it
    /// saw (the search index does) misses nothing.
    writing: std::sync::Mutex<()>,
    /// Keys with a head, by kind: counted from the heads index when first asked (under
    /// `writing`), then kept by every write and removal.
    head_counts: std::sync::Mutex<Option<BTreeMap<String, u64>>>,
    /// The identity logs held, built at open from the identity revisions and kept up to date
    /// by inserts (under `writing`).
    book: std::sync::RwLock<Book>,
    /// The last process did not close the store cleanly (its indexes were checked at open).
    recovered: bool,
    _lock: File,
    /// Tests set this to leave the store as a killed process would (open marker still set).
    #[cfg(test)]
    skip_clean_close: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Opens (or creates) the store in `dir`, checking and repairing the indexes when the last
    /// process did not close it cleanly. Fails at once, without waiting, if another process
    /// has it open.
    pub fn open(dir: &Path, options: &StoreOptions) -> Result<(Store, OpenReport), StoreError> {
        let io = |error| StoreError::Io { path: dir.to_owned(), error };
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE)).map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StoreError::InUse(dir.to_owned())),
            Err(TryLockError::Error(error)) => return Err(io(error)),
        }
        let db = open_db(dir, options)?;
        let meta = db.open_tree("meta")?;
        let format = meta.get(FORMAT_KEY)?;
        if let Some(found) = format.as_ref().filter(|found| {
            ![FORMAT, FORMAT_WITHOUT_BLOB_NAMES, FORMAT_UNPACKED, FORMAT_WITHOUT_TOTALS].contains(&found.as_ref())
        }) {
            let found = String::from_utf8_lossy(found).into_owned();
            return Err(StoreError::NewerFormat { path: dir.to_owned(), found });
        }
        let packing = packing::load(&meta)?;
        let mut store = Store {
            records: db.open_tree("records")?,
            ids: db.open_tree("ids")?,
            heads: db.open_tree("heads")?,
            by_time: db.open_tree("by_time")?,
            by_publisher: db.open_tree("by_publisher")?,
            publisher_bytes: db.open_tree("publisher_bytes")?,
            meta,
            erased: db.open_tree("erased")?,
            blob_names: db.open_tree("blob_names")?,
            packing,
            db,
            generation: AtomicU64::new(0),
            count: AtomicU64::new(0),
            writing: std::sync::Mutex::new(()),
            head_counts: Default::default(),
            book: Default::default(),
            recovered: false,
            _lock: lock,
            #[cfg(test)]
            skip_clean_close: Default::default(),
        };
        if format.as_deref() == Some(FORMAT_WITHOUT_TOTALS) {
            tracing::info!("counting each publisher's bytes held (once, for the new store format)");
            check::count_publisher_bytes(&store)?;
        }
        // Marked before any value is repacked, so that an older release refuses the store.
        if format.as_deref().is_some_and(|found| [FORMAT_UNPACKED, FORMAT_WITHOUT_TOTALS].contains(&found)) {
            store.start_repack()?;
        }
        // Before the format is marked, so that a fill cut short is done again.
        if format.as_deref().is_some_and(|found| found != FORMAT) {
            blob_names::fill(&store)?;
        }
        store.meta.insert(FORMAT_KEY, FORMAT)?;
        let mut report = OpenReport::default();
        if store.meta.get(OPEN_MARKER)?.is_some() {
            store.recovered = true;
            tracing::warn!("the store was not closed cleanly; checking its indexes against its records");
            report.unclean = true;
            let repair = check::check_and_repair(&store)?;
            report.rebuilt = repair.rebuilt;
            report.dropped = repair.dropped;
        }
        // The count a clean close left, taken away so that a process that does not keep it
        // (an older release) cannot leave a stale one; otherwise counted.
        let count = match (store.meta.remove(COUNT_KEY)?, store.recovered) {
            (Some(count), false) => parse_total(&count)?,
            _ => store.records.len() as u64,
        };
        store.count.store(count, Ordering::Release);
        store.meta.insert(OPEN_MARKER, &[1u8][..])?;
        store.db.flush()?;
        let mut progress = packing::reporter();
        if !store.train_when_due(&mut progress)? {
            store.repack(&mut progress)?;
        }
        store.book = std::sync::RwLock::new(identities::load(&store)?);
        store.purged(erasures::finish(&store)?);
        Ok((store, report))
    }

    /// Stores a verified record and updates every index. The write is
    /// durable only after [`Store::flush`]; several inserts may share one flush.
    pub fn insert(&self, record: &Record) -> Result<Inserted, StoreError> {
        let inserted = self.insert_batch(std::slice::from_ref(record))?.into_iter().next();
        Ok(inserted.expect("one outcome per record"))
    }

    /// Stores several verified records in one batch per tree, which costs much less per record
    /// than a batch each, after the identity logs have judged each (in
    /// order, so a revision early in the batch counts for the records after it). Returns what
    /// happened to each, in order.
    pub fn insert_batch(&self, batch: &[Record]) -> Result<Vec<Inserted>, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now_ms =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        identities::settle(self, &mut self.book.write().unwrap_or_else(|p| p.into_inner()), now_ms)?;
        let (overlay, mut judged) =
            identities::judge(self, &self.book.read().unwrap_or_else(|p| p.into_inner()), batch, now_ms)?;
        for (record, verdict) in batch.iter().zip(judged.verdicts.iter_mut()) {
            if verdict.is_none() {
                *verdict = erasures::refusal(self, record)?;
            }
        }
        let mut writes = Vec::with_capacity(batch.len());
        let mut refused = Vec::new();
        for (record, verdict) in batch.iter().zip(judged.verdicts) {
            match verdict {
                None => writes.push(write::Write::new(record, self.db.generate_id()?, &self.packing)),
                Some(error) => refused.push((writes.len() + refused.len(), error)),
            }
        }
        let mut outcomes = self.write_indexed(&writes)?;
        for (index, error) in refused {
            outcomes.insert(index, Inserted::Refused(error));
        }
        for id in &judged.received {
            self.meta.insert(identities::received_key(id), &now_ms.to_be_bytes())?;
        }
        let mut book = self.book.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        book.merge(overlay);
        for organisation in &judged.revoking {
            self.purged(identities::purge(self, &book, organisation)?);
        }
        for (organisation, id) in &judged.cancelled {
            self.purged(identities::remove_ids(self, organisation, &[*id])?);
        }
        drop(book);
        for (record, outcome) in batch.iter().zip(&outcomes) {
            if record.kind() == Kind::Erasure && matches!(outcome, Inserted::New { .. }) {
                self.purged(erasures::apply(self, record)?);
            }
        }
        let added = outcomes.iter().filter(|outcome| matches!(outcome, Inserted::New { .. })).count() as u64;
        if added > 0 {
            self.count.fetch_add(added, Ordering::AcqRel);
            self.generation.fetch_add(1, Ordering::Release);
        }
        self.train_when_due(&mut packing::reporter())?;
        Ok(outcomes)
    }

    /// Whether the last process left the store without closing it (then its indexes were
    /// checked at open); caches of the store, such as the search index, check themselves too.
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// A number that grows whenever a record is added. Read it before reading the store to
    /// label what was read: if it is unchanged later, nothing was added since.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every write so far durable (fsync). Acknowledge writes only after this returns.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Inserts and flushes: for one record written on a user's behalf.
    pub fn insert_durable(&self, record: &Record) -> Result<Inserted, StoreError> {
        let inserted = self.insert(record)?;
        self.flush()?;
        Ok(inserted)
    }

    /// The record with this id, if held.
    pub fn get(&self, id: &RecordId) -> Result<Option<Record>, StoreError> {
        let Some(sequence) = self.ids.get(id.0)? else { return Ok(None) };
        let stored =
            self.records.get(&sequence)?.ok_or_else(|| damaged(&id.0, "its id is indexed but it is missing"))?;
        let record = self.decode_stored(&stored)?;
        if record.id() != *id {
            return Err(damaged(&id.0, "its id is indexed to another record"));
        }
        Ok(Some(record))
    }

    /// Whether a record is held.
    pub fn contains(&self, id: &RecordId) -> Result<bool, StoreError> {
        Ok(self.ids.contains_key(id.0)?)
    }

    /// A record's envelope exactly as stored, without decoding it: for serving peers, who
    /// verify what they receive.
    pub fn envelope(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(sequence) = self.ids.get(id.0)? else { return Ok(None) };
        let stored =
            self.records.get(&sequence)?.ok_or_else(|| damaged(&id.0, "its id is indexed but it is missing"))?;
        self.stored_envelope(&id.0, &stored).map(Some)
    }

    /// The current head of a key.
    pub fn head(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        match self.heads.get(head_key(key))? {
            None => Ok(None),
            Some(value) => self.get(&parse_version(&value)?.id),
        }
    }

    /// The revision and id of a key's current head, from the heads index alone.
    pub fn head_version(&self, key: &Key) -> Result<Option<Version>, StoreError> {
        self.heads.get(head_key(key))?.map(|value| parse_version(&value)).transpose()
    }

    /// Every head, optionally of one kind, ordered by publisher, kind and slug. Of one kind, it
    /// reads only that kind's heads: one range of the heads index per publisher held.
    pub fn heads(&self, kind: Option<Kind>) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let mut take = |value: &[u8]| -> Result<(), StoreError> {
            let version = parse_version(value)?;
            out.push(self.get(&version.id)?.ok_or_else(|| damaged(&version.id.0, "head points at a missing record"))?);
            Ok(())
        };
        let Some(kind) = kind else {
            for entry in self.heads.iter() {
                take(&entry?.1)?;
            }
            return Ok(out);
        };
        for publisher in self.publisher_bytes.iter().keys() {
            // Head keys are publisher (32) ‖ kind ‖ 0x00 ‖ slug.
            let prefix = [publisher?.as_ref(), kind.as_str().as_bytes(), &[0]].concat();
            for entry in self.heads.scan_prefix(prefix) {
                take(&entry?.1)?;
            }
        }
        Ok(out)
    }

    /// How many keys have a head, by kind (a withdrawn note's key counts: its head is the
    /// withdrawal). Counted from the heads index (no records) the first time, then kept by
    /// every write and removal, so `/metrics` does not scan the store.
    pub fn head_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut kept = self.head_counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(counts) = kept.as_ref() {
            return Ok(counts.clone());
        }
        let mut counts = BTreeMap::new();
        for key in self.heads.iter().keys() {
            *counts.entry(head_key_kind(&key?)).or_insert(0) += 1;
        }
        *kept = Some(counts.clone());
        Ok(counts)
    }

    /// A key of `kind` gained its first head (`by` 1) or lost its last one (-1): keeps the counts
    /// [`Store::head_counts`] answers, once they are made. Called under `writing`.
    fn count_head(&self, head_key: &[u8], by: i64) {
        let mut kept = self.head_counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(counts) = kept.as_mut() {
            let count = counts.entry(head_key_kind(head_key)).or_insert(0);
            *count = count.saturating_add_signed(by);
        }
    }

    /// Every revision held of a key, oldest revision first.
    pub fn history(&self, key: &Key) -> Result<Vec<Record>, StoreError> {
        let mut prefix = head_key(key);
        prefix.push(0);
        let mut out = Vec::new();
        for entry in self.by_publisher.scan_prefix(&prefix) {
            let (index_key, _) = entry?;
            let id = trailing_id(&index_key)?;
            out.push(self.get(&id)?.ok_or_else(|| damaged(&id.0, "history points at a missing record"))?);
        }
        Ok(out)
    }

    /// `(timestamp_ms, id)` of every record held, in ascending order: the set sync reconciles.
    pub fn time_index(&self) -> impl Iterator<Item = Result<(u64, RecordId), StoreError>> + '_ {
        self.by_time.iter().keys().map(|key| parse_time_key(&key?))
    }

    /// `(timestamp_ms, id)` of every record held dated at or before `until_ms` (all without
    /// it), newest first (and, within one millisecond, by id from the highest): what listings
    /// read a page from.
    pub fn newest_first(
        &self,
        until_ms: Option<u64>,
    ) -> impl Iterator<Item = Result<(u64, RecordId), StoreError>> + '_ {
        let entries = match until_ms.and_then(|until| until.checked_add(1)) {
            Some(end) => self.by_time.range(..end.to_be_bytes().to_vec()),
            None => self.by_time.iter(),
        };
        entries.keys().rev().map(|key| parse_time_key(&key?))
    }

    /// Bytes of one publisher's envelopes held (every revision), read from a running total.
    pub fn publisher_bytes(&self, publisher: &[u8; 32]) -> Result<u64, StoreError> {
        self.publisher_bytes.get(publisher)?.map_or(Ok(0), |total| parse_total(&total))
    }

    /// `(timestamp_ms, id)` of every record of one publisher, in no particular order: the set a
    /// sync scoped to some publishers reconciles.
    pub fn publisher_items(&self, publisher: &[u8; 32]) -> Result<Vec<(u64, RecordId)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.by_publisher.scan_prefix(publisher) {
            let (index_key, _) = entry?;
            let id = trailing_id(&index_key)?;
            let record =
                self.get(&id)?.ok_or_else(|| damaged(&id.0, "the publisher index points at a missing record"))?;
            out.push((record.timestamp_ms() as u64, id));
        }
        Ok(out)
    }

    /// Every record held, in the order they arrived.
    pub fn records(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        self.records.iter().values().map(|stored| self.decode_stored(&stored?))
    }

    /// Up to `limit` records in arrival order, starting after the sequence number `after`
    /// (from the start when `None`), each with its own sequence number: a resumable listing.
    pub fn records_page(&self, after: Option<u64>, limit: usize) -> Result<Vec<(u64, Record)>, StoreError> {
        let start = after.map_or(0, |after| after.saturating_add(1));
        let mut out = Vec::new();
        for entry in self.records.range(start.to_be_bytes()..).take(limit) {
            let (sequence, stored) = entry?;
            let sequence = sequence
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| damaged(&sequence, "a record's sequence number has the wrong length"))?;
            out.push((sequence, self.decode_stored(&stored)?));
        }
        Ok(out)
    }

    /// Number of records held (every revision).
    /// Records held (every revision), without reading the store.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Latest head per key as a map, for checks and tests.
    pub fn head_versions(&self) -> Result<BTreeMap<Vec<u8>, Version>, StoreError> {
        let mut out = BTreeMap::new();
        for entry in self.heads.iter() {
            let (key, value) = entry?;
            out.insert(key.to_vec(), parse_version(&value)?);
        }
        Ok(out)
    }
}

impl Drop for Store {
    /// A clean close: keep the count of records, flush, then clear the open marker so the
    /// next open skips the check and the count.
    fn drop(&mut self) {
        #[cfg(test)]
        if self.skip_clean_close.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let count = self.count.load(Ordering::Acquire).to_be_bytes();
        let closed = self
            .meta
            .insert(COUNT_KEY, &count)
            .and_then(|_| self.db.flush())
            .and_then(|_| self.meta.remove(OPEN_MARKER))
            .and_then(|_| self.db.flush());
        if let Err(error) = closed {
            tracing::warn!(%error, "the store did not close cleanly; its indexes will be checked at next start");
        }
    }
}

/// Opens sled. The caller holds the directory's lock, so if sled's own file lock is still
/// taken, it is by this process: background threads of a `Db` closed a moment ago release it
/// shortly after the close. Wait for that, within a bound.
fn open_db(dir: &Path, options: &StoreOptions) -> Result<sled::Db, StoreError> {
    const PATIENCE: Duration = Duration::from_secs(5);
    let config = sled::Config::new()
        .path(dir.join("db"))
        .cache_capacity(options.cache_capacity)
        .flush_every_ms(options.flush_every_ms);
    let started = Instant::now();
    loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock") && started.elapsed() < PATIENCE =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return Ok(result?),
        }
    }
}
