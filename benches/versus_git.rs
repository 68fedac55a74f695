//! `cargo bench --bench versus_git`: a citymesh node beside `git` at git's own job, moving the
//! same notes between two machines, here two processes on loopback.
//!
//! The same N generated practice notes (~2 KiB of prose each, 100 publishers) are written as
//! Markdown files into a git repository (committed and packed, as a served repository is) and
//! stored as signed records on a citymesh node. Then, each through a TCP proxy that counts the
//! bytes both ways:
//!
//! 1. **cold copy**: `git clone` (with checkout, and `--bare`) from `git daemon` against a fresh
//!    node joining the holding node (`citymesh run --bootstrap`), timed until the records are
//!    stored and its search index holds them;
//! 2. **catch-up**: the holder gets 1% more (1,000 new notes and 100 edits, for N = 100,000):
//!    `git pull --ff-only` (fetch + merge) against the node that made the cold copy, restarted;
//! 3. bytes on the wire, disk (`.git` and the bare repository against the store; the search
//!    index apart), CPU, and the peak memory of each side: the receiving and serving nodes'
//!    VmHWM against the largest process of the git client and of `git daemon` (with the
//!    `upload-pack` and `pack-objects` it starts), from `getrusage`.
//!
//! Every git process runs under this same binary re-executed as a wrapper (the environment
//! variable below) that waits for it and writes its children's resource usage to a file.
//!
//! Set CITYMESH_BENCH_RECORDS to change N (default 100,000).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use citymesh::datadir::DataDir;
use citymesh::ingest;
use citymesh::wire::Profile;
use common::{NOW, Note, make_notes, proc_status, revise, terminate};

mod common;

/// Set on a re-execution of this benchmark: run the rest of the command line, then write its
/// resource usage to the file this names.
const USAGE: &str = "CITYMESH_BENCH_RUSAGE";

/// Peak resident memory (of the largest process) and CPU time (of them all).
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    peak_kib: u64,
    cpu_s: f64,
}

impl Usage {
    fn add(self, other: Usage) -> Usage {
        Usage { peak_kib: self.peak_kib.max(other.peak_kib), cpu_s: self.cpu_s + other.cpu_s }
    }

    fn read(path: &Path) -> Usage {
        let text = std::fs::read_to_string(path).expect("the wrapper wrote the usage");
        let (peak, cpu) = text.trim().split_once(' ').expect("two fields");
        Usage { peak_kib: peak.parse().expect("a size"), cpu_s: cpu.parse().expect("a time") }
    }
}

/// The wrapper: runs the command, waits, writes `peak_kib cpu_s` of everything it ran.
fn wrap(usage_file: &str) -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let status = Command::new(&args[0]).args(&args[1..]).env_remove(USAGE).status().expect("the command starts");
    // SAFETY: getrusage fills the struct it is given; zeroes are a valid `rusage`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    std::fs::write(usage_file, format!("{} {cpu}", usage.ru_maxrss)).expect("write the usage");
    std::process::exit(status.code().unwrap_or(1));
}

/// A git command that reads no configuration of this machine's user.
fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir).env("GIT_CONFIG_GLOBAL", "/dev/null").env("GIT_CONFIG_NOSYSTEM", "1").args([
        "-c",
        "user.name=Bench",
        "-c",
        "user.email=bench@example.org",
    ]);
    command
}

fn succeed(mut command: Command) {
    let status = command.status().expect("git runs");
    assert!(status.success(), "{command:?} failed: {status}");
}

