//! A running node: its data directory opened ([`Archive`]), the network, the gossip validator,
//! syncs with peers, and its clean shutdown. Everyone else holds a [`NodeHandle`], whose methods
//! are the node's use cases (`usecases.rs`): each does the whole job once (store, flush, gossip,
//! policy refresh, metrics), and the API, the web page and the demo call them and only format.
//!
//! Received gossip goes to one validator thread (`validate.rs`), which verifies a batch, stores
//! what is valid in one transaction, flushes, and only then tells gossipsub to forward
//! (`Accept`), drop (`Ignore`: already held, older, of a kind or format this version does not
//! know, outside our clock's window, or of a publisher the trust policy does not keep) or
//! penalise (`Reject`: any other broken rule).
//!
//! Peers' sync and fetch requests are answered off the runtime, at most [`MAX_SERVING`] at a
//! time, within each peer's request budget; a peer that breaks the protocols collects strikes
//! ([`guard`]), loses gossip score and, at three, is banned for a while.

mod budget;
mod domains;
mod events;
mod guard;
mod learning;
mod reads;
mod state;
mod syncing;
mod usecases;
mod validate;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread;

use anyhow::{Context, Result};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::archive::Archive;
use crate::author::now_ms;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::metrics::Metrics;
use crate::net::{self, During, NetConfig, NetHandle, PeerId};
use crate::record::PublisherId;
use crate::store::Store;
use crate::trust::Policy;

pub use guard::{Penalty, STRIKES_TO_BAN};
pub use reads::{PartnerRow, PartnersPage, PeerView, Status};
pub use state::{Received, Rejection};
pub use syncing::NotSynced;
pub use usecases::{NodeError, SyncAnswer};

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

/// Gossip score given per strike (gossipsub weighs it by 10; below -80 a peer is graylisted).
const SCORE_PER_STRIKE: f64 = -3.0;
/// Gossip messages waiting for the validator, at most; more are ignored (sync repairs them).
const VALIDATION_QUEUE: usize = 1024;
/// Sync requests waiting for the event loop, at most; more are dropped (periodic sync comes).
const SYNC_REQUESTS: usize = 16;

/// Where the node listens and whom it dials, beyond its settings.
#[derive(Debug, Clone, Default)]
pub struct NetOptions {
    /// Listen on these multiaddrs instead of `node.listen`.
    pub listen: Vec<String>,
    /// Also dial these nodes.
    pub bootstrap: Vec<String>,
}

/// What the node's tasks share. Only this module and its children see it; everyone else holds
/// a [`NodeHandle`].
struct Shared {
    archive: Archive,
    /// This node's publisher (a running node always has its key).
    own: PublisherId,
    net: NetHandle,
    /// The API's bearer token (the API checks writes against it).
    token: String,
    /// Whose records this node keeps; replaced whole when partners, blocks or partnership
    /// records change.
    policy: RwLock<Arc<Policy>>,
    /// Held while partners, blocks or the policy change and while the policy is recomputed, so
    /// that the policy in force is always computed from the latest change.
    trust_changes: Mutex<()>,
    /// When the policy last changed (ms since the epoch): syncs before it were of another scope.
    policy_changed_ms: AtomicI64,
    /// Asks the event loop for a sync now, with one peer or (`None`) every connected peer.
    sync_now: mpsc::Sender<Option<PeerId>>,
    /// Sets of items for reconciliation, kept while the store is unchanged.
    sets: syncing::SetCache,
    /// Peers a sync with is running now (one at a time per peer), with `true` when another
    /// sync was asked for meanwhile (it runs when this one ends).
    syncing: Mutex<HashMap<PeerId, bool>>,
    /// Peers' request budgets and strikes.
    guard: guard::PeerGuard,
    metrics: Metrics,
    /// Gossip budgets per publisher and per peer, and the storage cap under `open`.
    budgets: budget::Budgets,
    serving: Arc<tokio::sync::Semaphore>,
    /// Gossip messages handed to the validator so far (gossipsub already dropped duplicates).
    gossip_received: AtomicU64,
    /// What the node saw lately: records accepted and refused, the last sync with each peer.
    state: state::State,
    /// Every record accepted from a peer, for whoever listens (the demo).
    accepted: broadcast::Sender<Received>,
    /// Work running off the async runtime (store reads and writes): waited for when the node
    /// stops, so that none holds the store after it.
    blocking: TaskTracker,
    /// What the node found at identities' domains.
    domains: domains::Domains,
}

