//! `proto/test-vectors.json`, made by an independent implementation of `proto/README.md`: this
//! node must accept exactly the valid vectors, compute the same ids and heads, and name the
//! same rule (and field) for each invalid one.

use std::collections::HashMap;

use citymesh::record::{self, Key, Kind, MAX_ENVELOPE_BYTES, Record, RecordError};
use citymesh::store::{Store, StoreOptions};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../proto/test-vectors.json")).expect("the vectors file is JSON")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn now_ms(file: &Value) -> i64 {
    file["now_ms"].as_i64().expect("now_ms")
}

/// Every valid vector, verified, by name.
fn valid_records(file: &Value) -> HashMap<String, Record> {
    let now = now_ms(file);
    file["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .filter(|vector| vector["valid"] == true)
        .map(|vector| {
            let record = record::verify(&unhex(vector["envelope_hex"].as_str().unwrap()), now).unwrap();
            (vector["name"].as_str().unwrap().to_owned(), record)
        })
        .collect()
}

#[test]
fn every_vector_gets_the_verdict_the_spec_gives() {
    let file = vectors();
    let now = now_ms(&file);
    let all = file["vectors"].as_array().unwrap();
    assert!(all.len() > 50, "the vectors file looks truncated");
    for vector in all {
        let name = vector["name"].as_str().unwrap();
        let verdict = record::verify(&unhex(vector["envelope_hex"].as_str().unwrap()), now);
        match (&verdict, vector["valid"].as_bool().unwrap()) {
            (Ok(record), true) => {
                assert_eq!(record.id().to_string(), vector["id"].as_str().unwrap(), "{name}: id");
                assert_eq!(record.publisher().to_string(), vector["publisher"].as_str().unwrap(), "{name}");
                assert_eq!(record.kind().as_str(), vector["kind"].as_str().unwrap(), "{name}");
                assert_eq!(record.slug(), vector["slug"].as_str().unwrap(), "{name}");
                assert_eq!(Some(record.revision()), vector["revision"].as_u64(), "{name}");
                assert_eq!(Some(record.timestamp_ms()), vector["timestamp_ms"].as_i64(), "{name}");
                assert_eq!(Some(record.is_tombstone()), vector["tombstone"].as_bool(), "{name}");
            }
            (Err(error), false) => {
                assert_eq!(error.rule(), vector["rule"].as_str().unwrap(), "{name}: {error}");
                if let RecordError::BodyField { field, .. } = error {
                    assert_eq!(field, vector["field"].as_str().unwrap(), "{name}: {error}");
                }
            }
            (verdict, expected) => {
                let verdict = verdict.as_ref().map(Record::id).map_err(ToString::to_string);
                panic!("{name}: expected valid = {expected}, got {verdict:?}")
            }
        }
    }
    // Coordinates are read as written (§12.4), and malformed ones do not change the verdict.
    let place = |name: &str| {
        let vector = all.iter().find(|vector| vector["name"] == name).unwrap();
        let record = record::verify(&unhex(vector["envelope_hex"].as_str().unwrap()), now).unwrap();
        match record.parse_body().unwrap() {
            citymesh::record::Body::Practice(note) => note.location.unwrap(),
            other => panic!("{name}: {other:?}"),
        }
    };
    let coordinates = place("place-coordinates");
    assert_eq!((coordinates.latitude.as_str(), coordinates.longitude.as_str()), ("-7.2575", "112.7521"));
    assert_eq!(place("place-coordinates-malformed").latitude, "123.4");
    // An identity naming its website carries the domain (Identity field 7).
    let vector = all.iter().find(|vector| vector["name"] == "domain-identity").unwrap();
    let record = record::verify(&unhex(vector["envelope_hex"].as_str().unwrap()), now).unwrap();
    assert_eq!(record.identity().map(|identity| identity.domain).as_deref(), Some("surabaya.go.id"));
}

#[test]
fn an_envelope_over_the_limit_is_refused_before_decoding() {
    let error = record::verify(&vec![0u8; MAX_ENVELOPE_BYTES + 1], 0).unwrap_err();
    assert_eq!(error.rule(), "envelope-size");
}

fn key_of(entry: &Value) -> Key {
    Key {
        publisher: entry["publisher"].as_str().unwrap().parse().unwrap(),
        kind: entry["kind"].as_str().unwrap().parse::<Kind>().unwrap(),
        slug: entry["slug"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn the_store_picks_the_heads_the_spec_gives() {
    let file = vectors();
    let records = valid_records(&file);
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
    let all: Vec<Record> = records.values().cloned().collect();
    store.insert_batch(&all).unwrap();
    for entry in file["heads"].as_array().unwrap() {
        let key = key_of(entry);
        assert_eq!(store.head(&key).unwrap().unwrap().id().to_string(), entry["head"].as_str().unwrap(), "{key:?}");
        let mut held: Vec<String> = store.history(&key).unwrap().iter().map(|r| r.id().to_string()).collect();
        let mut expected: Vec<String> =
            entry["ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
        held.sort();
        expected.sort();
        assert_eq!(held, expected, "{key:?}");
    }
}

#[test]
fn each_head_case_gives_its_head_in_the_order_listed() {
    let file = vectors();
    let records = valid_records(&file);
    for case in file["head_cases"].as_array().unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        let mut key = None;
        for name in case["records"].as_array().unwrap() {
            let record = &records[name.as_str().unwrap()];
            store.insert(record).unwrap();
            key = Some(record.key());
        }
        let head = store.head(&key.unwrap()).unwrap().unwrap();
        assert_eq!(head.id().to_string(), case["head"].as_str().unwrap(), "{case}");
    }
}

#[test]
fn every_identity_case_gets_the_verdicts_the_spec_gives() {
    use citymesh::identity::{Book, Revision};
    let file = vectors();
    let records = valid_records(&file);
    for vector in file["vectors"].as_array().unwrap().iter().filter(|vector| vector["signers"].is_array()) {
        let signers: Vec<String> =
            records[vector["name"].as_str().unwrap()].signers().iter().map(ToString::to_string).collect();
        let expected: Vec<String> =
            vector["signers"].as_array().unwrap().iter().map(|key| key.as_str().unwrap().to_owned()).collect();
        assert_eq!(signers, expected, "{}", vector["name"]);
    }
    let cases = file["identity_cases"].as_array().expect("identity_cases");
    assert!(cases.len() >= 5, "the identity cases look truncated");
    for case in cases {
        let mut book = Book::default();
        for step in case["steps"].as_array().unwrap() {
            if let Some(now_ms) = step["settle_at_ms"].as_i64() {
                let verdict = if book.settle(now_ms).is_empty() { "waiting" } else { "recovered" };
                assert_eq!(verdict, step["verdict"].as_str().unwrap(), "case {}: settle at {now_ms}", case["name"]);
                continue;
            }
            let name = step["record"].as_str().unwrap();
            let record = &records[name];
            let verdict = match Revision::of(record) {
                Some(revision) => book.apply(revision).map(|applied| applied.as_str()),
                None => book
                    .authorise(&record.publisher(), &record.signer(), record.kind(), record.timestamp_ms())
                    .map(|()| "ok"),
            };
            let verdict = verdict.unwrap_or_else(|error| error.rule());
            assert_eq!(verdict, step["verdict"].as_str().unwrap(), "case {}: {name}", case["name"]);
        }
    }
}

/// `proto/exchange-vectors.json`, made by `proto/tools/exchange_vectors.py` from §19.8 alone:
/// this node must read every answer frame of version 2 as the vector says (the envelopes, the
/// message and versions, the refusal), reject every fault, and write the same bytes for the
/// same refusal and for its answer to another Negentropy version.
#[test]
fn every_answer_frame_of_version_2_reads_as_the_spec_says() {
    use citymesh::net::{Answer, Refusal, decode_answer, encode_answer};
    use citymesh::reconcile::ItemSet;
    use citymesh::sync::{Session, SyncError};
    use citymesh::trust::Scope;
    use citymesh::wire::{self, FetchResponse, SyncResponse};

    let file: Value = serde_json::from_str(include_str!("../../proto/exchange-vectors.json")).expect("JSON");
    let records = valid_records(&vectors());
    let vectors = file["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 16);
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let frame = unhex(vector["frame_hex"].as_str().unwrap());
        let (length, payload) = frame.split_at(4);
        assert_eq!(u32::from_be_bytes(length.try_into().unwrap()) as usize, payload.len(), "{name}");
        let fetch = vector["protocol"] == "/citymesh/fetch/2";
        // A sync answer's verdict is the session's: an answer, another version, or a fault.
        let read = decode_answer(fetch, payload).and_then(|answer| match answer {
            Answer::Message { bytes, .. } if !fetch => {
                let mut session =
                    Session::new("peer".to_owned(), 0, std::sync::Arc::new(ItemSet::default()), Scope::All).unwrap();
                match session.on_round(&bytes, payload.len()) {
                    Ok(()) | Err(SyncError::Version(_)) => Ok(Answer::Message { bytes, framed: payload.len() }),
                    Err(error) => Err(error.to_string()),
                }
            }
            answer => Ok(answer),
        });
        if let Some(expected) = vector.get("refused") {
            let refusal = Refusal {
                reason: expected["reason"].as_str().unwrap().to_owned(),
                retry_after: std::time::Duration::from_millis(expected["retry_after_ms"].as_u64().unwrap()),
            };
            assert_eq!(read, Ok(Answer::Refused(refusal.clone())), "{name}");
            if name != "refusal-beside-a-response" {
                assert_eq!(
                    encode_answer(fetch, &Answer::Refused(refusal)).unwrap(),
                    payload,
                    "{name}: the bytes written"
                );
            }
        } else if let Some(expected) = vector.get("answer") {
            let Ok(Answer::Message { bytes, .. }) = read else { panic!("{name}: {read:?}") };
            if fetch {
                let envelopes = wire::decode::<FetchResponse>(&bytes).unwrap().envelopes;
                let names = expected["names"].as_array().unwrap();
                assert_eq!(envelopes.len(), names.len(), "{name}");
                for (envelope, held) in envelopes.iter().zip(names) {
                    assert_eq!(envelope, &records[held.as_str().unwrap()].envelope_bytes(), "{name}: byte for byte");
                }
            } else {
                let response: SyncResponse = wire::decode(&bytes).unwrap();
                assert_eq!(response.negentropy, unhex(expected["negentropy"].as_str().unwrap()), "{name}");
                let versions: Vec<u32> =
                    expected["versions"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
                assert_eq!(response.versions, versions, "{name}");
                if !versions.is_empty() {
                    let ours = SyncResponse { negentropy: Vec::new(), versions: vec![0x61] };
                    assert_eq!(wire::encode(&ours), bytes, "{name}: the bytes this node answers with");
                }
            }
        } else {
            assert!(vector.get("fault").is_some(), "{name}: a verdict");
            assert!(read.is_err(), "{name}: read as {read:?}");
        }
    }
}