/// Runs a git command under the wrapper: its wall time and usage.
fn measured(dir: &Path, args: &[&str], scratch: &Path) -> (Duration, Usage) {
    let usage_file = scratch.join(format!("usage-{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
    let started = Instant::now();
    let status = Command::new(std::env::current_exe().expect("this benchmark"))
        .arg("git")
        .args(args)
        .current_dir(dir)
        .env(USAGE, &usage_file)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git runs");
    let elapsed = started.elapsed();
    assert!(status.success(), "git {args:?} failed: {status}");
    (elapsed, Usage::read(&usage_file))
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Where a proxied connection goes: a TCP address, or `git daemon --inetd` started for it.
#[derive(Clone)]
enum Upstream {
    Tcp(std::net::SocketAddr),
    GitDaemon { base: PathBuf, scratch: PathBuf },
}

/// A TCP proxy on 127.0.0.1 counting the bytes each way.
struct Proxy {
    port: u16,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    connections: Arc<Mutex<Vec<JoinHandle<Usage>>>>,
    closed: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: Upstream) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicBool::new(false));
        let proxy = Proxy {
            port,
            up: up.clone(),
            down: down.clone(),
            connections: connections.clone(),
            closed: closed.clone(),
        };
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if closed.load(Ordering::SeqCst) {
                    break;
                }
                let (upstream, up, down) = (upstream.clone(), up.clone(), down.clone());
                // Held while the connection's thread starts, so that `finish` sees every one.
                let mut connections = connections.lock().expect("the list");
                connections.push(std::thread::spawn(move || serve(client, upstream, &up, &down)));
            }
        });
        proxy
    }

    fn bytes(&self) -> u64 {
        self.up.load(Ordering::SeqCst) + self.down.load(Ordering::SeqCst)
    }

    /// Waits for every connection to end: the usage of the git daemons they started.
    fn finish(&self) -> Usage {
        let connections = std::mem::take(&mut *self.connections.lock().expect("the list"));
        connections.into_iter().map(|thread| thread.join().expect("a proxy thread")).fold(Usage::default(), Usage::add)
    }

    /// Stops accepting: a node restarted later dials the address it remembers and finds
    /// nothing there, as it would if its peer had moved.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn pump(mut from: impl Read, mut to: impl Write, counter: &AtomicU64) {
    let mut buffer = vec![0; 64 << 10];
    while let Ok(read @ 1..) = from.read(&mut buffer) {
        if to.write_all(&buffer[..read]).and_then(|()| to.flush()).is_err() {
            break;
        }
        counter.fetch_add(read as u64, Ordering::SeqCst);
    }
}

fn serve(client: TcpStream, upstream: Upstream, up: &AtomicU64, down: &AtomicU64) -> Usage {
    let reader = client.try_clone().expect("a second handle");
    match upstream {
        Upstream::Tcp(address) => {
            // The node behind it may have stopped: the client finds the connection closed.
            let Ok(server) = TcpStream::connect(address) else { return Usage::default() };
            let server_reader = server.try_clone().expect("a second handle");
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    pump(&reader, &server, up);
                    let _ = server.shutdown(Shutdown::Write);
                });
                pump(&server_reader, &client, down);
                let _ = client.shutdown(Shutdown::Write);
            });
            Usage::default()
        }
        Upstream::GitDaemon { base, scratch } => {
            let usage_file = scratch.join(format!("usage-{}", COUNTER.fetch_add(1, Ordering::Relaxed)));
            let mut daemon = Command::new(std::env::current_exe().expect("this benchmark"))
                .args(["git", "daemon", "--inetd", "--export-all"])
                .arg(format!("--base-path={}", base.display()))
                .env(USAGE, &usage_file)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("git daemon starts");
            let (stdin, stdout) = (daemon.stdin.take().expect("stdin"), daemon.stdout.take().expect("stdout"));
            std::thread::scope(|scope| {
                scope.spawn(|| pump(&reader, stdin, up));
                pump(stdout, &client, down);
                let _ = client.shutdown(Shutdown::Both);
            });
            daemon.wait().expect("git daemon ends");
            Usage::read(&usage_file)
        }
    }
}

/// Space taken on disk (blocks allocated) under `path`.
fn disk(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk(&entry.path()),
            Ok(meta) => meta.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// The search index's files by what they hold (tantivy names them by extension), in MB.
fn index_parts(path: &Path) -> String {
    let mut parts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let part = name.rsplit_once('.').map_or("other", |(_, extension)| extension).to_owned();
        *parts.entry(part).or_default() += entry.metadata().map_or(0, |meta| meta.len());
    }
    parts.iter().map(|(part, bytes)| format!("{part} {:.1}", *bytes as f64 / 1e6)).collect::<Vec<_>>().join(", ")
}

