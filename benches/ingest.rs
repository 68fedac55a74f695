//! `cargo bench --bench ingest`: verify and store 100,000 signed practice notes with ~2 KiB
//! bodies, and compare the rates with ceilings measured in the same run: a plain
//! `verify_strict` loop over the same records on one thread, and the same loop on every core
//! at once. The ingest pipeline (what `import` and sync run) verifies on every core while one
//! thread stores; its target is 0.6 of the every-core ceiling. The one-by-one and storage-only
//! figures show the cost of storage alone.
//!
//! Set CITYMESH_BENCH_RECORDS to change the count.

use std::time::Instant;

use citymesh::ingest::{self, Outcome};
use citymesh::record;
use citymesh::store::{Store, StoreOptions};
use common::{NOW, make_envelopes, plain_verify, plain_verify_every_core};

mod common;

/// Records received from peers are flushed in groups (DESIGN §5); this is the group size.
const FLUSH_EVERY: usize = 1024;

/// Full verification alone (decode, limits, hashes, signature, body rules), no storage.
fn verify_only(envelopes: &[Vec<u8>]) -> f64 {
    let started = Instant::now();
    for bytes in envelopes {
        record::verify(bytes, NOW).expect("valid record");
    }
    envelopes.len() as f64 / started.elapsed().as_secs_f64()
}

/// One record at a time on one thread: verify, insert on its own, group flush.
fn ingest_sequential(envelopes: &[Vec<u8>]) -> f64 {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = Store::open(dir.path(), &StoreOptions::default()).expect("open the store");
    let started = Instant::now();
    for (index, bytes) in envelopes.iter().enumerate() {
        let record = record::verify(bytes, NOW).expect("valid record");
        store.insert(&record).expect("insert");
        if index % FLUSH_EVERY == FLUSH_EVERY - 1 {
            store.flush().expect("flush");
        }
    }
    store.flush().expect("flush");
    let rate = envelopes.len() as f64 / started.elapsed().as_secs_f64();
    assert_eq!(store.len(), envelopes.len());
    rate
}

/// Storage alone: already verified records, in batches of 256, group flushes.
fn store_only(envelopes: &[Vec<u8>]) -> f64 {
    let records: Vec<_> = envelopes.iter().map(|bytes| record::verify(bytes, NOW).expect("valid record")).collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = Store::open(dir.path(), &StoreOptions::default()).expect("open the store");
    let started = Instant::now();
    for (index, batch) in records.chunks(256).enumerate() {
        store.insert_batch(batch).expect("insert");
        if index % 4 == 3 {
            store.flush().expect("flush");
        }
    }
    store.flush().expect("flush");
    records.len() as f64 / started.elapsed().as_secs_f64()
}

/// The ingest pipeline `import` and sync use: a verifier per core, batched storage in order, group flush.
fn ingest_pipeline(envelopes: &[Vec<u8>]) -> f64 {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut options = StoreOptions::default();
    if let Some(mb) = std::env::var("CACHE_MB").ok().and_then(|n| n.parse::<u64>().ok()) {
        options.cache_capacity = mb << 20;
    }
    let (store, _) = Store::open(dir.path(), &options).expect("open the store");
    let started = Instant::now();
    let mut stored = 0usize;
    let items = envelopes.iter().map(|bytes| ((), Ok(bytes.clone())));
    ingest::ingest(&store, items, NOW, |(), outcome| {
        assert!(matches!(outcome, Outcome::Stored { .. }), "{outcome:?}");
        stored += 1;
    })
    .expect("ingest");
    let rate = envelopes.len() as f64 / started.elapsed().as_secs_f64();
    assert_eq!((stored, store.len()), (envelopes.len(), envelopes.len()));
    rate
}

fn main() {
    let count: usize = std::env::var("CITYMESH_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    println!("ingest: {count} records, ~2 KiB bodies");
    let envelopes = make_envelopes(count);
    let mean_size = envelopes.iter().map(Vec::len).sum::<usize>() / envelopes.len();
    println!("  mean envelope size             {mean_size} bytes");
    let ceiling = plain_verify(&envelopes);
    println!("  ceiling: verify_strict loop    {ceiling:>10.0} records/s");
    let verified = verify_only(&envelopes);
    println!("  full verification only         {verified:>10.0} records/s  ratio {:.2}", verified / ceiling);
    let sequential = ingest_sequential(&envelopes);
    println!("  one by one, one thread         {sequential:>10.0} records/s  ratio {:.2}", sequential / ceiling);
    let stored = store_only(&envelopes);
    println!("  storage only, batches of 256   {stored:>10.0} records/s  ratio {:.2}", stored / ceiling);
    let ingested = ingest_pipeline(&envelopes);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("  ingest pipeline ({cores} cores)       {ingested:>10.0} records/s  ratio {:.2}", ingested / ceiling);
    let every_core = plain_verify_every_core(&envelopes);
    println!("  ceiling on all {cores} cores at once  {every_core:>10.0} records/s");
    let target = 0.6;
    let ratio = ingested / every_core;
    let verdict = if ratio >= target { "meets" } else { "MISSES" };
    println!("  ingest ratio {ratio:.2} of every core's ceiling {verdict} the target of {target}");
}
