//! A running node: the wiring between the store, the network, the gossip validator and the
//! API, and its clean shutdown.
//!
//! Received gossip goes to one validator thread, which verifies a batch, stores what is valid in
//! one transaction, flushes, and only then tells gossipsub to forward (`Accept`), drop
//! (`Ignore`: already held, older, of a kind or format this version does not know, or outside
//! our clock's window, or of a publisher the trust policy does not keep) or penalise
//! (`Reject`: any other broken rule).
//!
//! Peers' sync and fetch requests are answered off the runtime, at most [`MAX_SERVING`] at a
//! time, within each peer's request budget; a peer that breaks the protocols collects strikes
//! ([`guard`]), loses gossip score and, at three, is banned for a while.

mod budget;
mod guard;
mod syncing;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::author::now_ms;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::metrics::Metrics;
use crate::net::{self, During, Event, Exchange, Inbound, NetConfig, NetHandle, PeerId, Verdict};
use crate::record::{PublisherKey, Record, RecordError, Verifier};
use crate::store::{Inserted, Store};
use crate::sync::SyncReport;
use crate::trust::Policy;

use budget::fetched_within_cap;
pub use guard::{PeerGuard, Penalty, STRIKES_TO_BAN};
use syncing::SetCache;

/// Peers' requests being answered at once, at most; more wait their turn.
pub const MAX_SERVING: usize = 4;

/// What peers' traffic can make a node hold in memory at once, beyond what it holds idle, at
/// most: gossip waiting for its verdict, requests waiting for an answer, answers their peers
/// have not read, and the answers being made ([`MAX_SERVING`] at a time, each up to an answer
/// frame and its encoding). Each connection adds [`CONNECTION_MEMORY_BOUND`] and each sync
/// session [`crate::sync::SESSION_MEMORY_BOUND`]. The hostile-peer tests measure a node under
/// attack against these (tests/it/hostile_bounds.rs).
pub const PEER_MEMORY_BOUND: usize = net::MAX_UNJUDGED_GOSSIP_BYTES
    + net::MAX_PENDING_REQUEST_BYTES
    + net::MAX_UNREAD_ANSWER_BYTES
    + MAX_SERVING * 2 * net::MAX_RESPONSE;

/// What one connection can make the node read before the node sees it, at most: a request
/// frame on every stream of each exchange, the bytes yamux takes ahead on each stream (its
/// initial window, 256 KiB) and two gossip messages.
pub const CONNECTION_MEMORY_BOUND: usize = net::MAX_STREAMS_PER_CONNECTION
    * (net::MAX_REQUEST + net::MAX_FETCH_REQUEST + 2 * 256 * 1024)
    + 2 * net::MAX_GOSSIP_MESSAGE;

/// A peer that connects is not synced with again if a sync with it succeeded this recently.
const RECENT_SYNC_MS: i64 = 30_000;
/// Gossip score given per strike (gossipsub weighs it by 10; below -80 a peer is graylisted).
const SCORE_PER_STRIKE: f64 = -3.0;

/// Gossip messages waiting for the validator, at most; more are ignored (sync repairs them).
const VALIDATION_QUEUE: usize = 1024;
/// Messages validated, stored and flushed together, at most.
const VALIDATION_BATCH: usize = 256;

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub listen: Vec<String>,
    pub bootstrap: Vec<String>,
    pub api_listen: Option<SocketAddr>,
}

/// A record accepted from a peer.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub id: String,
    pub publisher: String,
    pub kind: String,
    pub slug: String,
    pub revision: u64,
    pub from: String,
    pub at_ms: i64,
}

/// A record refused from a peer.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    pub rule: &'static str,
    pub detail: String,
    pub from: String,
    pub at_ms: i64,
}

/// Rejections remembered, most recent last.
const MAX_REJECTIONS: usize = 64;

