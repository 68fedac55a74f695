//! The store applies the identity logs: operators' records stored only when the log allows
//! them, logs rebuilt at open, and compromised keys' later records purged.

use super::super::{Inserted, Store, StoreOptions};
use crate::identity::{IdentityError, MAX_OPERATOR_MS, founding};
use crate::record::{Body, Draft, IDENTITY_SLUG, Kind, PublisherKey, Record, sign, sign_for};
use crate::wire::{Identity, Operator, Revocation};

const T0: i64 = 1_767_225_600_000;
const HOUR: i64 = 60 * 60 * 1000;

fn city() -> PublisherKey {
    PublisherKey::from_seed([21; 32])
}

fn laptop() -> PublisherKey {
    PublisherKey::from_seed([22; 32])
}

fn operator(key: &PublisherKey, timestamp_ms: i64) -> Operator {
    Operator {
        key: key.publisher().0.to_vec(),
        scopes: vec!["practice".to_owned()],
        expires_ms: timestamp_ms + MAX_OPERATOR_MS,
        label: "officer's laptop".to_owned(),
    }
}

fn revision(number: u64, timestamp_ms: i64, body: Identity) -> Record {
    let draft = Draft {
        kind: Kind::Identity,
        slug: IDENTITY_SLUG.to_owned(),
        revision: number,
        timestamp_ms,
        body: Body::Identity(body),
    };
    sign(&city(), draft).unwrap()
}

/// Revision 1: the city's own key governs and operates, and the laptop signs notes.
fn first() -> Record {
    let mut body = founding(city().publisher(), T0, "city hall node");
    body.operators.push(operator(&laptop(), T0));
    revision(1, T0, body)
}

/// Revision 2: the laptop is compromised from `since_ms` on.
fn compromise(since_ms: i64) -> Record {
    let mut body = first().identity().unwrap();
    let laptop = body.operators.pop().unwrap();
    body.previous = first().id().0.to_vec();
    body.revoked.push(Revocation { operator: Some(laptop), reason: "compromised".to_owned(), since_ms });
    revision(2, T0 + 10 * HOUR, body)
}

fn note(key: &PublisherKey, slug: &str, revision: u64, timestamp_ms: i64) -> Record {
    let body = Body::Practice(crate::record::tests::practice(&format!("{slug} {revision}")));
    let draft = Draft { kind: Kind::Practice, slug: slug.to_owned(), revision, timestamp_ms, body };
    sign_for(city().publisher(), key, draft).unwrap()
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &StoreOptions::default()).unwrap().0
}

fn refused(inserted: Inserted) -> IdentityError {
    match inserted {
        Inserted::Refused(error) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_operators_record_waits_for_the_identity_and_a_strangers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let by_laptop = note(&laptop(), "composting", 1, T0 + HOUR);
    let missing = refused(store.insert(&by_laptop).unwrap());
    assert_eq!(missing.rule(), "identity-missing");
    assert!(!missing.is_senders_fault());
    assert!(!store.contains(&by_laptop.id()).unwrap());
    assert_eq!(store.insert(&first()).unwrap(), Inserted::New { head: true });
    assert_eq!(store.insert(&by_laptop).unwrap(), Inserted::New { head: true });
    let stranger = PublisherKey::from_seed([23; 32]);
    let error = refused(store.insert(&note(&stranger, "bus-lanes", 1, T0 + HOUR)).unwrap());
    assert_eq!(error.rule(), "operator");
    assert!(error.is_senders_fault());
    // A revision without its predecessor waits too.
    let dir = tempfile::tempdir().unwrap();
    let empty = open(dir.path());
    assert_eq!(refused(empty.insert(&compromise(T0)).unwrap()).rule(), "identity-unknown");
    assert_eq!(empty.len(), 0);
}

#[test]
fn a_batch_is_judged_in_order_and_the_logs_are_rebuilt_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let by_laptop = note(&laptop(), "composting", 1, T0 + HOUR);
    {
        let store = open(dir.path());
        let outcomes = store.insert_batch(&[first(), by_laptop.clone()]).unwrap();
        assert_eq!(outcomes, vec![Inserted::New { head: true }, Inserted::New { head: true }]);
    }
    let store = open(dir.path());
    assert_eq!(store.identity(&city().publisher()).unwrap().head().id, first().id());
    let again = note(&laptop(), "composting", 2, T0 + 2 * HOUR);
    assert_eq!(store.insert(&again).unwrap(), Inserted::New { head: true });
}

