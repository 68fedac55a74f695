//! The libp2p side of a node: one task owns the `Swarm`; everyone else holds a [`NetHandle`]
//! that sends it commands over a bounded channel, and reads [`Event`]s from another.
//!
//! Gossip: one gossipsub topic per network, `citymesh/v1/<network>`, anonymous messages whose
//! data is an envelope and whose id is the SHA-256 of the data. Received messages are not
//! forwarded until the node reports a verdict with [`NetHandle::validated`]. Only this module
//! names libp2p.

mod behaviour;
mod event_loop;
mod exchange;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use libp2p::gossipsub::MessageId;
use tokio::sync::{mpsc, oneshot};

pub use behaviour::{MAX_STREAMS_PER_CONNECTION, MAX_TRANSMIT_SIZE as MAX_GOSSIP_MESSAGE};
/// For tests that speak the exchanges from outside.
pub use exchange::{
    Answer, FETCH_PROTOCOL, FETCH_PROTOCOL_2, MAX_FETCH_REQUEST, MAX_REQUEST, MAX_RESPONSE, Refusal, SYNC_PROTOCOL,
    SYNC_PROTOCOL_2, Version, decode_answer, encode_answer,
};
pub use libp2p::{Multiaddr, PeerId};

/// Commands waiting for the swarm task, at most.
const COMMAND_QUEUE: usize = 256;
/// Events waiting for the node, at most; beyond that received gossip is ignored (sync repairs it).
const EVENT_QUEUE: usize = 1024;

/// Bytes of gossip handed to the node and not yet judged, at most: more is ignored unread
/// (gossipsub hears `Ignore`; sync brings what was missed).
pub const MAX_UNJUDGED_GOSSIP_BYTES: usize = 32 * 1024 * 1024;
/// Bytes of peers' requests waiting for the node's answer, at most; more requests are refused.
pub const MAX_PENDING_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// Bytes of answers handed to libp2p that their peers have not read yet, at most; while over
/// it, new requests are refused (an answer a peer never reads is dropped at the request timeout).
pub const MAX_UNREAD_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// Requests of one peer waiting for an answer or answered and not read yet, at most; more are
/// refused. An honest peer's sync has two in flight (a round and a fetch); this keeps a peer
/// that does not read its answers from taking the room of everyone else's.
pub const MAX_OPEN_REQUESTS_PER_PEER: usize = 4;

/// What the network needs to start.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// The node's identity: an Ed25519 secret seed.
    pub node_key: [u8; 32],
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start and re-dial while disconnected.
    pub bootstrap: Vec<Multiaddr>,
    /// Network names; each is one gossipsub topic.
    pub networks: Vec<String>,
    pub mdns: bool,
    /// Find more nodes through known ones (Kademlia).
    pub discovery: bool,
    pub idle_timeout: Duration,
    pub redial_interval: Duration,
}

/// Parses a multiaddr, naming the setting it came from when it is not one.
pub fn parse_addr(text: &str, setting: &str) -> Result<Multiaddr> {
    text.parse().with_context(|| format!("{setting}: {text:?} is not a multiaddr (such as /ip4/192.0.2.1/tcp/7879)"))
}

/// The peer id of a node key (an Ed25519 secret seed), as text.
pub fn peer_id(node_key: &[u8; 32]) -> Result<String> {
    let keypair = libp2p::identity::Keypair::ed25519_from_bytes(*node_key).context("the node key is not valid")?;
    Ok(keypair.public().to_peer_id().to_string())
}

/// The gossipsub topic of a network.
pub fn topic_name(network: &str) -> String {
    format!("citymesh/v1/{network}")
}

/// A received gossip message, to be judged by the node.
#[derive(Debug)]
pub struct Inbound {
    message_id: MessageId,
    pub source: PeerId,
    pub network: String,
    pub data: Vec<u8>,
}

/// The node's judgement of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and new: forward it.
    Accept,
    /// Valid but not wanted (already held, older, unknown kind): drop it without penalty.
    Ignore,
    /// Invalid: drop it and penalise the peer that sent it.
    Reject,
}

/// The two request-response exchanges between nodes, each in versions 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    /// `/citymesh/sync/2` or `/1`: one reconciliation round.
    Sync,
    /// `/citymesh/fetch/2` or `/1`: records by id.
    Fetch,
}

impl Exchange {
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Sync => "sync",
            Exchange::Fetch => "fetch",
        }
    }
}

/// What the swarm reports.
#[derive(Debug)]
pub enum Event {
    Received(Inbound),
    /// A peer asks, in `version` of the exchange; answer with [`NetHandle::respond`] and this `id`.
    Request {
        exchange: Exchange,
        version: Version,
        peer: PeerId,
        id: u64,
        data: Vec<u8>,
    },
    /// `dialed`: we dialed `address`, so it is worth remembering for the next start.
    PeerConnected {
        peer: PeerId,
        address: Multiaddr,
        dialed: bool,
    },
    /// A peer sent a request or answer that broke the framing (over the size limit, say).
    Misbehaved {
        peer: PeerId,
        reason: String,
        during: During,
    },
}