/// What the node's tasks and the API share.
pub struct Shared {
    pub data: DataDir,
    pub config: Config,
    pub store: Store,
    pub key: PublisherKey,
    pub net: NetHandle,
    pub token: String,
    /// The full-text index, kept up to date by a background task (and by every search).
    pub search: crate::search::Search,
    /// Whose records this node keeps; replaced whole when partners, blocks or partnership
    /// records change.
    policy: std::sync::RwLock<Arc<Policy>>,
    /// Serialises changes to partners.json.
    pub trust_changes: tokio::sync::Mutex<()>,
    /// When the policy last changed (ms since the epoch): syncs before it were of another scope.
    policy_changed_ms: std::sync::atomic::AtomicI64,
    /// Asks the event loop for a sync now, with one peer or (`None`) every connected peer.
    sync_now: mpsc::Sender<Option<PeerId>>,
    /// Sets of items for reconciliation, kept while the store is unchanged.
    sets: SetCache,
    /// Peers' request budgets and strikes.
    pub guard: PeerGuard,
    pub metrics: Metrics,
    /// Gossip budgets per publisher and per peer, and the storage cap under `open`.
    budgets: budget::Budgets,
    serving: Arc<tokio::sync::Semaphore>,
    pub last_received: Mutex<Option<Received>>,
    /// Gossip messages handed to the validator so far (gossipsub already dropped duplicates).
    pub gossip_received: AtomicU64,
    /// The most recent records refused from peers, with their reasons.
    pub rejections: Mutex<VecDeque<Rejection>>,
    /// The last sync with each peer.
    pub syncs: Mutex<HashMap<String, SyncReport>>,
    /// Peers a sync with is running now (one at a time per peer).
    /// with `true` when another sync was asked for meanwhile (it runs when this one ends).
    syncing: Mutex<HashMap<PeerId, bool>>,
    /// Every record accepted from a peer, for whoever listens (the demo).
    pub accepted: broadcast::Sender<Received>,
}

