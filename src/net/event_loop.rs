//! The task that owns the swarm: a closed loop over swarm events, commands, the re-dial timer
//! and shutdown. It never waits on a full channel and never does slow work.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, mdns, request_response};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL};
use super::exchange::{Answer, MAX_FETCH_REQUEST, MAX_REQUEST, Refusal, Request, Version};
use super::{
    Command, During, Event, Exchange, Inbound, MAX_OPEN_REQUESTS_PER_PEER, MAX_PENDING_REQUEST_BYTES,
    MAX_UNJUDGED_GOSSIP_BYTES, MAX_UNREAD_ANSWER_BYTES, NetConfig, NetStatus, Verdict,
};

/// Requests from peers awaiting the node's answer, at most; more are refused.
const MAX_PENDING_ANSWERS: usize = 256;
/// An answer not reported read or failed after this long is counted as gone (requests time out
/// after 30 s).
const UNREAD_EXPIRY: Duration = Duration::from_secs(90);
/// When a peer refused for a full queue is told to ask again: queues drain in well under this.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// A peer's request waiting for the node's answer.
struct Pending {
    exchange: Exchange,
    peer: PeerId,
    channel: request_response::ResponseChannel<Answer>,
    request: request_response::InboundRequestId,
    bytes: usize,
}

/// What peers' requests hold: the bytes of requests waiting for an answer, the bytes of
/// answers handed to libp2p that their peer has not read yet, and each peer's open requests
/// (waiting for an answer, or answered and not read).
#[derive(Default)]
struct Held {
    pending: usize,
    unread: HashMap<(Exchange, request_response::InboundRequestId), (PeerId, usize, Instant)>,
    unread_total: usize,
    open: HashMap<PeerId, usize>,
}

impl Held {
    /// Takes a request of `bytes` from `peer`, or says why it cannot be taken now.
    fn admit(&mut self, peer: PeerId, bytes: usize, waiting: usize) -> Result<(), &'static str> {
        self.forget_stale();
        if waiting >= MAX_PENDING_ANSWERS {
            return Err("too many requests are waiting");
        } else if self.pending + bytes > MAX_PENDING_REQUEST_BYTES {
            return Err("the requests waiting hold too many bytes");
        } else if self.unread_total >= MAX_UNREAD_ANSWER_BYTES {
            return Err("answers peers have not read yet hold too many bytes");
        } else if self.open.get(&peer).is_some_and(|open| *open >= MAX_OPEN_REQUESTS_PER_PEER) {
            return Err("the peer has too many requests open");
        }
        self.pending += bytes;
        *self.open.entry(peer).or_default() += 1;
        Ok(())
    }

    /// A request of `peer` ended: refused, or its answer was read or never will be.
    fn close(&mut self, peer: PeerId) {
        if let Some(open) = self.open.get_mut(&peer) {
            *open -= 1;
            if *open == 0 {
                self.open.remove(&peer);
            }
        }
    }

    fn unread(&mut self, exchange: Exchange, request: request_response::InboundRequestId, peer: PeerId, bytes: usize) {
        self.unread.insert((exchange, request), (peer, bytes, Instant::now()));
        self.unread_total += bytes;
    }

    /// An answer was read by its peer, or will never be.
    fn read(&mut self, exchange: Exchange, request: request_response::InboundRequestId) {
        let Some((peer, bytes, _)) = self.unread.remove(&(exchange, request)) else { return };
        self.unread_total -= bytes;
        self.close(peer);
    }

    /// Forgets the answers a peer that left had not read.
    fn forget(&mut self, peer: PeerId) {
        let gone: Vec<_> =
            self.unread.iter().filter(|(_, (asker, _, _))| *asker == peer).map(|(key, _)| *key).collect();
        for (exchange, request) in gone {
            self.read(exchange, request);
        }
    }

    /// Forgets answers handed over longer ago than any request lives (libp2p reports each
    /// answer's end; this only guards the counts against a report that never comes).
    fn forget_stale(&mut self) {
        let stale: Vec<_> =
            self.unread.iter().filter(|(_, (_, _, at))| at.elapsed() > UNREAD_EXPIRY).map(|(key, _)| *key).collect();
        for (exchange, request) in stale {
            self.read(exchange, request);
        }
    }
}