#[test]
fn a_compromised_key_loses_what_it_signed_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let before = note(&laptop(), "composting", 1, T0 + HOUR);
    let after = note(&laptop(), "composting", 2, T0 + 5 * HOUR);
    let only_after = note(&laptop(), "bus-lanes", 1, T0 + 6 * HOUR);
    // Signed by the city's own key, which revision 1 makes an operator: not touched.
    let own = note(&city(), "markets", 1, T0 + 7 * HOUR);
    store.insert_batch(&[first(), before.clone(), after.clone(), only_after.clone(), own.clone()]).unwrap();
    let bytes = store.publisher_bytes(&city().publisher().0).unwrap();
    assert_eq!(store.len(), 5);
    // Identity 1, practice 3 (composting, bus-lanes, markets): counted now, then kept.
    assert_eq!(store.head_counts().unwrap().get("practice"), Some(&3));
    assert_eq!(store.insert(&compromise(T0 + 3 * HOUR)).unwrap(), Inserted::New { head: true });
    assert_eq!(store.head_counts().unwrap().get("practice"), Some(&2), "bus-lanes has no head left");
    assert_eq!(store.head_counts().unwrap().get("identity"), Some(&1), "a new revision of a key held");
    // The later revision and the later note are gone; the earlier one is the head again.
    assert!(!store.contains(&after.id()).unwrap());
    assert!(!store.contains(&only_after.id()).unwrap());
    assert_eq!(store.head(&before.key()).unwrap().unwrap().id(), before.id());
    assert_eq!(store.head(&only_after.key()).unwrap(), None);
    assert!(store.contains(&own.id()).unwrap());
    assert_eq!(store.len(), 4);
    let freed = (after.envelope_bytes().len() + only_after.envelope_bytes().len()) as u64;
    let revision_bytes = compromise(T0 + 3 * HOUR).envelope_bytes().len() as u64;
    assert_eq!(store.publisher_bytes(&city().publisher().0).unwrap(), bytes - freed + revision_bytes);
    // Offered again, it is refused; so is anything new from the key.
    assert_eq!(refused(store.insert(&after).unwrap()).rule(), "operator-revoked");
    assert_eq!(refused(store.insert(&note(&laptop(), "parks", 1, T0 + 11 * HOUR)).unwrap()).rule(), "operator-revoked");
    // The indexes still agree with the records after a reopen that checks them.
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.len(), 4);
    assert_eq!(store.head(&before.key()).unwrap().unwrap().id(), before.id());
}

#[test]
fn a_batch_holds_together_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let by_laptop = note(&laptop(), "composting", 1, T0 + HOUR);
    let late = note(&laptop(), "bus-lanes", 1, T0 + 5 * HOUR);
    let outcomes = store.insert_batch(&[by_laptop.clone(), compromise(T0 + 3 * HOUR), late, first()]).unwrap();
    assert_eq!(outcomes[0], Inserted::New { head: true });
    assert_eq!(outcomes[1], Inserted::New { head: true });
    assert_eq!(refused(outcomes[2].clone()).rule(), "operator-revoked");
    // Revision 1 is stored after revision 2 in the batch, so it is not the identity's head.
    assert_eq!(outcomes[3], Inserted::New { head: false });
    assert_eq!(store.len(), 3);
}

#[test]
fn a_recovery_is_held_until_its_window_passes_even_across_a_restart() {
    use crate::identity::recovery_commitment;
    let dir = tempfile::tempdir().unwrap();
    let recovery_key = PublisherKey::from_seed([24; 32]);
    let mut body = first().identity().unwrap();
    body.recovery_commitment = recovery_commitment(&recovery_key.publisher());
    let committed = revision(1, T0, body.clone());
    body.previous = committed.id().0.to_vec();
    body.governance = vec![city().publisher().0.to_vec(), laptop().publisher().0.to_vec()];
    let draft = Draft {
        kind: Kind::Identity,
        slug: IDENTITY_SLUG.to_owned(),
        revision: 2,
        timestamp_ms: T0 + HOUR,
        body: Body::Identity(body),
    };
    let recovered = sign_for(city().publisher(), &recovery_key, draft).unwrap();
    let applies = {
        let store = open(dir.path());
        store.insert_batch(&[committed.clone(), recovered.clone()]).unwrap();
        let chain = store.identity(&city().publisher()).unwrap();
        assert_eq!(chain.head().id, committed.id(), "the recovery waits");
        chain.pending().unwrap().applies_ms()
    };
    let store = open(dir.path());
    let chain = store.identity(&city().publisher()).unwrap();
    assert_eq!(chain.pending().unwrap().applies_ms(), applies, "the window runs from first receipt, across restarts");
    assert!(store.settle_recoveries(applies - 1).unwrap().is_empty());
    assert_eq!(store.settle_recoveries(applies).unwrap(), vec![city().publisher()]);
    assert_eq!(store.identity(&city().publisher()).unwrap().head().id, recovered.id());
}
