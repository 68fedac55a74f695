//! The store behaves like a model (a set of records and a map of heads) under random inserts,
//! clean reopens, unclean reopens and damaged indexes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::record::{Body, Draft, PublisherKey, sign};
use crate::wire::{Attachment, Tombstone};

/// Records for two publishers × two slugs × three revisions × two variants (equal revisions
/// with different ids), the last revision of one variant a withdrawal.
fn pool() -> &'static [Record] {
    static POOL: OnceLock<Vec<Record>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut out = Vec::new();
        for seed in [1u8, 2] {
            let key = PublisherKey::from_seed([seed; 32]);
            for slug in ["composting", "bus-lanes"] {
                for revision in 1..=3u64 {
                    for variant in 0..2i64 {
                        let body = if revision == 3 && variant == 1 {
                            Body::Tombstone(Tombstone { reason: "replaced".into() })
                        } else {
                            let mut note = crate::record::tests::practice(&format!("{slug} {revision} {variant}"));
                            note.attachments = attachments(seed, variant);
                            Body::Practice(note)
                        };
                        let timestamp_ms = 1_700_000_000_000 + revision as i64 * 1000 + variant;
                        let draft = Draft { kind: Kind::Practice, slug: slug.into(), revision, timestamp_ms, body };
                        out.push(sign(&key, draft).unwrap());
                    }
                }
            }
        }
        out
    })
}

/// The files a note of the pool names: every revision of a variant names the same report, and
/// variant 1 a photo that the other publisher's notes name too.
fn attachments(seed: u8, variant: i64) -> Vec<Attachment> {
    let file = |sha: u8, name: &str, media_type: &str| Attachment {
        sha256: vec![sha; 32],
        size: u64::from(sha) * 1000,
        name: name.into(),
        media_type: media_type.into(),
    };
    let report = file(seed * 10 + variant as u8, "report.pdf", "application/pdf");
    if variant == 0 { vec![report] } else { vec![report, file(99, "market.jpg", "image/jpeg")] }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(usize),
    Reopen,
    /// Reopen as after a kill: the integrity pass runs and must find nothing to repair.
    Crash,
    /// Lose one entry of an index (by position), then reopen as after a kill: the pass repairs it.
    DamageAndCrash(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..24usize).prop_map(Op::Insert),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
        1 => (0..100usize).prop_map(Op::DamageAndCrash),
    ]
}

#[derive(Default)]
struct Model {
    held: BTreeSet<RecordId>,
    heads: BTreeMap<Key, Version>,
}

impl Model {
    fn insert(&mut self, record: &Record) -> Inserted {
        if !self.held.insert(record.id()) {
            return Inserted::AlreadyHeld;
        }
        let head = self.heads.entry(record.key()).or_insert(record.version());
        let becomes_head = *head <= record.version();
        *head = (*head).max(record.version());
        Inserted::New { head: becomes_head }
    }
}

fn open(dir: &Path) -> (Store, OpenReport) {
    Store::open(dir, &StoreOptions::default()).unwrap()
}

fn check_agrees(store: &Store, model: &Model) {
    for record in pool() {
        assert_eq!(store.get(&record.id()).unwrap().is_some(), model.held.contains(&record.id()));
    }
    let mut keys: BTreeSet<Key> = pool().iter().map(Record::key).collect();
    keys.extend(model.heads.keys().cloned());
    for key in &keys {
        let head = store.head(key).unwrap().map(|record| record.version());
        assert_eq!(head, model.heads.get(key).copied(), "head of {key:?}");
        let history: Vec<Version> = store.history(key).unwrap().iter().map(Record::version).collect();
        let mut expected: Vec<Version> =
            pool().iter().filter(|r| &r.key() == key && model.held.contains(&r.id())).map(Record::version).collect();
        expected.sort_by_key(|version| (version.revision, version.id));
        assert_eq!(history, expected, "history of {key:?}");
    }
    let times: Vec<(u64, RecordId)> = store.time_index().map(Result::unwrap).collect();
    let mut expected: Vec<(u64, RecordId)> = pool()
        .iter()
        .filter(|record| model.held.contains(&record.id()))
        .map(|record| (record.timestamp_ms() as u64, record.id()))
        .collect();
    expected.sort();
    assert_eq!(times, expected);
    assert_eq!(store.len(), model.held.len());
    assert_eq!(store.heads(Some(Kind::Practice)).unwrap().len(), model.heads.len());
    // The counts kept since they were first asked for in this process agree too.
    let counted: u64 = store.head_counts().unwrap().values().sum();
    assert_eq!(counted as usize, model.heads.len(), "head counts");
    for publisher in pool().iter().map(|record| record.publisher().0).collect::<BTreeSet<_>>() {
        let held: u64 = pool()
            .iter()
            .filter(|record| record.publisher().0 == publisher && model.held.contains(&record.id()))
            .map(|record| record.envelope_bytes().len() as u64)
            .sum();
        assert_eq!(store.publisher_bytes(&publisher).unwrap(), held, "bytes held of a publisher");
    }
    let files: BTreeSet<Vec<u8>> = pool().iter().flat_map(Record::attachments).map(|file| file.sha256).collect();
    for sha256 in files {
        let sha256: [u8; 32] = sha256.try_into().unwrap();
        let named: BTreeSet<RecordId> = store.blob_names(&sha256).unwrap().into_iter().map(|(id, _)| id).collect();
        let expected: BTreeSet<RecordId> = pool()
            .iter()
            .filter(|record| model.held.contains(&record.id()))
            .filter(|record| record.attachments().iter().any(|file| file.sha256 == sha256))
            .map(Record::id)
            .collect();
        assert_eq!(named, expected, "the records naming a file");
    }
}

