//! Matching ranks a hand-built case set in the expected order with the expected reasons, and a
//! request never matches what shares no language with it.

use proptest::prelude::*;

use super::*;
use crate::record::{Body, Draft, PublisherKey, Record, sign};
use crate::transfers::Transfers;
use crate::wire::{Engagement, Offer, Outcome, Place, Practice, Ref, Request, ResultIndicator, Stage};

const NOW: i64 = 1_767_225_600_000;

fn key(seed: u8) -> PublisherKey {
    PublisherKey::from_seed([seed; 32])
}

fn signed(seed: u8, slug: &str, body: Body) -> Record {
    let kind = body.kind().expect("not a withdrawal");
    sign(&key(seed), Draft { kind, slug: slug.to_owned(), revision: 1, timestamp_ms: NOW, body })
        .expect("a valid record")
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn request(languages: &[&str], themes: &[&str]) -> Request {
    Request {
        title: "Help with composting".into(),
        need: "We need to divert organic waste.".into(),
        themes: texts(themes),
        sdg_targets: texts(&["11.6"]),
        formats: texts(&["study-visit"]),
        languages: texts(languages),
        status: "open".into(),
        ..Request::default()
    }
}

fn offer(title: &str, languages: &[&str], themes: &[&str], formats: &[&str], sdgs: &[&str]) -> Offer {
    Offer {
        title: title.into(),
        summary: "We advise on composting.".into(),
        themes: texts(themes),
        sdg_targets: texts(sdgs),
        formats: texts(formats),
        languages: texts(languages),
        status: "open".into(),
        ..Offer::default()
    }
}

fn practice(title: &str, language: &str, country: &str, sdgs: &[&str]) -> Practice {
    Practice {
        title: title.into(),
        summary: "Hubs compost kitchen waste.".into(),
        themes: texts(&["solid-waste"]),
        sdg_targets: texts(sdgs),
        status: "ongoing".into(),
        location: Some(Place { country: country.into(), ..Place::default() }),
        language: language.into(),
        ..Practice::default()
    }
}

fn organisation(name: &str, country: &str, languages: &[&str]) -> Organisation {
    Organisation::new(name, country, languages)
}

fn reference(seed: u8, slug: &str) -> Ref {
    Ref { publisher: key(seed).publisher().0.to_vec(), slug: slug.into() }
}

fn engagement(counterpart: u8, role: &str, practice: Ref, stage: &str) -> Engagement {
    Engagement {
        counterpart: key(counterpart).publisher().0.to_vec(),
        role: role.into(),
        practice: Some(practice),
        stages: vec![Stage { stage: stage.into(), date: "2026-01".into() }],
        ..Engagement::default()
    }
}

/// Requester 1 (Brazil, Portuguese and English) asks for help with solid waste (SDG 11.6, a
/// study visit). What it should find, best first:
/// - offers: 2's (English, same theme and target, study visits, resting on a note a city adopted
///   with an outcome), then 3's (Portuguese, same sub-region, no target, no format in common);
///   not 4's (French only), 5's (housing only), 6's (serves Kenya only) nor 7's (closed);
/// - notes: 8's (Portuguese, in Brazil) then 2's own note (English, in Indonesia, adopted);
/// - organisations: 2 (two matches), then 8, then 3.
fn case_set() -> (Vec<Record>, ByPublisher<PublisherId, Organisation>) {
    let mut records =
        vec![signed(1, "composting-help", Body::Request(request(&["pt", "en"], &["solid-waste", "environment"])))];
    let mut resting = offer("Surabaya composting advice", &["en"], &["solid-waste"], &["study-visit"], &["11.6"]);
    resting.practices = vec![reference(2, "hubs")];
    records.push(signed(2, "advice", Body::Offer(resting)));
    records.push(signed(
        3,
        "buenos-aires",
        Body::Offer(offer("Buenos Aires training", &["pt"], &["solid-waste"], &["training"], &[])),
    ));
    records.push(signed(
        4,
        "lyon",
        Body::Offer(offer("Lyon advice", &["fr"], &["solid-waste"], &["study-visit"], &["11.6"])),
    ));
    records.push(signed(
        5,
        "housing",
        Body::Offer(offer("Housing advice", &["pt"], &["housing"], &["study-visit"], &[])),
    ));
    let mut kenya = offer("Nairobi advice", &["en"], &["solid-waste"], &["study-visit"], &["11.6"]);
    kenya.regions = texts(&["KE"]);
    records.push(signed(6, "nairobi", Body::Offer(kenya)));
    let mut closed = offer("Closed advice", &["en"], &["solid-waste"], &["study-visit"], &["11.6"]);
    closed.status = "closed".into();
    records.push(signed(7, "closed", Body::Offer(closed)));
    records.push(signed(2, "hubs", Body::Practice(practice("Surabaya hubs", "en", "ID", &["11.6"]))));
    records.push(signed(8, "recife-hubs", Body::Practice(practice("Recife hubs", "pt", "BR", &[]))));
    // City 9 adopted 2's hubs, both sides confirm, and 9 measured an outcome.
    records.push(signed(
        9,
        "from-surabaya",
        Body::Engagement(engagement(2, "recipient", reference(2, "hubs"), "adopted")),
    ));
    records.push(signed(2, "to-city-9", Body::Engagement(engagement(9, "provider", reference(2, "hubs"), "adopted"))));
    let outcome = Outcome {
        engagement: "from-surabaya".into(),
        title: "Less waste".into(),
        indicators: vec![ResultIndicator { label: "t/day".into(), actual: "900".into(), ..ResultIndicator::default() }],
        ..Outcome::default()
    };
    records.push(signed(9, "less-waste", Body::Outcome(outcome)));
    let organisations = [
        (1, organisation("Porto Alegre", "BR", &["pt"])),
        (2, organisation("Surabaya", "ID", &["id", "en"])),
        (3, organisation("Buenos Aires", "AR", &["es", "pt"])),
        (4, organisation("Lyon", "FR", &["fr"])),
        (5, organisation("Belo Horizonte", "BR", &["pt"])),
        (6, organisation("Nairobi", "KE", &["en"])),
        (7, organisation("Closed", "BR", &["pt"])),
        (8, organisation("Recife", "BR", &["pt"])),
        (9, organisation("City 9", "PH", &["en"])),
    ];
    (records, organisations.into_iter().map(|(seed, org)| (key(seed).publisher(), org)).collect())
}

fn rank(records: &[Record], organisations: ByPublisher<PublisherId, Organisation>) -> Matches {
    let facts: Vec<Facts> = records.iter().filter_map(Facts::of).collect();
    let evidence = Transfers::of(records).evidence();
    let holdings = Holdings { facts: &facts, organisations: &organisations, evidence: &evidence, now_ms: NOW };
    holdings.for_request(&records[0].key(), 20).expect("the request is held")
}

fn slugs(matches: &[Match]) -> Vec<&str> {
    matches.iter().map(|found| found.slug.as_str()).collect()
}

#[test]
fn a_hand_built_case_set_ranks_in_the_expected_order_with_the_expected_reasons() {
    let (records, organisations) = case_set();
    let matches = rank(&records, organisations);
    assert_eq!(slugs(&matches.offers), ["advice", "buenos-aires"]);
    assert_eq!(slugs(&matches.practices), ["recife-hubs", "hubs"]);
    let names: Vec<&str> = matches.organisations.iter().map(|found| found.title.as_str()).collect();
    assert_eq!(names, ["Surabaya", "Recife", "Buenos Aires"]);

    let reasons = |found: &Match| found.reasons.join("; ");
    assert_eq!(
        reasons(&matches.offers[0]),
        "same themes: Solid waste; 1 SDG target in common; both work in English; formats: study visit; adopted by 1 city with outcomes"
    );
    assert_eq!(
        reasons(&matches.offers[1]),
        "same themes: Solid waste; both work in Portuguese; in the same region: Latin America and the Caribbean"
    );
    assert_eq!(
        reasons(&matches.practices[0]),
        "same themes: Solid waste; both work in Portuguese; in the same country: Brazil"
    );
    assert!(
        reasons(&matches.practices[1]).ends_with("adopted by 1 city with outcomes"),
        "{}",
        reasons(&matches.practices[1])
    );
    assert!(reasons(&matches.organisations[0]).ends_with("2 matching notes and offers"));
    assert!(matches.offers[0].score > matches.offers[1].score);
}

#[test]
fn an_offer_finds_the_open_requests_it_answers() {
    let (records, organisations) = case_set();
    let facts: Vec<Facts> = records.iter().filter_map(Facts::of).collect();
    let evidence = crate::transfers::EvidenceMap::default();
    let holdings = Holdings { facts: &facts, organisations: &organisations, evidence: &evidence, now_ms: NOW };
    let found = holdings.for_offer(&records[1].key(), 20).expect("the offer is held");
    assert_eq!(slugs(&found), ["composting-help"]);
    assert_eq!(found[0].kind, Kind::Request);
    // The Lyon offer (French) answers no request; a request is not an offer.
    assert_eq!(holdings.for_offer(&records[3].key(), 20), Some(Vec::new()));
    assert_eq!(holdings.for_offer(&records[0].key(), 20), None);
}

#[test]
fn a_preferred_region_counts_and_an_offer_serves_only_its_regions() {
    let (mut records, organisations) = case_set();
    let mut asked = request(&["pt", "en"], &["solid-waste"]);
    asked.regions = texts(&["KE", "142"]);
    records[0] = signed(1, "composting-help", Body::Request(asked));
    let matches = rank(&records, organisations.clone());
    // Nairobi serves Kenya only and the requester is in Brazil: still not a match.
    assert!(!slugs(&matches.offers).contains(&"nairobi"));
    let surabaya = matches.offers.iter().find(|found| found.slug == "advice").unwrap();
    assert!(surabaya.reasons.contains(&"in a preferred region: Asia".to_owned()), "{:?}", surabaya.reasons);
    // A requester in Kenya is served.
    let mut organisations = organisations;
    organisations.insert(key(1).publisher(), organisation("Mombasa", "KE", &["en"]));
    assert!(slugs(&rank(&records, organisations).offers).contains(&"nairobi"));
}

proptest! {
    /// Whatever else they share, a request never matches an offer or a note with no language in
    /// common (a note's language or its publisher's).
    #[test]
    fn no_shared_language_no_match(
        asked in proptest::sample::subsequence(vec!["en", "pt", "fr", "id", "es", "pt-BR"], 1..4),
        offered in proptest::sample::subsequence(vec!["en", "pt", "fr", "id", "es", "fr-CA"], 1..4),
        written in proptest::sample::select(vec!["en", "pt", "fr", "id", "es"]),
    ) {
        let primary = |tag: &&str| tag.split('-').next().unwrap().to_owned();
        let asked_primary: Vec<String> = asked.iter().map(primary).collect();
        let records = vec![
            signed(1, "help", Body::Request(request(&asked, &["solid-waste"]))),
            signed(2, "offer", Body::Offer(offer("An offer", &offered, &["solid-waste"], &["study-visit"], &["11.6"]))),
            signed(3, "note", Body::Practice(practice("A note", written, "ID", &["11.6"]))),
        ];
        let organisations: ByPublisher<PublisherId, Organisation> = [
            (key(1).publisher(), organisation("One", "BR", &[])),
            (key(2).publisher(), organisation("Two", "ID", &[])),
            (key(3).publisher(), organisation("Three", "ID", &["de"])),
        ]
        .into_iter()
        .collect();
        let matches = rank(&records, organisations);
        let offer_shares = offered.iter().map(primary).any(|tag| asked_primary.contains(&tag));
        prop_assert_eq!(!matches.offers.is_empty(), offer_shares);
        prop_assert_eq!(!matches.practices.is_empty(), asked_primary.contains(&written.to_owned()));
    }
}
