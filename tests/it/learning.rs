//! City-to-city learning on real nodes: every new kind travels by gossip and by sync, a
//! transfer becomes confirmed on a third node only once it holds both sides, what a request
//! matches (with reasons) through the API, the CLI and the page, every kind through the forms,
//! bad input refused with a named reason and nothing stored, and the calendar files read by an
//! independent parser (Python's icalendar).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;

use citymesh::record::{Kind, RecordId, to_hex};

use crate::harness::*;
use crate::web::{call, csrf_of, form, get, get_json};

const TIMEOUT: Duration = Duration::from_secs(20);

const NOTE: &str = include_str!("../../config/examples/community-composting.md");
const REQUEST: &str = include_str!("../../config/examples/composting-request.md");
const OFFER: &str = include_str!("../../config/examples/composting-offer.md");
const EVENT: &str = include_str!("../../config/examples/composting-study-tour.md");
const PROVIDER: &str = include_str!("../../config/examples/composting-engagement-provider.md");
const RECIPIENT: &str = include_str!("../../config/examples/composting-engagement-recipient.md");

/// An example with `{surabaya}` and `{porto-alegre}` replaced by those nodes' keys.
fn filled(text: &str, surabaya: &Node, porto_alegre: &Node) -> String {
    text.replace("{surabaya}", &surabaya.publisher().to_string())
        .replace("{porto-alegre}", &porto_alegre.publisher().to_string())
}

const OUTCOME: &str = "---
slug: composting-pilot-results
kind: outcome
engagement: composting-with-surabaya
title: Three districts compost their organic waste
indicators:
  - label: Organic waste sent to landfill from the pilot districts
    unit: t/day
    baseline: \"120\"
    baseline_date: 2026-12
    target: \"80\"
    target_date: 2027-12
    actual: \"95.5\"
    actual_date: 2027-09
evidence:
  - title: Pilot report
    url: https://example.org/pilot-report.pdf
---

## Results

Hubs run in three districts with the neighbourhood associations.
";

fn endorsement(surabaya: &Node) -> String {
    format!(
        "---\nslug: we-visited-the-hubs\nkind: endorsement\nsubject_kind: practice\nsubject: \"{}/community-composting\"\ngrounds: [visited]\n---\n\n## Comment\n\nWe saw five hubs at work.\n",
        surabaya.publisher()
    )
}