impl Shared {
    /// The trust policy now.
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Recomputes the policy from the settings, partners.json and the partnership records
    /// held. Takes effect at once for gossip and for the next sync.
    pub fn refresh_policy(&self) -> Result<()> {
        let policy = crate::partners::policy(&self.data, &self.config, &self.store, self.key.publisher())?;
        *self.policy.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(policy);
        self.policy_changed_ms.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    /// Starts a sync soon with `peer`, or with every connected peer; never waits (a request
    /// the node has no room for is dropped: periodic sync comes anyway).
    pub fn sync_soon(&self, peer: Option<PeerId>) {
        if self.sync_now.try_send(peer).is_err() {
            tracing::debug!("sync requests are queued up; dropping one");
        }
    }
}

/// A started node.
pub struct RunningNode {
    pub api_addr: SocketAddr,
    pub shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    validator: thread::JoinHandle<()>,
}

fn parse_addrs(texts: &[String], setting: &str) -> Result<Vec<net::Multiaddr>> {
    texts.iter().map(|text| net::parse_addr(text, setting)).collect()
}

impl RunningNode {
    /// Opens the data directory, starts the network, the validator and the API. Everything
    /// stops when `shutdown` is cancelled; then call [`RunningNode::stopped`].
    pub async fn start(data: DataDir, options: RunOptions, shutdown: CancellationToken) -> Result<RunningNode> {
        data.require_initialised()?;
        let config = data.config()?;
        let key = data.publisher_key()?;
        let token = data.api_token()?;
        let store = data.open_store(&config)?;
        let search = data.open_search_lagging(&store)?;
        let (sync_now, sync_requests) = mpsc::channel(16);
        let budgets = budget::Budgets::new(&config.trust);
        let policy = crate::partners::policy(&data, &config, &store, key.publisher())?;
        let listen = if options.listen.is_empty() { &config.node.listen } else { &options.listen };
        let mut bootstrap = parse_addrs(&config.node.bootstrap, "node.bootstrap")?;
        bootstrap.extend(parse_addrs(&options.bootstrap, "--bootstrap")?);
        // Peers remembered from earlier runs; one that no longer parses is simply skipped.
        bootstrap.extend(data.known_peers().iter().filter_map(|text| text.parse().ok()));
        bootstrap.dedup();
        let net_config = NetConfig {
            node_key: data.node_key()?,
            listen: parse_addrs(listen, "--listen or node.listen")?,
            bootstrap,
            networks: config.node.networks.clone(),
            mdns: config.node.mdns,
            discovery: config.node.discovery,
            idle_timeout: std::time::Duration::from_secs(config.node.idle_timeout_secs),
            redial_interval: std::time::Duration::from_secs(config.node.redial_interval_secs),
        };
        let api_listen = options.api_listen.unwrap_or(config.api.listen);
        if !api_listen.ip().is_loopback() && !config.api.allow_non_loopback {
            anyhow::bail!(
                "--api {api_listen} is not a loopback address: anyone who can reach it could read the node's pages \
                 and try its token; set api.allow_non_loopback = true in config.toml to allow it"
            );
        }
        let (net, events) = net::start(net_config, shutdown.clone())?;
        let listener = tokio::net::TcpListener::bind(api_listen).await.with_context(|| {
            format!("cannot listen for the API on {api_listen}: another program (or node) uses it; set api.listen or pass --api")
        })?;
        let api_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            data,
            config,
            store,
            key,
            net,
            token,
            search,
            policy: std::sync::RwLock::new(Arc::new(policy)),
            trust_changes: tokio::sync::Mutex::new(()),
            policy_changed_ms: std::sync::atomic::AtomicI64::new(0),
            sync_now,
            sets: SetCache::default(),
            guard: PeerGuard::default(),
            metrics: Metrics::default(),
            budgets,
            serving: Arc::new(tokio::sync::Semaphore::new(MAX_SERVING)),
            last_received: Mutex::new(None),
            rejections: Mutex::new(VecDeque::new()),
            gossip_received: AtomicU64::new(0),
            syncs: Mutex::new(HashMap::new()),
            syncing: Mutex::new(HashMap::new()),
            accepted: broadcast::channel(256).0,
        });
        let (inbox, validator_inbox) = mpsc::channel(VALIDATION_QUEUE);
        let validator = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("gossip-validate".to_owned())
                .spawn(move || validate_gossip(&shared, validator_inbox))
                .context("cannot start the validator thread")?
        };
        let mut tasks = vec![
            tokio::spawn(on_events(Arc::clone(&shared), events, inbox, sync_requests)),
            tokio::spawn(keep_search_index(Arc::clone(&shared), shutdown.clone())),
        ];
        let app = crate::api::app(Arc::clone(&shared));
        tasks.push(tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
            if let Err(error) = served {
                tracing::error!(%error, "the API stopped");
            }
        }));
        shared.data.write_api_addr(api_addr)?;
        tracing::info!(api = %api_addr, publisher = %shared.key.publisher(), "node started");
        Ok(RunningNode { api_addr, shared, tasks, validator })
    }

    /// Waits for every task to end after shutdown, then flushes and closes the store.
    pub async fn stopped(self) -> Result<()> {
        for task in self.tasks {
            let _ = task.await;
        }
        let validator = self.validator;
        let _ = tokio::task::spawn_blocking(move || validator.join()).await;
        self.shared.data.remove_api_addr();
        self.shared.store.flush()?;
        // The API's and the network's clones of `shared` are gone; dropping the last one
        // closes the store (and releases the data directory) now rather than at exit.
        drop(self.shared);
        Ok(())
    }
}

/// How often the search index looks for records the store received.
const SEARCH_INDEX_INTERVAL: Duration = Duration::from_millis(500);

/// Keeps the search index up to date with the store, in the background, until shutdown.
async fn keep_search_index(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(SEARCH_INDEX_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let shared = Arc::clone(&shared);
        let indexed = tokio::task::spawn_blocking(move || shared.search.catch_up(&shared.store)).await;
        match indexed {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot update the search index; searches may miss new notes"),
            Err(error) => tracing::warn!(%error, "the search indexer stopped"),
        }
    }
}

