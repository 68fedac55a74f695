//! A raw libp2p peer that gossips bad records at a node: each is rejected with its rule,
//! nothing of it is stored, and the node's other peers never see it.

use std::time::Duration;

use citymesh::record::{self, Body, Draft, Kind, MAX_ENVELOPE_BYTES, PublisherKey};
use citymesh::wire::{self, Envelope, Header};
use futures::StreamExt;
use libp2p::{Multiaddr, gossipsub, noise, tcp, yamux};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A gossipsub-only peer speaking citymesh's topic with whatever bytes it is given.
async fn test_peer(target: Multiaddr) -> mpsc::Sender<Vec<u8>> {
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(|message: &gossipsub::Message| {
            gossipsub::MessageId::from(Sha256::digest(&message.data).to_vec())
        })
        .max_transmit_size(MAX_ENVELOPE_BYTES + 4096)
        .build()
        .expect("gossipsub config");
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .expect("tcp")
        .with_behaviour(|_| {
            gossipsub::Behaviour::<gossipsub::IdentityTransform, gossipsub::AllowAllSubscriptionFilter>::new(
                gossipsub::MessageAuthenticity::Anonymous,
                config,
            )
            .expect("gossipsub")
        })
        .expect("behaviour")
        .build();
    let topic = gossipsub::IdentTopic::new("citymesh/v1/main");
    swarm.behaviour_mut().subscribe(&topic).expect("subscribe");
    swarm.dial(target).expect("dial");
    let (sender, mut to_send) = mpsc::channel::<Vec<u8>>(16);
    tokio::spawn(async move {
        // Publish only once the node has told us it joined the topic.
        let mut subscribed = false;
        let mut waiting: Vec<Vec<u8>> = Vec::new();
        loop {
            tokio::select! {
                event = swarm.select_next_some() => {
                    if let libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) = event {
                        subscribed = true;
                    }
                }
                data = to_send.recv() => match data {
                    Some(data) => waiting.push(data),
                    None => break,
                },
            }
            if subscribed {
                for data in waiting.drain(..) {
                    swarm.behaviour_mut().publish(topic.clone(), data).expect("publish");
                }
            }
        }
    });
    sender
}

fn valid_envelope(seed: u8, slug: &str) -> Vec<u8> {
    let note =
        citymesh::markdown::parse(&example_with("slug: community-composting", &format!("slug: {slug}")), "CC-BY-4.0")
            .expect("the example parses");
    let draft = Draft {
        kind: Kind::Practice,
        slug: note.slug,
        revision: 1,
        timestamp_ms: citymesh::author::now_ms(),
        body: Body::Practice(note.practice),
    };
    record::sign(&PublisherKey::from_seed([seed; 32]), draft).expect("signs").envelope_bytes()
}

fn forged() -> Vec<u8> {
    let mut envelope: Envelope = wire::decode(&valid_envelope(1, "forged")).unwrap();
    envelope.signature[10] ^= 1;
    wire::encode(&envelope)
}

fn weak_key() -> Vec<u8> {
    let valid: Envelope = wire::decode(&valid_envelope(2, "weak-key")).unwrap();
    let mut header: Header = wire::decode(&valid.header).unwrap();
    let mut identity = vec![0u8; 32];
    identity[0] = 1;
    header.publisher = identity;
    wire::encode(&Envelope { header: wire::encode(&header), signature: vec![0; 64], body: valid.body })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_from_a_raw_peer_are_rejected_and_go_no_further() {
    let b = Node::start("City B", &["main"], &[]).await;
    let c = Node::start("City C", &["main"], &[b.address().await]).await;
    eventually("B and C form a mesh", TIMEOUT, || async { b.mesh_peers().await == 1 }).await;
    let peer = test_peer(b.address().await.parse().unwrap()).await;
    eventually("the test peer joins B's topic", TIMEOUT, || async {
        b.shared().net.status().await.map(|status| status.gossip_peers).unwrap_or_default() == 2
    })
    .await;
    let held_before = (b.shared().store.len(), c.shared().store.len());

    let oversize = [valid_envelope(3, "oversize"), vec![0; MAX_ENVELOPE_BYTES]].concat();
    for bad in [forged(), weak_key(), oversize, b"not a record at all".to_vec()] {
        peer.send(bad).await.unwrap();
    }
    eventually("B rejects all four", TIMEOUT, || async { b.shared().rejections.lock().unwrap().len() == 4 }).await;
    let rules: Vec<&str> = b.shared().rejections.lock().unwrap().iter().map(|rejection| rejection.rule).collect();
    for rule in ["signature", "weak-key", "envelope-size", "envelope-decode"] {
        assert!(rules.contains(&rule), "B did not reject by rule {rule}: {rules:?}");
    }

    // A good record sent after the bad ones reaches C; the bad ones, had B passed them on,
    // would have got there first.
    let good = valid_envelope(4, "good-one");
    let good_id = record::verify(&good, citymesh::author::now_ms()).unwrap().id();
    peer.send(good).await.unwrap();
    eventually("C stores the good record", TIMEOUT, || async { c.holds(&good_id) }).await;
    assert_eq!((b.shared().store.len(), c.shared().store.len()), (held_before.0 + 1, held_before.1 + 1));
    assert!(c.shared().rejections.lock().unwrap().is_empty(), "C saw a bad record");
    b.stop().await;
    c.stop().await;
}
