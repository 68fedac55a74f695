//! `cargo bench --bench pages`: a node holding 100,000 practice notes from 1,000 publishers
//! (each with a profile; 20 countries, every theme), its web pages answered through its own
//! router as the server answers them. Measures p50/p99 server time of the home page, browse
//! with a facet, browse with words and a facet, a note's page and the map, and each page's
//! weight (the HTML, and the stylesheet and script every page loads). Target: p99 < 50 ms.
//! Then the API's listing (`GET /api/v1/records`), its first page and its 100th, 20 rows a
//! page. Target: p99 < 20 ms.
//!
//! Set CITYMESH_BENCH_NOTES to change the count.

use std::time::{Duration, Instant};

use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use citymesh::daemon::{Daemon, RunOptions};
use citymesh::datadir::DataDir;
use citymesh::record::{self, Body, Draft, Kind, PROFILE_SLUG, PublisherKey, Record};
use citymesh::store::Store;
use citymesh::vocab::THEMES;
use citymesh::wire::{Contact, Indicator, Place, Practice, Profile};

const NOW: i64 = 1_767_225_600_000;
const PUBLISHERS: usize = 1_000;
const REQUESTS: usize = 200;
/// The API listing's target (issue 17).
const API_TARGET_P99: Duration = Duration::from_millis(20);
const TARGET_P99: Duration = Duration::from_millis(50);
const COUNTRIES: [&str; 20] = [
    "ID", "BR", "KE", "IN", "MX", "PH", "NG", "ZA", "CO", "VN", "FR", "DE", "ES", "PT", "TH", "PE", "GH", "EG", "TR",
    "PK",
];
const WORDS: [&str; 16] = [
    "compost", "bus", "budget", "water", "housing", "solar", "clinic", "market", "flood", "school", "street", "waste",
    "garden", "lane", "youth", "tax",
];

fn text(index: usize, count: usize) -> String {
    (0..count).map(|i| WORDS[(index * 31 + i * 7 + i / 5) % WORDS.len()]).collect::<Vec<_>>().join(" ")
}

fn note(index: usize) -> Practice {
    Practice {
        title: format!("{} {index}", text(index, 5)),
        summary: text(index + 1, 40),
        problem: text(index + 2, 60),
        approach: format!("{}\n\n- {}\n- {}", text(index + 3, 120), text(index, 8), text(index + 4, 8)),
        results: text(index + 5, 40),
        themes: vec![
            THEMES[index % THEMES.len()].to_owned(),
            THEMES[(index + 1 + index / 7 % (THEMES.len() - 1)) % THEMES.len()].to_owned(),
        ],
        sdg_targets: vec!["11.6".to_owned(), "6.b".to_owned()],
        status: "ongoing".to_owned(),
        location: Some(Place {
            country: COUNTRIES[index % COUNTRIES.len()].to_owned(),
            name: format!("Town {}", index % 97),
            ..Place::default()
        }),
        language: "en".to_owned(),
        license: "CC-BY-4.0".to_owned(),
        contacts: vec![Contact {
            role: "Project lead".to_owned(),
            channel: "mailto:lead@example.org".to_owned(),
            name: "A. Officer".to_owned(),
        }],
        indicators: vec![Indicator {
            label: "Households served".to_owned(),
            baseline: "100".to_owned(),
            value: "900".to_owned(),
            unit: "households".to_owned(),
            date: "2024".to_owned(),
        }],
        ..Practice::default()
    }
}

fn sign(key: &PublisherKey, kind: Kind, slug: String, timestamp_ms: i64, body: Body) -> Record {
    record::sign(key, Draft { kind, slug, revision: 1, timestamp_ms, body }).expect("a valid draft")
}

/// Fills the store; answers the id of a note to open.
fn fill(store: &Store, count: usize) -> String {
    let keys: Vec<PublisherKey> = (0..PUBLISHERS)
        .map(|index| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
            PublisherKey::from_seed(seed)
        })
        .collect();
    let profiles: Vec<Record> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| {
            let place = Some(Place { country: COUNTRIES[index % COUNTRIES.len()].to_owned(), ..Place::default() });
            let name = format!("City {index}");
            let profile =
                Profile { name, organisation_type: "local-government".to_owned(), place, ..Profile::default() };
            sign(key, Kind::Profile, PROFILE_SLUG.to_owned(), NOW, Body::Profile(profile))
        })
        .collect();
    store.insert_batch(&profiles).expect("store the profiles");
    let mut batch = Vec::with_capacity(1000);
    let mut opened = String::new();
    for index in 0..count {
        let timestamp = NOW - (count - index) as i64 * 1000;
        let record = sign(
            &keys[index % PUBLISHERS],
            Kind::Practice,
            format!("note-{index}"),
            timestamp,
            Body::Practice(note(index)),
        );
        if index == count / 2 {
            opened = record.id().to_string();
        }
        batch.push(record);
        if batch.len() == 1000 {
            store.insert_batch(&batch).expect("store a batch");
            batch.clear();
        }
    }
    store.insert_batch(&batch).expect("store the last batch");
    store.flush().expect("flush");
    opened
}

