//! A raw libp2p peer that speaks `/citymesh/sync/1` and `/citymesh/fetch/1` badly: as a
//! requester (garbage, oversize frames, too many ids, another Negentropy version) and as a
//! responder (records not asked for, forged records). The node answers what the protocol says,
//! penalises faults (three ban the peer), stores nothing invalid, and keeps serving others.

use std::time::Duration;

use citymesh::net::{FETCH_PROTOCOL, MAX_REQUEST, MAX_RESPONSE, SYNC_PROTOCOL};
use citymesh::reconcile::{Item, ItemSet, Session};
use citymesh::record::{PublisherKey, Record};
use citymesh::wire::{self, Envelope, FetchRequest, FetchResponse, SyncRequest, SyncResponse};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, noise, tcp, yamux};

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(20);

/// The exchanges' framing (a 4-byte big-endian length, then the bytes) written from the spec,
/// without the node's limits on what it sends. A codec that does not read answers leaves them
/// unread (its streams stay open until a timeout), as a peer that wants the node to hold them.
#[derive(Clone)]
struct LooseCodec {
    read_answers: bool,
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    io.read_exact(&mut length).await?;
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_RESPONSE {
        return Err(std::io::Error::other("too long"));
    }
    let mut bytes = vec![0; length];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: Vec<u8>) -> std::io::Result<()> {
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl request_response::Codec for LooseCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_frame(io).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        if !self.read_answers {
            std::future::pending::<()>().await;
        }
        read_frame(io).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> std::io::Result<()> {
        write_frame(io, request).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> std::io::Result<()> {
        write_frame(io, response).await
    }
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Exchanges {
    sync: request_response::Behaviour<LooseCodec>,
    fetch: request_response::Behaviour<LooseCodec>,
}

/// What the raw peer answers to the node's requests.
pub(crate) type Answers = Box<dyn FnMut(&str, Vec<u8>) -> Option<Vec<u8>> + Send>;

pub(crate) struct RawPeer {
    swarm: Swarm<Exchanges>,
    answers: Answers,
}

#[derive(Clone, Copy)]
pub(crate) enum Via {
    Sync,
    Fetch,
}

impl RawPeer {
    pub(crate) async fn connect(target: &str, answers: Answers) -> (RawPeer, PeerId) {
        RawPeer::connect_with(target, answers, true).await
    }

    /// Like [`RawPeer::connect`]; with `read_answers` false it never reads the node's answers.
    pub(crate) async fn connect_with(target: &str, answers: Answers, read_answers: bool) -> (RawPeer, PeerId) {
        RawPeer::connect_speaking(target, answers, read_answers, [SYNC_PROTOCOL, FETCH_PROTOCOL]).await
    }

    /// Like [`RawPeer::connect_with`], speaking the exchanges over `protocols` (sync, fetch)
    /// alone; its frames are still raw bytes, in whatever version that is.
    pub(crate) async fn connect_speaking(
        target: &str,
        answers: Answers,
        read_answers: bool,
        [sync, fetch]: [StreamProtocol; 2],
    ) -> (RawPeer, PeerId) {
        let exchange = |protocol| {
            let timeout = if read_answers { 10 } else { 600 };
            let config = request_response::Config::default()
                .with_request_timeout(Duration::from_secs(timeout))
                .with_max_concurrent_streams(1000);
            let codec = LooseCodec { read_answers };
            request_response::Behaviour::with_codec(codec, [(protocol, ProtocolSupport::Full)], config)
        };
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .expect("tcp")
            .with_behaviour(|_| Exchanges { sync: exchange(sync), fetch: exchange(fetch) })
            .expect("behaviour")
            .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        let target: Multiaddr = target.parse().expect("a multiaddr");
        swarm.dial(target).expect("dial");
        let mut peer = RawPeer { swarm, answers };
        let node = tokio::time::timeout(TIMEOUT, async {
            loop {
                if let SwarmEvent::ConnectionEstablished { peer_id, .. } = peer.swarm.select_next_some().await {
                    return peer_id;
                }
            }
        })
        .await
        .expect("the raw peer connects");
        (peer, node)
    }

    /// Handles one swarm event; returns the outcome of an outbound request, if it was one.
    fn on_event(&mut self, event: SwarmEvent<ExchangesEvent>) -> Option<(OutboundRequestId, Result<Vec<u8>, String>)> {
        let (via, event) = match event {
            SwarmEvent::Behaviour(ExchangesEvent::Sync(event)) => (Via::Sync, event),
            SwarmEvent::Behaviour(ExchangesEvent::Fetch(event)) => (Via::Fetch, event),
            _ => return None,
        };
        match event {
            request_response::Event::Message { message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let name = match via {
                        Via::Sync => "sync",
                        Via::Fetch => "fetch",
                    };
                    if let Some(answer) = (self.answers)(name, request) {
                        let behaviour = self.swarm.behaviour_mut();
                        let _ = match via {
                            Via::Sync => behaviour.sync.send_response(channel, answer),
                            Via::Fetch => behaviour.fetch.send_response(channel, answer),
                        };
                    }
                    None
                }
                request_response::Message::Response { request_id, response } => Some((request_id, Ok(response))),
            },
            request_response::Event::OutboundFailure { request_id, error, .. } => {
                Some((request_id, Err(error.to_string())))
            }
            _ => None,
        }
    }

    pub(crate) fn id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Sends a request without waiting for its answer.
    pub(crate) fn send(&mut self, via: Via, node: PeerId, request: Vec<u8>) -> OutboundRequestId {
        let behaviour = self.swarm.behaviour_mut();
        match via {
            Via::Sync => behaviour.sync.send_request(&node, request),
            Via::Fetch => behaviour.fetch.send_request(&node, request),
        }
    }

    /// Drives the swarm until every request of `sent` was answered or failed (answering the
    /// node's requests meanwhile); returns the answers and the failures.
    pub(crate) async fn settle(
        &mut self,
        sent: Vec<OutboundRequestId>,
        timeout: Duration,
    ) -> (Vec<Vec<u8>>, Vec<String>) {
        let mut waiting: std::collections::HashSet<_> = sent.into_iter().collect();
        let (mut answers, mut failures) = (Vec::new(), Vec::new());
        tokio::time::timeout(timeout, async {
            while !waiting.is_empty() {
                let event = self.swarm.select_next_some().await;
                if let Some((done, outcome)) = self.on_event(event)
                    && waiting.remove(&done)
                {
                    match outcome {
                        Ok(answer) => answers.push(answer),
                        Err(error) => failures.push(error),
                    }
                }
            }
        })
        .await
        .expect("every request answered or failed in time");
        (answers, failures)
    }

    /// Sends a request and drives the swarm until its answer or failure.
    pub(crate) async fn ask(&mut self, via: Via, node: PeerId, request: Vec<u8>) -> Result<Vec<u8>, String> {
        let id = self.send(via, node, request);
        tokio::time::timeout(TIMEOUT, async {
            loop {
                let event = self.swarm.select_next_some().await;
                if let Some((done, outcome)) = self.on_event(event)
                    && done == id
                {
                    return outcome;
                }
            }
        })
        .await
        .expect("an answer or a failure in time")
    }

    /// Keeps answering the node's requests while `work` runs.
    pub(crate) async fn serve_while<T>(&mut self, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return done,
                event = self.swarm.select_next_some() => { self.on_event(event); }
            }
        }
    }
}

