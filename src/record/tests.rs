//! The record rules, one test per rule, plus the head rule under any arrival order.

use proptest::prelude::*;

use super::*;
use crate::wire::{Partnership, Place, Practice, Tombstone};

const NOW: i64 = 1_767_225_600_000;

fn key() -> PublisherKey {
    PublisherKey::from_seed([7; 32])
}

/// A minimal valid practice note.
pub(crate) fn practice(title: &str) -> Practice {
    Practice {
        title: title.to_owned(),
        summary: "Neighbourhood hubs compost kitchen waste.".to_owned(),
        themes: vec!["solid-waste".to_owned()],
        status: "ongoing".to_owned(),
        location: Some(Place { country: "ID".to_owned(), ..Place::default() }),
        language: "en".to_owned(),
        ..Practice::default()
    }
}

fn draft(body: Body) -> Draft {
    Draft { kind: Kind::Practice, slug: "community-composting".to_owned(), revision: 1, timestamp_ms: NOW, body }
}

fn signed() -> Record {
    sign(&key(), draft(Body::Practice(practice("Composting hubs")))).unwrap()
}

fn header_of(record: &Record) -> Header {
    wire::decode(record.header_bytes()).unwrap()
}

/// Signs arbitrary header bytes with `key`, as a careless or hostile publisher could.
fn envelope(key: &PublisherKey, header: &[u8], body: &[u8]) -> Vec<u8> {
    signed_envelope(key, header.to_vec(), body.to_vec())
}

/// Re-signs a record after `change` edits its header.
fn resigned(change: impl FnOnce(&mut Header)) -> Vec<u8> {
    let record = signed();
    let mut header = header_of(&record);
    change(&mut header);
    envelope(&key(), &wire::encode(&header), record.body_bytes())
}

fn rule(bytes: &[u8]) -> &'static str {
    verify(bytes, NOW).map(|_| "valid").unwrap_or_else(|error| error.rule())
}

#[test]
fn a_signed_record_verifies_and_round_trips() {
    let record = signed();
    let again = verify(&record.envelope_bytes(), NOW).unwrap();
    assert_eq!(again, record);
    assert_eq!(record.id().0, <[u8; 32]>::from(Sha256::digest(record.header_bytes())));
    assert_eq!(record.publisher(), key().publisher());
    assert_eq!(record.parse_body().unwrap(), Body::Practice(practice("Composting hubs")));
}

#[test]
fn any_flipped_byte_in_header_body_or_signature_is_rejected() {
    let record = signed();
    let parts = [record.header_bytes().to_vec(), record.signature.clone(), record.body_bytes().to_vec()];
    for part in 0..parts.len() {
        for index in 0..parts[part].len() {
            let mut changed = parts.clone();
            changed[part][index] ^= 0x01;
            let [header, signature, body] = changed;
            let bytes = wire::encode(&Envelope { header, signature, body, signatures: Vec::new() });
            assert!(verify(&bytes, NOW).is_err(), "flipping byte {index} of part {part} went unnoticed");
        }
    }
}

#[test]
fn weak_and_invalid_publisher_keys_are_rejected() {
    // The identity point: a small-order key under which one signature can fit many messages.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    assert_eq!(rule(&resigned(|header| header.publisher = weak.to_vec())), "weak-key");
    // A y coordinate with no matching x: not a point at all.
    let not_a_point = (0u8..=255)
        .map(|byte| [byte; 32])
        .find(|bytes| VerifyingKey::from_bytes(bytes).is_err())
        .expect("some constant byte string is not a point");
    assert_eq!(rule(&resigned(|header| header.publisher = not_a_point.to_vec())), "publisher-key");
    assert_eq!(rule(&resigned(|header| header.publisher = vec![1; 31])), "publisher-length");
}

#[test]
fn a_signature_by_another_key_is_rejected() {
    let record = signed();
    let forged = envelope(&PublisherKey::from_seed([8; 32]), record.header_bytes(), record.body_bytes());
    assert_eq!(rule(&forged), "signature");
    let mut short = wire::decode::<Envelope>(&record.envelope_bytes()).unwrap();
    short.signature.pop();
    assert_eq!(rule(&wire::encode(&short)), "signature-length");
}

