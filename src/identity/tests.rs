//! The identity log's rules, one test per rule or attack, on hand-made revisions (signatures
//! are checked before this module; here `signers` says whose verified).

use super::*;

const DAY: i64 = 24 * 60 * 60 * 1000;
const T0: i64 = 1_780_000_000_000;

fn key(n: u8) -> PublisherId {
    PublisherId([n; 32])
}

fn operator(n: u8, scopes: &[Kind], expires_ms: i64) -> Operator {
    Operator {
        key: key(n).0.to_vec(),
        scopes: scopes.iter().map(|kind| kind.as_str().to_owned()).collect(),
        expires_ms,
        label: format!("operator {n}"),
    }
}

/// Three officials (keys 1, 2, 3; two must sign) and one node operator (key 10) for notes.
fn first() -> Revision {
    Revision {
        id: RecordId([0xa1; 32]),
        organisation: key(1),
        revision: 1,
        timestamp_ms: T0,
        signers: vec![key(1), key(2)],
        body: Identity {
            previous: Vec::new(),
            governance: vec![key(1).0.to_vec(), key(2).0.to_vec(), key(3).0.to_vec()],
            threshold: 2,
            operators: vec![operator(10, &[Kind::Practice, Kind::Profile], T0 + 300 * DAY)],
            recovery_commitment: vec![7; 32],
            revoked: Vec::new(),
            domain: String::new(),
        },
    }
}

/// The revision after `before`, at `timestamp_ms`, signed by `signers`, changed by `change`.
fn next(before: &Revision, tag: u8, timestamp_ms: i64, signers: &[u8], change: impl FnOnce(&mut Identity)) -> Revision {
    let mut body = before.body.clone();
    body.previous = before.id.0.to_vec();
    change(&mut body);
    Revision {
        id: RecordId([tag; 32]),
        organisation: before.organisation,
        revision: before.revision + 1,
        timestamp_ms,
        signers: signers.iter().map(|n| key(*n)).collect(),
        body,
    }
}

fn revoke(body: &mut Identity, n: u8, reason: &str, since_ms: i64) {
    let index = body.operators.iter().position(|operator| operator.key == key(n).0).expect("an operator");
    let operator = body.operators.remove(index);
    body.revoked.push(Revocation { operator: Some(operator), reason: reason.to_owned(), since_ms });
}

#[test]
fn a_first_revision_with_its_own_threshold_starts_the_chain_and_its_operator_signs_in_scope() {
    let chain = Chain::start(first()).unwrap();
    assert_eq!(chain.head().revision, 1);
    assert_eq!(chain.authorise(&key(10), Kind::Practice, T0 + DAY), Ok(()));
}

#[test]
fn a_revision_without_the_threshold_is_refused_and_changes_nothing() {
    let mut one_signature = first();
    one_signature.signers = vec![key(1)];
    assert_eq!(Chain::start(one_signature).unwrap_err(), IdentityError::Threshold { signed: 1, needed: 2 });

    let mut chain = Chain::start(first()).unwrap();
    let add = next(chain.head(), 0xb2, T0 + DAY, &[3, 99], |body| {
        body.operators.push(operator(11, &[Kind::Request], T0 + 100 * DAY));
    });
    assert_eq!(chain.apply(add.clone()).unwrap_err(), IdentityError::Threshold { signed: 1, needed: 2 });
    assert_eq!(chain.head().revision, 1);
    assert!(matches!(chain.authorise(&key(11), Kind::Request, T0 + 2 * DAY), Err(IdentityError::NotOperator { .. })));
    assert!(IdentityError::Threshold { signed: 1, needed: 2 }.is_senders_fault());
}

#[test]
fn the_threshold_is_the_previous_revisions_so_a_new_governance_cannot_sign_itself_in() {
    let mut chain = Chain::start(first()).unwrap();
    // Keys 4, 5 and 6 replace the officials, signing for themselves: refused.
    let takeover = next(chain.head(), 0xb2, T0 + DAY, &[4, 5, 6], |body| {
        body.governance = vec![key(4).0.to_vec(), key(5).0.to_vec(), key(6).0.to_vec()];
    });
    assert_eq!(chain.apply(takeover).unwrap_err(), IdentityError::Threshold { signed: 0, needed: 2 });
    // Two of the officials rotate to them: accepted, and from then on the new keys decide.
    let rotate = next(chain.head(), 0xb3, T0 + DAY, &[2, 3], |body| {
        body.governance = vec![key(4).0.to_vec(), key(5).0.to_vec(), key(6).0.to_vec()];
    });
    assert_eq!(chain.apply(rotate), Ok(Applied::Head));
    let by_old = next(chain.head(), 0xb4, T0 + 2 * DAY, &[1, 2], |body| body.threshold = 1);
    assert_eq!(chain.apply(by_old).unwrap_err(), IdentityError::Threshold { signed: 0, needed: 2 });
}

