//! Sessions against responders in memory, with no sockets: a session fetches exactly what the
//! peer has and this node lacks, in bounded batches, asks again for what a size-capped answer
//! left out, and ends with the peer's fault when an answer breaks the protocol.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::reconcile::Item;
use crate::record::{PublisherKey, signed_envelope};
use crate::wire::Header;

/// Records in memory, by id: the envelope and its publisher.
#[derive(Default, Clone)]
struct Held(BTreeMap<[u8; 32], (u64, [u8; 32], Vec<u8>)>);

impl Held {
    fn add(&mut self, envelope: Vec<u8>, timestamp: u64) {
        let (id, publisher) = record::claimed(&envelope).expect("a decodable envelope");
        self.0.insert(id.0, (timestamp, publisher, envelope));
    }
}

impl Source for Held {
    fn items(&self, scope: &Scope) -> Result<Arc<ItemSet>, StoreError> {
        let items = self
            .0
            .iter()
            .filter(|(_, (_, publisher, _))| scope.contains(publisher))
            .map(|(id, (timestamp, _, _))| Item { timestamp: *timestamp, id: *id })
            .collect();
        Ok(Arc::new(ItemSet::new(items)))
    }

    fn envelope(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(&id.0).map(|(_, _, envelope)| envelope.clone()))
    }
}

/// An envelope of `publisher` with a body of `size` bytes (the session checks what envelopes
/// claim, not their signatures: the node verifies what it is handed).
fn envelope(publisher: u8, n: u64, size: usize) -> Vec<u8> {
    let key = PublisherKey::from_seed([publisher; 32]);
    let header = Header {
        format: 1,
        publisher: key.publisher().0.to_vec(),
        kind: "practice".to_owned(),
        slug: format!("note-{n}"),
        revision: 1,
        timestamp_ms: n as i64,
        ..Header::default()
    };
    signed_envelope(&key, wire::encode(&header), vec![7; size])
}

fn held(publisher: u8, range: std::ops::Range<u64>, size: usize) -> Held {
    let mut held = Held::default();
    for n in range {
        held.add(envelope(publisher, n, size), n);
    }
    held
}

/// Runs a session of `ours` against `theirs` to the end, answering its asks in the order they
/// come (a round and a fetch can be out together) and storing every batch at once; returns
/// the report, what `ours` holds after, and the largest fetch answer seen.
fn run(mut ours: Held, theirs: &Held, scope: Scope) -> (SyncReport, Held, Result<(), SyncError>) {
    let set = ours.items(&scope).unwrap();
    let mut session = Session::new("peer".to_owned(), 0, set, scope).unwrap();
    let mut out: VecDeque<Ask> = VecDeque::new();
    let outcome = (|| {
        for _ in 0..100_000 {
            out.extend(session.asks());
            let Some(ask) = out.pop_front() else { break };
            match ask {
                Ask::Round(request) => round(&mut session, &answer_round(theirs, Version::Two, &request)?)?,
                Ask::Fetch(request) => {
                    let envelopes = fetch(&mut session, &answer_fetch(theirs, &request)?)?;
                    if !envelopes.is_empty() {
                        let fresh =
                            envelopes.iter().filter(|envelope| !ours.0.contains_key(&claimed_id(envelope))).count();
                        for envelope in envelopes {
                            let timestamp = theirs.0[&claimed_id(&envelope)].0;
                            ours.add(envelope, timestamp);
                        }
                        session.on_stored(fresh, None)?;
                    }
                }
            }
        }
        Ok(())
    })();
    assert!(outcome.is_err() || session.is_done(), "the session stalled with nothing to ask");
    (session.report().clone(), ours, outcome)
}

/// Hands the session a round's answer as if it came in a frame of its own length.
fn round(session: &mut Session, answer: &[u8]) -> Result<(), SyncError> {
    session.on_round(answer, answer.len())
}

/// Hands the session a fetch's answer as if it came in a frame of its own length.
fn fetch(session: &mut Session, answer: &[u8]) -> Result<Vec<Vec<u8>>, SyncError> {
    session.on_fetch(answer, answer.len())
}

fn claimed_id(envelope: &[u8]) -> [u8; 32] {
    record::claimed(envelope).unwrap().0.0
}

#[test]
fn a_session_fetches_exactly_what_the_peer_has_and_this_node_lacks() {
    let theirs = held(1, 0..3000, 100);
    // This node holds every third record, and one the peer lacks.
    let mut ours = Held::default();
    for (id, (timestamp, publisher, envelope)) in theirs.0.iter().step_by(3) {
        ours.0.insert(*id, (*timestamp, *publisher, envelope.clone()));
    }
    ours.add(envelope(1, 5000, 100), 5000);
    let (report, after, outcome) = run(ours, &theirs, Scope::All);
    outcome.unwrap();
    assert_eq!(report.fetched, 2000);
    assert!(theirs.0.keys().all(|id| after.0.contains_key(id)));
    assert_eq!(after.0.len(), 3001, "the record only this node held stays, nothing else came");
    assert!(report.rounds >= 2 && report.bytes_sent > 0 && report.bytes_received > 0, "{report:?}");
}

