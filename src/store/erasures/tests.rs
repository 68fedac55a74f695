//! Erasures drop what they may (the publisher's own superseded revisions) and nothing else,
//! refuse the bodies offered again, and finish after a crash.

use super::super::{Inserted, Store, StoreOptions};
use crate::identity::IdentityError;
use crate::record::{Body, Draft, Kind, PublisherKey, Record, RecordId, sign};
use crate::wire::Erasure;

const T0: i64 = 1_767_225_600_000;

fn note(key: &PublisherKey, slug: &str, revision: u64) -> Record {
    let body = Body::Practice(crate::record::tests::practice(&format!("{slug} {revision}")));
    let draft = Draft { kind: Kind::Practice, slug: slug.into(), revision, timestamp_ms: T0 + revision as i64, body };
    sign(key, draft).unwrap()
}

fn erasure(key: &PublisherKey, ids: &[RecordId]) -> Record {
    let body = Erasure { ids: ids.iter().map(|id| id.0.to_vec()).collect(), reason: "personal data".into() };
    let draft = Draft {
        kind: Kind::Erasure,
        slug: "erasure-1".into(),
        revision: 1,
        timestamp_ms: T0 + 10,
        body: Body::Erasure(body),
    };
    sign(key, draft).unwrap()
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir, &StoreOptions::default()).unwrap().0
}

#[test]
fn only_the_publishers_own_superseded_revisions_are_erased_and_their_bodies_stay_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (city, other) = (PublisherKey::from_seed([1; 32]), PublisherKey::from_seed([2; 32]));
    let (old, head, others) =
        (note(&city, "composting", 1), note(&city, "composting", 2), note(&other, "bus-lanes", 1));
    let (unheld, later_other) = (note(&city, "composting", 3), note(&other, "bus-lanes", 2));
    for record in [&old, &head, &others] {
        store.insert(record).unwrap();
    }
    let asked = [old.id(), head.id(), others.id(), unheld.id(), later_other.id()];
    assert_eq!(store.insert(&erasure(&city, &asked)).unwrap(), Inserted::New { head: true });

    // The superseded revision goes, its header kept; the head and another's record stay whole.
    assert!(store.get(&old.id()).unwrap().is_none());
    let kept = store.erased(&old.id()).unwrap().unwrap();
    assert_eq!(kept.header.map(|header| header.id()), Some(old.id()));
    assert!(store.get(&head.id()).unwrap().is_some() && store.get(&others.id()).unwrap().is_some());
    assert!(store.erased(&head.id()).unwrap().is_none() && store.erased(&others.id()).unwrap().is_none());
    assert_eq!(store.len(), 3, "the head, the other's note and the erasure");

    // The erased body and a listed one never held are refused; another's record is not,
    // whatever the erasure listed.
    for record in [&old, &unheld] {
        match store.insert(record).unwrap() {
            Inserted::Refused(IdentityError::Erased { .. }) => {}
            other => panic!("the erased body came back: {other:?}"),
        }
    }
    assert_eq!(store.insert(&later_other).unwrap(), Inserted::New { head: true });
    assert!(store.erased(&unheld.id()).unwrap().is_some_and(|kept| kept.header.is_none()));
}

#[test]
fn an_erasure_interrupted_before_the_removal_finishes_when_the_store_next_opens() {
    let dir = tempfile::tempdir().unwrap();
    let city = PublisherKey::from_seed([3; 32]);
    let (old, head) = (note(&city, "composting", 1), note(&city, "composting", 2));
    {
        let store = open(dir.path());
        store.insert(&old).unwrap();
        store.insert(&head).unwrap();
        // What `apply` writes first, as if the process died before removing the record.
        let entry = [&[0u8; 32][..], &old.publisher().0, &old.erased_envelope_bytes()].concat();
        store.erased.insert(old.id().0, entry).unwrap();
        store.flush().unwrap();
    }
    let store = open(dir.path());
    assert!(store.get(&old.id()).unwrap().is_none() && store.get(&head.id()).unwrap().is_some());
    assert_eq!(store.len(), 1);
}