/// Which side of an exchange a peer was on when it broke the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum During {
    /// It asked this node (its request was bad).
    Serving,
    /// This node asked it (its answer was bad).
    Syncing,
}

impl During {
    pub fn as_str(self) -> &'static str {
        match self {
            During::Serving => "serving",
            During::Syncing => "syncing",
        }
    }
}

/// A snapshot of the network's state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NetStatus {
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub networks: Vec<String>,
    pub connected_peers: Vec<String>,
    /// Connected peers that joined at least one of our networks.
    pub gossip_peers: usize,
    /// Peers in the gossip mesh of at least one of our networks (they get messages first).
    pub mesh_peers: usize,
}

enum Command {
    Publish { data: Vec<u8>, reply: oneshot::Sender<usize> },
    Ask { exchange: Exchange, peer: PeerId, data: Vec<u8>, reply: oneshot::Sender<Result<Answer, String>> },
    Respond { id: u64, answer: Answer },
    Dial { address: Multiaddr },
    Validated { message_id: MessageId, source: PeerId, verdict: Verdict },
    Status { reply: oneshot::Sender<NetStatus> },
    Penalise { peer: PeerId, score: f64 },
    Score { peer: PeerId, reply: oneshot::Sender<Option<f64>> },
}

/// A cloneable front to the swarm task.
#[derive(Clone)]
pub struct NetHandle {
    commands: mpsc::Sender<Command>,
    /// Bytes of gossip handed to the node and not yet judged (see [`MAX_UNJUDGED_GOSSIP_BYTES`]).
    gossip_held: Arc<AtomicUsize>,
}

/// Starts the network on the current tokio runtime. The swarm task stops when `shutdown` is
/// cancelled or every handle is dropped.
pub fn start(
    config: NetConfig,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(NetHandle, mpsc::Receiver<Event>)> {
    let swarm = behaviour::build_swarm(&config)?;
    let (command_tx, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
    let gossip_held = Arc::new(AtomicUsize::new(0));
    let event_loop = event_loop::EventLoop::new(swarm, config, command_rx, event_tx, Arc::clone(&gossip_held))?;
    tokio::spawn(event_loop.run(shutdown));
    Ok((NetHandle { commands: command_tx, gossip_held }, event_rx))
}

impl NetHandle {
    /// Gossips an envelope on every network; returns to how many peers it went (0 is not an
    /// error: sync will carry the record later).
    pub async fn publish(&self, data: Vec<u8>) -> Result<usize> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Publish { data, reply }).await.context("the network has stopped")?;
        answer.await.context("the network has stopped")
    }

    /// Reports the node's verdict on a received message. Never waits: if the swarm is busy
    /// the verdict is dropped, and gossipsub forgets the message after a few seconds.
    pub fn validated(&self, inbound: &Inbound, verdict: Verdict) {
        self.gossip_held.fetch_sub(inbound.data.len(), Ordering::Relaxed);
        let command = Command::Validated { message_id: inbound.message_id.clone(), source: inbound.source, verdict };
        if self.commands.try_send(command).is_err() {
            tracing::debug!("the network is busy; a gossip verdict was dropped");
        }
    }

    /// Sends a request to a peer and waits for its answer or refusal (or the failure, as text).
    pub async fn ask(&self, exchange: Exchange, peer: PeerId, data: Vec<u8>) -> Result<Answer> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Ask { exchange, peer, data, reply }).await.context("the network has stopped")?;
        answer.await.context("the network has stopped")?.map_err(|error| anyhow::anyhow!("{peer}: {error}"))
    }

    /// Answers a peer's request (a refusal or a fault too). Never waits; an answer the swarm
    /// cannot take is dropped and the peer's request fails.
    pub fn respond(&self, id: u64, answer: Answer) {
        if self.commands.try_send(Command::Respond { id, answer }).is_err() {
            tracing::debug!("the network is busy; an answer was dropped");
        }
    }

    /// Sets a peer's application score in gossipsub's peer scoring (0 is neutral; below
    /// about -8 the peer is graylisted: its gossip is ignored). Never waits.
    pub fn penalise(&self, peer: PeerId, score: f64) {
        if self.commands.try_send(Command::Penalise { peer, score }).is_err() {
            tracing::debug!("the network is busy; a penalty was dropped");
        }
    }

    /// A peer's gossipsub score (below -80 it is graylisted), if it has one.
    pub async fn peer_score(&self, peer: PeerId) -> Result<Option<f64>> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Score { peer, reply }).await.context("the network has stopped")?;
        answer.await.context("the network has stopped")
    }

    /// Connects to a node now (a bootstrap peer is also re-dialled by itself).
    pub async fn dial(&self, address: Multiaddr) -> Result<()> {
        self.commands.send(Command::Dial { address }).await.context("the network has stopped")
    }

    pub async fn status(&self) -> Result<NetStatus> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Status { reply }).await.context("the network has stopped")?;
        answer.await.context("the network has stopped")
    }
}