/// Routes network events: gossip to the validator, new peers to the peers file.
async fn on_events(
    shared: Arc<Shared>,
    mut events: mpsc::Receiver<Event>,
    inbox: mpsc::Sender<Inbound>,
    mut sync_requests: mpsc::Receiver<Option<PeerId>>,
) {
    // Syncs and answers run beside this loop; when the network stops, they are ended and
    // awaited, so none outlives the node (each holds the store).
    let mut work = JoinSet::new();
    let mut periodic = tokio::time::interval(Duration::from_secs(shared.config.node.sync_interval_secs));
    periodic.tick().await;
    loop {
        while work.try_join_next().is_some() {}
        let event = tokio::select! {
            event = events.recv() => event,
            _ = periodic.tick() => {
                if let Some(peer) = random_peer(&shared).await {
                    spawn_sync(&mut work, &shared, peer);
                }
                continue;
            }
            Some(request) = sync_requests.recv() => {
                let peers = match request {
                    Some(peer) => vec![peer],
                    None => connected_peers(&shared).await,
                };
                for peer in peers {
                    spawn_sync(&mut work, &shared, peer);
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            Event::Received(inbound) => {
                if let Err(mpsc::error::TrySendError::Full(inbound)) = inbox.try_send(inbound) {
                    tracing::warn!(peer = %inbound.source, "validator busy: ignoring a gossip message (sync will repair)");
                    shared.net.validated(&inbound, Verdict::Ignore);
                }
            }
            Event::PeerConnected { peer, address, dialed } => {
                if dialed {
                    // A write of a few hundred bytes, rare enough to do here.
                    let address = address.with_p2p(peer).unwrap_or_else(|address| address).to_string();
                    if let Err(error) = shared.data.remember_peer(&address) {
                        tracing::warn!(%error, "cannot remember a peer");
                    }
                }
                if !synced_recently(&shared, peer) {
                    spawn_sync(&mut work, &shared, peer);
                }
            }
            Event::Request { exchange, peer, id, data } => match shared.guard.admit(peer) {
                Ok(()) => {
                    work.spawn(serve(Arc::clone(&shared), exchange, peer, id, data));
                }
                Err(refusal) => {
                    tracing::debug!(%peer, reason = refusal.as_str(), "refused a peer's request");
                    shared.metrics.refused(refusal.as_str());
                    shared.net.refuse(id);
                }
            },
            Event::Misbehaved { peer, reason, during } => penalise(&shared, peer, &reason, during),
        }
    }
    work.shutdown().await;
}

fn spawn_sync(work: &mut JoinSet<()>, shared: &Arc<Shared>, peer: PeerId) {
    let shared = Arc::clone(shared);
    work.spawn(async move { drop(sync(shared, peer).await) });
}

/// Answers one request off the runtime, at most [`MAX_SERVING`] at a time; a request that is
/// the peer's fault is refused and penalised.
async fn serve(shared: Arc<Shared>, exchange: Exchange, peer: PeerId, id: u64, data: Vec<u8>) {
    let Ok(_permit) = Arc::clone(&shared.serving).acquire_owned().await else { return };
    let answering = Arc::clone(&shared);
    let answer = tokio::task::spawn_blocking(move || syncing::answer(&answering, exchange, &data)).await;
    match answer {
        Ok(Ok(answer)) => {
            shared.metrics.served(exchange.as_str());
            shared.net.respond(id, answer);
        }
        Ok(Err(error)) => {
            tracing::warn!(%peer, %error, "refused a peer's request");
            shared.net.refuse(id);
            if error.is_peer_fault() {
                shared.metrics.refused("malformed");
                penalise(&shared, peer, &error.to_string(), During::Serving);
            } else {
                shared.metrics.refused("failed");
            }
        }
        Err(_) => shared.net.refuse(id),
    }
}

async fn connected_peers(shared: &Shared) -> Vec<PeerId> {
    let peers = shared.net.status().await.map(|status| status.connected_peers).unwrap_or_default();
    peers.iter().filter_map(|peer| peer.parse().ok()).collect()
}

/// One connected peer, chosen at random, for the periodic sync.
async fn random_peer(shared: &Shared) -> Option<PeerId> {
    let peers = connected_peers(shared).await;
    if peers.is_empty() {
        return None;
    }
    Some(peers[rand::random::<u64>() as usize % peers.len()])
}

fn synced_recently(shared: &Shared, peer: PeerId) -> bool {
    let syncs = shared.syncs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let changed = shared.policy_changed_ms.load(Ordering::Relaxed);
    syncs
        .get(&peer.to_string())
        .is_some_and(|last| last.error.is_none() && now_ms() - last.at_ms < RECENT_SYNC_MS && last.at_ms > changed)
}

/// Syncs with a peer unless the peer is banned, and keeps the report. When a sync with it is
/// already running, that one runs once more when it ends (the scope may have grown since it
/// began) and this returns `None`. A peer with more than one session's worth of records gets
/// more sessions at once. Returns the last session's report.
pub async fn sync(shared: Arc<Shared>, peer: PeerId) -> Option<SyncReport> {
    if shared.guard.is_banned(peer) {
        return None;
    }
    {
        let mut syncing = shared.syncing.lock().ok()?;
        if let Some(again) = syncing.get_mut(&peer) {
            *again = true;
            return None;
        }
        syncing.insert(peer, false);
    }
    let mut fetched = 0;
    let report = loop {
        let mut report = syncing::with_peer(&shared, peer).await;
        shared.metrics.synced(&report);
        fetched += report.fetched;
        let more = report.error.is_none() && report.remaining > 0 && report.fetched > 0;
        let mut syncing = shared.syncing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let asked_again = syncing.get(&peer).copied().unwrap_or(false);
        if more || (asked_again && report.error.is_none()) {
            syncing.insert(peer, false);
            continue;
        }
        syncing.remove(&peer);
        report.fetched = fetched;
        break report;
    };
    if let Ok(mut syncs) = shared.syncs.lock() {
        // A node knows a bounded number of peers; keep the reports bounded all the same.
        if syncs.len() >= 1024 {
            syncs.clear();
        }
        syncs.insert(report.peer.clone(), report.clone());
    }
    Some(report)
}

/// Counts a protocol fault against a peer: a strike, a lower gossip score, and at
/// [`STRIKES_TO_BAN`] a ban.
fn penalise(shared: &Shared, peer: PeerId, reason: &str, during: During) {
    let strikes = shared.guard.strike(peer, reason);
    shared.metrics.penalised(during.as_str());
    tracing::warn!(%peer, strikes, reason, "penalised a peer");
    shared.net.penalise(peer, SCORE_PER_STRIKE * f64::from(strikes));
}

/// The validator thread: verify, store, flush, then give gossipsub its verdicts.
fn validate_gossip(shared: &Shared, mut inbox: mpsc::Receiver<Inbound>) {
    let mut verifier = Verifier::default();
    while let Some(first) = inbox.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < VALIDATION_BATCH
            && let Ok(inbound) = inbox.try_recv()
        {
            batch.push(inbound);
        }
        let verdicts = judge(shared, &mut verifier, &batch);
        for (inbound, verdict) in batch.iter().zip(verdicts) {
            shared.net.validated(inbound, verdict);
        }
    }
}

fn judge(shared: &Shared, verifier: &mut Verifier, batch: &[Inbound]) -> Vec<Verdict> {
    shared.gossip_received.fetch_add(batch.len() as u64, Ordering::Relaxed);
    shared.metrics.gossip_received(batch.len() as u64);
    let now = now_ms();
    let policy = shared.policy();
    let mut verdicts = vec![Verdict::Ignore; batch.len()];
    let mut valid: Vec<(usize, Record)> = Vec::new();
    for (index, inbound) in batch.iter().enumerate() {
        match verifier.verify(&inbound.data, now) {
            Ok(record) if !policy.accepts(&record.publisher().0) => {
                tracing::debug!(peer = %inbound.source, publisher = %record.publisher(), "ignored a record the trust policy does not keep");
                shared.metrics.ignored("policy");
            }
            Ok(record) => match budget::within_budget(shared, &policy, &record, inbound) {
                Ok(()) => valid.push((index, record)),
                Err(over) => {
                    tracing::debug!(peer = %inbound.source, publisher = %record.publisher(), reason = over.as_str(), "ignored a record over budget");
                    shared.metrics.ignored(over.as_str());
                }
            },
            // Not the sender's fault, or not yet ours to judge: a kind or format from a newer
            // version, or a clock that differs from ours.
            Err(error) if !error.is_senders_fault() => {
                tracing::info!(peer = %inbound.source, %error, "ignored a record");
            }
            Err(error) => {
                verdicts[index] = Verdict::Reject;
                rejected(shared, &error, &inbound.source.to_string());
            }
        }
    }
    if valid.is_empty() {
        return verdicts;
    }
    let (indexes, records): (Vec<usize>, Vec<Record>) = valid.into_iter().unzip();
    let stored = shared.store.insert_batch(&records).and_then(|outcomes| shared.store.flush().map(|()| outcomes));
    let outcomes = match stored {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::error!(%error, "cannot store received records");
            return verdicts;
        }
    };
    for ((index, record), outcome) in indexes.into_iter().zip(&records).zip(outcomes) {
        let source = batch[index].source;
        if let Inserted::New { .. } = outcome {
            shared.budgets.stored(&record.publisher().0, batch[index].data.len());
        }
        match outcome {
            Inserted::New { head: true } => {
                verdicts[index] = Verdict::Accept;
                accepted(shared, record, &source.to_string(), "gossip");
            }
            Inserted::New { head: false } => {
                tracing::debug!(id = %record.id(), "stored an older revision; not forwarding it");
            }
            Inserted::AlreadyHeld => {}
        }
    }
    verdicts
}