#[test]
fn a_first_revision_must_name_the_organisation_first() {
    let mut other = first();
    other.organisation = key(2);
    assert_eq!(Chain::start(other).unwrap_err(), IdentityError::Founder);
}

#[test]
fn a_replayed_old_revision_is_known_or_stale_and_never_rolls_the_head_back() {
    let mut chain = Chain::start(first()).unwrap();
    let second = next(chain.head(), 0xb2, T0 + DAY, &[1, 2], |body| body.threshold = 3);
    chain.apply(second.clone()).unwrap();
    let third = next(&second, 0xb3, T0 + 2 * DAY, &[1, 2, 3], |body| body.threshold = 2);
    chain.apply(third).unwrap();
    assert_eq!(chain.apply(first()), Ok(Applied::Known));
    assert_eq!(chain.apply(second.clone()), Ok(Applied::Known));
    // An old revision never seen (another second revision) is not part of the history.
    let other_second = next(&chain.revisions()[0], 0xc2, T0 + DAY, &[1, 2], |body| body.threshold = 1);
    let refused = chain.apply(other_second).unwrap_err();
    assert_eq!(refused, IdentityError::Stale { revision: 2, head: 3 });
    assert!(!refused.is_senders_fault());
    assert_eq!(chain.head().revision, 3);
}

#[test]
fn a_revision_that_skips_ahead_waits_for_the_ones_before_it() {
    let mut chain = Chain::start(first()).unwrap();
    let second = next(chain.head(), 0xb2, T0 + DAY, &[1, 2], |_| {});
    let third = next(&second, 0xb3, T0 + 2 * DAY, &[1, 2], |_| {});
    let waiting = chain.apply(third.clone()).unwrap_err();
    assert_eq!(waiting, IdentityError::Unknown { revision: 3, head: 1 });
    assert!(!waiting.is_senders_fault());
    chain.apply(second).unwrap();
    assert_eq!(chain.apply(third), Ok(Applied::Head));
}

#[test]
fn two_revisions_with_the_same_predecessor_freeze_the_identity_until_one_is_settled() {
    let mut chain = Chain::start(first()).unwrap();
    let ours = next(chain.head(), 0xb2, T0 + DAY, &[1, 2], |body| {
        body.operators.push(operator(11, &[Kind::Request], T0 + 100 * DAY));
    });
    let theirs = next(chain.head(), 0xc2, T0 + DAY, &[2, 3], |body| {
        body.operators.push(operator(66, &[Kind::Practice], T0 + 100 * DAY));
    });
    assert_eq!(chain.apply(ours), Ok(Applied::Head));
    assert_eq!(chain.apply(theirs.clone()), Ok(Applied::Fork));
    assert_eq!(chain.fork().map(|fork| fork.id), Some(theirs.id));
    let frozen = chain.authorise(&key(10), Kind::Practice, T0 + 2 * DAY).unwrap_err();
    assert_eq!(frozen, IdentityError::Frozen { revision: 2 });
    // Held records are not purged while frozen.
    assert_eq!(
        Book::with(chain.clone()).refused(&key(1), [(RecordId([1; 32]), key(10), Kind::Practice, T0)]).count(),
        0
    );

    // The officials settle on "theirs" side (revoking its operator): the fork is gone.
    let settle = next(&theirs, 0xd3, T0 + 2 * DAY, &[1, 3], |body| revoke(body, 66, COMPROMISED, T0));
    assert_eq!(chain.apply(settle), Ok(Applied::Settled));
    assert!(chain.fork().is_none());
    assert_eq!(chain.revisions()[1].id, theirs.id);
    assert_eq!(chain.authorise(&key(10), Kind::Practice, T0 + 3 * DAY), Ok(()));
    assert!(matches!(chain.authorise(&key(66), Kind::Practice, T0 + 3 * DAY), Err(IdentityError::Revoked { .. })));
    assert!(matches!(chain.authorise(&key(11), Kind::Request, T0 + 3 * DAY), Err(IdentityError::NotOperator { .. })));
}

#[test]
fn a_fork_without_the_threshold_is_refused_and_freezes_nothing() {
    let mut chain = Chain::start(first()).unwrap();
    chain.apply(next(chain.head(), 0xb2, T0 + DAY, &[1, 2], |_| {})).unwrap();
    let thief = next(&chain.revisions()[0], 0xc2, T0 + DAY, &[3], |body| body.threshold = 1);
    assert_eq!(chain.apply(thief).unwrap_err(), IdentityError::Threshold { signed: 1, needed: 2 });
    assert!(chain.fork().is_none());
}