#[test]
fn a_scoped_session_asks_only_for_its_publishers() {
    let mut theirs = held(1, 0..100, 50);
    for (id, record) in held(2, 0..100, 50).0 {
        theirs.0.insert(id, record);
    }
    let partner = PublisherKey::from_seed([1; 32]).publisher().0;
    let (report, after, outcome) = run(Held::default(), &theirs, Scope::Publishers([partner].into()));
    outcome.unwrap();
    assert_eq!(report.fetched, 100);
    assert!(after.0.values().all(|(_, publisher, _)| *publisher == partner));
}

#[test]
fn what_a_size_capped_answer_leaves_out_is_asked_for_again() {
    // 40 records of ~200 KiB: one answer of 512 ids can carry only about 20.
    let theirs = held(1, 0..40, 200 * 1024);
    let (report, after, outcome) = run(Held::default(), &theirs, Scope::All);
    outcome.unwrap();
    assert_eq!((report.fetched, after.0.len()), (40, 40));
}

#[test]
fn a_fetch_answer_counts_envelope_bytes_in_request_order_and_zero_ids_get_an_empty_answer() {
    // Envelopes of exactly 256 KiB: 16 fill the 4 MiB to the byte, which encoded (a tag and a
    // length each) would not fit. Asked for newest first, with an id not held in between.
    let mut body = 256 * 1024;
    for _ in 0..3 {
        body = body + 256 * 1024 - envelope(1, 10, body).len();
    }
    assert_eq!(envelope(1, 10, body).len(), 256 * 1024);
    let source = held(1, 10..40, body);
    let mut ids: Vec<Vec<u8>> = source.0.keys().rev().map(|id| id.to_vec()).collect();
    ids.insert(1, vec![9; 32]);
    let answer = answer_fetch(&source, &wire::encode(&FetchRequest { ids: ids.clone() })).unwrap();
    let answer: FetchResponse = wire::decode(&answer).unwrap();
    let size = source.0.values().next().unwrap().2.len();
    // proto/README.md §19.7: the envelopes' own bytes count, not the encoded answer's.
    assert_eq!((size, answer.envelopes.len()), (256 * 1024, 16));
    let sent: Vec<[u8; 32]> = answer.envelopes.iter().map(|envelope| claimed_id(envelope)).collect();
    let held_in_order: Vec<[u8; 32]> = ids
        .iter()
        .filter_map(|id| <[u8; 32]>::try_from(id.as_slice()).ok())
        .filter(|id| source.0.contains_key(id))
        .collect();
    assert_eq!(sent, held_in_order[..sent.len()], "in request order, the id not held left out");
    let empty = answer_fetch(&source, &wire::encode(&FetchRequest { ids: Vec::new() })).unwrap();
    assert!(empty.is_empty(), "zero ids: an empty FetchResponse, a frame of length 0");
}

/// A session whose peer answers rounds honestly and fetches with `answer`.
fn with_fetch_answer(answer: impl Fn(&FetchRequest) -> FetchResponse) -> SyncError {
    let theirs = held(1, 0..10, 10);
    let partner = PublisherKey::from_seed([1; 32]).publisher().0;
    let scope = Scope::Publishers([partner].into());
    let mut session = Session::new("peer".to_owned(), 0, Held::default().items(&scope).unwrap(), scope).unwrap();
    for _ in 0..100 {
        for ask in session.asks() {
            let result = match ask {
                Ask::Round(request) => round(&mut session, &answer_round(&theirs, Version::Two, &request).unwrap()),
                Ask::Fetch(request) => {
                    let request: FetchRequest = wire::decode(&request).unwrap();
                    fetch(&mut session, &wire::encode(&answer(&request))).map(drop)
                }
            };
            if let Err(error) = result {
                return error;
            }
        }
    }
    panic!("the session never failed");
}

#[test]
fn an_answer_that_breaks_the_protocol_is_the_peers_fault() {
    let stray = envelope(1, 99, 10);
    let outsider = envelope(3, 0, 10);
    let cases: [(FetchResponse, &str); 3] = [
        (FetchResponse { envelopes: vec![stray] }, "not asked for"),
        (FetchResponse { envelopes: vec![b"garbage".to_vec()] }, "does not decode"),
        (FetchResponse { envelopes: vec![outsider] }, "not asked for"),
    ];
    for (answer, expected) in cases {
        let error = with_fetch_answer(|_| answer.clone());
        assert!(error.is_peer_fault() && error.to_string().contains(expected), "{error}");
    }
    // The same record twice: asked for once.
    let twice = with_fetch_answer(|request| {
        let theirs = held(1, 0..10, 10);
        let first = theirs.envelope(&RecordId(request.ids[0].clone().try_into().unwrap())).unwrap().unwrap();
        FetchResponse { envelopes: vec![first.clone(), first] }
    });
    assert!(twice.is_peer_fault() && twice.to_string().contains("not asked for"), "{twice}");
    let garbled = Session::new("peer".to_owned(), 0, Arc::new(ItemSet::default()), Scope::All)
        .unwrap()
        .on_round(b"\xff\xff not a message", 16);
    assert!(garbled.is_err_and(|error| error.is_peer_fault()));
}