fn crash(store: Store) {
    store.flush().unwrap();
    store.skip_clean_close.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn damage(store: &Store, position: usize) -> bool {
    let trees =
        [&store.ids, &store.by_time, &store.by_publisher, &store.heads, &store.publisher_bytes, &store.blob_names];
    let tree = trees[position % trees.len()];
    let Some(key) = tree.iter().keys().nth(position / trees.len() % tree.len().max(1)) else { return false };
    tree.remove(key.unwrap()).unwrap();
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_store_behaves_like_its_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut model = Model::default();
        let (mut store, _) = open(dir.path());
        for op in ops {
            match op {
                Op::Insert(index) => {
                    let record = &pool()[index];
                    prop_assert_eq!(store.insert_durable(record).unwrap(), model.insert(record));
                }
                Op::Reopen => {
                    drop(store);
                    let (reopened, report) = open(dir.path());
                    prop_assert_eq!(report, OpenReport::default());
                    store = reopened;
                }
                Op::Crash => {
                    crash(store);
                    let (reopened, report) = open(dir.path());
                    prop_assert!(report.unclean && !report.rebuilt);
                    store = reopened;
                }
                Op::DamageAndCrash(position) => {
                    let damaged = damage(&store, position);
                    crash(store);
                    let (reopened, report) = open(dir.path());
                    prop_assert!(report.unclean);
                    prop_assert_eq!(report.rebuilt, damaged);
                    store = reopened;
                }
            }
            check_agrees(&store, &model);
        }
    }
}

#[test]
fn a_second_open_of_the_same_store_fails_at_once_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_first, _) = open(dir.path());
    let error = Store::open(dir.path(), &StoreOptions::default()).err().unwrap();
    assert!(matches!(error, StoreError::InUse(_)));
    assert!(error.to_string().contains("in use by another citymesh process"), "{error}");
}

#[test]
fn a_record_whose_bytes_were_damaged_is_dropped_on_repair() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path());
    let [good, bad] = [&pool()[0], &pool()[2]];
    store.insert_durable(good).unwrap();
    store.insert_durable(bad).unwrap();
    // A flipped bit in the stored header: the bytes no longer hash to the key they are under.
    let mut header = bad.header_bytes().to_vec();
    header[5] ^= 1;
    let envelope = crate::wire::Envelope {
        header,
        signature: vec![0; 64],
        body: bad.body_bytes().to_vec(),
        signatures: Vec::new(),
    };
    let sequence = store.ids.get(bad.id().0).unwrap().unwrap();
    let stored = [&bad.id().0[..], &crate::wire::encode(&envelope)].concat();
    store.records.insert(sequence, stored).unwrap();
    crash(store);
    let (store, report) = open(dir.path());
    assert_eq!(report.dropped, 1);
    assert!(report.rebuilt);
    assert!(store.get(&bad.id()).unwrap().is_none());
    assert_eq!(store.get(&good.id()).unwrap().as_ref(), Some(good));
    assert_eq!(store.len(), 1);
}

#[test]
fn a_store_of_the_format_before_byte_totals_gets_them_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path());
    for record in &pool()[..6] {
        store.insert_durable(record).unwrap();
    }
    // As the previous format left it: no totals, format 1.
    store.publisher_bytes.clear().unwrap();
    store.meta.insert(FORMAT_KEY, FORMAT_WITHOUT_TOTALS).unwrap();
    drop(store);
    let (store, report) = open(dir.path());
    assert_eq!(report, OpenReport::default());
    let publisher = pool()[0].publisher().0;
    let expected: u64 = pool()[..6]
        .iter()
        .filter(|record| record.publisher().0 == publisher)
        .map(|record| record.envelope_bytes().len() as u64)
        .sum();
    assert!(expected > 0);
    assert_eq!(store.publisher_bytes(&publisher).unwrap(), expected);
    assert_eq!(store.meta.get(FORMAT_KEY).unwrap().as_deref(), Some(FORMAT));
}

#[test]
fn a_store_written_before_attachments_were_listed_gets_them_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path());
    for record in &pool()[..6] {
        store.insert_durable(record).unwrap();
    }
    let report = pool()[0].attachments()[0].clone();
    let sha256: [u8; 32] = report.sha256.clone().try_into().unwrap();
    let naming = store.blob_names(&sha256).unwrap();
    assert_eq!(naming.len(), 3, "revisions 1 to 3 of variant 0 name the report");
    assert!(naming.iter().all(|(_, named)| named == &report));
    // As the release before left it: no list, format 3.
    store.blob_names.clear().unwrap();
    store.meta.insert(FORMAT_KEY, FORMAT_WITHOUT_BLOB_NAMES).unwrap();
    drop(store);
    let (store, report_of_open) = open(dir.path());
    assert_eq!(report_of_open, OpenReport::default());
    assert_eq!(store.blob_names(&sha256).unwrap(), naming);
    assert!(store.blob_names(&[1; 32]).unwrap().is_empty());
    assert_eq!(store.meta.get(FORMAT_KEY).unwrap().as_deref(), Some(FORMAT));
}

#[test]
fn unnamed_blobs_are_offered_for_cleaning_and_named_ones_never() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path());
    store.insert_durable(&pool()[0]).unwrap();
    let named: [u8; 32] = pool()[0].attachments()[0].sha256.clone().try_into().unwrap();
    let mut offered = Vec::new();
    let removed = store
        .with_unnamed_blobs([named, [7; 32], [8; 32]], |sha256| {
            offered.push(*sha256);
            sha256 == &[7; 32]
        })
        .unwrap();
    assert_eq!((removed, offered), (1, vec![[7; 32], [8; 32]]));
}