fn write_notes(repo: &Path, notes: &[Note]) {
    for note in notes {
        let path = repo.join(&note.path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
        std::fs::write(path, citymesh::markdown::render(&note.slug, &note.practice)).expect("the note");
    }
}

/// A `citymesh run` process, killed if dropped before it is stopped.
struct Node {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Node {
    fn start(data: &DataDir, bootstrap: Option<String>) -> Node {
        let api = data.root().join("api.addr");
        let _ = std::fs::remove_file(&api);
        let mut command = Command::new(env!("CARGO_BIN_EXE_citymesh"));
        command.arg("--data-dir").arg(data.root()).args([
            "run",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--api",
            "127.0.0.1:0",
        ]);
        if let Some(address) = bootstrap {
            command.args(["--bootstrap", &address]);
        }
        let child = command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("citymesh runs");
        let started = Instant::now();
        let base = loop {
            if let Ok(address) = std::fs::read_to_string(&api) {
                break format!("http://{}", address.trim());
            }
            assert!(started.elapsed() < Duration::from_secs(600), "the node did not start in 10 minutes");
            std::thread::sleep(Duration::from_millis(5));
        };
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(3600))).build().into();
        Node { child, base, agent }
    }

    fn get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.base);
        self.agent.get(&url).call().expect("the node answers").body_mut().read_to_string().expect("a text answer")
    }

    fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.get("/api/v1/status")).expect("a JSON status")
    }

    /// Where its peers reach it: `/ip4/127.0.0.1/tcp/PORT` and its peer id.
    fn address(&self) -> (u16, String) {
        loop {
            let status = self.status();
            let listening = status["listen_addrs"].as_array().and_then(|addresses| {
                addresses.iter().filter_map(|address| address.as_str()?.strip_prefix("/ip4/127.0.0.1/tcp/")).next()
            });
            if let Some(rest) = listening {
                let port = rest.split('/').next().and_then(|port| port.parse().ok()).expect("a port");
                return (port, status["peer_id"].as_str().expect("a peer id").to_owned());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until it holds `records`, then until its search index holds them (a scrape of
    /// /metrics returns once every note is indexed): the times of both from `started`.
    fn wait_for(&self, records: u64, started: Instant) -> (Duration, Duration, serde_json::Value) {
        let mut reported = 0;
        let status = loop {
            let status = self.status();
            if status["records"].as_u64() >= Some(records) {
                break status;
            }
            assert!(started.elapsed() < Duration::from_secs(3600), "no copy in an hour: {status}");
            if started.elapsed().as_secs() / 30 > reported {
                reported = started.elapsed().as_secs() / 30;
                println!("  … {} of {records} records after {} s; status {status}", status["records"], reported * 30);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stored = started.elapsed();
        self.get("/metrics");
        (stored, started.elapsed(), status)
    }

    fn cpu_s(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
        let ticks = |n: usize| fields.get(n).and_then(|field| field.parse::<f64>().ok()).unwrap_or_default();
        (ticks(11) + ticks(12)) / 100.0
    }

    fn usage(&self, cpu_before: f64) -> Usage {
        Usage { peak_kib: proc_status(self.child.id(), "VmHWM:"), cpu_s: self.cpu_s() - cpu_before }
    }

    /// Stops it as an operator would (SIGTERM) and waits.
    fn stop(mut self) {
        let status = terminate(&mut self.child, Duration::from_secs(120))
            .expect("the node did not stop in 2 minutes after SIGTERM");
        assert!(status.success(), "the node stopped with {status}");
        std::mem::forget(self);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn profile(name: &str) -> Profile {
    Profile { name: name.into(), organisation_type: "local-government".into(), ..Profile::default() }
}

/// Stores `notes` in the data directory (creating it first with `name`), brings its search
/// index up to date as a stopped node's is, and answers how many records it holds.
fn store_notes(data: &DataDir, name: Option<&str>, notes: &[Note]) -> u64 {
    let store = match name {
        Some(name) => data.initialise(profile(name)).expect("init").1,
        None => data.open_store(&data.config().expect("config")).expect("the store"),
    };
    let items = notes.iter().map(|note| ((), Ok(note.envelope.clone())));
    ingest::ingest(&store, items, NOW + 1_000_000, |(), outcome| {
        assert!(matches!(outcome, ingest::Outcome::Stored { .. }), "{outcome:?}")
    })
    .expect("ingest");
    let search = citymesh::search::Search::open(&data.search_path(), false).expect("the search index");
    search.catch_up(&store).expect("index the notes");
    search.close().expect("close the search index");
    std::fs::write(data.config_path(), "[node]\ndiscovery = false\nmdns = false\n").expect("config");
    store.len() as u64
}

struct Side {
    time: Duration,
    bytes: u64,
    receiver: Usage,
    server: Usage,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    if let Ok(usage_file) = std::env::var(USAGE) {
        wrap(&usage_file);
    }
    let count: usize = std::env::var("CITYMESH_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let (added, edited) = ((count / 100).max(1), (count / 1000).max(1));
    let root = tempfile::tempdir().expect("a temporary directory");
    let scratch = root.path().join("usage");
    std::fs::create_dir_all(&scratch).expect("a folder");
    let started = Instant::now();
    let mut notes = make_notes(count + added);
    let delta: Vec<Note> = notes
        .drain(count..)
        .chain((0..edited).map(|k| revise((k * (count / edited) + k % 100).min(count - 1), NOW + 1 + k as i64)))
        .collect();
    let size: usize = notes.iter().map(|note| note.envelope.len()).sum();
    println!(
        "versus git: {count} notes (mean envelope {} B) signed in {:.0} s; catch-up of {added} new and {edited} edited",
        size / count,
        started.elapsed().as_secs_f64()
    );

    // git: the served repository, committed and packed.
    let started = Instant::now();
    let served = root.path().join("served");
    std::fs::create_dir_all(&served).expect("a folder");
    succeed({
        let mut command = git(&served);
        command.args(["init", "-q", "-b", "main"]);
        command
    });
    write_notes(&served, &notes);
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", "The notes"], &["repack", "-adq"]] {
        succeed({
            let mut command = git(&served);
            command.args(args);
            command
        });
    }
    println!("  git repository written, committed and packed in {:.0} s", started.elapsed().as_secs_f64());
    let daemon = || Proxy::start(Upstream::GitDaemon { base: root.path().to_owned(), scratch: scratch.clone() });
    let git_side = |args: &[&str], dir: &Path| {
        let proxy = daemon();
        let args: Vec<String> = args.iter().map(|arg| arg.replace("PORT", &proxy.port.to_string())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (time, receiver) = measured(dir, &args, &scratch);
        Side { time, bytes: proxy.bytes(), receiver, server: proxy.finish() }
    };
    let clone = git_side(&["clone", "-q", "git://127.0.0.1:PORT/served", "clone"], root.path());
    let bare = git_side(&["clone", "-q", "--bare", "git://127.0.0.1:PORT/served", "bare.git"], root.path());
    let git_disk = disk(&root.path().join("clone/.git"));
    let bare_disk = disk(&root.path().join("bare.git"));
    write_notes(&served, &delta);
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", "More notes and edits"]] {
        succeed({
            let mut command = git(&served);
            command.args(args);
            command
        });
    }
    let clone_dir = root.path().join("clone");
    let pull = git_side(&["pull", "-q", "--ff-only", "git://127.0.0.1:PORT/served", "main"], &clone_dir);

    // citymesh: the holder's data directory, and a new node's.
    let started = Instant::now();
    let holder = DataDir::new(root.path().join("holder"));
    let held = store_notes(&holder, Some("Holder"), &notes);
    let joiner = DataDir::new(root.path().join("joiner"));
    let own = store_notes(&joiner, Some("Joiner"), &[]);
    println!("  citymesh data directories written and indexed in {:.0} s", started.elapsed().as_secs_f64());
    let node_side = |expected: u64| {
        let server = Node::start(&holder, None);
        let (port, peer) = server.address();
        let proxy = Proxy::start(Upstream::Tcp(([127, 0, 0, 1], port).into()));
        let server_cpu = server.cpu_s();
        let started = Instant::now();
        let receiver = Node::start(&joiner, Some(format!("/ip4/127.0.0.1/tcp/{}/p2p/{peer}", proxy.port)));
        let (stored, indexed, status) = receiver.wait_for(expected, started);
        let side = Side {
            time: indexed,
            bytes: proxy.bytes(),
            receiver: receiver.usage(0.0),
            server: server.usage(server_cpu),
        };
        let sync = status["syncs"].as_array().and_then(|syncs| syncs.first()).cloned().unwrap_or_default();
        println!(
            "  citymesh: {} records stored {:.2} s after the node started, indexed at {:.2} s; the sync session {} ms, {} bytes received",
            status["records"],
            stored.as_secs_f64(),
            indexed.as_secs_f64(),
            sync["duration_ms"],
            sync["bytes_received"],
        );
        receiver.stop();
        server.stop();
        proxy.close();
        side
    };
    let cold = node_side(own + held);
    let store_disk = disk(&joiner.root().join("store"));
    let search_disk = disk(&joiner.search_path());
    let search_parts = index_parts(&joiner.search_path());
    store_notes(&holder, None, &delta);
    // The joiner holds what the cold copy brought and its own profile: now the delta as well.
    let catch_up = node_side(own + held + delta.len() as u64);

    let row = |what: &str, ours: f64, theirs: f64, unit: &str, target: f64| {
        let ratio = ours / theirs;
        let verdict = if ratio <= target { "met" } else { "not met" };
        println!(
            "  {what:<44} {ours:>9.2} {unit:<4} against {theirs:>9.2} {unit:<4} ratio {ratio:.2} (target {target}: {verdict})"
        );
    };
    println!("results:");
    row("cold copy against clone with checkout", cold.time.as_secs_f64(), clone.time.as_secs_f64(), "s", 0.5);
    row("cold copy against bare clone", cold.time.as_secs_f64(), bare.time.as_secs_f64(), "s", 1.5);
    row("catch-up against pull (fetch + merge)", catch_up.time.as_secs_f64(), pull.time.as_secs_f64(), "s", 0.7);
    row("bytes on the wire, cold copy (against clone)", cold.bytes as f64 / 1e6, clone.bytes as f64 / 1e6, "MB", 1.0);
    row("bytes on the wire, catch-up", catch_up.bytes as f64 / 1e6, pull.bytes as f64 / 1e6, "MB", 1.0);
    row("disk: store against .git", store_disk as f64 / 1e6, git_disk as f64 / 1e6, "MB", 1.5);
    for (what, ours, theirs) in [
        ("receiving node against clone", cold.receiver, clone.receiver),
        ("serving node against daemon", cold.server, clone.server),
        ("restarted node against pull", catch_up.receiver, pull.receiver),
    ] {
        row(&format!("peak memory, {what}"), mib(ours.peak_kib), mib(theirs.peak_kib), "MiB", 1.0);
    }
    println!(
        "  also: bare clone {:.1} MB on disk, {:.1} MB on the wire; search index {:.1} MB beside the store (MB by file kind: {search_parts})",
        bare_disk as f64 / 1e6,
        bare.bytes as f64 / 1e6,
        search_disk as f64 / 1e6
    );
    println!(
        "  CPU of the cold copy: receiver {:.1} s (clone {:.1} s), server {:.1} s (daemon {:.1} s); catch-up: receiver {:.1} s (pull {:.1} s), server {:.1} s (daemon {:.1} s)",
        cold.receiver.cpu_s,
        clone.receiver.cpu_s,
        cold.server.cpu_s,
        clone.server.cpu_s,
        catch_up.receiver.cpu_s,
        pull.receiver.cpu_s,
        catch_up.server.cpu_s,
        pull.server.cpu_s
    );
}