async fn engagements(node: &Node) -> Vec<(String, bool)> {
    let (status, answer) = get_json(node, "/api/v1/engagements").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut sides: Vec<(String, bool)> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|side| (side["slug"].as_str().unwrap().to_owned(), side["confirmed"].as_bool().unwrap()))
        .collect();
    sides.sort();
    sides
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_travels_and_a_transfer_is_confirmed_only_where_both_sides_are_held() {
    let surabaya = Node::start("City of Surabaya", &["main"], &[]).await;
    let porto_alegre = Node::start("City of Porto Alegre", &["main"], &[surabaya.address().await]).await;
    eventually("the two nodes form a mesh", TIMEOUT, || async {
        surabaya.mesh_peers().await == 1 && porto_alegre.mesh_peers().await == 1
    })
    .await;
    let mut from_surabaya: Vec<RecordId> = Vec::new();
    for text in [NOTE, OFFER, EVENT, PROVIDER] {
        from_surabaya.push(surabaya.publish(&filled(text, &surabaya, &porto_alegre)).await);
    }
    let mut from_porto_alegre: Vec<RecordId> = Vec::new();
    for text in [REQUEST, RECIPIENT, OUTCOME, &endorsement(&surabaya)] {
        from_porto_alegre.push(porto_alegre.publish(&filled(text, &surabaya, &porto_alegre)).await);
    }
    eventually("every record reached the other city by gossip", TIMEOUT, || async {
        from_surabaya.iter().all(|id| porto_alegre.holds(id)) && from_porto_alegre.iter().all(|id| surabaya.holds(id))
    })
    .await;
    let both = vec![("composting-with-porto-alegre".to_owned(), true), ("composting-with-surabaya".to_owned(), true)];
    assert_eq!(engagements(&surabaya).await, both);

    // A third node first holds only Porto Alegre's side: claimed, not confirmed.
    let third = Node::start("City of Curitiba", &["main"], &[]).await;
    let recipient_side = porto_alegre.node().store().get(&from_porto_alegre[1]).unwrap().unwrap();
    let imported = third.node().import(vec![to_hex(&recipient_side.envelope_bytes())]).await.unwrap();
    assert_eq!(imported.len(), 1);
    assert_eq!(engagements(&third).await, [("composting-with-surabaya".to_owned(), false)]);
    let (_, page) = get(&third, &format!("/engagements/{}", from_porto_alegre[1])).await;
    assert!(page.contains("<strong>Claimed by ") && page.contains("has not published an engagement naming"), "{page}");
    // Catching up with Surabaya brings the other side, and everything else: confirmed.
    third.dial(&surabaya).await;
    let report = third.sync_with(&surabaya).await;
    assert!(report.error.is_none(), "{report:?}");
    for id in from_surabaya.iter().chain(&from_porto_alegre) {
        assert!(third.holds(id), "{id} came by sync");
    }
    assert_eq!(engagements(&third).await, both);
    let (_, page) = get(&third, &format!("/engagements/{}", from_porto_alegre[1])).await;
    assert!(page.contains("Confirmed by both sides"), "{page}");
    assert!(page.contains("Three districts compost their organic waste"), "the outcome is listed: {page}");
    let (_, note) = get(&third, &format!("/notes/{}", from_surabaya[0])).await;
    assert!(note.contains("Taken up by 1 city"), "{note}");
    assert!(note.contains("confirmed</span>"), "{note}");

    // What the request matches, on the third node, with its reasons.
    let target = format!("{}/composting-help", porto_alegre.publisher());
    let (status, matches) = get_json(&third, &format!("/api/v1/match?request={target}")).await;
    assert_eq!(status, StatusCode::OK, "{matches}");
    assert_eq!(matches["offers"][0]["slug"], "composting-advice", "{matches}");
    let reasons = matches["offers"][0]["reasons"].to_string();
    for reason in
        ["same themes: Environment, Solid waste", "both work in English", "formats: study visit, remote advice"]
    {
        assert!(reasons.contains(reason), "{reasons}");
    }
    assert_eq!(matches["practices"][0]["slug"], "community-composting", "{matches}");
    assert_eq!(matches["organisations"][0]["title"], "City of Surabaya", "{matches}");
    let (_, funnel) = get_json(&third, "/api/v1/funnel").await;
    assert_eq!(funnel, serde_json::json!({"open_requests": 1, "engagements": 1, "adopted": 0, "outcomes": 1}));
    let (_, home) = get(&third, "/").await;
    assert!(home.contains("<strong>1</strong> open request for expertise"), "{home}");
    let (_, board) = get(&third, "/board").await;
    assert!(
        board.contains("Help us start neighbourhood composting hubs") && board.contains("2 needs and offers"),
        "{board}"
    );
    let (_, board) = get(&third, "/board?kind=offer").await;
    assert!(
        !board.contains("Help us start neighbourhood composting hubs") && board.contains("1 need or offer"),
        "{board}"
    );
    let (_, found) = get_json(&third, "/api/v1/search?q=composting&kind=request&kind=offer").await;
    assert_eq!(found["total"], 2, "{found}");
    let (_, found) = get_json(&third, "/api/v1/search?q=composting").await;
    assert_eq!(found["total"], 1, "practice notes only unless a kind is asked for: {found}");
    assert_eq!(third.node().notes().await.unwrap(), 1, "the other kinds are indexed, and not counted as notes");

    // Surabaya withdraws its side: Porto Alegre's is claimed again, there and on the third node.
    surabaya
        .node()
        .withdraw_kind(Kind::Engagement, "composting-with-porto-alegre".to_owned(), "ended".to_owned())
        .await
        .unwrap();
    eventually("the withdrawal reached Porto Alegre", TIMEOUT, || async {
        engagements(&porto_alegre).await == [("composting-with-surabaya".to_owned(), false)]
    })
    .await;
    third.stop().await;
    porto_alegre.stop().await;
    surabaya.stop().await;
}

