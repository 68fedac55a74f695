//! A raw libp2p peer that gossips bad records at a node: each is rejected with its rule,
//! nothing of it is stored, and the node's other peers never see it.

use std::time::Duration;

use citymesh::record::{self, MAX_ENVELOPE_BYTES, PublisherKey};
use citymesh::wire::{self, Envelope, Header};
use futures::StreamExt;
use libp2p::{Multiaddr, gossipsub, noise, tcp, yamux};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A gossipsub-only peer speaking citymesh's topic with whatever bytes it is given.
pub(crate) async fn test_peer(target: Multiaddr) -> mpsc::Sender<Vec<u8>> {
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
        // Publish only once the node has told us it joined the topic; when the connection's
        // queue is full, wait for it to drain (a flood goes as fast as the connection takes it).
        let mut subscribed = false;
        let mut waiting: std::collections::VecDeque<Vec<u8>> = Default::default();
        let mut open = true;
        while open || !waiting.is_empty() {
            tokio::select! {
                event = swarm.select_next_some() => {
                    if let libp2p::swarm::SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) = event {
                        subscribed = true;
                    }
                }
                data = to_send.recv(), if open => match data {
                    Some(data) => waiting.push_back(data),
                    None => open = false,
                },
                _ = tokio::time::sleep(Duration::from_millis(5)), if subscribed && !waiting.is_empty() => {}
            }
            while subscribed && let Some(data) = waiting.front() {
                match swarm.behaviour_mut().publish(topic.clone(), data.clone()) {
                    Err(gossipsub::PublishError::AllQueuesFull(_)) => break,
                    _ => drop(waiting.pop_front()),
                }
            }
        }
    });
    sender
}

fn valid_envelope(seed: u8, slug: &str) -> Vec<u8> {
    signed_practice(&PublisherKey::from_seed([seed; 32]), slug, example_practice()).envelope_bytes()
}

fn forged() -> Vec<u8> {
    forged_as("forged")
}

fn forged_as(slug: &str) -> Vec<u8> {
    let mut envelope: Envelope = wire::decode(&valid_envelope(1, slug)).unwrap();
    envelope.signature[10] ^= 1;
    wire::encode(&envelope)
}

