//! Runs the `citymesh` binary against temporary data directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use citymesh::author;
use citymesh::daemon::{Daemon, RunOptions};
use citymesh::node::NodeHandle;
use citymesh::record::{self, Body, Draft, Kind, PublisherId, PublisherKey, Record, RecordId};
use citymesh::wire::Practice;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// The example note shipped in `config/examples/`.
pub const EXAMPLE: &str = include_str!("../../config/examples/community-composting.md");

/// The example note's content, parsed.
pub fn example_practice() -> Practice {
    citymesh::markdown::parse(EXAMPLE, "CC-BY-4.0").expect("the example parses").practice
}

/// A first revision of a practice note with this content and slug, signed now by `key`, as a
/// peer other than the nodes under test would make it.
pub fn signed_practice(key: &PublisherKey, slug: &str, practice: Practice) -> Record {
    let draft = Draft {
        kind: Kind::Practice,
        slug: slug.to_owned(),
        revision: 1,
        timestamp_ms: author::now_ms(),
        body: Body::Practice(practice),
    };
    record::sign(key, draft).expect("signs")
}

/// One data directory, in a temporary folder removed when the value is dropped.
pub struct DataDir {
    dir: TempDir,
}

impl DataDir {
    /// A folder with nothing in it yet.
    pub fn empty() -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    /// A data directory after `citymesh init`: a profile and the identity's first revision.
    pub fn initialised(name: &str) -> Self {
        let data = Self::empty();
        data.ok(&["init", "--name", name, "--country", "ID", "--place", "Surabaya"]);
        data
    }

    /// A data directory as made before identities (`init --without-identity`): its key alone
    /// signs until the first identity change migrates it.
    pub fn legacy(name: &str) -> Self {
        let data = Self::empty();
        data.ok(&["init", "--name", name, "--country", "ID", "--place", "Surabaya", "--without-identity"]);
        data
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A path for scratch files beside the data directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a scratch file and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.scratch(name);
        std::fs::write(&path, text).expect("write a scratch file");
        path
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_citymesh"))
            .arg("--data-dir")
            .arg(self.path())
            .args(args)
            .env_remove("CITYMESH_HOME")
            .env_remove("RUST_LOG")
            .output()
            .expect("run citymesh")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        check_no_panic(&output);
        assert!(output.status.success(), "citymesh {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    /// Runs a command that must fail with exit code 1; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        check_no_panic(&output);
        assert_eq!(output.status.code(), Some(1), "citymesh {args:?} should have failed: {output:?}");
        String::from_utf8(output.stderr).expect("utf-8 output")
    }

    /// Publishes a note from text; returns its record id.
    pub fn publish(&self, text: &str) -> String {
        let file = self.write("note.md", text);
        self.ok(&["publish", path_str(&file)]).trim().to_owned()
    }

    /// `list --json`, parsed.
    pub fn list(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["list", "--json"])).expect("list --json prints JSON")
    }
}

/// An HTTP client for the nodes' APIs that hands back error statuses as answers.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// The arguments of `citymesh run` on loopback, on free ports for peers and for the API.
pub const RUN: [&str; 5] = ["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"];

/// A `citymesh run` process on loopback, killed with SIGKILL and reaped when dropped
/// ([`Process::stop`] stops it cleanly instead). Its log goes to a file beside its data
/// directory, which [`Process::stop`] hands back.
pub struct Process {
    child: std::process::Child,
    log: PathBuf,
    /// The node's API, as `http://127.0.0.1:port`.
    pub base: String,
}