#[test]
fn each_header_rule_names_itself() {
    assert_eq!(rule(&resigned(|header| header.format = 2)), "format");
    assert_eq!(rule(&resigned(|header| header.kind = "adoption".into())), "kind");
    assert_eq!(rule(&resigned(|header| header.slug = "Bad_Slug".into())), "slug");
    assert_eq!(rule(&resigned(|header| header.slug = "-dash".into())), "slug");
    assert_eq!(rule(&resigned(|header| header.slug = "a".repeat(65))), "slug");
    assert_eq!(rule(&resigned(|header| header.slug = "a".repeat(64))), "valid");
    assert_eq!(rule(&resigned(|header| header.revision = 0)), "revision");
    assert_eq!(rule(&resigned(|header| header.timestamp_ms = -1)), "timestamp");
    assert_eq!(rule(&resigned(|header| header.timestamp_ms = NOW + MAX_FUTURE_MS + 1)), "timestamp");
    assert_eq!(rule(&resigned(|header| header.timestamp_ms = NOW + MAX_FUTURE_MS)), "valid");
    assert_eq!(rule(&resigned(|header| header.body_sha256.truncate(31))), "body-hash-length");
    assert_eq!(rule(&resigned(|header| header.body_sha256[0] ^= 1)), "body-hash");
    assert_eq!(rule(&resigned(|header| header.body_len += 1)), "body-length");
    assert_eq!(rule(&resigned(|header| header.body_len = MAX_BODY_BYTES as u64 + 1)), "body-size");
}

#[test]
fn profiles_have_one_slug_and_cannot_be_withdrawn() {
    let profile = |slug: &str, tombstone: bool| {
        resigned(|header| {
            header.kind = "profile".into();
            header.slug = slug.into();
            header.tombstone = tombstone;
        })
    };
    assert_eq!(rule(&profile("main", false)), "slug");
    assert_eq!(rule(&profile("profile", true)), "kind");
    // The body is a Practice, which does not decode as a Profile's fields (wrong wire types).
    assert!(matches!(rule(&profile("profile", false)), "body-decode" | "body-field"));
}

#[test]
fn size_limits_are_enforced() {
    let record = signed();
    let mut header = record.header_bytes().to_vec();
    // An unknown length-delimited field 100, enough to pass the header limit by one byte.
    let padding = MAX_HEADER_BYTES + 1 - header.len() - 4;
    header.extend_from_slice(&[0xa2, 0x06]);
    header.extend_from_slice(&[(padding & 0x7f) as u8 | 0x80, (padding >> 7) as u8]);
    header.extend(std::iter::repeat_n(b'x', padding));
    assert_eq!(header.len(), MAX_HEADER_BYTES + 1);
    assert_eq!(rule(&envelope(&key(), &header, record.body_bytes())), "header-size");

    let mut big = practice("Too long");
    big.approach = "x".repeat(MAX_BODY_BYTES);
    assert_eq!(sign(&key(), draft(Body::Practice(big))).unwrap_err().rule(), "body-size");
    assert_eq!(rule(&vec![0; MAX_ENVELOPE_BYTES + 1]), "envelope-size");
    assert_eq!(rule(b"\xff\xff\xff"), "envelope-decode");
}

#[test]
fn unknown_header_fields_are_kept_and_covered_by_the_id() {
    let record = signed();
    let mut header = record.header_bytes().to_vec();
    header.extend_from_slice(&[0xa0, 0x06, 0x2a]); // field 100, varint 42
    let bytes = envelope(&key(), &header, record.body_bytes());
    let extended = verify(&bytes, NOW).unwrap();
    assert_eq!(extended.header_bytes(), header.as_slice());
    assert_ne!(extended.id(), record.id());
    assert_eq!(verify(&extended.envelope_bytes(), NOW).unwrap(), extended);
}

#[test]
fn body_fields_are_checked_with_the_allowed_values() {
    let mut note = practice("Themes");
    note.themes = vec!["tourism".into()];
    let error = sign(&key(), draft(Body::Practice(note))).unwrap_err();
    assert_eq!(error.rule(), "body-field");
    assert!(error.to_string().contains("themes[0]") && error.to_string().contains("solid-waste"), "{error}");
    let mut note = practice("SDG");
    note.sdg_targets = vec!["11.9".into()];
    let error = sign(&key(), draft(Body::Practice(note))).unwrap_err();
    assert!(error.to_string().contains("sdg_targets[0]"), "{error}");
    let mut note = practice("");
    note.summary = "word ".repeat(251);
    assert!(sign(&key(), draft(Body::Practice(note))).unwrap_err().to_string().contains("title"));
    let stone = sign(&key(), draft(Body::Tombstone(Tombstone { reason: String::new() }))).unwrap_err();
    assert!(stone.to_string().contains("reason"), "{stone}");
}

