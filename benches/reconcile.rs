//! `cargo bench --bench reconcile`, in two parts.
//!
//! 1. Two in-process peers reconcile sets of 100,000 and 1,000,000 items that differ by 100
//!    items at the newest end (a node back from downtime), 100 scattered, and 10,000 scattered.
//!    Prints rounds, bytes each way and time, beside the `negentropy` crate (the reference
//!    implementation) on the same sets and the naive way, all in the same run: sending every id
//!    (bytes) and merging two sorted lists (time).
//! 2. Cold join: a fresh node pulls 100,000 records (~2.3 KiB envelopes) from one peer over
//!    loopback, through the real network, verification and store. Prints records/s and the
//!    ratio to a `verify_strict` loop on one thread over the same records, in the same run.
//!
//! 3. Catch-up after a restart: a node holding 100,000 records (its search index up to date, as
//!    after a clean stop) is restarted and fetches the 1% its peer received meanwhile (records
//!    of 100 publishers, none a partner, under the `open` policy, so every record passes the
//!    storage cap). Prints the time from starting the node to the records being stored, and the
//!    ratio to a `verify_strict` loop over those records.
//!
//! Set CITYMESH_BENCH_RECORDS to change the cold join's and the restart's size (0 skips them).

use std::time::{Duration, Instant};

use citymesh::datadir::DataDir;
use citymesh::ingest;
use citymesh::node::{NetOptions, RunningNode};
use citymesh::reconcile::{Item, ItemSet, Session};
use citymesh::wire::Profile;
use common::{NOW, make_envelopes, plain_verify};
use negentropy::{Id, Negentropy, NegentropyStorageVector};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod common;

const FRAME_LIMIT: usize = 1 << 20;

fn item(n: u64) -> Item {
    Item { timestamp: 1_700_000_000_000 + n * 10, id: Sha256::digest(n.to_le_bytes()).into() }
}

struct Outcome {
    rounds: usize,
    sent: usize,
    received: usize,
    elapsed: Duration,
    found: usize,
}

fn reconcile(client: &ItemSet, server: &ItemSet) -> Outcome {
    let started = Instant::now();
    let mut initiator = Session::new(client, FRAME_LIMIT).expect("a valid frame limit");
    let mut responder = Session::new(server, FRAME_LIMIT).expect("a valid frame limit");
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut message = initiator.initiate();
    let (mut rounds, mut sent, mut received) = (0, 0, 0);
    loop {
        rounds += 1;
        sent += message.len();
        let answer = responder.respond(&message).expect("an answer");
        received += answer.len();
        match initiator.reconcile(&answer, &mut have, &mut need).expect("a next step") {
            Some(next) => message = next,
            None => break,
        }
    }
    need.sort_unstable();
    need.dedup();
    Outcome { rounds, sent, received, elapsed: started.elapsed(), found: need.len() }
}

fn storage(items: &[Item]) -> NegentropyStorageVector {
    let mut storage = NegentropyStorageVector::with_capacity(items.len());
    for item in items {
        storage.insert(item.timestamp, Id::from_byte_array(item.id)).expect("insert");
    }
    storage.seal().expect("seal");
    storage
}

/// The same job done by the `negentropy` crate (its storage built beforehand, as ours is).
fn reference(client: NegentropyStorageVector, server: NegentropyStorageVector) -> Outcome {
    let started = Instant::now();
    let mut initiator = Negentropy::owned(client, FRAME_LIMIT as u64).expect("a client");
    let mut responder = Negentropy::owned(server, FRAME_LIMIT as u64).expect("a server");
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut message = initiator.initiate().expect("a first message");
    let (mut rounds, mut sent, mut received) = (0, 0, 0);
    loop {
        rounds += 1;
        sent += message.len();
        let answer = responder.reconcile(&message).expect("an answer");
        received += answer.len();
        match initiator.reconcile_with_ids(&answer, &mut have, &mut need).expect("a next step") {
            Some(next) => message = next,
            None => break,
        }
    }
    Outcome { rounds, sent, received, elapsed: started.elapsed(), found: need.len() }
}

/// The naive floor of the same job: merge two sorted id lists to find the differences.
fn merge_time(client: &[Item], server: &[Item]) -> Duration {
    let started = Instant::now();
    let (mut i, mut j, mut missing) = (0, 0, 0usize);
    while i < client.len() && j < server.len() {
        match client[i].cmp(&server[j]) {
            std::cmp::Ordering::Equal => (i, j) = (i + 1, j + 1),
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => (j, missing) = (j + 1, missing + 1),
        }
    }
    std::hint::black_box(missing + server.len() - j);
    started.elapsed()
}

