//! Hostile peers against a `citymesh run` process, with its memory measured: endless and huge
//! reconciliation answers, many sessions of huge requests at once, answers never read, and a
//! gossip flood of the largest records. The node's peak resident memory stays within the
//! bounds its code states (`node::PEER_MEMORY_BOUND` and the per-connection and per-session
//! bounds), and honest peers are served all the while.

use std::time::Duration;

use citymesh::node::{CONNECTION_MEMORY_BOUND, PEER_MEMORY_BOUND};
use citymesh::record::{MAX_BODY_BYTES, PublisherKey, Record, to_hex};
use citymesh::sync::SESSION_MEMORY_BOUND;
use citymesh::wire::{self, FetchRequest, FetchResponse, SyncResponse};

use crate::harness::*;
use crate::hostile::test_peer;
use crate::hostile_sync::{RawPeer, Via, sync_request};

const TIMEOUT: Duration = Duration::from_secs(60);
const MIB: usize = 1024 * 1024;

/// A Negentropy varint: base 128, most significant group first.
fn varint(mut value: u64, out: &mut Vec<u8>) {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// An answer that never lets a reconciliation end: every id below `middle` is said to be held
/// (10,000 ids the node lacks, made up: 640,000 over the 64 rounds, more than a session
/// fetches), and the rest of the range always differs.
fn endless_answer(middle: u64) -> Vec<u8> {
    let mut message = vec![0x61];
    varint(1 + middle, &mut message);
    varint(0, &mut message);
    message.push(2);
    varint(10_000, &mut message);
    for _ in 0..10_000 {
        message.extend(rand::random::<[u8; 32]>());
    }
    varint(0, &mut message);
    varint(0, &mut message);
    message.push(1);
    message.extend(rand::random::<[u8; 16]>());
    message
}

/// A first message of close to 1 MiB: 40,000 ranges a few ms wide around `around`, each with a
/// fingerprint that will not match.
fn huge_request(around: u64) -> Vec<u8> {
    let mut message = vec![0x61];
    let mut previous = 0;
    for n in 0..40_000u64 {
        let timestamp = around - 60_000 + n * 3;
        varint(1 + timestamp - previous, &mut message);
        varint(0, &mut message);
        message.push(1);
        message.extend(rand::random::<[u8; 16]>());
        previous = timestamp;
    }
    message
}

/// A practice note with a body near the size limit.
fn big_note(key: &PublisherKey, n: usize) -> Record {
    let mut practice = example_practice();
    practice.approach = format!("{n} {}", "compost ".repeat((MAX_BODY_BYTES - 8 * 1024) / 8));
    signed_practice(key, &format!("big-{n}"), practice)
}

fn import(process: &Process, data: &DataDir, records: &[Record]) {
    let token = std::fs::read_to_string(data.path().join("api.token")).expect("the API token");
    for chunk in records.chunks(8) {
        let envelopes: Vec<String> = chunk.iter().map(|record| to_hex(&record.envelope_bytes())).collect();
        let mut answer = http()
            .post(format!("{}/api/v1/import", process.base))
            .header("Authorization", format!("Bearer {}", token.trim()))
            .send_json(serde_json::json!({ "envelopes": envelopes }))
            .expect("import");
        let answer: serde_json::Value = answer.body_mut().read_json().expect("JSON");
        assert!(answer["results"].as_array().unwrap().iter().all(|result| result["outcome"] == "stored"), "{answer}");
    }
}

/// The last sync the process ran with `peer`, from its status.
fn last_sync(process: &Process, peer: &str) -> Option<serde_json::Value> {
    let status = process.status();
    status["syncs"].as_array()?.iter().find(|report| report["peer"] == peer).cloned()
}

/// Checks the peak memory since `baseline` was taken against the stated bound.
fn check_memory(process: &Process, baseline: usize, bound: usize, what: &str) {
    let (_, peak) = process.memory();
    let grown = peak.saturating_sub(baseline);
    eprintln!("{what}: peak {} MiB, {} MiB above idle; bound {} MiB", peak / MIB, grown / MIB, bound / MIB);
    assert!(grown <= bound, "{what}: memory grew by {} MiB, over the stated bound of {} MiB", grown / MIB, bound / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_and_huge_reconciliation_answers_end_within_bounds_and_honest_peers_still_sync() {
    let data = DataDir::initialised("City P");
    let p = Process::start(&data, &[]);
    let (baseline, _) = p.memory();
    p.reset_peak();

    // P syncs with whoever connects: this peer answers every round with 10,000 made-up ids
    // and a range that never matches, and every fetch with nothing.
    let middle = citymesh::author::now_ms() as u64 - 3_600_000;
    let answers = Box::new(move |exchange: &str, _request: Vec<u8>| {
        Some(match exchange {
            "sync" => wire::encode(&SyncResponse { negentropy: endless_answer(middle), versions: Vec::new() }),
            _ => wire::encode(&FetchResponse::default()),
        })
    });
    let (mut peer, _) = RawPeer::connect(&p.address(), answers).await;
    let me = peer.id().to_string();
    peer.serve_while(eventually("P gives up on the endless session", TIMEOUT, || async {
        last_sync(&p, &me).is_some()
    }))
    .await;
    let report = last_sync(&p, &me).unwrap();
    assert_eq!(report["rounds"], 64, "{report}");
    assert!(report["error"].as_str().unwrap().contains("did not finish in 64 rounds"), "{report}");
    assert_eq!(report["fetched"], 0, "{report}");
    assert!(report["remaining"].as_u64().unwrap() > 0, "ids over the session's maximum are left: {report}");
    check_memory(&p, baseline, PEER_MEMORY_BOUND + CONNECTION_MEMORY_BOUND + SESSION_MEMORY_BOUND, "endless session");

    // An honest peer is synced with as before (the sync when they connect brings its note).
    let honest = Node::start("City H", &["main"], &[]).await;
    let id = honest.publish(EXAMPLE).await.to_string();
    honest.node().dial(p.address().parse().unwrap()).await.unwrap();
    eventually("P catches up with the honest peer", TIMEOUT, || async {
        http().get(format!("{}/api/v1/records/{id}", p.base)).call().is_ok()
    })
    .await;
    honest.stop().await;
    p.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_huge_requests_unread_answers_and_a_flood_stay_within_bounds_while_an_honest_peer_syncs() {
    let data = DataDir::initialised("City P");
    let p = Process::start(&data, &[]);
    // Records near the size limit, for answers near theirs.
    let publisher = PublisherKey::from_seed([41; 32]);
    let big: Vec<Record> = (0..24).map(|n| big_note(&publisher, n)).collect();
    import(&p, &data, &big);
    // What the attackers send is made first: making it while connected would starve their
    // connections of the runtime's threads.
    let huge = sync_request(huge_request(citymesh::author::now_ms() as u64));
    let stranger = PublisherKey::from_seed([42; 32]);
    let flood: Vec<Vec<u8>> = (0..400).map(|n| big_note(&stranger, 1000 + n).envelope_bytes()).collect();
    let (baseline, _) = p.memory();
    p.reset_peak();
    let address = p.address();

    // Many sessions at once, each round a message of 40,000 ranges.
    let many = {
        let address = address.clone();
        tokio::spawn(async move {
            let (mut peer, node) = RawPeer::connect(&address, Box::new(|_, _| None)).await;
            let sent: Vec<_> = (0..64).map(|_| peer.send(Via::Sync, node, huge.clone())).collect();
            peer.settle(sent, Duration::from_secs(300)).await
        })
    };
    // Fetches of every big record, whose answers are never read.
    let ids: Vec<Vec<u8>> = big.iter().map(|record| record.id().0.to_vec()).collect();
    let (unread, unread_done) = tokio::sync::oneshot::channel::<()>();
    let unread_task = {
        let address = address.clone();
        tokio::spawn(async move {
            let (mut peer, node) = RawPeer::connect_with(&address, Box::new(|_, _| None), false).await;
            for _ in 0..40 {
                peer.send(Via::Fetch, node, wire::encode(&FetchRequest { ids: ids.clone() }));
            }
            peer.serve_while(unread_done).await.ok();
        })
    };
    // A flood of the largest valid records from a stranger.
    let flooder = test_peer(address.parse().unwrap()).await;
    let flood = tokio::spawn(async move {
        for envelope in flood {
            if flooder.send(envelope).await.is_err() {
                break;
            }
        }
    });

    // All the while, an honest peer catches up with everything P holds.
    let honest = Node::start("City H", &["main"], std::slice::from_ref(&address)).await;
    let wanted: Vec<_> = big.iter().map(Record::id).collect();
    eventually("the honest peer catches up with P", TIMEOUT * 3, || async { wanted.iter().all(|id| honest.holds(id)) })
        .await;
    flood.await.unwrap();
    let (answers, failures) = many.await.unwrap();
    eprintln!("{} of 64 huge sync requests were answered; {} refused", answers.len(), failures.len());
    assert!(!answers.is_empty(), "P answered none of the huge requests: {failures:?}");
    for answer in answers {
        let answer: SyncResponse = wire::decode(&answer).expect("a sync answer");
        assert!(answer.negentropy.len() <= 1024 * 1024, "an answer over the frame limit");
    }
    assert!(p.status()["peer_id"].is_string(), "P's API answers");
    check_memory(&p, baseline, PEER_MEMORY_BOUND + 4 * CONNECTION_MEMORY_BOUND + 4 * SESSION_MEMORY_BOUND, "attack");
    let _ = unread.send(());
    unread_task.await.unwrap();
    honest.stop().await;
    p.stop();
}
