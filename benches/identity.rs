//! `cargo bench --bench identity`: what checking a record against its organisation's identity
//! log costs. 20,000 practice notes signed by an operator key of an organisation whose log has
//! five revisions (three governance keys, threshold 2, operators added and revoked along the
//! way) are verified and then authorised by the log, one by one on one thread, and compared
//! with the ceiling measured in the same run: a plain `verify_strict` loop over the same
//! signatures with the operator's key. Target: a ratio of at least 0.9, since the log is held
//! in memory and judging a record by it is a few comparisons beside one signature check.
//!
//! Set CITYMESH_BENCH_RECORDS to change the count.

use std::time::Instant;

use citymesh::identity::{Applied, Book, MAX_OPERATOR_MS, Revision, founding};
use citymesh::record::{self, Body, Draft, IDENTITY_SLUG, Kind, PublisherKey, Record};
use citymesh::wire::{Operator, Revocation};
use common::{NOW, plain_verify};

mod common;

const DAY: i64 = 24 * 60 * 60 * 1000;
const REVISIONS: u64 = 5;

fn key(seed: u8) -> PublisherKey {
    PublisherKey::from_seed([seed; 32])
}

fn operator(seed: u8, timestamp_ms: i64) -> Operator {
    Operator {
        key: key(seed).publisher().0.to_vec(),
        scopes: vec!["practice".to_owned(), "request".to_owned()],
        expires_ms: timestamp_ms + MAX_OPERATOR_MS - DAY,
        label: format!("operator {seed}"),
    }
}

/// Five revisions: the founding one with governance keys 1, 2, 3 (threshold 2) and operator
/// 10, then each adds an operator and retires the one before the last, signed by keys 2 and 3.
fn identity_log() -> Vec<Record> {
    let mut revisions: Vec<Record> = Vec::new();
    let mut body = founding(key(1).publisher(), NOW - 100 * DAY, "city hall node");
    body.governance.extend([key(2).publisher().0.to_vec(), key(3).publisher().0.to_vec()]);
    body.threshold = 2;
    for number in 1..=REVISIONS {
        let timestamp_ms = NOW - 100 * DAY + number as i64 * DAY;
        body.operators = body
            .operators
            .iter()
            .map(|held| Operator { expires_ms: timestamp_ms + 300 * DAY, ..held.clone() })
            .collect();
        if number > 1 {
            body.previous = revisions.last().unwrap().id().0.to_vec();
            body.operators.push(operator(9 + number as u8, timestamp_ms));
            if number > 2 {
                let retired = body.operators.remove(2);
                body.revoked.push(Revocation {
                    operator: Some(retired),
                    reason: "retired".into(),
                    since_ms: timestamp_ms,
                });
            }
        } else {
            body.operators.push(operator(10, timestamp_ms));
        }
        let draft = Draft {
            kind: Kind::Identity,
            slug: IDENTITY_SLUG.into(),
            revision: number,
            timestamp_ms,
            body: Body::Identity(body.clone()),
        };
        let signed = record::sign_for(key(1).publisher(), &key(if number == 1 { 1 } else { 2 }), draft)
            .unwrap()
            .cosigned(&key(3))
            .unwrap();
        revisions.push(signed);
    }
    revisions
}

fn notes(count: usize, signer: &PublisherKey) -> Vec<Vec<u8>> {
    let organisation = key(1).publisher();
    (0..count)
        .map(|index| {
            let envelope = &common::make_envelopes(1)[0];
            let body = record::verify(envelope, NOW).unwrap().parse_body().unwrap();
            let draft = Draft {
                kind: Kind::Practice,
                slug: format!("note-{index}"),
                revision: 1,
                timestamp_ms: NOW - index as i64,
                body,
            };
            record::sign_for(organisation, signer, draft).unwrap().envelope_bytes()
        })
        .collect()
}

/// Full verification alone (decode, limits, hashes, signature, body rules).
fn verify_only(envelopes: &[Vec<u8>]) -> f64 {
    let started = Instant::now();
    for bytes in envelopes {
        record::verify(bytes, NOW).expect("valid record");
    }
    envelopes.len() as f64 / started.elapsed().as_secs_f64()
}

/// Full verification, then the log's verdict, as the store judges a record.
fn verify_and_authorise(book: &Book, envelopes: &[Vec<u8>]) -> f64 {
    let started = Instant::now();
    for bytes in envelopes {
        let record = record::verify(bytes, NOW).expect("valid record");
        book.authorise(&record.publisher(), &record.signer(), record.kind(), record.timestamp_ms())
            .expect("authorised");
    }
    envelopes.len() as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let count = std::env::var("CITYMESH_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let mut book = Book::default();
    for revision in identity_log() {
        let applied = book.apply(Revision::of(&revision).unwrap()).expect("a valid revision");
        assert_eq!(applied, Applied::Head);
    }
    assert_eq!(book.chain(&key(1).publisher()).unwrap().revisions().len() as u64, REVISIONS);
    // Operator 10 is in every revision; the records are judged by the newest.
    let envelopes = notes(count, &key(10));
    println!("{count} operator-signed notes, identity log of {REVISIONS} revisions");
    let ceiling = plain_verify(&envelopes);
    let verified = verify_only(&envelopes);
    let measured = verify_and_authorise(&book, &envelopes);
    println!("plain verify_strict (ceiling): {ceiling:>10.0} records/s");
    println!("full verification alone      : {verified:>10.0} records/s, ratio {:.2}", verified / ceiling);
    println!(
        "verify + identity log        : {measured:>10.0} records/s, ratio {:.2} (target 0.9); the log alone costs {:.1}% of verification",
        measured / ceiling,
        (verified / measured - 1.0) * 100.0
    );
}