/// Which of the server's items the client lacks: (item number, set size) -> lacking.
type Lacks = fn(u64, u64) -> bool;

fn main() {
    println!("reconcile: client lacks some of the server's items; 1 MiB frame limit; ours beside the negentropy crate");
    println!(
        "{:>9} {:<17} {:>5} {:>9} {:>9} {:>10} | {:>5} {:>9} {:>9} {:>10} | {:>10}",
        "items", "differences", "rounds", "sent B", "recv B", "time", "crate", "sent B", "recv B", "time", "merge time"
    );
    for size in [100_000u64, 1_000_000] {
        let server_items: Vec<Item> = (0..size).map(item).collect();
        let server = ItemSet::new(server_items.clone());
        let cases: [(&str, Lacks); 3] = [
            ("100 newest", |n, size| n >= size - 100),
            ("100 scattered", |n, size| n % (size / 100) == 7),
            ("10,000 scattered", |n, size| n % (size / 10_000) == 3),
        ];
        for (name, missing) in cases {
            let client_items: Vec<Item> = (0..size).filter(|&n| !missing(n, size)).map(item).collect();
            let lacking = (size as usize) - client_items.len();
            let client = ItemSet::new(client_items.clone());
            let ours = reconcile(&client, &server);
            assert_eq!(ours.found, lacking, "reconciliation missed differences");
            let theirs = reference(storage(&client_items), storage(&server_items));
            assert_eq!(theirs.found, lacking, "the crate missed differences");
            println!(
                "{size:>9} {name:<17} {:>6} {:>9} {:>9} {:>10.2?} | {:>5} {:>9} {:>9} {:>10.2?} | {:>10.2?}",
                ours.rounds,
                ours.sent,
                ours.received,
                ours.elapsed,
                theirs.rounds,
                theirs.sent,
                theirs.received,
                theirs.elapsed,
                merge_time(&client_items, &server_items),
            );
            let naive_bytes = size as usize * 32;
            println!(
                "{:>27} CPU ours/crate {:.2}; bytes {:.4} of sending every id, {:.1} per difference",
                "",
                ours.elapsed.as_secs_f64() / theirs.elapsed.as_secs_f64(),
                (ours.sent + ours.received) as f64 / naive_bytes as f64,
                (ours.sent + ours.received) as f64 / lacking as f64
            );
        }
    }
    let records: usize = std::env::var("CITYMESH_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    if records > 0 {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
        runtime.block_on(cold_join(records));
        runtime.block_on(catch_up_after_restart(records));
    }
}

fn profile(name: &str) -> Profile {
    Profile { name: name.into(), organisation_type: "local-government".into(), ..Profile::default() }
}

async fn start(data: DataDir, bootstrap: Vec<String>, shutdown: &CancellationToken) -> RunningNode {
    std::fs::write(data.config_path(), "[node]\ndiscovery = false\n").expect("config");
    let options = NetOptions { listen: vec!["/ip4/127.0.0.1/tcp/0".into()], bootstrap };
    RunningNode::start(data, options, shutdown.clone()).await.expect("node starts")
}

