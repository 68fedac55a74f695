//! The task that owns the swarm: a closed loop over swarm events, commands, the re-dial timer
//! and shutdown. It never waits on a full channel and never does slow work.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, mdns, request_response};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL};
use super::exchange::{MAX_REQUEST, Request};
use super::{Command, Event, Exchange, Inbound, NetConfig, NetStatus, Verdict};

/// Requests from peers awaiting the node's answer, at most; more are refused.
const MAX_PENDING_ANSWERS: usize = 256;

pub(super) struct EventLoop {
    swarm: Swarm<Behaviour>,
    config: NetConfig,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    listen_addrs: Vec<Multiaddr>,
    /// Peers' requests waiting for the node's answer, by the id the node was given.
    answers: HashMap<u64, (Exchange, PeerId, request_response::ResponseChannel<Vec<u8>>)>,
    next_answer: u64,
    /// Our requests waiting for peers' answers.
    questions: HashMap<request_response::OutboundRequestId, oneshot::Sender<Result<Vec<u8>, String>>>,
}

impl EventLoop {
    pub(super) fn new(
        mut swarm: Swarm<Behaviour>,
        config: NetConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<Event>,
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
                }
                Event::Request { id, .. } => {
                    tracing::warn!("node busy: refusing a peer's request");
                    self.answers.remove(&id);
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
            Command::Refuse { id } => {
                // Dropping the channel closes the peer's stream without an answer.
                self.answers.remove(&id);
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
                    Exchange::Sync => behaviour.sync.send_request(&peer, Request::Frame(data)),
                    Exchange::Fetch => behaviour.fetch.send_request(&peer, Request::Frame(data)),
                };
                self.questions.insert(id, reply);
            }
            Command::Respond { id, data } => {
                if let Some((exchange, _, channel)) = self.answers.remove(&id) {
                    let behaviour = self.swarm.behaviour_mut();
                    let sent = match exchange {
                        Exchange::Sync => behaviour.sync.send_response(channel, data),
                        Exchange::Fetch => behaviour.fetch.send_response(channel, data),
                    };
                    if sent.is_err() {
                        tracing::debug!("a peer left before its answer was ready");
                    }
                }
            }
        }
    }

    fn on_exchange(&mut self, exchange: Exchange, event: request_response::Event<Request, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request: Request::Oversize(length), .. } => {
                    // Dropping the channel closes the stream.
                    let reason = format!("it sent a request of {length} bytes; at most {MAX_REQUEST}");
                    self.emit(Event::Misbehaved { peer, reason });
                }
                request_response::Message::Request { request: Request::Frame(request), channel, .. } => {
                    if self.answers.len() >= MAX_PENDING_ANSWERS {
                        tracing::warn!(%peer, "too many requests waiting; refusing one");
                        return;
                    }
                    let id = self.next_answer;
                    self.next_answer += 1;
                    self.answers.insert(id, (exchange, peer, channel));
                    self.emit(Event::Request { exchange, peer, id, data: request });
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
                    self.emit(Event::Misbehaved { peer, reason: format!("its answer broke the framing: {io}") });
                }
                if let Some(reply) = self.questions.remove(&request_id) {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "a peer's request failed");
                if let request_response::InboundFailure::Io(io) = &error
                    && io.kind() == std::io::ErrorKind::InvalidData
                {
                    self.emit(Event::Misbehaved { peer, reason: format!("its request broke the framing: {io}") });
                }
            }
            request_response::Event::ResponseSent { .. } => {}
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
                tracing::info!(%address, "listening");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. }
                if num_established.get() == 1 =>
            {
                let address = endpoint.get_remote_address().clone();
                tracing::info!(peer = %peer_id, %address, "peer connected");
                self.emit(Event::PeerConnected { peer: peer_id, address, dialed: endpoint.is_dialer() });
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                // Answers the peer can no longer receive would only take room.
                self.answers.retain(|_, (_, asker, _)| *asker != peer_id);
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
