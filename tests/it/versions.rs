//! Version 2 of the exchanges (`/citymesh/sync/2`, `/citymesh/fetch/2`) against a real node,
//! from a raw peer that speaks one version only: a fetch answer is compressed and holds the same
//! envelopes as version 1's, byte for byte; a refusal says why and when to ask again, and a
//! node that is refused waits and asks again; a fault ends the stream without a frame, and an
//! oversized request is reset while its sender is still writing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use citymesh::net::{
    Answer, FETCH_PROTOCOL, FETCH_PROTOCOL_2, MAX_REQUEST, Refusal, SYNC_PROTOCOL, SYNC_PROTOCOL_2, decode_answer,
    encode_answer,
};
use citymesh::reconcile::{Item, ItemSet, Session};
use citymesh::wire::{self, FetchRequest, FetchResponse, SyncRequest, SyncResponse};

use crate::harness::*;
use crate::hostile_sync::{RawPeer, Via, strikes, sync_request};

const TIMEOUT: Duration = Duration::from_secs(20);

/// Connects a raw peer that answers nothing and speaks version `version` alone.
async fn raw_peer(node: &Node, version: u8) -> (RawPeer, citymesh::net::PeerId) {
    let protocols = if version == 2 { [SYNC_PROTOCOL_2, FETCH_PROTOCOL_2] } else { [SYNC_PROTOCOL, FETCH_PROTOCOL] };
    RawPeer::connect_speaking(&node.address().await, Box::new(|_, _| None), true, protocols).await
}