/// The first address a node listens on, once it has one.
async fn listen_address(node: &RunningNode) -> String {
    loop {
        if let Some(address) = node.node.net_status().await.expect("status").listen_addrs.first() {
            return address.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A node holding `count` records starts again after being offline while its peer received 1%
/// more, and catches up.
async fn catch_up_after_restart(count: usize) {
    let extra = (count / 100).max(1);
    println!("catch-up after a restart: a node holding {count} records fetches the {extra} its peer got meanwhile");
    let envelopes = make_envelopes(count + extra);
    let ceiling = plain_verify(&envelopes[count..]);
    let root = tempfile::tempdir().expect("a temporary directory");
    let ingest_into = |data: &DataDir, name: &str, envelopes: &[Vec<u8>]| {
        let (_, store) = data.initialise(profile(name)).expect("init");
        let items = envelopes.iter().map(|bytes| ((), Ok(bytes.clone())));
        ingest::ingest(&store, items, NOW, |(), outcome| assert!(matches!(outcome, ingest::Outcome::Stored { .. })))
            .expect("ingest");
        // Its search index is up to date, as a node's is when it stops.
        let search = citymesh::search::Search::open(&data.search_path(), false).expect("the search index");
        search.catch_up(&store).expect("index the notes");
        search.close().expect("close the search index");
    };
    let holder = DataDir::new(root.path().join("holder"));
    ingest_into(&holder, "Holder", &envelopes);
    // The joiner held the same records before it went offline (the holder's profile comes now).
    let joiner = DataDir::new(root.path().join("joiner"));
    ingest_into(&joiner, "Joiner", &envelopes[..count]);
    let shutdown = CancellationToken::new();
    let holder = start(holder, Vec::new(), &shutdown).await;
    let address = listen_address(&holder).await;
    let started = Instant::now();
    let joiner = start(joiner, vec![address], &shutdown).await;
    let opened = started.elapsed();
    let report = loop {
        if let Some(report) = joiner.node.syncs().into_values().find(|report| report.fetched > 0) {
            break report;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the catch-up did not finish in 10 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    assert!(report.error.is_none(), "the sync failed: {report:?}");
    assert_eq!(report.fetched, extra + 1, "the records received meanwhile and the holder's profile");
    let rate = report.fetched as f64 / (elapsed - opened).as_secs_f64();
    println!("  ceiling: verify_strict loop, one thread   {ceiling:>8.0} records/s");
    println!(
        "  node started in {:.2} s; then {} records fetched and stored in {:.2} s, {} rounds: {rate:.0} records/s, ratio {:.2}",
        opened.as_secs_f64(),
        report.fetched,
        (elapsed - opened).as_secs_f64(),
        report.rounds,
        rate / ceiling
    );
    println!(
        "  of which the sync session itself (reconciling, fetching, verifying, storing): {:.2} s; the rest is connecting",
        report.duration_ms as f64 / 1000.0
    );
    shutdown.cancel();
    holder.stopped().await.expect("stop");
    joiner.stopped().await.expect("stop");
}

/// CPU time this process has used (user and system), from /proc (Linux), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |n: usize| fields.get(n).and_then(|field| field.parse::<f64>().ok()).unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// A fresh node pulls `count` records from one peer over loopback.
async fn cold_join(count: usize) {
    println!("cold join: a fresh node pulls {count} records from one peer over loopback");
    let envelopes = make_envelopes(count);
    let ceiling = plain_verify(&envelopes);
    let root = tempfile::tempdir().expect("a temporary directory");
    let holder = DataDir::new(root.path().join("holder"));
    let (_, store) = holder.initialise(profile("Holder")).expect("init");
    let items = envelopes.into_iter().map(|bytes| ((), Ok(bytes)));
    ingest::ingest(&store, items, NOW, |(), outcome| assert!(matches!(outcome, ingest::Outcome::Stored { .. })))
        .expect("ingest");
    drop(store);
    let shutdown = CancellationToken::new();
    let holder = start(holder, Vec::new(), &shutdown).await;
    let address = listen_address(&holder).await;
    let joiner = DataDir::new(root.path().join("joiner"));
    drop(joiner.initialise(profile("Joiner")).expect("init"));
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let joiner = start(joiner, vec![address], &shutdown).await;
    let report = loop {
        let done = joiner.node.syncs().into_values().find(|report| report.fetched > 0);
        if let Some(report) = done {
            break report;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "the cold join did not finish in 30 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    assert!(report.error.is_none(), "the sync failed: {report:?}");
    assert_eq!(report.fetched, count + 1, "every record and the holder's profile");
    let rate = report.fetched as f64 / elapsed.as_secs_f64();
    println!("  ceiling: verify_strict loop, one thread   {ceiling:>8.0} records/s");
    println!(
        "  cold join: {} records in {:.1} s, {} rounds, {:.1} MB received   {rate:>8.0} records/s  ratio {:.2} (target 0.6)",
        report.fetched,
        elapsed.as_secs_f64(),
        report.rounds,
        report.bytes_received as f64 / 1e6,
        rate / ceiling
    );
    println!(
        "  CPU time of both nodes: {cpu:.1} s in {:.1} s ({:.2} cores busy of {})",
        elapsed.as_secs_f64(),
        cpu / elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    shutdown.cancel();
    holder.stopped().await.expect("stop");
    joiner.stopped().await.expect("stop");
}
