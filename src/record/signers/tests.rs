//! Format 4: records signed by an operator key, and identity revisions signed by several keys.

use super::super::tests::practice;
use super::*;
use crate::record::{Draft, sign, sign_for, signed_envelope};

const NOW: i64 = 1_767_225_600_000;

fn organisation() -> PublisherKey {
    PublisherKey::from_seed([7; 32])
}

fn operator() -> PublisherKey {
    PublisherKey::from_seed([8; 32])
}

fn note() -> Draft {
    Draft {
        kind: Kind::Practice,
        slug: "community-composting".to_owned(),
        revision: 1,
        timestamp_ms: NOW,
        body: Body::Practice(practice("Composting hubs")),
    }
}

/// A first identity revision: the organisation's key alone governs and operates.
fn founding(key: PublisherId, timestamp_ms: i64, label: &str) -> Identity {
    Identity {
        governance: vec![key.0.to_vec()],
        threshold: 1,
        operators: vec![wire::Operator {
            key: key.0.to_vec(),
            scopes: vec!["practice".to_owned()],
            expires_ms: timestamp_ms + 1000,
            label: label.to_owned(),
        }],
        ..Identity::default()
    }
}

fn revision() -> Record {
    let key = organisation();
    let body = Body::Identity(founding(key.publisher(), NOW, "city hall"));
    let draft = Draft { kind: Kind::Identity, slug: IDENTITY_SLUG.to_owned(), revision: 1, timestamp_ms: NOW, body };
    sign(&key, draft).unwrap()
}

fn header_of(record: &Record) -> Header {
    wire::decode(record.header_bytes()).unwrap()
}

fn rule(bytes: &[u8]) -> &'static str {
    verify(bytes, NOW).map(|_| "valid").unwrap_or_else(|error| error.rule())
}

/// An operator-signed note, its header changed by `change` and signed again by the operator.
fn by_operator(change: impl FnOnce(&mut Header)) -> Vec<u8> {
    let record = sign_for(organisation().publisher(), &operator(), note()).unwrap();
    let mut header = header_of(&record);
    change(&mut header);
    signed_envelope(&operator(), wire::encode(&header), record.body_bytes().to_vec())
}

/// An identity revision's envelope with its parts replaced.
fn identity_envelope_with(signature: Vec<u8>, signatures: Vec<KeySignature>) -> Vec<u8> {
    let record = revision();
    let envelope =
        Envelope { header: record.header_bytes().to_vec(), signature, body: record.body_bytes().to_vec(), signatures };
    wire::encode(&envelope)
}

#[test]
fn an_operator_signs_for_its_organisation_in_format_4() {
    let record = sign_for(organisation().publisher(), &operator(), note()).unwrap();
    assert_eq!(header_of(&record).format, SIGNER_FORMAT);
    assert_eq!(record.publisher(), organisation().publisher());
    assert_eq!(record.signer(), operator().publisher());
    assert_eq!(record.signers(), vec![operator().publisher()]);
    assert_eq!(verify(&record.envelope_bytes(), NOW).unwrap(), record);
    // Signed by the organisation's own key, a note keeps format 1 and names no signer.
    let own = sign(&organisation(), note()).unwrap();
    assert_eq!(header_of(&own).format, 1);
    assert!(header_of(&own).signer.is_empty());
    assert_eq!(own.signer(), organisation().publisher());
}

#[test]
fn the_signer_must_be_another_valid_key_and_must_have_signed() {
    assert_eq!(rule(&by_operator(|_| ())), "valid");
    assert_eq!(rule(&by_operator(|header| header.signer.clear())), "signer");
    assert_eq!(rule(&by_operator(|header| header.signer.truncate(31))), "signer");
    assert_eq!(rule(&by_operator(|header| header.signer = organisation().publisher().0.to_vec())), "signer");
    // The identity point has small order: not a key anyone holds.
    let mut identity_point = vec![0; 32];
    identity_point[0] = 1;
    assert_eq!(rule(&by_operator(|header| header.signer = identity_point)), "signer");
    // Naming someone else as the signer does not make the operator's signature theirs.
    let other = PublisherKey::from_seed([9; 32]).publisher().0.to_vec();
    assert_eq!(rule(&by_operator(|header| header.signer = other)), "signature");
    // Before format 4 the field is skipped: a format-1 note carrying it is still checked
    // against its publisher, as format-1 verifiers check it.
    let record = sign(&organisation(), note()).unwrap();
    let mut header = header_of(&record);
    header.signer = operator().publisher().0.to_vec();
    let bytes = signed_envelope(&organisation(), wire::encode(&header), record.body_bytes().to_vec());
    let skipped = verify(&bytes, NOW).unwrap();
    assert_eq!(skipped.signer(), organisation().publisher());
}