/// One request through the router: its status and body size.
async fn call(app: &axum::Router, path: &str) -> (StatusCode, usize) {
    let (status, body) = get(app, path).await;
    (status, body.len())
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, axum::body::Bytes) {
    let request = Request::get(path).body(HttpBody::empty()).expect("a request");
    let response = app.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    (status, response.into_body().collect().await.expect("a body").to_bytes())
}

/// Asks for `path` [`REQUESTS`] times, each answered 200; answers p50, p99 and the body's size.
async fn timed(app: &axum::Router, path: &str) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(REQUESTS);
    let mut weight = 0;
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let (status, bytes) = call(app, path).await;
        times.push(started.elapsed());
        assert_eq!(status, StatusCode::OK, "{path}");
        weight = bytes;
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), weight)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    let count: usize = std::env::var("CITYMESH_BENCH_NOTES").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = DataDir::new(dir.path().join("node"));
    let own = Profile {
        name: "Bench City".to_owned(),
        organisation_type: "local-government".to_owned(),
        place: Some(Place { country: "ID".to_owned(), ..Place::default() }),
        ..Profile::default()
    };
    let (_, store) = data.initialise(own).expect("a data directory");
    let started = Instant::now();
    let note_id = fill(&store, count);
    drop(store);
    println!(
        "{count} notes from {PUBLISHERS} publishers signed and stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let options = RunOptions {
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootstrap: Vec::new(),
            api_listen: Some("127.0.0.1:0".parse().expect("an address")),
        };
        let daemon = Daemon::start(data, options, shutdown.clone()).await.expect("the node starts");
        let app = citymesh::api::app(daemon.node.clone());
        let started = Instant::now();
        assert_eq!(call(&app, "/").await.0, StatusCode::OK);
        println!("search index built on the first page in {:.1} s", started.elapsed().as_secs_f64());
        let note_page = format!("/notes/{note_id}");
        let pages = [
            ("home page", "/"),
            ("browse, theme facet", "/notes?theme=solid-waste"),
            ("browse, words + country", "/notes?q=compost+flood&country=BR"),
            ("note page", note_page.as_str()),
            ("map", "/map"),
        ];
        let (_, css) = call(&app, "/static/style.css").await;
        let (_, script) = call(&app, "/static/copy.js").await;
        println!("every page also loads style.css ({css} bytes) and copy.js ({script} bytes), cached for 5 minutes");
        for (name, path) in pages {
            let (p50, p99, weight) = timed(&app, path).await;
            println!(
                "{name:<24} p50 {:>7.2} ms   p99 {:>7.2} ms   p99/target {:.2}   page {:>6} bytes of HTML",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                p99.as_secs_f64() / TARGET_P99.as_secs_f64(),
                weight
            );
        }
        // The API's listing, newest first: its first page and its 100th, reached by cursors.
        let mut path = "/api/v1/records?limit=20".to_owned();
        let mut hundredth = String::new();
        for page in 1..=100 {
            if page == 100 {
                hundredth = path.clone();
            }
            let (_, body) = get(&app, &path).await;
            let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            let cursor = answer["next_cursor"].as_str().expect("a next page").to_owned();
            path = format!("/api/v1/records?limit=20&cursor={cursor}");
        }
        for (name, path) in [("API list, first page", "/api/v1/records?limit=20"), ("API list, 100th page", &hundredth)]
        {
            let (p50, p99, _) = timed(&app, path).await;
            println!(
                "{name:<24} p50 {:>7.2} ms   p99 {:>7.2} ms   p99/target of 20 ms {:.2}",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                p99.as_secs_f64() / API_TARGET_P99.as_secs_f64()
            );
        }
        shutdown.cancel();
        daemon.stopped().await.expect("the node stops");
    });
}