/// A round over every publisher.
pub(crate) fn sync_request(negentropy: Vec<u8>) -> Vec<u8> {
    wire::encode(&SyncRequest { publishers: Vec::new(), all: true, negentropy })
}

fn note(seed: u8, slug: &str) -> Record {
    signed_practice(&PublisherKey::from_seed([seed; 32]), slug, example_practice())
}

pub(crate) fn strikes(node: &Node, peer: PeerId) -> u32 {
    let peer = peer.to_string();
    node.node().penalties().iter().find(|penalty| penalty.peer == peer).map_or(0, |penalty| penalty.strikes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_their_sender_banned_while_others_are_served() {
    let b = Node::start("City B", &["main"], &[]).await;
    let published = b.publish(EXAMPLE).await;
    // The raw peer answers nothing: B's own sync with it fails, which is not a fault.
    let (mut peer, node) = RawPeer::connect(&b.address().await, Box::new(|_, _| None)).await;

    // Another Negentropy version: the answer names the one B speaks, and that is no fault.
    let answer = peer.ask(Via::Sync, node, sync_request(vec![0x62, 0x00])).await.expect("an answer");
    let answer: SyncResponse = wire::decode(&answer).expect("a SyncResponse");
    assert_eq!(answer.negentropy, vec![0x61]);
    // An honest first round gets an honest answer.
    let set = ItemSet::new(Vec::new());
    let first = Session::new(&set, 0).unwrap().initiate();
    assert!(peer.ask(Via::Sync, node, sync_request(first)).await.is_ok());
    assert_eq!(strikes(&b, peer.swarm.local_peer_id().to_owned()), 0);

    let me = *peer.swarm.local_peer_id();
    let faults: [(Via, Vec<u8>); 3] = [
        (Via::Sync, b"this is not a protobuf message \xff\xff".to_vec()),
        (Via::Sync, vec![0; MAX_REQUEST + 1]),
        (Via::Fetch, wire::encode(&FetchRequest { ids: vec![vec![0; 32]; 600] })),
    ];
    for (n, (via, request)) in faults.into_iter().enumerate() {
        assert!(peer.ask(via, node, request).await.is_err(), "fault {n} got an answer");
        eventually("B counts the fault", TIMEOUT, || async { strikes(&b, me) == n as u32 + 1 }).await;
    }
    let penalty = b.node().penalties().into_iter().find(|penalty| penalty.peer == me.to_string()).unwrap();
    assert!(penalty.banned && penalty.last_fault.unwrap().contains("600 ids"));
    // Banned: even a good request is refused now.
    let set = ItemSet::new(Vec::new());
    let first = Session::new(&set, 0).unwrap().initiate();
    assert!(peer.ask(Via::Sync, node, sync_request(first)).await.is_err());

    // An honest node is served all the while.
    let c = Node::start("City C", &["main"], &[b.address().await]).await;
    eventually("C catches up with B", TIMEOUT, || async { c.holds(&published) }).await;
    assert_eq!(strikes(&b, c.peer_id().await), 0);
    assert!(b.node().metrics().await.contains("citymesh_peer_penalties_total"));
    b.stop().await;
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_answers_fetches_with_other_records_or_forgeries_gets_nothing_stored() {
    let b = Node::start("City B", &["main"], &[]).await;
    let (offered, stray) = (note(5, "offered"), note(6, "stray"));
    let mut forged: Envelope = wire::decode(&offered.envelope_bytes()).unwrap();
    forged.signature[3] ^= 1;
    let forged = wire::encode(&forged);
    // The raw peer's set holds one record; what it sends when asked for it changes per sync.
    let set = ItemSet::new(vec![Item { timestamp: offered.timestamp_ms() as u64, id: offered.id().0 }]);
    let fetch_answers =
        std::sync::Arc::new(std::sync::Mutex::new(vec![offered.envelope_bytes(), forged, stray.envelope_bytes()]));
    let answers = {
        let fetch_answers = std::sync::Arc::clone(&fetch_answers);
        Box::new(move |exchange: &str, request: Vec<u8>| match exchange {
            "sync" => {
                let request: SyncRequest = wire::decode(&request).ok()?;
                let negentropy = Session::new(&set, 0).unwrap().respond(&request.negentropy).ok()?;
                Some(wire::encode(&SyncResponse { negentropy, versions: Vec::new() }))
            }
            _ => {
                let envelope = fetch_answers.lock().unwrap().pop()?;
                Some(wire::encode(&FetchResponse { envelopes: vec![envelope] }))
            }
        })
    };
    let (mut peer, _) = RawPeer::connect(&b.address().await, answers).await;
    let me = *peer.swarm.local_peer_id();

    // The sync B starts on connecting asks for `offered` and gets `stray`.
    peer.serve_while(eventually("B faults the stray answer", TIMEOUT, || async { strikes(&b, me) == 1 })).await;
    let report = b.node().syncs().get(&me.to_string()).cloned().unwrap();
    assert!(report.peer_fault && report.error.unwrap().contains("not asked for"));
    assert!(!b.holds(&stray.id()) && !b.holds(&offered.id()));

    // The next gets a forgery of `offered`: rejected by its rule, a second strike.
    let report = peer.serve_while(b.sync_with_peer(me)).await;
    assert!(report.peer_fault, "{report:?}");
    assert_eq!(strikes(&b, me), 2);
    assert!(!b.holds(&offered.id()));
    assert_eq!(b.node().rejections().last().unwrap().rule, "signature");

    // The third gets the real thing, and B keeps it.
    let report = peer.serve_while(b.sync_with_peer(me)).await;
    assert_eq!((report.fetched, report.error), (1, None));
    assert!(b.holds(&offered.id()));
    b.stop().await;
}
