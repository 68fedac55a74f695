//! Crash safety (DESIGN §5): a real `citymesh run` process is fed 20,000 records through the API
//! (import and publish) while a second node gossips to it, and is killed with SIGKILL at random
//! moments, six times, restarting in between. Afterwards every record whose write was
//! acknowledged is present and verifies, the indexes agreed with the records tree without
//! repair, every head is the highest version held, and the search index (opened as it was left,
//! not rebuilt) holds exactly the current practice notes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use citymesh::record::{self, Body, Draft, Key, Kind, PublisherKey, Record, Version};
use citymesh::search::Search;
use citymesh::store::{Store, StoreOptions};
use citymesh::wire::Tombstone;
use serde_json::{Value, json};

use crate::harness::*;

/// Records fed through the import API.
const RECORDS: usize = 20_000;
/// Envelopes per import request.
const CHUNK: usize = 250;
/// SIGKILLs, at random moments; the last one after everything was fed.
const KILLS: usize = 6;
const STEP: Duration = Duration::from_secs(60);

/// Notes from 20 publishers: first revisions, some second revisions, some withdrawals.
fn records() -> Vec<Record> {
    let keys: Vec<PublisherKey> = (1..=20u8).map(|seed| PublisherKey::from_seed([seed; 32])).collect();
    let now = citymesh::author::now_ms();
    let mut out = Vec::with_capacity(RECORDS);
    let mut index = 0;
    while out.len() < RECORDS {
        let key = &keys[index % keys.len()];
        let slug = format!("note-{}", index / keys.len());
        let mut practice = example_practice();
        practice.title = format!("Practice {index}");
        // Later revisions are signed later.
        let timestamp_ms = now - (RECORDS - out.len()) as i64 * 3;
        let draft = |revision: u64, body: Body| Draft {
            kind: Kind::Practice,
            slug: slug.clone(),
            revision,
            timestamp_ms: timestamp_ms + revision as i64,
            body,
        };
        out.push(record::sign(key, draft(1, Body::Practice(practice.clone()))).unwrap());
        if index % 5 == 0 {
            practice.approach = format!("Revised approach {index}.");
            out.push(record::sign(key, draft(2, Body::Practice(practice))).unwrap());
        }
        if index % 11 == 0 {
            let stone = Body::Tombstone(Tombstone { reason: "ended".into() });
            out.push(record::sign(key, draft(3, stone)).unwrap());
        }
        index += 1;
    }
    out.truncate(RECORDS);
    out
}

/// A small deterministic generator for the kill moments; the seed is printed to rerun a case.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn start(data: &DataDir, bootstrap: &str) -> (Process, String) {
    let process = Process::start(data, &[bootstrap.to_owned()]);
    let base = process.base.clone();
    (process, base)
}