impl Shared {
    fn store(&self) -> &Store {
        self.archive.store()
    }

    fn own(&self) -> PublisherId {
        self.own
    }

    /// The trust policy now.
    fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Held across a change of partners, blocks or the policy and the policy's recomputation.
    fn changing_trust(&self) -> MutexGuard<'_, ()> {
        self.trust_changes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Recomputes the policy from the settings, partners.json and the partnership records
    /// held. Takes effect at once for gossip and for the next sync.
    fn refresh_policy(&self) -> Result<()> {
        let changing = self.changing_trust();
        self.recompute_policy(&changing)
    }

    /// [`Shared::refresh_policy`] for a caller that holds [`Shared::changing_trust`].
    fn recompute_policy(&self, _changing: &MutexGuard<'_, ()>) -> Result<()> {
        let policy = self.archive.policy()?;
        *self.policy.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(policy);
        self.policy_changed_ms.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    /// Starts a sync soon with `peer`, or with every connected peer; never waits (a request
    /// the node has no room for is dropped: periodic sync comes anyway).
    fn sync_soon(&self, peer: Option<PeerId>) {
        if self.sync_now.try_send(peer).is_err() {
            tracing::debug!("sync requests are queued up; dropping one");
        }
    }

    /// Counts a protocol fault against a peer: a strike, a lower gossip score, and at
    /// [`STRIKES_TO_BAN`] a ban.
    fn penalise(&self, peer: PeerId, reason: &str, during: During) {
        let strikes = self.guard.strike(peer, reason);
        self.metrics.penalised(during.as_str());
        tracing::warn!(%peer, strikes, reason, "penalised a peer");
        self.net.penalise(peer, SCORE_PER_STRIKE * f64::from(strikes));
    }
}

/// A cloneable front to a running node: its use cases (see `usecases.rs`) and what it shows.
#[derive(Clone)]
pub struct NodeHandle {
    shared: Arc<Shared>,
}

/// A started node, to be stopped with [`RunningNode::stopped`] once its shutdown token is
/// cancelled.
pub struct RunningNode {
    pub node: NodeHandle,
    tasks: Vec<JoinHandle<()>>,
    validator: thread::JoinHandle<()>,
}

fn parse_addrs(texts: &[String], setting: &str) -> Result<Vec<net::Multiaddr>> {
    texts.iter().map(|text| net::parse_addr(text, setting)).collect()
}

/// What the network starts with: the node's key, the settings, the command line's overrides
/// and the peers remembered from earlier runs.
fn net_config(archive: &Archive, options: &NetOptions) -> Result<NetConfig> {
    let (config, data) = (archive.config(), archive.data());
    let listen = if options.listen.is_empty() { &config.node.listen } else { &options.listen };
    let mut bootstrap = parse_addrs(&config.node.bootstrap, "node.bootstrap")?;
    bootstrap.extend(parse_addrs(&options.bootstrap, "--bootstrap")?);
    // Peers remembered from earlier runs; one that no longer parses is simply skipped.
    bootstrap.extend(data.known_peers().iter().filter_map(|text| text.parse().ok()));
    bootstrap.dedup();
    Ok(NetConfig {
        node_key: data.node_key()?,
        listen: parse_addrs(listen, "--listen or node.listen")?,
        bootstrap,
        networks: config.node.networks.clone(),
        mdns: config.node.mdns,
        discovery: config.node.discovery,
        idle_timeout: std::time::Duration::from_secs(config.node.idle_timeout_secs),
        redial_interval: std::time::Duration::from_secs(config.node.redial_interval_secs),
    })
}

impl RunningNode {
    /// Opens the data directory and starts the network, the validator, the syncs and the
    /// search indexer. Everything stops when `shutdown` is cancelled.
    pub async fn start(data: DataDir, options: NetOptions, shutdown: CancellationToken) -> Result<RunningNode> {
        data.require_initialised()?;
        let config = data.config()?;
        RunningNode::start_with(data, config, options, shutdown).await
    }

