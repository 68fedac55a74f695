//! `cargo bench --bench memory`: the memory of a node holding 1,000,000 records. Stores that
//! many signed practice notes (~2.3 KiB envelopes, 100 publishers) in a data directory, starts
//! `citymesh run` on it as its own process, waits until its search index holds every note,
//! serves some searches and pages, and reads the process's resident memory (VmRSS) and its peak
//! (VmHWM) from /proc, with the data directory's size on disk beside them.
//!
//! Resident memory is split as the kernel counts it: anonymous (the heap: sled's cache,
//! tantivy's writer, everything allocated) and file-backed (pages of the search index's
//! files, which tantivy maps into memory and the kernel can drop and read again).
//!
//! Set CITYMESH_BENCH_RECORDS to change the count, and CITYMESH_BENCH_KEEP to a folder to keep
//! the data directory there (for a heap profiler run on it: README, Performance).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use citymesh::datadir::DataDir;
use citymesh::ingest;
use citymesh::wire::Profile;
use common::{NOW, make_envelopes, proc_status, terminate};

mod common;

/// The node under measurement, stopped when dropped: as an operator stops it (SIGTERM), so
/// that a kept data directory is left closed; killed if it has not stopped in a minute.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        if terminate(&mut self.0, Duration::from_secs(60)).is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn size_on_disk(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => size_on_disk(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn get(agent: &ureq::Agent, url: &str) -> String {
    agent.get(url).call().expect("the node answers").body_mut().read_to_string().expect("a text answer")
}

fn main() {
    let count: usize = std::env::var("CITYMESH_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let root = tempfile::tempdir().expect("a temporary directory");
    let kept = std::env::var_os("CITYMESH_BENCH_KEEP").map(std::path::PathBuf::from);
    let data = DataDir::new(kept.clone().unwrap_or_else(|| root.path().join("node")));
    let profile =
        Profile { name: "Measured city".into(), organisation_type: "local-government".into(), ..Profile::default() };
    let (_, store) = data.initialise(profile).expect("init");
    let started = Instant::now();
    let mut stored = 0;
    let items = make_envelopes(count).into_iter().map(|bytes| ((), Ok(bytes)));
    ingest::ingest(&store, items, NOW, |(), outcome| {
        if matches!(outcome, ingest::Outcome::Stored { .. }) {
            stored += 1;
        }
    })
    .expect("ingest");
    drop(store);
    println!("{stored} records stored in {:.0} s", started.elapsed().as_secs_f64());
    std::fs::write(data.config_path(), "[node]\ndiscovery = false\nmdns = false\n").expect("config");

    let started = Instant::now();
    let node = Node(
        Command::new(env!("CARGO_BIN_EXE_citymesh"))
            .arg("--data-dir")
            .arg(data.root())
            .args(["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start citymesh run"),
    );
    let pid = node.0.id();
    let api = data.root().join("api.addr");
    let base = loop {
        if let Ok(address) = std::fs::read_to_string(&api) {
            break format!("http://{}", address.trim());
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the node did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    println!(
        "node started in {:.1} s: {} MiB resident",
        started.elapsed().as_secs_f64(),
        proc_status(pid, "VmRSS:") / 1024
    );
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(3600))).build().into();
    // A scrape brings the search index up to date first: it returns once every note is indexed.
    let metrics = get(&agent, &format!("{base}/metrics"));
    let notes = metrics.lines().find_map(|line| line.strip_prefix("citymesh_notes ")).unwrap_or("?").to_owned();
    println!("search index caught up ({notes} notes) {:.0} s after start", started.elapsed().as_secs_f64());
    for word in ["compost", "bus", "budget", "water", "housing", "solar", "clinic", "market"] {
        get(&agent, &format!("{base}/api/v1/search?q={word}&theme=solid-waste"));
        get(&agent, &format!("{base}/notes?q={word}"));
    }
    get(&agent, &format!("{base}/"));
    get(&agent, &format!("{base}/api/v1/status"));
    let rss = proc_status(pid, "VmRSS:");
    let peak = proc_status(pid, "VmHWM:");
    println!(
        "node holding {stored} records: resident {} MiB ({} MiB anonymous, {} MiB of mapped files), peak {} MiB; on disk: store {} MiB, search index {} MiB",
        rss / 1024,
        proc_status(pid, "RssAnon:") / 1024,
        proc_status(pid, "RssFile:") / 1024,
        peak / 1024,
        size_on_disk(&data.root().join("store")) >> 20,
        size_on_disk(&data.search_path()) >> 20
    );
    drop(node);
    if let Some(kept) = kept {
        println!("the data directory is kept in {}", kept.display());
    }
}