#[test]
fn ids_and_keys_read_back_from_text() {
    let record = signed();
    assert_eq!(record.id().to_string().parse::<RecordId>().unwrap(), record.id());
    assert_eq!(record.id().to_string().to_uppercase().parse::<RecordId>().unwrap(), record.id());
    assert!("xyz".parse::<RecordId>().is_err());
    assert!("g".repeat(64).parse::<PublisherId>().is_err());
}

fn version(revision: u64, id: u8) -> Version {
    Version { revision, id: RecordId([id; 32]) }
}

#[test]
fn the_head_is_the_highest_revision_then_the_smallest_id() {
    assert!(version(2, 9) > version(1, 0));
    assert!(version(1, 1) > version(1, 2));
    assert_eq!([version(3, 5), version(3, 4), version(1, 0)].into_iter().max(), Some(version(3, 4)));
}

proptest! {
    /// Whatever order revisions arrive in, replacing the head only by a greater version ends on
    /// the same head.
    #[test]
    fn the_head_does_not_depend_on_arrival_order(
        versions in prop::collection::vec((1u64..5, 0u8..6), 1..20),
        seed in any::<u64>(),
    ) {
        let versions: Vec<Version> = versions.into_iter().map(|(revision, id)| version(revision, id)).collect();
        let expected = *versions.iter().max_by(|a, b| {
            a.revision.cmp(&b.revision).then(b.id.0.cmp(&a.id.0))
        }).unwrap();
        let mut shuffled = versions.clone();
        let mut state = seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        let head = shuffled.iter().fold(None::<Version>, |head, &arrived| match head {
            Some(current) if current >= arrived => Some(current),
            _ => Some(arrived),
        });
        prop_assert_eq!(head, Some(expected));
    }
}

#[test]
fn the_claimed_id_is_the_header_hash_without_any_check() {
    let record = signed();
    assert_eq!(claimed(&record.envelope_bytes()).map(|(id, _)| id), Some(record.id()));
    let forged = envelope(&PublisherKey::from_seed([9; 32]), record.header_bytes(), b"not the body");
    assert_eq!(claimed(&forged).map(|(id, _)| id), Some(record.id()), "the claim is only a claim");
    assert_eq!(claimed(b"\xff\xff"), None);
}

fn partnership(partner: [u8; 32], slug: &str) -> Vec<u8> {
    let body = wire::encode(&Partnership { partner: partner.to_vec() });
    let header = Header {
        format: 2,
        publisher: key().publisher().0.to_vec(),
        kind: "partnership".to_owned(),
        slug: slug.to_owned(),
        revision: 1,
        timestamp_ms: NOW,
        body_sha256: Sha256::digest(&body).to_vec(),
        body_len: body.len() as u64,
        ..Header::default()
    };
    envelope(&key(), &wire::encode(&header), &body)
}

#[test]
fn a_partnership_names_another_publisher_by_its_slug_in_format_2() {
    let partner = PublisherKey::from_seed([5; 32]).publisher().0;
    let draft = Draft {
        kind: Kind::Partnership,
        slug: to_hex(&partner),
        revision: 1,
        timestamp_ms: NOW,
        body: Body::Partnership(Partnership { partner: partner.to_vec() }),
    };
    let record = sign(&key(), draft).unwrap();
    assert_eq!(header_of(&record).format, 2);
    assert_eq!(rule(&record.envelope_bytes()), "valid");
    assert_eq!(rule(&partnership(partner, &to_hex(&partner))), "valid");
    // Naming itself, or a slug that is not the partner's key, breaks a body rule.
    let own = key().publisher().0;
    let error = verify(&partnership(own, &to_hex(&own)), NOW).unwrap_err();
    assert!(error.to_string().contains("names the publisher itself"), "{error}");
    assert_eq!(rule(&partnership(partner, "someone-else")), "body-field");
    // Kinds belong to their format: a partnership in format 1 is reserved there, a practice
    // note in format 2 should have been signed in format 1.
    let format_1 = resigned(|header| {
        header.kind = "partnership".into();
        header.slug = to_hex(&partner);
    });
    assert_eq!(rule(&format_1), "kind");
    assert_eq!(rule(&resigned(|header| header.format = 2)), "format");
    assert_eq!(rule(&resigned(|header| header.format = 3)), "format");
}