#[test]
fn an_operator_outside_its_scopes_or_past_its_expiry_is_refused() {
    let chain = Chain::start(first()).unwrap();
    let scope = chain.authorise(&key(10), Kind::Request, T0 + DAY).unwrap_err();
    assert!(matches!(&scope, IdentityError::OutOfScope { kind: "request", .. }), "{scope}");
    assert!(scope.to_string().contains("may sign practice, profile"), "{scope}");
    let expired = chain.authorise(&key(10), Kind::Practice, T0 + 301 * DAY).unwrap_err();
    assert_eq!(expired, IdentityError::Expired { key: key(10).to_string(), expires_ms: T0 + 300 * DAY });
    assert!(expired.is_senders_fault());
}

#[test]
fn renewal_extends_an_operator_from_the_renewal_on_and_keeps_its_earlier_scope_for_earlier_records() {
    let mut chain = Chain::start(first()).unwrap();
    let renew = next(chain.head(), 0xb2, T0 + 290 * DAY, &[1, 2], |body| {
        body.operators[0] = operator(10, &[Kind::Practice], T0 + 600 * DAY);
    });
    chain.apply(renew).unwrap();
    assert_eq!(chain.authorise(&key(10), Kind::Practice, T0 + 500 * DAY), Ok(()));
    // A profile signed before the renewal narrowed the scopes stays the organisation's.
    assert_eq!(chain.authorise(&key(10), Kind::Profile, T0 + 10 * DAY), Ok(()));
    assert!(chain.authorise(&key(10), Kind::Profile, T0 + 295 * DAY).is_err());
}

#[test]
fn a_compromised_key_is_refused_from_its_time_on_and_its_later_records_are_purged() {
    let mut chain = Chain::start(first()).unwrap();
    let since = T0 + 20 * DAY;
    chain.apply(next(chain.head(), 0xb2, T0 + 30 * DAY, &[2, 3], |body| revoke(body, 10, COMPROMISED, since))).unwrap();
    assert_eq!(chain.authorise(&key(10), Kind::Practice, since - 1), Ok(()));
    let refused = chain.authorise(&key(10), Kind::Practice, since).unwrap_err();
    assert!(matches!(&refused, IdentityError::Revoked { reason, .. } if reason == COMPROMISED), "{refused}");
    let book = Book::with(chain);
    let held = [
        (RecordId([1; 32]), key(10), Kind::Practice, since - DAY),
        (RecordId([2; 32]), key(10), Kind::Practice, since + DAY),
        (RecordId([3; 32]), key(10), Kind::Practice, T0 + 25 * DAY),
    ];
    assert_eq!(book.refused(&key(1), held).collect::<Vec<_>>(), vec![RecordId([2; 32]), RecordId([3; 32])]);
}

#[test]
fn an_operator_is_removed_only_by_revoking_it_and_a_revocation_is_kept_for_ever() {
    let mut chain = Chain::start(first()).unwrap();
    let silent = next(chain.head(), 0xb2, T0 + DAY, &[1, 2], |body| body.operators.clear());
    assert!(matches!(chain.apply(silent).unwrap_err(), IdentityError::RemovedSilently { .. }));
    chain.apply(next(chain.head(), 0xb3, T0 + DAY, &[1, 2], |body| revoke(body, 10, RETIRED, T0 + DAY))).unwrap();
    assert_eq!(chain.authorise(&key(10), Kind::Practice, T0 + DAY - 1), Ok(()));
    let dropped = next(chain.head(), 0xb4, T0 + 2 * DAY, &[1, 2], |body| body.revoked.clear());
    assert!(matches!(chain.apply(dropped).unwrap_err(), IdentityError::RevocationDropped { revision: 3, .. }));
}

#[test]
fn bad_fields_are_named_with_what_is_allowed() {
    type Change = fn(&mut Identity);
    let cases: Vec<(Change, &str)> = vec![
        (|body| body.threshold = 4, "threshold"),
        (|body| body.threshold = 0, "threshold"),
        (|body| body.governance.push(key(1).0.to_vec()), "governance[3]"),
        (|body| body.governance[1] = vec![1; 31], "governance[1]"),
        (|body| body.operators[0].scopes.push("gossip".into()), "operators[0].scopes[2]"),
        (|body| body.operators[0].scopes.clear(), "operators[0].scopes"),
        (|body| body.operators[0].expires_ms = T0 + 400 * DAY, "operators[0].expires_ms"),
        (|body| body.operators[0].label = "x".repeat(101), "operators[0].label"),
        (|body| body.recovery_commitment = vec![1; 5], "recovery_commitment"),
        (|body| revoke(body, 10, "lost", T0), "revoked[0].reason"),
        (|body| body.previous = vec![1; 32], "previous"),
    ];
    for (change, path) in cases {
        let mut revision = first();
        change(&mut revision.body);
        match Chain::start(revision) {
            Err(IdentityError::Field { field, problem }) => assert_eq!(field, path, "{problem}"),
            other => panic!("{path}: expected a field error, got {other:?}"),
        }
    }
}