fn fetch_of(ids: &[citymesh::record::RecordId]) -> Vec<u8> {
    wire::encode(&FetchRequest { ids: ids.iter().map(|id| id.0.to_vec()).collect() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_over_version_2_is_compressed_and_holds_the_envelopes_of_version_1_byte_for_byte() {
    let b = Node::start("City B", &["main"], &[]).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(b.publish(&example_with("slug: community-composting", &format!("slug: composting-{n}"))).await);
    }
    let (mut old, node) = raw_peer(&b, 1).await;
    let plain = old.ask(Via::Fetch, node, fetch_of(&ids)).await.expect("a version 1 answer");
    let (mut new, _) = raw_peer(&b, 2).await;
    let framed = new.ask(Via::Fetch, node, fetch_of(&ids)).await.expect("a version 2 answer");
    let Answer::Message { bytes, .. } = decode_answer(true, &framed).expect("an answer frame") else {
        panic!("refused")
    };
    assert_eq!(bytes, plain, "the same FetchResponse, decompressed");
    let envelopes = wire::decode::<FetchResponse>(&bytes).unwrap().envelopes;
    assert_eq!(envelopes.len(), ids.len());
    assert!(framed.len() * 3 < plain.len(), "{} bytes compressed to {}", plain.len(), framed.len());

    // Two nodes speak version 2 between them: the sync C starts on connecting fetches the notes,
    // and the bytes it counts received are the compressed ones.
    let c = Node::start("City C", &["main"], &[b.address().await]).await;
    let from_b = b.peer_id().await.to_string();
    let fetched = || c.node().syncs().get(&from_b).cloned().filter(|report| report.fetched >= ids.len());
    eventually("C fetches B's notes", TIMEOUT, || async { fetched().is_some() }).await;
    let report = fetched().unwrap();
    assert!(ids.iter().all(|id| c.holds(id)), "{report:?}");
    let envelope_bytes: usize = envelopes.iter().map(Vec::len).sum();
    assert!(report.bytes_received < envelope_bytes / 2, "{report:?} for {envelope_bytes} bytes of envelopes");
    b.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_version_2_a_fault_gets_no_frame_an_oversized_request_is_reset_and_a_ban_is_explained() {
    let b = Node::start("City B", &["main"], &[]).await;
    let (mut peer, node) = raw_peer(&b, 2).await;
    let me = peer.id();

    // Another Negentropy version is no fault, and is not mistaken for "nothing differs".
    let answer = peer.ask(Via::Sync, node, sync_request(vec![0x62, 0x00])).await.expect("an answer");
    let Ok(Answer::Message { bytes, .. }) = decode_answer(false, &answer) else { panic!("{answer:?}") };
    let answer: SyncResponse = wire::decode(&bytes).unwrap();
    assert_eq!((answer.negentropy, answer.versions), (vec![], vec![0x61]));

    // A request that does not decode: the stream ends without a frame.
    let garbage = peer.ask(Via::Sync, node, b"not a protobuf message \xff\xff".to_vec()).await;
    assert!(garbage.is_err(), "{garbage:?}");
    eventually("B counts the fault", TIMEOUT, || async { strikes(&b, me) == 1 }).await;
    // An oversized one is reset while the peer is still writing: the peer's request fails at
    // once, not at its own timeout.
    let oversized = peer.ask(Via::Sync, node, vec![0; MAX_REQUEST + 1]).await.expect_err("no answer");
    assert!(!oversized.to_lowercase().contains("timeout"), "{oversized}");
    eventually("B counts the fault", TIMEOUT, || async { strikes(&b, me) == 2 }).await;
    let too_many = wire::encode(&FetchRequest { ids: vec![vec![0; 32]; 600] });
    assert!(peer.ask(Via::Fetch, node, too_many).await.is_err());
    eventually("B bans the peer", TIMEOUT, || async { strikes(&b, me) == 3 }).await;

    // Banned: a good request is refused, with the reason and when to ask again.
    let first = Session::new(&ItemSet::new(Vec::new()), 0).unwrap().initiate();
    let answer = peer.ask(Via::Sync, node, sync_request(first)).await.expect("a refusal frame");
    let Ok(Answer::Refused(refusal)) = decode_answer(false, &answer) else { panic!("{answer:?}") };
    assert!(refusal.reason.contains("banned"), "{refusal:?}");
    assert!(refusal.retry_after > Duration::from_secs(9 * 60), "{refusal:?}");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refused_by_its_peer_waits_as_asked_and_asks_again() {
    let b = Node::start("City B", &["main"], &[]).await;
    let offered = signed_practice(&citymesh::record::PublisherKey::from_seed([5; 32]), "offered", example_practice());
    let set = ItemSet::new(vec![Item { timestamp: offered.timestamp_ms() as u64, id: offered.id().0 }]);
    let fetches = Arc::new(Mutex::new(0));
    let answers = {
        let (fetches, envelope) = (Arc::clone(&fetches), offered.envelope_bytes());
        Box::new(move |exchange: &str, request: Vec<u8>| {
            let answer = match exchange {
                "sync" => {
                    let request: SyncRequest = wire::decode(&request).ok()?;
                    let negentropy = Session::new(&set, 0).unwrap().respond(&request.negentropy).ok()?;
                    Answer::message(wire::encode(&SyncResponse { negentropy, versions: Vec::new() }))
                }
                _ => {
                    let mut fetches = fetches.lock().unwrap();
                    *fetches += 1;
                    if *fetches == 1 {
                        let reason = "too many requests are waiting".to_owned();
                        Answer::Refused(Refusal { reason, retry_after: Duration::from_millis(200) })
                    } else {
                        Answer::message(wire::encode(&FetchResponse { envelopes: vec![envelope.clone()] }))
                    }
                }
            };
            encode_answer(exchange == "fetch", &answer).ok()
        })
    };
    let (mut peer, _) =
        RawPeer::connect_speaking(&b.address().await, answers, true, [SYNC_PROTOCOL_2, FETCH_PROTOCOL_2]).await;
    let me = peer.id();
    // B syncs with the peer on connecting: its fetch is refused, waited out, and asked again.
    let fetched = || b.node().syncs().get(&me.to_string()).cloned().filter(|report| report.fetched == 1);
    peer.serve_while(eventually("B fetches past the refusal", TIMEOUT, || async { fetched().is_some() })).await;
    let report = fetched().unwrap();
    assert_eq!((report.error, report.peer_fault), (None, false));
    assert_eq!(*fetches.lock().unwrap(), 2, "refused once, then answered");
    assert!(b.holds(&offered.id()));
    assert_eq!(strikes(&b, me), 0);
    b.stop().await;
}