#[test]
fn format_4_is_for_identities_and_operators_only() {
    // A note signed by its own publisher in format 4 names no signer: rule signer.
    let record = sign(&organisation(), note()).unwrap();
    let mut header = header_of(&record);
    header.format = 4;
    let bytes = signed_envelope(&organisation(), wire::encode(&header), record.body_bytes().to_vec());
    assert_eq!(rule(&bytes), "signer");
    // An identity revision in format 3 is reserved there.
    let record = revision();
    let mut header = header_of(&record);
    header.format = 3;
    let bytes = identity_envelope(&[&organisation()], wire::encode(&header), record.body_bytes().to_vec());
    assert_eq!(rule(&bytes), "kind");
    // Its slug is fixed, it cannot be withdrawn, and it names no signer in the header.
    for (change, expected) in [
        (Box::new(|header: &mut Header| header.slug = "other".into()) as Box<dyn Fn(&mut Header)>, "slug"),
        (Box::new(|header: &mut Header| header.tombstone = true), "kind"),
        (Box::new(|header: &mut Header| header.signer = operator().publisher().0.to_vec()), "signer"),
    ] {
        let mut header = header_of(&record);
        change(&mut header);
        let bytes = identity_envelope(&[&organisation()], wire::encode(&header), record.body_bytes().to_vec());
        assert_eq!(rule(&bytes), expected);
    }
}

#[test]
fn an_identity_revision_gathers_signatures_without_changing_its_id() {
    let record = revision();
    assert_eq!(header_of(&record).format, SIGNER_FORMAT);
    assert_eq!(record.signers(), vec![organisation().publisher()]);
    let second = PublisherKey::from_seed([10; 32]);
    let cosigned = record.cosigned(&second).unwrap().cosigned(&operator()).unwrap();
    assert_eq!(cosigned.id(), record.id());
    assert_eq!(cosigned.signers(), vec![organisation().publisher(), second.publisher(), operator().publisher()]);
    assert_eq!(verify(&cosigned.envelope_bytes(), NOW).unwrap(), cosigned);
    // Signing again replaces the key's signature rather than adding a second one.
    assert_eq!(cosigned.cosigned(&second).unwrap().signers().len(), 3);
    assert_eq!(cosigned.identity().unwrap(), founding(organisation().publisher(), NOW, "city hall"));
    // Only identity revisions carry several signatures.
    let note = sign(&organisation(), note()).unwrap();
    assert_eq!(note.cosigned(&second).unwrap_err().rule(), "signatures");
}

#[test]
fn an_identity_revisions_signatures_are_each_checked() {
    let good = revision().signatures[0].clone();
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![good.clone()])), "valid");
    assert_eq!(rule(&identity_envelope_with(vec![0; 64], vec![good.clone()])), "signatures");
    assert_eq!(rule(&identity_envelope_with(Vec::new(), Vec::new())), "signatures");
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![good.clone(), good.clone()])), "signatures");
    let short_key = KeySignature { key: vec![1; 31], ..good.clone() };
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![short_key])), "signatures");
    let many = (0..=MAX_SIGNATURES as u8)
        .map(|seed| key_signature(&PublisherKey::from_seed([seed; 32]), revision().header_bytes()))
        .collect();
    assert_eq!(rule(&identity_envelope_with(Vec::new(), many)), "signatures");
    let mut flipped = key_signature(&operator(), revision().header_bytes());
    flipped.signature[5] ^= 1;
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![good.clone(), flipped])), "signature");
    let short_signature = KeySignature { signature: vec![0; 63], ..good.clone() };
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![short_signature])), "signature-length");
    // Someone else's key with the organisation's signature is not a signature of theirs.
    let swapped = KeySignature { key: operator().publisher().0.to_vec(), ..good };
    assert_eq!(rule(&identity_envelope_with(Vec::new(), vec![swapped])), "signature");
}

#[test]
fn other_records_drop_a_signatures_field_from_the_canonical_envelope() {
    let record = sign(&organisation(), note()).unwrap();
    let stray = key_signature(&operator(), record.header_bytes());
    let envelope = Envelope {
        header: record.header_bytes().to_vec(),
        signature: record.signature.clone(),
        body: record.body_bytes().to_vec(),
        signatures: vec![stray],
    };
    let again = verify(&wire::encode(&envelope), NOW).unwrap();
    assert_eq!(again.envelope_bytes(), record.envelope_bytes());
    assert_eq!(again.signers(), vec![organisation().publisher()]);
}
