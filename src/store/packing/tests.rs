//! Envelopes at rest: compressed, with a dictionary trained once the store holds enough, and
//! always read back as received; a store of raw envelopes (format 2) is repacked when opened,
//! and a repack cut short goes on from where it stopped.

use super::*;
use crate::record::{Body, Draft, Kind, PublisherKey, sign};
use crate::store::{FORMAT, FORMAT_KEY, FORMAT_UNPACKED, StoreOptions};

/// Practice notes of ~2 KiB of varied words, by ten publishers.
fn notes(count: usize) -> Vec<Record> {
    let words = ["compost", "bus", "budget", "water", "housing", "solar", "clinic", "market", "school", "river"];
    let keys: Vec<PublisherKey> = (1..=10u8).map(|seed| PublisherKey::from_seed([seed; 32])).collect();
    (0..count)
        .map(|n| {
            let text: Vec<&str> = (0..300).map(|i| words[(n * 7 + i * i + i / 3) % words.len()]).collect();
            let mut practice = crate::record::tests::practice(&format!("Note {n}"));
            practice.approach = text.join(" ");
            let draft = Draft {
                kind: Kind::Practice,
                slug: format!("note-{n}"),
                revision: 1,
                timestamp_ms: 1_700_000_000_000 + n as i64,
                body: Body::Practice(practice),
            };
            sign(&keys[n % keys.len()], draft).unwrap()
        })
        .collect()
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &StoreOptions::default()).unwrap().0
}

/// Bytes the records tree's values take, and how many of them are packed with the dictionary.
fn stored(store: &Store) -> (usize, usize) {
    let values: Vec<sled::IVec> = store.records.iter().values().map(Result::unwrap).collect();
    let with_dictionary = values.iter().filter(|value| value.get(32) == Some(&WITH_DICTIONARY)).count();
    (values.iter().map(|value| value.len()).sum(), with_dictionary)
}

fn check_reads_back(store: &Store, records: &[Record]) {
    for record in records {
        assert_eq!(store.envelope(&record.id()).unwrap(), Some(record.envelope_bytes().to_vec()));
        assert_eq!(store.get(&record.id()).unwrap().as_ref(), Some(record));
    }
}

#[test]
fn a_store_trains_its_dictionary_once_it_holds_enough_and_reads_every_envelope_back_as_received() {
    let dir = tempfile::tempdir().unwrap();
    let records = notes(TRAIN_AT as usize + 200);
    let store = open(dir.path());
    let (before, rest) = records.split_at(TRAIN_AT as usize - 1);
    store.insert_batch(before).unwrap();
    assert!(!store.packing.has_dictionary());
    let (bytes, with_dictionary) = stored(&store);
    assert_eq!(with_dictionary, 0);
    check_reads_back(&store, before);
    let plain = bytes;
    store.insert_batch(rest).unwrap();
    store.flush().unwrap();
    assert!(store.packing.has_dictionary());
    let (bytes, with_dictionary) = stored(&store);
    assert_eq!(with_dictionary, records.len(), "every value repacked with the dictionary");
    let envelopes: usize = records.iter().map(|record| record.envelope_bytes().len()).sum();
    assert!(bytes * 3 < envelopes, "{bytes} bytes stored for {envelopes} of envelopes");
    assert!(bytes * (before.len()) < plain * records.len(), "the dictionary does better than plain");
    check_reads_back(&store, &records);
    // The totals count envelopes as received, whatever they take at rest.
    let publisher = records[0].publisher().0;
    let held: u64 = records
        .iter()
        .filter(|record| record.publisher().0 == publisher)
        .map(|record| record.envelope_bytes().len() as u64)
        .sum();
    assert_eq!(store.publisher_bytes(&publisher).unwrap(), held);
    drop(store);
    let store = open(dir.path());
    check_reads_back(&store, &records);
}

/// Leaves `store` as format 2 left it: raw envelopes, no dictionary.
fn unpack_everything(store: &Store) {
    for entry in store.records.iter() {
        let (sequence, value) = entry.unwrap();
        let (id, envelope) = store.packing.unpack(&value).unwrap();
        store.records.insert(sequence, [&id[..], &envelope].concat()).unwrap();
    }
    store.meta.remove(DICTIONARY_KEY).unwrap();
    store.meta.insert(FORMAT_KEY, FORMAT_UNPACKED).unwrap();
    store.flush().unwrap();
}

#[test]
fn a_store_of_raw_envelopes_is_repacked_when_opened_and_a_repack_cut_short_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let records = notes(TRAIN_AT as usize + 500);
    let store = open(dir.path());
    store.insert_batch(&records).unwrap();
    unpack_everything(&store);
    let (raw, _) = stored(&store);
    drop(store);

    let store = open(dir.path());
    assert_eq!(store.meta.get(FORMAT_KEY).unwrap().as_deref(), Some(FORMAT));
    assert!(store.meta.get(REPACK_KEY).unwrap().is_none(), "the repack finished");
    let (packed, with_dictionary) = stored(&store);
    assert_eq!(with_dictionary, records.len());
    assert!(packed * 3 < raw, "{raw} bytes raw, {packed} packed");
    check_reads_back(&store, &records);

    // Cut short after its first batch, as a kill would leave it: raw values after it, the
    // format already 3 (an older release refuses the store) and the mark where to go on.
    unpack_everything(&store);
    store.meta.insert(FORMAT_KEY, FORMAT).unwrap();
    let mut reports = Vec::new();
    store.start_repack().unwrap();
    let middle = store.records.iter().keys().nth(REPACK_BATCH).unwrap().unwrap();
    for entry in store.records.range(..middle.clone()) {
        let (sequence, value) = entry.unwrap();
        let (id, envelope) = store.packing.unpack(&value).unwrap();
        store.records.insert(sequence, store.packing.pack(&id, &envelope)).unwrap();
    }
    store.meta.insert(REPACK_KEY, middle.as_ref()).unwrap();
    check_reads_back(&store, &records);
    store.repack(&mut |what: &str, done, total| reports.push((what.to_owned(), done, total))).unwrap();
    // One batch from the mark to the end: from the start, the first report would say 1,000.
    let all = records.len() as u64;
    assert_eq!(reports, vec![("compressing the stored records".to_owned(), all, all)], "it went on from the mark");
    check_reads_back(&store, &records);
}

#[test]
fn a_value_that_does_not_unpack_is_named_as_damaged() {
    let packing = Packing::default();
    let id = [7; 32];
    for (value, problem) in [
        ([&id[..], &[PLAIN], b"not zstandard"].concat(), "does not unpack"),
        ([&id[..], &[WITH_DICTIONARY], b"anything"].concat(), "dictionary, which is missing"),
        ([&id[..], &[0x05]].concat(), "not one this release knows"),
        (id[..20].to_vec(), "too short"),
    ] {
        let error = packing.unpack(&value).unwrap_err().to_string();
        assert!(error.contains(problem), "{error}");
    }
}
