//! The libp2p behaviours a citymesh node runs, and the swarm built from them.

use std::time::Duration;

use anyhow::{Context, Result};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, Swarm, gossipsub, identify, identity, kad, mdns, noise, ping, request_response, tcp, yamux,
};
use sha2::{Digest, Sha256};

use super::NetConfig;
use super::exchange::{FETCH_PROTOCOL, FETCH_PROTOCOL_2, FrameCodec, SYNC_PROTOCOL, SYNC_PROTOCOL_2};
use crate::record::MAX_ENVELOPE_BYTES;

/// Kademlia's protocol name: our own, so citymesh nodes only build routing tables of each other.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/citymesh/kad/1.0.0");
/// Identify's protocol version string.
pub const IDENTIFY_VERSION: &str = "/citymesh/1.0.0";
/// The largest gossip message: one envelope plus gossipsub's own framing.
pub const MAX_TRANSMIT_SIZE: usize = MAX_ENVELOPE_BYTES + 4096;

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gossipsub: gossipsub::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    pub sync: request_response::Behaviour<FrameCodec>,
    pub fetch: request_response::Behaviour<FrameCodec>,
}

/// Requests of each exchange open at once on one connection, at most (a sync session has one
/// round and one fetch in flight); this bounds what one connection can make the node read.
pub const MAX_STREAMS_PER_CONNECTION: usize = 8;

/// An exchange in both its versions: requests offer version 2 first, and either is answered.
fn exchange(versions: [StreamProtocol; 2]) -> request_response::Behaviour<FrameCodec> {
    let config = request_response::Config::default()
        .with_request_timeout(Duration::from_secs(30))
        .with_max_concurrent_streams(MAX_STREAMS_PER_CONNECTION);
    let protocols = versions.map(|protocol| (protocol, request_response::ProtocolSupport::Full));
    request_response::Behaviour::with_codec(FrameCodec, protocols, config)
}

/// Messages are named by the SHA-256 of their data: anonymous messages have no author or
/// sequence number, so gossipsub's default id would be the same for all of them.
fn message_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    gossipsub::MessageId::from(Sha256::digest(&message.data).to_vec())
}

fn gossipsub(config: &NetConfig) -> Result<gossipsub::Behaviour> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(MAX_TRANSMIT_SIZE)
        .build()
        .context("gossipsub configuration")?;
    let mut behaviour = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gossip_config)
        .map_err(|error| anyhow::anyhow!("gossipsub: {error}"))?;
    let mut scores = gossipsub::PeerScoreParams {
        // Many honest nodes can share one address (a test machine, a carrier-grade NAT).
        ip_colocation_factor_weight: 0.0,
        ..gossipsub::PeerScoreParams::default()
    };
    for network in &config.networks {
        let topic = gossipsub::IdentTopic::new(super::topic_name(network));
        behaviour.subscribe(&topic).with_context(|| format!("cannot join network {network}"))?;
        scores.topics.insert(topic.hash(), topic_scores());
    }
    behaviour
        .with_peer_score(scores, gossipsub::PeerScoreThresholds::default())
        .map_err(|error| anyhow::anyhow!("gossipsub scoring: {error}"))?;
    Ok(behaviour)
}

/// Scoring for a low-rate topic: a quiet honest peer loses nothing (no mesh delivery quotas),
/// delivering new records first earns a little (at most +10), and invalid records cost ten
/// times the square of their (slowly decaying) count: three put a peer below the graylist
/// threshold of -80, where everything it sends is ignored. Honest nodes never forward an
/// invalid record: they validate before forwarding.
fn topic_scores() -> gossipsub::TopicScoreParams {
    gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 3600.0,
        first_message_deliveries_weight: 0.5,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 20.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.99,
        ..gossipsub::TopicScoreParams::default()
    }
}

pub fn build_swarm(config: &NetConfig) -> Result<Swarm<Behaviour>> {
    let keypair = identity::Keypair::ed25519_from_bytes(config.node_key).context("the node key is not valid")?;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)?
        .with_quic()
        .with_dns()?
        .with_behaviour(|key| {
            let peer_id = key.public().to_peer_id();
            let kad = config.discovery.then(|| {
                let mut kad = kad::Behaviour::with_config(
                    peer_id,
                    kad::store::MemoryStore::new(peer_id),
                    kad::Config::new(KAD_PROTOCOL),
                );
                // Cities' nodes are servers, often on private networks where libp2p cannot
                // confirm an external address; without this they would never answer queries.
                kad.set_mode(Some(kad::Mode::Server));
                kad
            });
            let mdns =
                if config.mdns { Some(mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id)?) } else { None };
            Ok(Behaviour {
                gossipsub: gossipsub(config).map_err(|error| std::io::Error::other(error.to_string()))?,
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_VERSION.to_owned(), key.public())
                        .with_agent_version(format!("citymesh/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(30))),
                kad: kad.into(),
                mdns: mdns.into(),
                sync: exchange([SYNC_PROTOCOL_2, SYNC_PROTOCOL]),
                fetch: exchange([FETCH_PROTOCOL_2, FETCH_PROTOCOL]),
            })
        })?
        .with_swarm_config(|swarm| swarm.with_idle_connection_timeout(config.idle_timeout))
        .build();
    Ok(swarm)
}