fn weak_key() -> Vec<u8> {
    let valid: Envelope = wire::decode(&valid_envelope(2, "weak-key")).unwrap();
    let mut header: Header = wire::decode(&valid.header).unwrap();
    let mut identity = vec![0u8; 32];
    identity[0] = 1;
    header.publisher = identity;
    wire::encode(&Envelope {
        header: wire::encode(&header),
        signature: vec![0; 64],
        body: valid.body,
        signatures: Vec::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_from_a_raw_peer_are_rejected_and_go_no_further() {
    let b = Node::start("City B", &["main"], &[]).await;
    let c = Node::start("City C", &["main"], &[b.address().await]).await;
    eventually("B and C form a mesh", TIMEOUT, || async { b.mesh_peers().await == 1 }).await;
    let peer = test_peer(b.address().await.parse().unwrap()).await;
    eventually("the test peer joins B's topic", TIMEOUT, || async { b.gossip_peers().await == 2 }).await;

    // Three invalid records graylist their sender (B then drops its messages unvalidated, so
    // a fourth from it might never be judged): the fourth kind comes from another peer.
    let oversize = [valid_envelope(3, "oversize"), vec![0; MAX_ENVELOPE_BYTES]].concat();
    let bad = [forged(), weak_key(), oversize];
    // What each bad envelope claims to be, to check that none of it is held anywhere.
    let claimed: Vec<_> = bad.iter().filter_map(|envelope| record::claimed(envelope)).collect();
    assert_eq!(claimed.len(), 2, "the forgery and the weak key claim an id and a publisher");
    for envelope in bad {
        peer.send(envelope).await.unwrap();
    }
    eventually("B rejects all three", TIMEOUT, || async { b.node().rejections().len() == 3 }).await;
    let sender: libp2p::PeerId = b.node().rejections()[0].from.parse().unwrap();
    let score = b.node().peer_score(sender).await.unwrap().unwrap();
    assert!(score < -80.0, "the sender's score is {score}");
    let other = test_peer(b.address().await.parse().unwrap()).await;
    eventually("the other peer joins B's topic", TIMEOUT, || async { b.gossip_peers().await == 3 }).await;
    other.send(b"not a record at all".to_vec()).await.unwrap();
    eventually("B rejects all four", TIMEOUT, || async { b.node().rejections().len() == 4 }).await;
    let rules: Vec<String> = b.node().rejections().into_iter().map(|rejection| rejection.rule).collect();
    for rule in ["signature", "weak-key", "envelope-size", "envelope-decode"] {
        assert!(rules.iter().any(|known| known == rule), "B did not reject by rule {rule}: {rules:?}");
    }

    // A good record sent by the other peer after the bad ones reaches C; the bad ones, had B
    // passed them on, would have got there first.
    let good = valid_envelope(4, "good-one");
    let good_id = record::verify(&good, citymesh::author::now_ms()).unwrap().id();
    other.send(good).await.unwrap();
    eventually("C stores the good record", TIMEOUT, || async { c.holds(&good_id) }).await;
    assert!(b.holds(&good_id), "B forwarded the good record after storing it");
    let oversized = PublisherKey::from_seed([3; 32]).publisher().0;
    for node in [&b, &c] {
        for (id, publisher) in &claimed {
            assert!(!node.holds(id), "a node holds the bad record {id}");
            assert!(node.node().store().publisher_items(publisher).unwrap().is_empty());
        }
        assert!(node.node().store().publisher_items(&oversized).unwrap().is_empty());
    }
    assert!(c.node().rejections().is_empty(), "C saw a bad record");
    b.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_a_stranger_stores_nothing_graylists_the_forger_and_the_api_keeps_answering() {
    let config = "[trust]\npolicy = \"partners\"\n";
    let b = Node::start_with("City B", &["main"], &[], "/ip4/127.0.0.1/tcp/0", config).await;
    let peer = test_peer(b.address().await.parse().unwrap()).await;
    eventually("the flooder joins B's topic", TIMEOUT, || async { b.gossip_peers().await == 1 }).await;
    // Status requests run all through the flood.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (done, url) = (std::sync::Arc::clone(&done), b.api_url() + "/api/v1/status");
        std::thread::spawn(move || {
            let agent: ureq::Agent =
                ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
            let (mut answered, mut failed) = (0, 0);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                match agent.get(&url).call() {
                    Ok(response) if response.status() == 200 => answered += 1,
                    _ => failed += 1,
                }
            }
            (answered, failed)
        })
    };
    // 10,000 valid records of a publisher B does not keep, signed beforehand.
    let key = PublisherKey::from_seed([7; 32]);
    let note = example_practice();
    let flood: Vec<Vec<u8>> =
        (0..10_000).map(|n| signed_practice(&key, &format!("flood-{n}"), note.clone()).envelope_bytes()).collect();
    for envelope in flood {
        peer.send(envelope).await.unwrap();
    }
    // Then forgeries, one more at each check until B has graylisted the forger (while the
    // validator is still busy with the flood, gossip it has no room for is ignored unread).
    let flooder = || async {
        let status = b.node().net_status().await.unwrap();
        status.connected_peers.first().and_then(|peer| peer.parse::<libp2p::PeerId>().ok())
    };
    let forgeries = std::sync::atomic::AtomicUsize::new(0);
    eventually("B graylists the forger", Duration::from_secs(60), || async {
        let n = forgeries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        peer.send(forged_as(&format!("forged-{n}"))).await.unwrap();
        match flooder().await {
            Some(peer) => b.node().peer_score(peer).await.unwrap().is_some_and(|score| score < -80.0),
            None => false,
        }
    })
    .await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (answered, failed) = poller.join().unwrap();
    assert!(answered > 0 && failed == 0, "status answered {answered} times and failed {failed} times");
    // The flood did reach B's validation (gossipsub may drop some on the way).
    let validated = b.node().gossip_received();
    assert!(validated >= 5_000, "only {validated} messages reached B's validation");
    // Nothing of the flood nor of the forgeries was stored.
    let forger = PublisherKey::from_seed([1; 32]).publisher().0;
    for publisher in [key.publisher().0, forger] {
        assert!(b.node().store().publisher_items(&publisher).unwrap().is_empty(), "B stored something of the flood");
    }
    assert!(b.node().metrics().await.contains("citymesh_records_ignored_total{reason=\"policy\"}"));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_revisions_and_equivocating_twins_leave_every_node_with_the_same_head() {
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    eventually("A and B form a mesh", TIMEOUT, || async { a.mesh_peers().await == 1 && b.mesh_peers().await == 1 })
        .await;
    // A publisher (or whoever holds its key) signs revision 3 twice with different content.
    let key = PublisherKey::from_seed([42; 32]);
    let now = citymesh::author::now_ms();
    let revision = |number: u64, approach: &str| {
        let mut practice = example_practice();
        practice.approach = approach.to_owned();
        let draft = record::Draft {
            kind: record::Kind::Practice,
            slug: "twins".to_owned(),
            revision: number,
            timestamp_ms: now - 100 + number as i64,
            body: record::Body::Practice(practice),
        };
        record::sign(&key, draft).unwrap()
    };
    let (one, two) = (revision(1, "First."), revision(2, "Second."));
    let (twin_a, twin_b) = (revision(3, "Third, as told to A."), revision(3, "Third, as told to B."));
    let head = if twin_a.id() < twin_b.id() { twin_a.id() } else { twin_b.id() };
    // A hostile peer tells each node a different story: A hears revision 2 and one twin, B the
    // old revision 1 and the other twin; then each hears the old revisions replayed.
    let to_a = test_peer(a.address().await.parse().unwrap()).await;
    let to_b = test_peer(b.address().await.parse().unwrap()).await;
    eventually("the hostile peer joins both topics", TIMEOUT, || async {
        a.gossip_peers().await == 2 && b.gossip_peers().await == 2
    })
    .await;
    for (peer, records) in [(&to_a, [&two, &twin_a]), (&to_b, [&one, &twin_b])] {
        for record in records {
            peer.send(record.envelope_bytes()).await.unwrap();
        }
    }
    for (peer, replayed) in [(&to_a, &one), (&to_b, &two)] {
        peer.send(replayed.envelope_bytes()).await.unwrap();
    }
    // Gossip and sync carry every revision everywhere; the head is the same on both: the
    // twin with the smaller id (the head rule), whatever each node heard first.
    let all = [one.id(), two.id(), twin_a.id(), twin_b.id()];
    // Each node first stores what it was told (valid old revisions are stored, not forwarded),
    // so that the sync below has both stories to reconcile.
    eventually("each node holds what it was told", TIMEOUT, || async {
        [&one, &two, &twin_a].iter().all(|record| a.holds(&record.id()))
            && [&one, &two, &twin_b].iter().all(|record| b.holds(&record.id()))
    })
    .await;
    // Sync pulls, and a node forwards only a new head: if A hears B's twin before its own and
    // B's has the smaller id, A never forwards its own, so each node pulls from the other.
    a.sync_with(&b).await;
    b.sync_with(&a).await;
    eventually("both nodes hold every revision", TIMEOUT, || async { all.iter().all(|id| a.holds(id) && b.holds(id)) })
        .await;
    for node in [&a, &b] {
        let held = node.node().store().head(&one.key()).unwrap().expect("a head");
        assert_eq!(held.id(), head, "{}'s head", node.node().publisher());
        assert_eq!(node.node().store().history(&one.key()).unwrap().len(), 4, "every revision kept once");
    }
    // A replay after everything changes nothing.
    to_a.send(two.envelope_bytes()).await.unwrap();
    a.sync_with(&b).await;
    assert_eq!(a.node().store().head(&one.key()).unwrap().unwrap().id(), head);
    assert_eq!(a.node().store().history(&one.key()).unwrap().len(), 4);
    a.stop().await;
    b.stop().await;
}