pub(super) struct EventLoop {
    swarm: Swarm<Behaviour>,
    config: NetConfig,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    listen_addrs: Vec<Multiaddr>,
    /// Peers' requests waiting for the node's answer, by the id the node was given.
    answers: HashMap<u64, Pending>,
    held: Held,
    /// Bytes of gossip handed to the node and not yet judged (the node's handle subtracts).
    gossip_held: Arc<AtomicUsize>,
    next_answer: u64,
    /// Our requests waiting for peers' answers.
    questions: HashMap<request_response::OutboundRequestId, oneshot::Sender<Result<Answer, String>>>,
}

impl EventLoop {
    pub(super) fn new(
        mut swarm: Swarm<Behaviour>,
        config: NetConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<Event>,
        gossip_held: Arc<AtomicUsize>,
    ) -> Result<Self> {
        for address in &config.listen {
            swarm.listen_on(address.clone()).map_err(|error| anyhow::anyhow!("cannot listen on {address}: {error}"))?;
        }
        Ok(Self {
            swarm,
            config,
            commands,
            events,
            listen_addrs: Vec::new(),
            answers: HashMap::new(),
            held: Held::default(),
            gossip_held,
            next_answer: 0,
            questions: HashMap::new(),
        })
    }

    pub(super) async fn run(mut self, shutdown: CancellationToken) {
        self.dial_bootstrap();
        let mut redial = tokio::time::interval(self.config.redial_interval);
        redial.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = redial.tick() => self.dial_bootstrap(),
            }
        }
        tracing::debug!("network stopped");
    }

    /// Dials every bootstrap peer we are not connected to.
    fn dial_bootstrap(&mut self) {
        let connected: HashSet<PeerId> = self.swarm.connected_peers().copied().collect();
        for address in self.config.bootstrap.clone() {
            let known = address.iter().find_map(|protocol| match protocol {
                libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
                _ => None,
            });
            if known.is_some_and(|peer| connected.contains(&peer)) {
                continue;
            }
            if let Err(error) = self.swarm.dial(address.clone()) {
                tracing::debug!(%address, %error, "cannot dial bootstrap peer");
            }
        }
    }

    fn emit(&mut self, event: Event) {
        if let Err(error) = self.events.try_send(event) {
            match error.into_inner() {
                Event::Received(inbound) => {
                    tracing::warn!(peer = %inbound.source, "node busy: ignoring a gossip message (sync will repair)");
                    self.gossip_held.fetch_sub(inbound.data.len(), Ordering::Relaxed);
                    let gossip = &mut self.swarm.behaviour_mut().gossipsub;
                    gossip.report_message_validation_result(
                        &inbound.message_id,
                        &inbound.source,
                        gossipsub::MessageAcceptance::Ignore,
                    );
                }
                Event::Request { id, .. } => {
                    tracing::warn!("node busy: refusing a peer's request");
                    self.respond(id, Answer::Refused(busy("this node is busy")));
                }
                other => tracing::debug!(?other, "node busy: dropping a network event"),
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { data, reply } => {
                let _ = reply.send(self.publish(data));
            }
            Command::Validated { message_id, source, verdict } => {
                let acceptance = match verdict {
                    Verdict::Accept => gossipsub::MessageAcceptance::Accept,
                    Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
                    Verdict::Reject => gossipsub::MessageAcceptance::Reject,
                };
                let gossip = &mut self.swarm.behaviour_mut().gossipsub;
                if !gossip.report_message_validation_result(&message_id, &source, acceptance) {
                    tracing::debug!(%source, "verdict came after gossipsub forgot the message");
                }
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::Score { peer, reply } => {
                let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::Penalise { peer, score } => {
                self.swarm.behaviour_mut().gossipsub.set_application_score(&peer, score);
            }
            Command::Dial { address } => {
                if let Err(error) = self.swarm.dial(address.clone()) {
                    tracing::warn!(%address, %error, "cannot dial");
                }
            }
            Command::Ask { exchange, peer, data, reply } => {
                let behaviour = self.swarm.behaviour_mut();
                let id = match exchange {
                    Exchange::Sync => behaviour.sync.send_request(&peer, Request::Frame(data, Version::Two)),
                    Exchange::Fetch => behaviour.fetch.send_request(&peer, Request::Frame(data, Version::Two)),
                };
                self.questions.insert(id, reply);
            }
            Command::Respond { id, answer } => self.respond(id, answer),
        }
    }

    /// Answers a request waiting for the node's answer; its peer's open requests count it
    /// until libp2p reports the answer read or failed.
    fn respond(&mut self, id: u64, answer: Answer) {
        let Some(pending) = self.drop_pending(id) else { return };
        let bytes = match &answer {
            Answer::Message { bytes, .. } => bytes.len(),
            Answer::Refused(_) | Answer::Fault => 0,
        };
        match self.send_response(pending.exchange, pending.channel, answer) {
            Ok(()) => self.held.unread(pending.exchange, pending.request, pending.peer, bytes),
            Err(()) => {
                tracing::debug!("a peer left before its answer was ready");
                self.held.close(pending.peer);
            }
        }
    }

    fn send_response(
        &mut self,
        exchange: Exchange,
        channel: request_response::ResponseChannel<Answer>,
        answer: Answer,
    ) -> Result<(), ()> {
        let behaviour = self.swarm.behaviour_mut();
        let sent = match exchange {
            Exchange::Sync => behaviour.sync.send_response(channel, answer),
            Exchange::Fetch => behaviour.fetch.send_response(channel, answer),
        };
        sent.map_err(drop)
    }

    fn on_exchange(&mut self, exchange: Exchange, event: request_response::Event<Request, Answer>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request: Request::Oversize(length), channel, .. } => {
                    // The peer may still be writing: the fault resets the stream.
                    let _ = self.send_response(exchange, channel, Answer::Fault);
                    let limit = match exchange {
                        Exchange::Sync => MAX_REQUEST,
                        Exchange::Fetch => MAX_FETCH_REQUEST,
                    };
                    let reason = format!("it sent a {} request of {length} bytes; at most {limit}", exchange.as_str());
                    self.emit(Event::Misbehaved { peer, reason, during: During::Serving });
                }
                request_response::Message::Request {
                    request: Request::Frame(request, version),
                    channel,
                    request_id,
                } => {
                    let bytes = request.len();
                    if let Err(reason) = self.held.admit(peer, bytes, self.answers.len()) {
                        tracing::debug!(%peer, reason, "refusing a peer's request");
                        let _ = self.send_response(exchange, channel, Answer::Refused(busy(reason)));
                        return;
                    }
                    let id = self.next_answer;
                    self.next_answer += 1;
                    self.answers.insert(id, Pending { exchange, peer, channel, request: request_id, bytes });
                    self.emit(Event::Request { exchange, version, peer, id, data: request });
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.questions.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                if let request_response::OutboundFailure::Io(io) = &error
                    && io.kind() == std::io::ErrorKind::InvalidData
                {
                    let reason = format!("its answer broke the framing: {io}");
                    self.emit(Event::Misbehaved { peer, reason, during: During::Syncing });
                }
                if let Some(reply) = self.questions.remove(&request_id) {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
            request_response::Event::InboundFailure { peer, error, request_id, .. } => {
                self.held.read(exchange, request_id);
                tracing::debug!(%peer, %error, "a peer's request failed");
                if let request_response::InboundFailure::Io(io) = &error
                    && io.kind() == std::io::ErrorKind::InvalidData
                {
                    let reason = format!("its request broke the framing: {io}");
                    self.emit(Event::Misbehaved { peer, reason, during: During::Serving });
                }
            }
            request_response::Event::ResponseSent { request_id, .. } => self.held.read(exchange, request_id),
        }
    }

    /// Takes a request waiting for an answer off the list (to answer it, or to refuse it).
    fn drop_pending(&mut self, id: u64) -> Option<Pending> {
        let pending = self.answers.remove(&id)?;
        self.held.pending -= pending.bytes;
        Some(pending)
    }

    /// Drops a request waiting for an answer, unanswered (its peer is gone).
    fn forget_pending(&mut self, id: u64) {
        if let Some(pending) = self.drop_pending(id) {
            self.held.close(pending.peer);
        }
    }

    /// Publishes on every network; returns how many networks had peers to send to.
    fn publish(&mut self, data: Vec<u8>) -> usize {
        let mut sent = 0;
        for network in self.config.networks.clone() {
            let topic = gossipsub::IdentTopic::new(super::topic_name(&network));
            match self.swarm.behaviour_mut().gossipsub.publish(topic, data.clone()) {
                Ok(_) => sent += 1,
                // Nobody to send to yet, or we sent this very record a moment ago.
                Err(gossipsub::PublishError::NoPeersSubscribedToTopic | gossipsub::PublishError::Duplicate) => {}
                Err(error) => tracing::warn!(%network, %error, "cannot gossip a record"),
            }
        }
        sent
    }

    fn status(&self) -> NetStatus {
        let gossip = &self.swarm.behaviour().gossipsub;
        let topics: Vec<gossipsub::TopicHash> = self
            .config
            .networks
            .iter()
            .map(|network| gossipsub::IdentTopic::new(super::topic_name(network)).hash())
            .collect();
        let gossip_peers = gossip.all_peers().filter(|(_, joined)| joined.iter().any(|t| topics.contains(t))).count();
        let mesh: HashSet<&PeerId> = topics.iter().flat_map(|topic| gossip.mesh_peers(topic)).collect();
        NetStatus {
            peer_id: self.swarm.local_peer_id().to_string(),
            listen_addrs: self.listen_addrs.iter().map(ToString::to_string).collect(),
            networks: self.config.networks.clone(),
            connected_peers: self.swarm.connected_peers().map(ToString::to_string).collect(),
            gossip_peers,
            mesh_peers: mesh.len(),
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(event)) => self.on_identify(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_exchange(Exchange::Sync, event),
            SwarmEvent::Behaviour(BehaviourEvent::Fetch(event)) => self.on_exchange(Exchange::Fetch, event),
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(found))) => {
                for (peer, address) in found {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&peer, address.clone());
                    }
                    if let Err(error) = self.swarm.dial(address) {
                        tracing::debug!(%peer, %error, "cannot dial a peer found by mDNS");
                    }
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let address = address.with_p2p(*self.swarm.local_peer_id()).unwrap_or_else(|address| address);
                tracing::debug!(%address, "listening");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. }
                if num_established.get() == 1 =>
            {
                let address = endpoint.get_remote_address().clone();
                tracing::debug!(peer = %peer_id, %address, "peer connected");
                self.emit(Event::PeerConnected { peer: peer_id, address, dialed: endpoint.is_dialer() });
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                // Answers the peer can no longer receive would only take room.
                let gone: Vec<u64> =
                    self.answers.iter().filter(|(_, pending)| pending.peer == peer_id).map(|(id, _)| *id).collect();
                for id in gone {
                    self.forget_pending(id);
                }
                self.held.forget(peer_id);
                tracing::info!(peer = %peer_id, cause = ?cause.map(|c| c.to_string()), "peer disconnected");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, %error, "could not connect");
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        if let gossipsub::Event::Message { propagation_source, message_id, message } = event {
            let network =
                message.topic.as_str().strip_prefix("citymesh/v1/").unwrap_or(message.topic.as_str()).to_owned();
            let bytes = message.data.len();
            if self.gossip_held.load(Ordering::Relaxed) + bytes > MAX_UNJUDGED_GOSSIP_BYTES {
                tracing::debug!(peer = %propagation_source, "node busy: ignoring a gossip message (sync will repair)");
                let gossip = &mut self.swarm.behaviour_mut().gossipsub;
                gossip.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    gossipsub::MessageAcceptance::Ignore,
                );
                return;
            }
            self.gossip_held.fetch_add(bytes, Ordering::Relaxed);
            self.emit(Event::Received(Inbound { message_id, source: propagation_source, network, data: message.data }));
        }
    }

    /// Feeds the addresses a citymesh peer reports into Kademlia, which does not learn them itself.
    fn on_identify(&mut self, event: identify::Event) {
        if let identify::Event::Received { peer_id, info, .. } = event
            && info.protocols.contains(&KAD_PROTOCOL)
            && let Some(kad) = self.swarm.behaviour_mut().kad.as_mut()
        {
            for address in info.listen_addrs {
                kad.add_address(&peer_id, address);
            }
        }
    }
}

/// A refusal for a full queue or table: ask again in a moment.
fn busy(reason: &str) -> Refusal {
    Refusal { reason: reason.to_owned(), retry_after: BUSY_RETRY }
}