async fn signed_in(node: &Node) -> (String, String) {
    let token = node.node().token().to_owned();
    let (_, headers, _) = call(node, form("/signin", "", &[("token", &token), ("next", "/board")])).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, _, page) =
        call(node, Request::get("/new/request").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    (cookie, csrf_of(&page))
}

/// Posts a form of `kind`; answers the status and the page (or where it led).
async fn post(node: &Node, cookie: &str, kind: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let (status, headers, page) = call(node, form(&format!("/new/{kind}"), cookie, fields)).await;
    match headers.get(header::LOCATION) {
        Some(location) => (status, location.to_str().unwrap().to_owned()),
        None => (status, page),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_through_its_form_with_every_problem_named() {
    let node = Node::start("City of Recife", &["main"], &[]).await;
    let other = citymesh::record::PublisherKey::from_seed([42; 32]).publisher().to_string();
    let (cookie, csrf) = signed_in(&node).await;
    let (status, _, page) =
        call(&node, Request::get("/new/request").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ask for expertise") && page.contains("Formats wanted"), "{page}");

    // A request with four problems names them all, beside their inputs, and keeps what was typed.
    let bad = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "composting-help"),
        ("title", "Help with composting"),
        ("need", "We need advice."),
        ("themes", "solid-waste"),
        ("languages", ""),
        ("start_date", "2027-06"),
        ("end_date", "2027-01"),
        ("status", "pending"),
    ];
    let (status, page) = post(&node, &cookie, "request", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for problem in [
        "There are 4 problems: the request was not saved",
        "choose at least one format",
        "give at least one language",
        "2027-01 is before start_date 2027-06",
        "&#34;pending&#34; is not a request status",
    ] {
        assert!(page.contains(problem), "{problem} in {page}");
    }
    assert!(page.contains("value=\"Help with composting\""), "what was typed is kept");
    assert_eq!(node.node().heads_of(Kind::Request).await.unwrap().len(), 0, "nothing stored");

    let request = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "composting-help"),
        ("title", "Help with composting"),
        ("need", "We need advice."),
        ("themes", "solid-waste"),
        ("formats", "study-visit"),
        ("languages", "pt, en"),
        ("contact[0].role", "Head of urban cleaning"),
        ("contact[0].channel", "limpeza@recife.example"),
    ];
    let (status, location) = post(&node, &cookie, "request", &request).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(location.starts_with("/requests/") && location.ends_with("?saved=published"), "{location}");
    let (status, page) = get(&node, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Saved and signed as revision 1") && page.contains("What matches"), "{page}");
    let (_, page) =
        call(&node, Request::get(location.as_str()).header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
            .await
            .into_parts_page();
    assert!(page.contains("Close this request"), "the owner can close it: {page}");

    // The same slug again is refused with a word on what to do.
    let (status, page) = post(&node, &cookie, "request", &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is already the short name of your request composting-help"), "{page}");

    let forms: [(&str, Vec<(&str, String)>); 5] = [
        (
            "offer",
            vec![
                ("slug", "advice".into()),
                ("title", "Advice".into()),
                ("summary", "We advise.".into()),
                ("themes", "solid-waste".into()),
                ("formats", "remote-advice".into()),
                ("languages", "pt".into()),
            ],
        ),
        (
            "event",
            vec![
                ("slug", "webinar".into()),
                ("title", "Composting webinar".into()),
                ("event_type", "webinar".into()),
                ("start", "2027-02-01T14:00-03:00".into()),
                ("end", "2027-02-01T16:00-03:00".into()),
                ("time_zone", "America/Recife".into()),
                ("online_url", "https://meet.example.org/w".into()),
                ("languages", "pt".into()),
            ],
        ),
        (
            "engagement",
            vec![
                ("slug", "hubs-from-surabaya".into()),
                ("counterpart", other.clone()),
                ("role", "recipient".into()),
                ("practice", format!("{other}/community-composting")),
                ("stages[0].stage", "exploring".into()),
                ("stages[0].date", "2026-11".into()),
            ],
        ),
        (
            "outcome",
            vec![
                ("slug", "pilot".into()),
                ("engagement", "hubs-from-surabaya".into()),
                ("title", "Pilot results".into()),
                ("indicators[0].label", "Waste to landfill".into()),
                ("indicators[0].actual", "95".into()),
            ],
        ),
        (
            "endorsement",
            vec![
                ("slug", "we-saw-it".into()),
                ("subject_kind", "practice".into()),
                ("subject", format!("{other}/community-composting")),
                ("grounds", "visited".into()),
            ],
        ),
    ];
    for (kind, fields) in forms {
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), ("base_revision", "0")];
        all.extend(fields.iter().map(|(name, value)| (*name, value.as_str())));
        let (status, location) = post(&node, &cookie, kind, &all).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{kind}: {location}");
        let (status, page) = get(&node, &location).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {page}");
    }
    // Another city's request: its page offers help, which drafts this node's side, filled in.
    let asker = citymesh::record::PublisherKey::from_seed([43; 32]);
    let record = another_request(&asker, "markets", "Help with markets", "local-economy", 0);
    node.node().import(vec![to_hex(&record.envelope_bytes())]).await.unwrap();
    let (_, page) = call(
        &node,
        Request::get(format!("/requests/{}", record.id())).header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await
    .into_parts_page();
    let draft_link = format!(
        "/new/engagement?counterpart={}&#38;role=provider&#38;request={}%2Fmarkets",
        asker.publisher(),
        asker.publisher()
    );
    assert!(page.contains("Offer help") && page.contains(&draft_link), "{page}");
    // "Offer help" on another city's request drafts an engagement, filled in.
    let (status, page) = call(
        &node,
        Request::get(format!("/new/engagement?counterpart={other}&role=provider&request={other}%2Fhelp"))
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .into_parts_page();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("value=\"{other}/help\"")), "{page}");
    // An outcome of an engagement this node does not hold is refused beside its input.
    let orphan = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "orphan"),
        ("engagement", "no-such-engagement"),
        ("title", "Results"),
    ];
    let (status, page) = post(&node, &cookie, "outcome", &orphan).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is not one of your engagements"), "{page}");
    // Closing the request from its page signs its next revision.
    let (status, headers, _) =
        call(&node, form("/set-status/request/composting-help", &cookie, &[("csrf", &csrf), ("status", "closed")]))
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().ends_with("?saved=status"));
    let held = node.node().own_record(Kind::Request, "composting-help".to_owned()).await.unwrap().unwrap();
    assert_eq!(held.0, 2);
    // A practice note with the same slug is another key: the request's first revision still
    // says it is superseded by the request's second.
    node.publish(&example_with("slug: community-composting", "slug: composting-help")).await;
    let first = location.split('?').next().unwrap();
    let (_, page) = get(&node, first).await;
    assert!(page.contains("This is an older revision."), "{page}");
    let (status, _) = get(&node, "/new/practice").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out, the forms ask to sign in");
    node.stop().await;
}