#[test]
fn an_invalid_record_ends_the_session_as_the_peers_fault_and_keeps_the_count() {
    let mut session = Session::new("peer".to_owned(), 0, Arc::new(ItemSet::default()), Scope::All).unwrap();
    let error = session.on_stored(3, Some(crate::record::RecordError::Signature.to_string())).unwrap_err();
    assert!(error.is_peer_fault() && error.to_string().contains("rule signature"), "{error}");
    let report = session.finish(Err(error), Duration::from_millis(5));
    assert_eq!((report.fetched, report.peer_fault, report.duration_ms), (3, true, 5));
}

#[test]
fn bad_requests_are_refused_as_the_peers_fault() {
    let source = held(1, 0..3, 10);
    let too_many = FetchRequest { ids: vec![vec![0; 32]; FETCH_BATCH + 1] };
    let short_id = FetchRequest { ids: vec![vec![0; 31]] };
    let short_key = SyncRequest { publishers: vec![vec![1; 3]], all: false, negentropy: vec![0x61] };
    let wide = SyncRequest { publishers: vec![vec![1; 32]; MAX_SCOPE + 1], all: false, negentropy: vec![0x61] };
    for (error, expected) in [
        (answer_fetch(&source, &wire::encode(&too_many)).unwrap_err(), "at most 512"),
        (answer_fetch(&source, &wire::encode(&short_id)).unwrap_err(), "ids are 32"),
        (answer_fetch(&source, b"\xff\xff").unwrap_err(), "does not decode"),
        (answer_round(&source, Version::Two, &wire::encode(&short_key)).unwrap_err(), "keys are 32"),
        (answer_round(&source, Version::Two, &wire::encode(&wide)).unwrap_err(), "at most 10000"),
        (answer_round(&source, Version::Two, b"\xff\xff").unwrap_err(), "does not decode"),
    ] {
        assert!(error.is_peer_fault() && error.to_string().contains(expected), "{error}");
    }
    // Another Negentropy version is no fault. Version 1 answers with the version byte alone,
    // which reads as "nothing differs"; version 2 names the versions spoken instead.
    let other = wire::encode(&SyncRequest { publishers: Vec::new(), all: true, negentropy: vec![0x62] });
    let answer: SyncResponse = wire::decode(&answer_round(&source, Version::One, &other).unwrap()).unwrap();
    assert_eq!((answer.negentropy, answer.versions), (vec![reconcile::PROTOCOL_VERSION], vec![]));
    let answer = answer_round(&source, Version::Two, &other).unwrap();
    let decoded: SyncResponse = wire::decode(&answer).unwrap();
    assert_eq!((decoded.negentropy, decoded.versions), (vec![], vec![u32::from(reconcile::PROTOCOL_VERSION)]));
    let mut session = Session::new("peer".to_owned(), 0, Arc::new(ItemSet::default()), Scope::All).unwrap();
    let error = round(&mut session, &answer).unwrap_err();
    assert!(matches!(error, SyncError::Version(_)) && !error.is_peer_fault(), "{error}");
}

/// A peer that offers every record it has, whatever scope it is asked for.
struct IgnoresScope(Held);

impl Source for IgnoresScope {
    fn items(&self, _: &Scope) -> Result<Arc<ItemSet>, StoreError> {
        self.0.items(&Scope::All)
    }

    fn envelope(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.envelope(id)
    }
}

#[test]
fn a_record_outside_the_scope_asked_for_is_the_peers_fault() {
    let mut theirs = held(1, 0..5, 10);
    theirs.add(envelope(3, 0, 10), 0);
    let theirs = IgnoresScope(theirs);
    let partner = PublisherKey::from_seed([1; 32]).publisher().0;
    let scope = Scope::Publishers([partner].into());
    let mut session = Session::new("peer".to_owned(), 0, Held::default().items(&scope).unwrap(), scope).unwrap();
    let error = (|| {
        for _ in 0..100 {
            for ask in session.asks() {
                match ask {
                    Ask::Round(request) => round(&mut session, &answer_round(&theirs, Version::Two, &request)?)?,
                    Ask::Fetch(request) => drop(fetch(&mut session, &answer_fetch(&theirs, &request)?)?),
                }
            }
        }
        Ok::<_, SyncError>(())
    })()
    .unwrap_err();
    assert!(error.is_peer_fault() && error.to_string().contains("outside the scope"), "{error}");
}