impl Process {
    /// Starts `citymesh run` on the data directory (a fresh port for peers and for the API),
    /// dialling `bootstrap`, and waits for its API to answer.
    pub fn start(data: &DataDir, bootstrap: &[String]) -> Process {
        let api_file = data.path().join("api.addr");
        let _ = std::fs::remove_file(&api_file);
        let mut args = RUN.to_vec();
        for address in bootstrap {
            args.extend(["--bootstrap", address.as_str()]);
        }
        let log = data.scratch("run.log");
        let child = Command::new(env!("CARGO_BIN_EXE_citymesh"))
            .arg("--data-dir")
            .arg(data.path())
            .args(&args)
            .env("RUST_LOG", "info,libp2p=warn,libp2p_kad=error")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("start citymesh run");
        let mut process = Process { child, log, base: String::new() };
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
        let mut base = None;
        eventually_blocking("citymesh run answers on its API", Duration::from_secs(60), || {
            let Ok(address) = std::fs::read_to_string(&api_file) else { return false };
            let candidate = format!("http://{}", address.trim());
            let answers = agent.get(format!("{candidate}/api/v1/status")).call().is_ok_and(|r| r.status().is_success());
            base = answers.then_some(candidate);
            answers
        });
        process.base = base.expect("checked above");
        process
    }

    /// The process's resident memory now and at its peak since the last [`Process::reset_peak`]
    /// (or its start), in bytes.
    pub fn memory(&self) -> (usize, usize) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let field = |name: &str| {
            let line = status.lines().find(|line| line.starts_with(name)).expect("a memory line");
            let kib: usize = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number");
            kib * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Starts counting the peak resident memory again from now (Linux's clear_refs).
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").expect("reset the peak memory");
    }

    /// The node's status (`GET /api/v1/status`).
    pub fn status(&self) -> serde_json::Value {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
        agent.get(format!("{}/api/v1/status", self.base)).call().expect("status").body_mut().read_json().expect("JSON")
    }

    /// An address other nodes can dial: the first listen address with the peer id.
    pub fn address(&self) -> String {
        let status = self.status();
        let address = status["listen_addrs"][0].as_str().expect("a listen address");
        format!("{address}/p2p/{}", status["peer_id"].as_str().expect("a peer id"))
    }

    /// Stops the node with SIGTERM, waits for a clean exit and answers what it logged.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("the node exits");
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(exit.success(), "citymesh run did not stop cleanly: {exit}\n{log}");
        log
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A user never sees a panic or a debug dump.
pub fn check_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "citymesh panicked:\n{stderr}");
}

/// `text` mentions every one of `parts`.
pub fn check_mentions(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in:\n{text}");
    }
}

/// A 64-character lowercase hex id alone on the output.
pub fn check_id(output: &str) -> String {
    let id = output.trim();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "not an id: {id:?}"
    );
    id.to_owned()
}

/// The example note with one front matter line replaced.
pub fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "the example has no {from:?}");
    EXAMPLE.replacen(from, to, 1)
}

