//! `cargo bench --bench matching`: a node holding 10,000 open requests, 20,000 offers and
//! 100,000 practice notes from 1,000 publishers (each with a profile: 20 countries, five
//! languages), and 2,000 engagements (half of them confirmed by both sides) as evidence.
//! Measures p50/p99 of one request's top 20 matches (offers, notes, organisations), through
//! the node's API as a client asks (`GET /api/v1/match`), and of the ranking alone over the
//! same facts. Target: p99 < 20 ms through the API.
//!
//! Set CITYMESH_BENCH_SCALE (default 1.0) to scale every count.

use std::time::{Duration, Instant};

use axum::body::Body as HttpBody;
use axum::http::{Request as HttpRequest, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use citymesh::daemon::{Daemon, RunOptions};
use citymesh::datadir::DataDir;
use citymesh::matching::{ByPublisher, Facts, Holdings, Organisation};
use citymesh::record::{self, Body, Draft, Kind, PROFILE_SLUG, PublisherId, PublisherKey, Record};
use citymesh::transfers::Transfers;
use citymesh::vocab::THEMES;
use citymesh::wire::{Engagement, Offer, Place, Practice, Profile, Ref, Request, Stage};

const NOW: i64 = 1_767_225_600_000;
const PUBLISHERS: usize = 1_000;
const QUERIES: usize = 300;
const LIMIT: usize = 20;
const TARGET_P99: Duration = Duration::from_millis(20);
const COUNTRIES: [&str; 20] = [
    "ID", "BR", "KE", "IN", "MX", "PH", "NG", "ZA", "CO", "VN", "FR", "DE", "ES", "PT", "TH", "PE", "GH", "EG", "TR",
    "PK",
];
const LANGUAGES: [&str; 5] = ["en", "pt", "es", "fr", "id"];
const FORMATS: [&str; 8] = [
    "study-visit",
    "expert-mission",
    "staff-exchange",
    "training",
    "webinar",
    "remote-advice",
    "documents",
    "twinning",
];
const SDGS: [&str; 8] = ["11.6", "6.b", "11.2", "7.2", "13.1", "11.1", "3.9", "8.3"];

fn pick(list: &[&str], index: usize, count: usize) -> Vec<String> {
    let mut picked: Vec<String> = (0..count).map(|i| list[(index + i * 3) % list.len()].to_owned()).collect();
    picked.dedup();
    picked
}

fn themes(index: usize) -> Vec<String> {
    let mut themes = vec![THEMES[index % THEMES.len()].to_owned(), THEMES[(index / 7 + 3) % THEMES.len()].to_owned()];
    themes.dedup();
    themes
}

fn practice(index: usize) -> Practice {
    Practice {
        title: format!("Practice {index}"),
        summary: "What was done and what came of it.".to_owned(),
        themes: themes(index),
        sdg_targets: pick(&SDGS, index, 2),
        status: "ongoing".to_owned(),
        location: Some(Place { country: COUNTRIES[index % COUNTRIES.len()].to_owned(), ..Place::default() }),
        language: LANGUAGES[index % LANGUAGES.len()].to_owned(),
        license: "CC-BY-4.0".to_owned(),
        ..Practice::default()
    }
}

fn offer(index: usize, practice_of: &dyn Fn(usize) -> Ref) -> Offer {
    Offer {
        title: format!("Offer {index}"),
        summary: "Advice and visits.".to_owned(),
        themes: themes(index + 5),
        sdg_targets: pick(&SDGS, index + 1, 2),
        formats: pick(&FORMATS, index, 3),
        languages: pick(&LANGUAGES, index, 2),
        practices: vec![practice_of(index * 5)],
        regions: if index.is_multiple_of(10) {
            vec![COUNTRIES[index % COUNTRIES.len()].to_owned()]
        } else {
            Vec::new()
        },
        status: "open".to_owned(),
        ..Offer::default()
    }
}

fn request(index: usize) -> Request {
    Request {
        title: format!("Request {index}"),
        need: "Help wanted.".to_owned(),
        themes: themes(index + 2),
        sdg_targets: pick(&SDGS, index + 2, 2),
        formats: pick(&FORMATS, index + 1, 2),
        languages: pick(&LANGUAGES, index + 1, 2),
        regions: if index.is_multiple_of(4) { vec!["142".to_owned(), "419".to_owned()] } else { Vec::new() },
        status: "open".to_owned(),
        ..Request::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(name: &str, mut times: Vec<Duration>) -> Duration {
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!(
        "{name:<34} p50 {:>7.2} ms   p99 {:>7.2} ms   p99/target {:.2}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        p99.as_secs_f64() / TARGET_P99.as_secs_f64()
    );
    p99
}

fn main() {
    let scale: f64 = std::env::var("CITYMESH_BENCH_SCALE").ok().and_then(|n| n.parse().ok()).unwrap_or(1.0);
    let count = |n: usize| ((n as f64 * scale) as usize).max(1);
    let (requests, offers, practices, engagements) = (count(10_000), count(20_000), count(100_000), count(2_000));
    let keys: Vec<PublisherKey> = (0..PUBLISHERS)
        .map(|index| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
            PublisherKey::from_seed(seed)
        })
        .collect();
    let publisher = |index: usize| &keys[index % PUBLISHERS];
    let sign = |key: &PublisherKey, kind: Kind, slug: String, body: Body| -> Record {
        record::sign(key, Draft { kind, slug, revision: 1, timestamp_ms: NOW - 1000, body }).expect("a valid draft")
    };
    let practice_of = |index: usize| Ref {
        publisher: publisher(index % practices).publisher().0.to_vec(),
        slug: format!("practice-{}", index % practices),
    };
    let started = Instant::now();
    let mut records: Vec<Record> = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let profile = Profile {
            name: format!("City {index}"),
            organisation_type: "local-government".to_owned(),
            place: Some(Place { country: COUNTRIES[index % COUNTRIES.len()].to_owned(), ..Place::default() }),
            languages: pick(&LANGUAGES, index, 2),
            ..Profile::default()
        };
        records.push(sign(key, Kind::Profile, PROFILE_SLUG.to_owned(), Body::Profile(profile)));
    }
    for index in 0..practices {
        records.push(sign(
            publisher(index),
            Kind::Practice,
            format!("practice-{index}"),
            Body::Practice(practice(index)),
        ));
    }
    for index in 0..offers {
        let body = Body::Offer(offer(index, &practice_of));
        records.push(sign(publisher(index * 7 + 3), Kind::Offer, format!("offer-{index}"), body));
    }
    let first_request = records.len();
    for index in 0..requests {
        records.push(sign(
            publisher(index * 11 + 5),
            Kind::Request,
            format!("request-{index}"),
            Body::Request(request(index)),
        ));
    }
    // Half the engagements are confirmed (both sides), the rest claimed by the recipient alone.
    for index in 0..engagements {
        let (recipient, provider) = (index * 13 + 1, index % practices);
        let side = |counterpart: usize, role: &str, stage: &str| Engagement {
            counterpart: publisher(counterpart).publisher().0.to_vec(),
            role: role.to_owned(),
            practice: Some(practice_of(index * 50)),
            stages: vec![Stage { stage: stage.to_owned(), date: "2026-06".to_owned() }],
            ..Engagement::default()
        };
        let slug = format!("engagement-{index}");
        records.push(sign(
            publisher(recipient),
            Kind::Engagement,
            slug.clone(),
            Body::Engagement(side(provider, "recipient", "adopted")),
        ));
        if index.is_multiple_of(2) {
            records.push(sign(
                publisher(provider),
                Kind::Engagement,
                slug,
                Body::Engagement(side(recipient, "provider", "adopted")),
            ));
        }
    }
    println!(
        "{requests} requests, {offers} offers, {practices} notes, {engagements} engagements from {PUBLISHERS} publishers signed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let targets: Vec<(PublisherId, String)> = (0..QUERIES)
        .map(|n| {
            let record = &records[first_request + (n * 7919) % requests];
            (record.publisher(), record.slug().to_owned())
        })
        .collect();

    // The ranking alone, over the facts the node keeps in memory.
    let facts: Vec<Facts> = records.iter().filter_map(Facts::of).collect();
    let organisations: ByPublisher<PublisherId, Organisation> = records
        .iter()
        .filter_map(|record| match record.parse_body() {
            Ok(Body::Profile(profile)) => Some((record.publisher(), Organisation::of(&profile))),
            _ => None,
        })
        .collect();
    let evidence =
        Transfers::of(&records.iter().filter(|record| record.kind() == Kind::Engagement).cloned().collect::<Vec<_>>())
            .evidence();
    let holdings = Holdings { facts: &facts, organisations: &organisations, evidence: &evidence, now_ms: NOW };
    let mut times = Vec::with_capacity(QUERIES);
    let mut found = 0;
    for (publisher, slug) in &targets {
        let key = record::Key { publisher: *publisher, kind: Kind::Request, slug: slug.clone() };
        let started = Instant::now();
        let matches = holdings.for_request(&key, LIMIT).expect("the request is held");
        times.push(started.elapsed());
        found += matches.offers.len() + matches.practices.len();
    }
    let ranking = report("ranking alone (top 20 of each)", times);
    println!("    {:.1} offers and notes matched per request (of the top 20 each)", found as f64 / QUERIES as f64);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = DataDir::new(dir.path().join("node"));
    let own = Profile {
        name: "Bench City".to_owned(),
        organisation_type: "local-government".to_owned(),
        place: Some(Place { country: "ID".to_owned(), ..Place::default() }),
        ..Profile::default()
    };
    let (_, store) = data.initialise(own).expect("a data directory");
    for chunk in records.chunks(1000) {
        store.insert_batch(chunk).expect("store a batch");
    }
    store.flush().expect("flush");
    drop(store);
    drop(records);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let api = runtime.block_on(async move {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let options = RunOptions {
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootstrap: Vec::new(),
            api_listen: Some("127.0.0.1:0".parse().expect("an address")),
        };
        let daemon = Daemon::start(data, options, shutdown.clone()).await.expect("the node starts");
        let app = citymesh::api::app(daemon.node.clone());
        let call = |path: String| {
            let app = app.clone();
            async move {
                let request = HttpRequest::get(path).body(HttpBody::empty()).expect("a request");
                let response = app.oneshot(request).await.expect("an answer");
                let status = response.status();
                let bytes = response.into_body().collect().await.expect("a body").to_bytes();
                (status, bytes)
            }
        };
        // The node indexes every note for search when it starts; let that finish first, so that
        // the timings are of matching, not of the indexer running beside it.
        let started = Instant::now();
        let (status, _) = call("/api/v1/search?q=practice".to_owned()).await;
        assert_eq!(status, StatusCode::OK);
        println!("search index and matching's facts built in {:.1} s (before timing)", started.elapsed().as_secs_f64());
        let started = Instant::now();
        let (status, _) = call(format!("/api/v1/match?request={}/{}&limit={LIMIT}", targets[0].0, targets[0].1)).await;
        assert_eq!(status, StatusCode::OK);
        println!("first match in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        let mut times = Vec::with_capacity(QUERIES);
        for (publisher, slug) in &targets {
            let started = Instant::now();
            let (status, body) = call(format!("/api/v1/match?request={publisher}/{slug}&limit={LIMIT}")).await;
            times.push(started.elapsed());
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        }
        let api = report("GET /api/v1/match (top 20 of each)", times);
        shutdown.cancel();
        daemon.stopped().await.expect("a clean stop");
        api
    });
    println!(
        "ranking alone is {:.0}% of the API's p99; the rest is finding the request, naming the publishers and the answer's way through the API",
        ranking.as_secs_f64() / api.as_secs_f64() * 100.0
    );
}