    /// Like [`RunningNode::start`], with the settings already read from a directory found
    /// initialised.
    pub async fn start_with(
        data: DataDir,
        config: Config,
        options: NetOptions,
        shutdown: CancellationToken,
    ) -> Result<RunningNode> {
        let token = data.api_token()?;
        let archive = Archive::open_with(data, config)?;
        let net_config = net_config(&archive, &options)?;
        let own = archive.key()?.publisher();
        // The index is opened now (rebuilt if it must be) and catches up in the background.
        archive.search_index()?;
        let budgets = budget::Budgets::new(&archive.config().trust);
        let trust = &archive.config().trust;
        let ca_file = Some(trust.domain_ca_file.as_str()).filter(|file| !file.is_empty()).map(std::path::Path::new);
        let checker = crate::organisation::DomainChecker::new(ca_file, trust.domain_port)
            .map_err(|problem| anyhow::anyhow!("trust.domain_ca_file: {problem}"))?;
        let policy = archive.policy()?;
        let (net, events) = net::start(net_config, shutdown.clone())?;
        let (sync_now, sync_requests) = mpsc::channel(SYNC_REQUESTS);
        let shared = Arc::new(Shared {
            budgets,
            archive,
            own,
            net,
            token,
            policy: RwLock::new(Arc::new(policy)),
            trust_changes: Mutex::new(()),
            policy_changed_ms: AtomicI64::new(0),
            sync_now,
            sets: syncing::SetCache::default(),
            syncing: Mutex::new(HashMap::new()),
            guard: guard::PeerGuard::default(),
            metrics: Metrics::default(),
            serving: Arc::new(tokio::sync::Semaphore::new(MAX_SERVING)),
            gossip_received: AtomicU64::new(0),
            state: state::State::default(),
            accepted: broadcast::channel(256).0,
            blocking: TaskTracker::new(),
            domains: domains::Domains::new(checker),
        });
        let (inbox, validator_inbox) = mpsc::channel(VALIDATION_QUEUE);
        let validator = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("gossip-validate".to_owned())
                .spawn(move || validate::validate_gossip(&shared, validator_inbox))
                .context("cannot start the validator thread")?
        };
        let tasks = vec![
            tokio::spawn(events::on_events(Arc::clone(&shared), events, inbox, sync_requests)),
            tokio::spawn(events::keep_search_index(Arc::clone(&shared), shutdown.clone())),
            tokio::spawn(events::keep_blobs_tidy(Arc::clone(&shared), shutdown)),
        ];
        tracing::debug!(publisher = %shared.own(), "node started");
        Ok(RunningNode { node: NodeHandle { shared }, tasks, validator })
    }

    /// Waits for every task to end after shutdown, then flushes and closes the store.
    pub async fn stopped(self) -> Result<()> {
        for task in self.tasks {
            let _ = task.await;
        }
        let validator = self.validator;
        let _ = tokio::task::spawn_blocking(move || validator.join()).await;
        let RunningNode { node, .. } = self;
        node.shared.blocking.close();
        node.shared.blocking.wait().await;
        // The tasks' clones of the state are gone with them; once the last handle is dropped
        // the store closes (and releases the data directory).
        match Arc::try_unwrap(node.shared) {
            Ok(shared) => shared.archive.close()?,
            Err(shared) => {
                shared.store().flush()?;
                tracing::warn!("a handle to the node is still held; its store closes only when that is dropped");
            }
        }
        Ok(())
    }
}