/// Logs and remembers a record refused from a peer.
fn rejected(shared: &Shared, error: &RecordError, from: &str) {
    tracing::warn!(peer = from, rule = error.rule(), %error, "rejected a record");
    shared.metrics.rejected(error.rule());
    if let Ok(mut rejections) = shared.rejections.lock() {
        if rejections.len() == MAX_REJECTIONS {
            rejections.pop_front();
        }
        let rejection =
            Rejection { rule: error.rule(), detail: error.to_string(), from: from.to_owned(), at_ms: now_ms() };
        rejections.push_back(rejection);
    }
}

/// Logs and announces a record accepted from a peer (`via` gossip or sync).
fn accepted(shared: &Shared, record: &Record, from: &str, via: &'static str) {
    shared.metrics.accepted(via);
    // Under partners+N a partnership record can widen what the node keeps: fetch what that
    // brings into scope.
    let before = shared.policy();
    if record.kind() == crate::record::Kind::Partnership
        && matches!(before.kind(), crate::trust::PolicyKind::Partners { hops } if hops > 0)
    {
        match shared.refresh_policy() {
            Ok(()) if shared.policy().scope() != before.scope() => shared.sync_soon(None),
            Ok(()) => {}
            Err(error) => tracing::error!(error = format!("{error:#}"), "cannot recompute the trust policy"),
        }
    }
    // A sync can bring thousands at once; it logs one line for them all.
    if via == "sync" {
        tracing::debug!(id = %record.id(), from, "accepted a record by sync");
    } else {
        tracing::info!(
            id = %record.id(),
            publisher = %record.publisher(),
            kind = %record.kind(),
            slug = record.slug(),
            revision = record.revision(),
            from,
            "accepted a record"
        );
    }
    let received = Received {
        id: record.id().to_string(),
        publisher: record.publisher().to_string(),
        kind: record.kind().to_string(),
        slug: record.slug().to_owned(),
        revision: record.revision(),
        from: from.to_owned(),
        at_ms: now_ms(),
    };
    if let Ok(mut last) = shared.last_received.lock() {
        *last = Some(received.clone());
    }
    let _ = shared.accepted.send(received);
}

/// Runs a node until Ctrl-C or SIGTERM.
pub async fn run(data: DataDir, options: RunOptions) -> Result<()> {
    let shutdown = CancellationToken::new();
    let node = RunningNode::start(data, options, shutdown.clone()).await?;
    eprintln!("citymesh node running; API at http://{}/api/v1/status; Ctrl-C stops it", node.api_addr);
    wait_for_signal().await;
    tracing::info!("stopping");
    shutdown.cancel();
    node.stopped().await
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn wait_for_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(signal) => { signal.recv().await; } None => std::future::pending().await } } => {}
    }
}