/// Waits until `condition` holds, checking every 50 ms, failing the test after `timeout`; for
/// tests that are not async (see [`eventually`]).
pub fn eventually_blocking(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "timed out after {timeout:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `condition` holds, checking every 50 ms, failing the test after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A node running in this process on loopback, with its own data directory, discovery off
/// (so the test decides the topology) and the API on a free port.
pub struct Node {
    data: DataDir,
    running: Daemon,
    shutdown: CancellationToken,
    /// Built once, as a server builds it: state such as sign-in attempts lasts across calls.
    router: axum::Router,
}

impl Node {
    pub async fn start(name: &str, networks: &[&str], bootstrap: &[String]) -> Node {
        Node::start_on(name, networks, bootstrap, "/ip4/127.0.0.1/tcp/0").await
    }

    /// Like [`Node::start`], listening on `listen` (a multiaddr on loopback, port 0).
    pub async fn start_on(name: &str, networks: &[&str], bootstrap: &[String], listen: &str) -> Node {
        Node::start_with(name, networks, bootstrap, listen, "").await
    }

    /// Like [`Node::start_on`], with more lines for config.toml after its `[node]` section's
    /// first lines (more `[node]` settings, then other sections).
    pub async fn start_with(name: &str, networks: &[&str], bootstrap: &[String], listen: &str, node: &str) -> Node {
        let data = DataDir::initialised(name);
        let networks: Vec<String> = networks.iter().map(|network| format!("{network:?}")).collect();
        let config = format!("[node]\nnetworks = [{}]\ndiscovery = false\n{node}", networks.join(", "));
        std::fs::write(data.path().join("config.toml"), config).expect("write config.toml");
        Node::run(data, bootstrap, listen).await
    }

    /// Starts a node again on a data directory kept by [`Node::stop_keeping_data`].
    pub async fn restart(data: DataDir) -> Node {
        Node::run(data, &[], "/ip4/127.0.0.1/tcp/0").await
    }

    async fn run(data: DataDir, bootstrap: &[String], listen: &str) -> Node {
        let options = RunOptions {
            listen: vec![listen.to_owned()],
            bootstrap: bootstrap.to_vec(),
            api_listen: Some("127.0.0.1:0".parse().expect("an address")),
        };
        let shutdown = CancellationToken::new();
        let running = Daemon::start(citymesh::datadir::DataDir::new(data.path()), options, shutdown.clone())
            .await
            .expect("the node starts");
        let router = citymesh::api::app(running.node.clone());
        Node { data, running, shutdown, router }
    }

    /// The node's use cases and what it shows.
    pub fn node(&self) -> &NodeHandle {
        &self.running.node
    }

    /// The node's HTTP routes (API and web page), to call without a server (`oneshot`).
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The node's HTTP API, as `http://127.0.0.1:port`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.running.api_addr)
    }

    pub async fn peer_id(&self) -> citymesh::net::PeerId {
        self.node().net_status().await.expect("the network runs").peer_id.parse().expect("a peer id")
    }

    /// Syncs with `other` now (waiting for a sync with it that is already running to end).
    pub async fn sync_with(&self, other: &Node) -> citymesh::sync::SyncReport {
        self.sync_with_peer(other.peer_id().await).await
    }

    /// Syncs with a connected peer now (waiting for a sync with it that is already running).
    pub async fn sync_with_peer(&self, peer: citymesh::net::PeerId) -> citymesh::sync::SyncReport {
        let report = &std::sync::Mutex::new(None);
        eventually(&format!("a sync with {peer} is free"), Duration::from_secs(20), || async move {
            let done = self.node().sync_with(peer).await.ok();
            let free = done.is_some();
            *report.lock().expect("not poisoned") = done;
            free
        })
        .await;
        report.lock().expect("not poisoned").take().expect("checked above")
    }

    pub fn publisher(&self) -> PublisherId {
        self.node().publisher()
    }

    /// This node's first listen address, with its peer id.
    pub async fn address(&self) -> String {
        let first =
            || async { self.node().net_status().await.ok().and_then(|status| status.listen_addrs.first().cloned()) };
        eventually("the node listens", Duration::from_secs(10), || async { first().await.is_some() }).await;
        first().await.expect("checked above")
    }

    /// Connects this node to `other` now.
    pub async fn dial(&self, other: &Node) {
        let address = other.address().await.parse().expect("a multiaddr");
        self.node().dial(address).await.expect("the network runs");
    }

    pub async fn connected_peers(&self) -> usize {
        self.node().net_status().await.map(|status| status.connected_peers.len()).unwrap_or_default()
    }

    pub async fn mesh_peers(&self) -> usize {
        self.node().net_status().await.map(|status| status.mesh_peers).unwrap_or_default()
    }

    pub async fn gossip_peers(&self) -> usize {
        self.node().net_status().await.map(|status| status.gossip_peers).unwrap_or_default()
    }

    pub fn holds(&self, id: &RecordId) -> bool {
        self.node().store().get(id).expect("the store answers").is_some()
    }

    /// Publishes as the API does: sign, store, gossip.
    pub async fn publish(&self, markdown: &str) -> RecordId {
        self.node().publish(markdown.to_owned(), None).await.expect("a valid note").record.id()
    }

    pub async fn withdraw(&self, slug: &str) -> RecordId {
        let node = self.node();
        node.withdraw(slug.to_owned(), "replaced".to_owned()).await.expect("a note to withdraw").id()
    }

    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the node cleanly and hands back its data directory.
    pub async fn stop_keeping_data(self) -> DataDir {
        self.shutdown.cancel();
        self.running.stopped().await.expect("a clean stop");
        self.data
    }
}