#[test]
fn a_publisher_without_a_log_signs_only_with_its_own_key() {
    let book = Book::default();
    assert_eq!(book.authorise(&key(5), &key(5), Kind::Practice, T0), Ok(()));
    let other = book.authorise(&key(5), &key(6), Kind::Practice, T0).unwrap_err();
    assert!(matches!(other, IdentityError::NoIdentity { .. }) && !other.is_senders_fault());
}

#[test]
fn a_migrated_key_is_its_own_governance_and_operator_for_every_kind() {
    let mut revision = first();
    revision.organisation = key(5);
    revision.signers = vec![key(5)];
    revision.body = founding(key(5), T0, "Surabaya node");
    let mut book = Book::default();
    assert_eq!(book.apply(revision), Ok(Applied::Head));
    for kind in scopable() {
        assert_eq!(book.authorise(&key(5), &key(5), kind, T0 - 400 * DAY), Ok(()), "{kind}");
    }
    // Identity revisions are signed by governance keys, never by an operator.
    assert!(book.authorise(&key(5), &key(5), Kind::Identity, T0).is_err());
    assert!(book.authorise(&key(5), &key(5), Kind::Practice, T0 + MAX_OPERATOR_MS + 1).is_err());
}

impl Book {
    fn with(chain: Chain) -> Book {
        let mut book = Book::default();
        book.chains.insert(chain.head().organisation, chain);
        book
    }
}

/// First revision committed to the recovery key 9.
fn recoverable() -> Revision {
    let mut revision = first();
    revision.body.recovery_commitment = recovery_commitment(&key(9));
    revision
}

/// The recovery key 9 replaces the lost governance keys with keys 4, 5, 6.
fn recovery(before: &Revision, tag: u8, timestamp_ms: i64) -> Revision {
    next(before, tag, timestamp_ms, &[9], |body| {
        body.governance = vec![key(4).0.to_vec(), key(5).0.to_vec(), key(6).0.to_vec()];
    })
}

#[test]
fn a_recovery_waits_out_its_window_then_replaces_the_governance_keys() {
    let mut chain = Chain::start(recoverable()).unwrap();
    let recovered = recovery(chain.head(), 0xe1, T0 + DAY);
    let received = T0 + 2 * DAY;
    assert_eq!(chain.apply_received(recovered.clone(), received), Ok(Applied::Pending));
    assert_eq!(chain.head().revision, 1, "nothing changes during the window");
    assert_eq!(chain.pending().unwrap().applies_ms(), received + RECOVERY_WINDOW_MS);
    assert_eq!(chain.apply_received(recovered.clone(), received + DAY), Ok(Applied::Known));
    // A second recovery is not taken while the first waits.
    let other = recovery(chain.head(), 0xe2, T0 + DAY);
    assert_eq!(chain.apply_received(other, received), Err(IdentityError::RecoveryPending));
    assert!(!chain.settle(received + RECOVERY_WINDOW_MS - 1));
    assert!(chain.settle(received + RECOVERY_WINDOW_MS));
    assert_eq!(chain.head().id, recovered.id);
    assert!(chain.pending().is_none());
    // The new keys govern from now on; the old ones no longer do.
    let by_new = next(chain.head(), 0xe3, T0 + 20 * DAY, &[4, 5], |_| {});
    assert_eq!(chain.apply(by_new), Ok(Applied::Head));
}

#[test]
fn the_old_threshold_cancels_a_recovery_inside_its_window() {
    let mut chain = Chain::start(recoverable()).unwrap();
    let stolen = recovery(chain.head(), 0xe1, T0 + DAY);
    assert_eq!(chain.apply_received(stolen, T0 + DAY), Ok(Applied::Pending));
    let answer = next(chain.head(), 0xe4, T0 + 2 * DAY, &[1, 3], |body| body.recovery_commitment = vec![8; 32]);
    assert_eq!(chain.apply(answer.clone()), Ok(Applied::Head));
    assert!(chain.pending().is_none(), "the officials' revision cancelled the recovery");
    assert!(!chain.settle(T0 + 30 * DAY));
    assert_eq!(chain.head().id, answer.id);
    // A key that is not the committed one is no recovery: it is a revision without the threshold.
    let mut chain = Chain::start(recoverable()).unwrap();
    let forged = next(chain.head(), 0xe5, T0 + DAY, &[8], |_| {});
    assert_eq!(chain.apply(forged).unwrap_err(), IdentityError::Threshold { signed: 0, needed: 2 });
    // A recovery must still follow every other rule (here: it drops an operator silently).
    let careless = next(chain.head(), 0xe6, T0 + DAY, &[9], |body| body.operators.clear());
    assert!(matches!(chain.apply(careless).unwrap_err(), IdentityError::RemovedSilently { .. }));
}
