//! An engagement is confirmed only when the other side's own current engagement names its
//! publisher for the same practice; one side alone is claimed.

use super::*;
use crate::record::{Draft, PublisherKey, sign};
use crate::wire::{Outcome, Stage, Tombstone};

const NOW: i64 = 1_767_225_600_000;

fn key(seed: u8) -> PublisherKey {
    PublisherKey::from_seed([seed; 32])
}

fn signed(seed: u8, slug: &str, revision: u64, body: Body) -> Record {
    let kind = match &body {
        Body::Tombstone(_) => Kind::Engagement,
        other => other.kind().expect("a kind"),
    };
    sign(&key(seed), Draft { kind, slug: slug.to_owned(), revision, timestamp_ms: NOW + revision as i64, body })
        .expect("a valid record")
}

fn engagement(counterpart: u8, role: &str, practice: &str, stages: &[&str]) -> Body {
    Body::Engagement(Engagement {
        counterpart: key(counterpart).publisher().0.to_vec(),
        role: role.into(),
        practice: Some(Ref { publisher: key(1).publisher().0.to_vec(), slug: practice.into() }),
        stages: stages.iter().map(|stage| Stage { stage: (*stage).into(), date: "2026-02".into() }).collect(),
        ..Engagement::default()
    })
}

fn confirmed(transfers: &Transfers) -> Vec<(String, bool)> {
    let mut sides: Vec<(String, bool)> =
        transfers.sides.iter().map(|side| (side.key.slug.clone(), side.confirmed)).collect();
    sides.sort();
    sides
}

#[test]
fn one_side_is_claimed_both_sides_confirm() {
    let city_2 = signed(2, "hubs-from-1", 1, engagement(1, "recipient", "hubs", &["exploring", "agreed"]));
    let alone = Transfers::of(std::slice::from_ref(&city_2));
    assert_eq!(confirmed(&alone), [("hubs-from-1".to_owned(), false)]);
    assert_eq!(
        alone.evidence().get(&Named { publisher: key(1).publisher(), slug: "hubs".into() }),
        Some(&Evidence::default())
    );

    let city_1 = signed(1, "hubs-to-2", 1, engagement(2, "provider", "hubs", &["exploring"]));
    let both = Transfers::of(&[city_2.clone(), city_1.clone()]);
    assert_eq!(confirmed(&both), [("hubs-from-1".to_owned(), true), ("hubs-to-2".to_owned(), true)]);
    let side = both.side(&city_2.key()).unwrap();
    assert_eq!(both.mirror(side).unwrap().key, city_1.key());
    assert_eq!(both.funnel(3), Funnel { open_requests: 3, engagements: 1, adopted: 0, outcomes: 0 });

    // The other side naming another practice, or a third city, confirms nothing.
    let other_practice = signed(1, "hubs-to-2", 1, engagement(2, "provider", "markets", &["exploring"]));
    assert_eq!(confirmed(&Transfers::of(&[city_2.clone(), other_practice])).first().map(|side| side.1), Some(false));
    let third = signed(3, "hubs-to-2", 1, engagement(2, "provider", "hubs", &["exploring"]));
    assert!(confirmed(&Transfers::of(&[city_2.clone(), third])).iter().all(|(_, confirmed)| !confirmed));

    // A withdrawn side is no side.
    let withdrawn = signed(1, "hubs-to-2", 2, Body::Tombstone(Tombstone { reason: "ended".into() }));
    assert_eq!(confirmed(&Transfers::of(&[city_2, withdrawn])), [("hubs-from-1".to_owned(), false)]);
}

#[test]
fn adoption_and_outcomes_are_evidence_of_the_practice() {
    let recipient = signed(2, "hubs-from-1", 1, engagement(1, "recipient", "hubs", &["exploring", "adopted"]));
    let provider = signed(1, "hubs-to-2", 1, engagement(2, "provider", "hubs", &["exploring", "adopted"]));
    let outcome =
        Body::Outcome(Outcome { engagement: "hubs-from-1".into(), title: "Less waste".into(), ..Outcome::default() });
    let outcome = signed(2, "less-waste", 1, outcome);
    // A claim alone (city 3, unconfirmed) is not evidence of adoption.
    let claim = signed(3, "hubs-from-1", 1, engagement(1, "recipient", "hubs", &["adopted"]));
    let transfers = Transfers::of(&[recipient.clone(), provider, outcome, claim]);
    let evidence = transfers.evidence();
    let hubs = evidence.get(&Named { publisher: key(1).publisher(), slug: "hubs".into() }).unwrap();
    assert_eq!(hubs, &Evidence { adopted_by: 1, confirmed: 1, outcomes: 1, endorsements: 0 });
    let side = transfers.side(&recipient.key()).unwrap();
    assert_eq!(side.outcomes.len(), 1);
    assert!(side.took_up() && side.is_final());
    assert_eq!(transfers.funnel(0), Funnel { open_requests: 0, engagements: 2, adopted: 2, outcomes: 1 });
}