trait PartsPage {
    fn into_parts_page(self) -> (StatusCode, String);
}

impl PartsPage for (StatusCode, axum::http::HeaderMap, String) {
    fn into_parts_page(self) -> (StatusCode, String) {
        (self.0, self.2)
    }
}

/// An open request of another city (a webinar, in Portuguese), signed `age_s` seconds ago.
fn another_request(
    key: &citymesh::record::PublisherKey,
    slug: &str,
    title: &str,
    theme: &str,
    age_s: i64,
) -> citymesh::record::Record {
    let request = citymesh::wire::Request {
        title: title.into(),
        need: "Advice.".into(),
        themes: vec![theme.into()],
        formats: vec!["webinar".into()],
        languages: vec!["pt".into()],
        status: "open".into(),
        ..Default::default()
    };
    let draft = citymesh::record::Draft {
        kind: Kind::Request,
        slug: slug.into(),
        revision: 1,
        timestamp_ms: citymesh::author::now_ms() - age_s * 1000,
        body: citymesh::record::Body::Request(request),
    };
    citymesh::record::sign(key, draft).unwrap()
}

/// Publishes Markdown through the API; answers the status and the JSON.
async fn api_publish(node: &Node, markdown: &str) -> (StatusCode, Value) {
    let token = node.node().token().to_owned();
    let body = serde_json::json!({ "markdown": markdown }).to_string();
    let request = Request::post("/api/v1/publish")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, _, text) = call(node, request).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_named_reason_and_nothing_is_stored() {
    let node = Node::start("City of Surabaya", &["main"], &[]).await;
    let me = node.publisher().to_string();
    let event = EVENT.replace("{surabaya}", &me).replace("{porto-alegre}", &me);
    let request = REQUEST.replace("{surabaya}", &me);
    let cases: Vec<(String, &str)> = vec![
        (
            request.replace("status: open", "status: pending"),
            "status: \"pending\" is not a request status; allowed: open, in-progress, closed",
        ),
        (
            request.replace("formats: [study-visit, remote-advice]", "formats: [picnic]"),
            "formats[0]: \"picnic\" is not a format",
        ),
        (request.replace("end_date: 2027-12", "end_date: 2026-06"), "end_date: 2026-06 is before start_date 2027-01"),
        (
            event.replace("end: 2027-03-12T17:00+07:00", "end: 2027-03-09T17:00+07:00"),
            "end: 2027-03-09T17:00+07:00 is before the start",
        ),
        (
            event.replace("time_zone: Asia/Jakarta", "time_zone: Asia/Atlantis"),
            "time_zone: \"Asia/Atlantis\" is not a time zone of the IANA database",
        ),
        (event.replace("type: study-tour", "type: party"), "type: \"party\" is not a type of event"),
        (PROVIDER.replace("{porto-alegre}", &me).replace("{surabaya}", &me), "counterpart: names the publisher itself"),
        (OUTCOME.to_owned(), "you have published no engagement with slug \"composting-with-surabaya\""),
        (
            format!(
                "---\nslug: x\nkind: endorsement\nsubject_kind: practice\nsubject: \"{me}/y\"\ngrounds: [visited]\n---\n"
            ),
            "is the publisher itself",
        ),
        ("---\nslug: x\nkind: adoption\n---\n".to_owned(), "kind \"adoption\" is not a kind of record"),
        ("---\nslug: x\nkind: profile\n---\n".to_owned(), "a profile is not written in Markdown"),
    ];
    let held = node.node().records_held();
    for (markdown, reason) in cases {
        let (status, answer) = api_publish(&node, &markdown).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "expected {reason:?} in {detail:?}");
    }
    assert_eq!(node.node().records_held(), held, "nothing was stored");

    // A withdrawn event's calendar file says so; an unknown one is not found; the feed leaves
    // it out.
    let (status, _) = api_publish(&node, &event).await;
    assert_eq!(status, StatusCode::CREATED);
    let file = format!("/api/v1/events/{me}/composting-study-tour-2027.ics");
    assert_eq!(get(&node, &file).await.0, StatusCode::OK);
    node.node()
        .withdraw_kind(Kind::Event, "composting-study-tour-2027".to_owned(), "moved online".to_owned())
        .await
        .unwrap();
    let (status, answer) = get_json(&node, &file).await;
    assert_eq!(status, StatusCode::GONE, "{answer}");
    assert_eq!(answer["error"], "withdrawn");
    assert!(answer["detail"].as_str().unwrap().contains("was withdrawn: moved online"), "{answer}");
    let (status, _) = get_json(&node, &format!("/api/v1/events/{me}/no-such-event.ics")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, feed) = get(&node, "/api/v1/events.ics").await;
    assert!(!feed.contains("BEGIN:VEVENT"), "{feed}");
    let (status, answer) = get_json(&node, "/api/v1/match?request=nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = get_json(&node, "/api/v1/match?request=a&offer=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, answer) = get_json(&node, "/api/v1/match?request=a&limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_files_read_with_an_independent_parser() {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/python");
    assert!(
        python.join("icalendar").is_dir(),
        "Python's icalendar is missing from target/python: run `bash tests/run.sh` (or `python3 -m pip install --target target/python icalendar==7.3.2`)"
    );
    let surabaya = Node::start("City of Surabaya", &["main"], &[]).await;
    let me = surabaya.publisher().to_string();
    let event = EVENT.replace("{surabaya}", &me).replace("{porto-alegre}", &me);
    surabaya.publish(&event).await;
    let webinar = "---\nslug: webinar\nkind: event\ntitle: \"Webinar; composting, step by step\"\ntype: webinar\nstart: 2027-01-15T10:00-03:00\nend: 2027-01-15T11:30-03:00\ntime_zone: America/Sao_Paulo\nonline: https://meet.example.org/w\nlanguages: [pt]\nstatus: scheduled\n---\n";
    surabaya.publish(webinar).await;
    // Its second revision cancels it: the same UID, a higher SEQUENCE.
    surabaya.publish(&webinar.replace("status: scheduled", "status: cancelled")).await;
    let directory = DataDir::empty();
    let (status, feed) = get(&surabaya, "/api/v1/events.ics").await;
    assert_eq!(status, StatusCode::OK);
    let (status, one) = get(&surabaya, &format!("/api/v1/events/{me}/webinar.ics")).await;
    assert_eq!(status, StatusCode::OK);
    let feed_file = directory.write("feed.ics", &feed);
    let one_file = directory.write("webinar.ics", &one);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ics_read.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&feed_file)
        .arg(&one_file)
        .env("PYTHONPATH", &python)
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read[0]["name"], "citymesh events (City of Surabaya)");
    let events = read[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{read}");
    let tour =
        events.iter().find(|event| event["uid"].as_str().unwrap().starts_with("composting-study-tour-2027@")).unwrap();
    assert_eq!(tour["summary"], "Study tour: neighbourhood composting in Surabaya");
    assert_eq!(tour["start"], "2027-03-10T02:00:00+00:00", "09:00 in Jakarta is 02:00 UTC");
    assert_eq!(tour["end"], "2027-03-12T10:00:00+00:00");
    assert_eq!(tour["status"], "CONFIRMED");
    assert_eq!(tour["location"], "Surabaya, City Hall, Indonesia");
    assert_eq!(tour["url"], "https://meet.example.org/surabaya-composting");
    assert!(tour["description"].as_str().unwrap().contains("Local time: 2027-03-10T09:00+07:00"), "{tour}");
    let webinar = &read[1]["events"][0];
    assert_eq!(webinar["summary"], "Webinar; composting, step by step", "escaped text reads back");
    assert_eq!(webinar["start"], "2027-01-15T13:00:00+00:00");
    assert_eq!(webinar["status"], "CANCELLED");
    assert_eq!(webinar["location"], "Online");
    assert_eq!(webinar["uid"], format!("webinar@{me}.citymesh"));
    assert_eq!(webinar["sequence"], 1);
    assert_eq!(tour["sequence"], 0);
    surabaya.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_pages_and_filters_many_requests() {
    let node = Node::start("City of Recife", &["main"], &[]).await;
    let envelopes = (0..31u8)
        .map(|index| {
            let key = citymesh::record::PublisherKey::from_seed([100 + index; 32]);
            let theme = if index % 2 == 0 { "housing" } else { "transport" };
            let record = another_request(&key, "help", &format!("Request number {index}"), theme, i64::from(index));
            to_hex(&record.envelope_bytes())
        })
        .collect();
    node.node().import(envelopes).await.unwrap();
    let (status, board) = get(&node, "/board").await;
    assert_eq!(status, StatusCode::OK);
    assert!(board.contains("31 needs and offers"), "{board}");
    assert!(board.contains("Request number 0") && !board.contains("Request number 30<"), "newest first, 30 a page");
    assert!(board.contains("href=\"/board?page=2\""), "{board}");
    let (_, second) = get(&node, "/board?page=2").await;
    assert!(second.contains("Request number 30") && second.contains("rel=\"prev\""), "{second}");
    let (_, housing) = get(&node, "/board?theme=housing").await;
    assert!(housing.contains("16 needs and offers") && !housing.contains("Request number 1<"), "{housing}");
    node.stop().await;
}