/// Feeds import chunks from `progress` on until the node stops answering or all are sent,
/// moving `progress` on; answers the ids acknowledged.
fn feed(base: &str, token: &str, chunks: &[Vec<String>], progress: &AtomicUsize, stop: &AtomicBool) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let mut next = progress.load(Ordering::Relaxed);
    while next < chunks.len() && !stop.load(Ordering::Relaxed) {
        let response = http()
            .post(format!("{base}/api/v1/import"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(json!({"envelopes": chunks[next]}));
        let Ok(mut response) = response else { break };
        let Ok(answer) = response.body_mut().read_json::<Value>() else { break };
        let results = answer["results"].as_array().expect("import results");
        for result in results {
            assert!(result["outcome"] == "stored" || result["outcome"] == "held", "{result}");
            acknowledged.push(result["id"].as_str().unwrap().to_owned());
        }
        next += 1;
        progress.store(next, Ordering::Relaxed);
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_sigkill_and_every_index_agrees() {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("kill moments seed: {seed}");
    let mut rng = Rng(seed);
    let data = DataDir::initialised("City under test");
    let peer = Node::start("Gossiping peer", &["main"], &[]).await;
    let bootstrap = peer.address().await;
    let token = token(&data, &bootstrap);
    let all = records();
    let chunks: Vec<Vec<String>> =
        all.chunks(CHUNK).map(|chunk| chunk.iter().map(|r| record::to_hex(&r.envelope_bytes())).collect()).collect();
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let progress = Arc::new(AtomicUsize::new(0));
    let mut gossiped = 0;
    for kill in 0..KILLS {
        let (child, base) = start(&data, &bootstrap);
        // Own notes published through the API too: acknowledged by their 201.
        let note = example_with("slug: community-composting", &format!("slug: own-note-{kill}"));
        let mut answer = http()
            .post(format!("{base}/api/v1/publish"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(json!({"markdown": note}))
            .expect("publish answers");
        assert_eq!(answer.status().as_u16(), 201);
        acknowledged.insert(answer.body_mut().read_json::<Value>().unwrap()["id"].as_str().unwrap().to_owned());
        // The peer gossips its own notes meanwhile (not acknowledged by the node under test).
        for _ in 0..20 {
            let text = example_with("slug: community-composting", &format!("slug: peer-note-{gossiped}"));
            peer.publish(&text).await;
            gossiped += 1;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let last = kill == KILLS - 1;
        let feeder = {
            let (base, token, chunks) = (base.clone(), token.clone(), chunks.clone());
            let (progress, stop) = (Arc::clone(&progress), Arc::clone(&stop));
            std::thread::spawn(move || feed(&base, &token, &chunks, &progress, &stop))
        };
        // Kills spread over the feeding: this run goes on to about its share of the chunks,
        // then dies at a random moment (the sleep is the experiment, not a wait); the last
        // run feeds everything left and is killed while idle or indexing.
        let share = if last { chunks.len() } else { (kill + 1) * chunks.len() / KILLS - rng.below(3) as usize };
        eventually("the feeding reaches this run's share", STEP * 5, || async {
            progress.load(Ordering::Relaxed) >= share || feeder.is_finished()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(rng.below(400))).await;
        drop(child); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        let acked = tokio::task::spawn_blocking(move || feeder.join().unwrap()).await.unwrap();
        let fed = progress.load(Ordering::Relaxed);
        println!(
            "kill {}: {} records acknowledged in this run, {fed} of {} chunks fed",
            kill + 1,
            acked.len(),
            chunks.len()
        );
        acknowledged.extend(acked);
    }
    assert_eq!(progress.load(Ordering::Relaxed), chunks.len(), "every chunk was fed");
    peer.stop().await;

    // The store as the last kill left it.
    let (store, report) = Store::open(&data.path().join("store"), &StoreOptions::default()).expect("the store opens");
    assert!(report.unclean, "the last stop was a kill");
    assert!(!report.rebuilt && report.dropped == 0, "indexes needed repair after a kill: {report:?}");
    let now = citymesh::author::now_ms();
    for id in &acknowledged {
        let id = id.parse().unwrap();
        let envelope = store.envelope(&id).unwrap().unwrap_or_else(|| panic!("acknowledged record {id} is missing"));
        assert_eq!(record::verify(&envelope, now).expect("verifies").id(), id);
    }
    assert!(acknowledged.len() >= RECORDS, "{} acknowledged", acknowledged.len());
    // Every head is the highest version held of its key.
    let mut highest: BTreeMap<Key, (Version, Record)> = BTreeMap::new();
    for record in store.records() {
        let record = record.unwrap();
        let entry = highest.entry(record.key()).or_insert_with(|| (record.version(), record.clone()));
        if record.version() > entry.0 {
            *entry = (record.version(), record);
        }
    }
    for (key, (version, _)) in &highest {
        assert_eq!(store.head(key).unwrap().map(|head| head.version()), Some(*version), "head of {key:?}");
    }
    // The search index, as it was left: caught up, it holds exactly the current practice notes.
    let search = Search::open(&data.path().join("search"), false).expect("the index opens");
    search.catch_up(&store).expect("catches up");
    let expected: BTreeSet<String> = highest
        .values()
        .filter(|(_, head)| head.kind() == Kind::Practice && !head.is_tombstone())
        .map(|(_, head)| head.id().to_string())
        .collect();
    let indexed = search.ids().unwrap();
    assert_eq!(indexed.len(), expected.len(), "notes indexed vs current notes");
    assert!(indexed == expected, "the search index disagrees with the store");
}

/// The API token, which the first `run` makes: start the node once to have it.
fn token(data: &DataDir, bootstrap: &str) -> String {
    drop(start(data, bootstrap));
    std::fs::read_to_string(data.path().join("api.token")).expect("api.token").trim().to_owned()
}
