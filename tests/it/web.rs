//! Search and the web page through the node's router without a server (`oneshot`): every
//! search filter, pages, each error status, the raw endpoint's bytes, signing in, forms that
//! name what is wrong, and writes refused without a session or from another site.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use citymesh::record::{Key, Kind};

use crate::harness::*;

/// Sends one request through the router; answers (status, headers, body text).
pub(crate) async fn call(node: &Node, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = node.router().oneshot(request).await.expect("the router answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("a body").to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) async fn get(node: &Node, path: &str) -> (StatusCode, String) {
    let (status, _, body) = call(node, Request::get(path).body(Body::empty()).unwrap()).await;
    (status, body)
}

pub(crate) async fn get_json(node: &Node, path: &str) -> (StatusCode, Value) {
    let (status, body) = get(node, path).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn slugs(results: &Value) -> Vec<String> {
    let mut slugs: Vec<String> =
        results["hits"].as_array().unwrap().iter().map(|hit| hit["slug"].as_str().unwrap().to_owned()).collect();
    slugs.sort();
    slugs
}

async fn three_notes(node: &Node) {
    let notes = [
        ("waste-hubs", "status: ongoing", "country: ID", "themes: [solid-waste, environment]", "language: en"),
        ("bus-lanes", "status: completed", "country: BR", "themes: [transport]", "language: pt-BR"),
        ("rain-gardens", "status: ongoing", "country: BR", "themes: [climate-resilience]", "language: en"),
    ];
    for (slug, status, country, themes, language) in notes {
        let text = example_with("slug: community-composting", &format!("slug: {slug}"))
            .replace("status: ongoing", status)
            .replace("country: ID", country)
            .replace("themes: [solid-waste, environment, social-inclusion]", themes)
            .replace("language: en", language)
            .replace("Neighbourhood composting hubs", &format!("Note {slug}"));
        node.publish(&text).await;
    }
    let text = example_with("slug: community-composting", "slug: cycle-paths")
        .replace("themes: [solid-waste, environment, social-inclusion]", "themes: [transport]")
        .replace("kitchen and garden", "bicycle parking and");
    node.publish(&text).await;
    node.withdraw("cycle-paths").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_pages_and_errors_through_the_router() {
    let node = Node::start("City A", &["main"], &[]).await;
    three_notes(&node).await;
    let publisher = node.publisher().to_string();

    // Words: every word must match; a withdrawn note is never found.
    let (status, found) = get_json(&node, "/api/v1/search?q=kitchen").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(slugs(&found), ["bus-lanes", "rain-gardens", "waste-hubs"]);
    assert!(found["hits"][0]["snippet_html"].as_str().unwrap().contains("<mark>kitchen</mark>"), "{found}");
    assert_eq!(found["hits"][0]["publisher_name"], "City A");
    let (_, bicycles) = get_json(&node, "/api/v1/search?q=bicycle").await;
    assert_eq!(bicycles["total"], 0, "the withdrawn note is gone: {bicycles}");

    for (query, expected) in [
        ("country=BR", vec!["bus-lanes", "rain-gardens"]),
        ("country=br&status=ongoing", vec!["rain-gardens"]),
        ("theme=transport", vec!["bus-lanes"]),
        ("theme=transport&theme=solid-waste", vec!["bus-lanes", "waste-hubs"]),
        ("sdg=11.6&status=completed", vec!["bus-lanes"]),
        ("language=pt-BR", vec!["bus-lanes"]),
        ("q=landfill&language=en", vec!["rain-gardens", "waste-hubs"]),
        (&format!("publisher={publisher}&theme=climate-resilience"), vec!["rain-gardens"]),
        ("q=nosuchword", vec![]),
    ] {
        let (status, results) = get_json(&node, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {results}");
        assert_eq!(slugs(&results), expected, "{query}");
        assert_eq!(results["total"], expected.len(), "{query}");
    }
    // Facet counts over every match.
    let (_, all) = get_json(&node, "/api/v1/search").await;
    let countries = &all["facets"]["country"];
    assert!(countries.as_array().unwrap().iter().any(|c| c["value"] == "BR" && c["count"] == 2), "{countries}");
    assert_eq!(all["facets"]["publisher"][0]["name"], "City A");

    // Pages: offset and limit, no overlap.
    let mut seen = Vec::new();
    for offset in 0..3 {
        let (_, page) = get_json(&node, &format!("/api/v1/search?limit=1&offset={offset}")).await;
        assert_eq!(page["total"], 3);
        seen.extend(slugs(&page));
    }
    seen.sort();
    assert_eq!(seen, ["bus-lanes", "rain-gardens", "waste-hubs"]);

    let long = "x".repeat(501);
    for (query, named) in [
        ("theme=tourism", "theme"),
        ("status=sleeping", "status"),
        ("sdg=18.1", "sdg"),
        ("country=XX", "country"),
        ("language=english!", "language"),
        ("publisher=abc", "publisher"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("offset=10001", "offset"),
        (&format!("q={long}"), "q is 501 characters"),
        ("colour=red", "parameters: q, theme"),
    ] {
        let (status, error) = get_json(&node, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {error}");
        assert_eq!(error["error"], "invalid");
        assert!(error["detail"].as_str().unwrap().contains(named), "{query}: {error}");
    }
    // Query syntax that cannot be parsed is searched as words, never an error.
    for text in ["title:", "%22unclosed", "((", "-", "a%20AND%20OR"] {
        let (status, _) = get_json(&node, &format!("/api/v1/search?q={text}")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_errors_and_raw_bytes_through_the_router() {
    let node = Node::start("City A", &["main"], &[]).await;
    let id = node.publish(EXAMPLE).await;

    // The raw endpoint: the exact stored bytes, which verify under the record rules and hash
    // to the record id.
    let (status, headers, _) =
        call(&node, Request::get(format!("/api/v1/records/{id}/raw")).body(Body::empty()).unwrap()).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "application/octet-stream"));
    let response = node
        .router()
        .oneshot(Request::get("/api/v1/records/community-composting/raw").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let record = citymesh::record::verify(&bytes, citymesh::author::now_ms()).expect("the raw bytes verify");
    assert_eq!(record.id(), id);
    assert_eq!(bytes.as_ref(), node.node().store().envelope(&id).unwrap().unwrap().as_slice());

    // Metrics count current keys by kind and the notes searchable.
    let (status, metrics) = get(&node, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "citymesh_keys{kind=\"practice\"} 1",
        "citymesh_keys{kind=\"profile\"} 1",
        "citymesh_notes 1",
        "citymesh_records 3",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    assert!(
        metrics.contains("citymesh_api_request_duration_seconds_count{route=\"/api/v1/records/{target}/raw\"} 2"),
        "{metrics}"
    );

    // 404, 400 and 401, each as JSON {error, detail}.
    let (status, missing) = get_json(&node, &format!("/api/v1/records/{}", "0".repeat(64))).await;
    assert_eq!((status, missing["error"].as_str()), (StatusCode::NOT_FOUND, Some("not-found")), "{missing}");
    let (status, bad) = get_json(&node, "/api/v1/records/Not%20A%20Slug").await;
    assert_eq!((status, bad["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid")), "{bad}");
    let (_, document) = get_json(&node, "/api/v1/openapi.json").await;
    assert!(document["paths"]["/api/v1/search"]["get"].is_object(), "search is documented");
    for (path, operations) in document["paths"].as_object().unwrap() {
        if operations.get("post").is_some() {
            let request = Request::post(path.as_str()).body(Body::from("{}")).unwrap();
            let (status, _, body) = call(&node, request).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "POST {path} without a token: {body}");
            let request = Request::post(path.as_str())
                .header(header::AUTHORIZATION, "Bearer wrong")
                .body(Body::from("{}"))
                .unwrap();
            assert_eq!(call(&node, request).await.0, StatusCode::UNAUTHORIZED, "POST {path} with a wrong token");
        }
    }
    let token = node.node().token().to_owned();
    let request = Request::post("/api/v1/publish")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from("not json"))
        .unwrap();
    let (status, _, body) = call(&node, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("markdown"), "names the expected shape: {body}");
    node.stop().await;
}

/// A JSON post with the node's API token.
pub(crate) async fn post_json(node: &Node, path: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", node.node().token()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let (status, _, body) = call(node, request).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A form post with a session cookie.
pub(crate) fn form(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

pub(crate) fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form value") + 19;
    page[start..start + 32].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_reads_without_signing_in_and_writes_only_with_a_session() {
    let node = Node::start("City A", &["main"], &[]).await;
    three_notes(&node).await;
    for path in
        ["/", "/notes", "/notes?q=kitchen&theme=transport", "/notes/bus-lanes", "/partners", "/network", "/signin"]
    {
        let (status, page) = get(&node, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(page.starts_with("<!doctype html>") && page.contains("<main id=\"main\""), "{path}");
    }
    // A note adapting another is listed on the other's page.
    let (_, bus_lanes) = get_json(&node, "/api/v1/records/bus-lanes").await;
    let adapted = example_with("slug: community-composting", "slug: bus-lanes-recife")
        .replace("Neighbourhood composting hubs", "Recife's bus lanes")
        .replace("---\n\n", &format!("based_on: {}\n---\n\n", bus_lanes["id"].as_str().unwrap()));
    node.publish(&adapted).await;
    let (_, note) = get(&node, "/notes/bus-lanes").await;
    assert!(note.contains("Signature verified"), "the mark");
    assert!(note.contains("Adapted by other notes") && note.contains("Recife&#39;s bus lanes"), "{note}");
    let (_, withdrawn) = get(&node, "/notes/cycle-paths").await;
    assert!(withdrawn.contains("class=\"withdrawn\"") && withdrawn.contains("replaced"), "the notice");
    let (status, _) = get(&node, "/notes/no-such-note").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, page) = get(&node, "/notes?theme=tourism").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("theme \"tourism\" is not allowed") || page.contains("theme &#34;tourism&#34; is not allowed"),
        "{page}"
    );

    // Writing needs a session: the form redirects to sign in; a post without one is refused.
    let (status, headers, _) = call(&node, Request::get("/publish").body(Body::empty()).unwrap()).await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/signin?next=/publish"));
    // A note posted without a session is not lost: the form comes back, filled in, asking for the token.
    let (status, _, page) = call(&node, form("/publish", "", &[("title", "Kept title"), ("slug", "kept")])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Sign in to send this note") && page.contains("value=\"Kept title\""), "{page}");
    let (status, _, page) = call(&node, form("/signin", "", &[("token", "wrong"), ("next", "/publish")])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("not this node&#39;s token") || page.contains("not this node's token"), "{page}");
    let token = node.node().token().to_owned();
    let (status, headers, _) =
        call(&node, form("/signin", "", &[("token", &token), ("next", "https://elsewhere.example/")])).await;
    assert_eq!(
        (status, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/"),
        "stays on the site"
    );
    let cookie_header = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Strict"), "{cookie_header}");
    assert!(!cookie_header.contains(&token), "the cookie does not carry the token");
    let cookie = cookie_header.split(';').next().unwrap().to_owned();

    let (_, _, page) =
        call(&node, Request::get("/publish").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    let csrf = csrf_of(&page);
    // A post from another site (no form value) is refused; nothing is signed.
    let own_note = |slug: &str| {
        let key = Key { publisher: node.publisher(), kind: Kind::Practice, slug: slug.to_owned() };
        node.node().store().history(&key).unwrap()
    };
    let (status, _, _) = call(&node, form("/publish", &cookie, &[("slug", "x"), ("title", "X")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(own_note("x").is_empty(), "nothing was signed");
    // Several problems at once, each beside its input; nothing is signed.
    let fields = [("csrf", csrf.as_str()), ("base_revision", "0"), ("slug", "Bad Slug"), ("summary", "Short.")];
    let (status, _, page) = call(&node, form("/publish", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for input in ["slug", "title", "status", "location.country", "themes"] {
        assert!(page.contains(&format!("id=\"{input}-error\"")), "an error beside {input}");
    }
    assert!(page.contains("value=\"Bad Slug\""), "what was typed is kept");
    // A record rule's complaint lands beside its input (the second contact row here).
    let fields = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "street-lights"),
        ("title", "Solar street lights"),
        ("summary", "Lights that charge by day."),
        ("themes", "energy"),
        ("status", "ongoing"),
        ("location.country", "KE"),
        ("contacts[0].role", ""),
        ("contacts[1].role", "Engineer"),
        ("contacts[1].channel", "ftp://lights.example"),
    ];
    let (status, _, page) = call(&node, form("/publish", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("id=\"contacts[0].channel-error\""), "the row as shown after empty rows are dropped");
    assert!(own_note("street-lights").is_empty(), "nothing was signed");
    // Fixed, it is signed and the browser is sent to the note.
    let mut fixed = fields.to_vec();
    fixed.retain(|(name, _)| *name != "contacts[1].channel");
    fixed.push(("contacts[1].channel", "https://lights.example"));
    let (status, headers, _) = call(&node, form("/publish", &cookie, &fixed)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/notes/") && location.ends_with("?saved=published"), "{location}");
    let (_, note) = get(&node, &location).await;
    assert!(note.contains("Solar street lights") && note.contains("Engineer"), "the note page shows it");
    // The same new-note form again: its short name is taken now, which the slug's error says.
    let mut again = fixed.clone();
    again.retain(|(name, _)| *name != "title");
    again.push(("title", "Solar lights"));
    let (status, _, page) = call(&node, form("/publish", &cookie, &again)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Short name is already the short name of your note"), "{page}");
    // An edit begun from revision 1 after another edit signed revision 2 is stale: a 409.
    let edit = |title: &'static str| {
        let mut edit = fixed.clone();
        edit.retain(|(name, _)| *name != "base_revision" && *name != "title");
        edit.extend([("base_revision", "1"), ("title", title)]);
        edit
    };
    let (status, _, _) = call(&node, form("/publish", &cookie, &edit("Solar lights"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "revision 2");
    let (status, _, page) = call(&node, form("/publish", &cookie, &edit("Street lights"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("it is now at revision 2"), "{page}");
    assert_eq!(own_note("street-lights").len(), 2, "nothing more was signed");
    // Withdraw through the page.
    let id = location.trim_start_matches("/notes/").trim_end_matches("?saved=published").to_owned();
    let (status, headers, _) =
        call(&node, form(&format!("/notes/{id}/withdraw"), &cookie, &[("csrf", &csrf), ("reason", "Moved to LED")]))
            .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&node, headers[header::LOCATION].to_str().unwrap()).await;
    assert!(page.contains("Moved to LED"), "the withdrawn notice");
    // An edit keeps what the form has no input for, and says so.
    let with_report = example_with("slug: community-composting", "slug: with-report").replace(
        "---\n\n",
        &format!(
            "attachments:\n  - sha256: {}\n    size: 12\n    name: report.pdf\n    media_type: application/pdf\n---\n\n",
            "01".repeat(32)
        ),
    );
    node.publish(&with_report).await;
    let (status, _, page) = call(
        &node,
        Request::get("/notes/with-report/edit").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Attachments: 1 kept as they are"), "{page}");
    let (_, _, page) =
        call(&node, Request::get("/notes/bus-lanes/edit").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
            .await;
    assert!(page.contains("Save revision") && !page.contains("kept as they are"), "nothing kept: {page}");
    // Adding a partner with a bad code names the problem on the page.
    let (status, _, page) =
        call(&node, form("/partners", &cookie, &[("csrf", &csrf), ("code", "citymesh1qqqq"), ("label", "")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"code-error\""), "{page}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_published_on_one_page_appears_on_the_others() {
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    eventually("A and B form their gossip mesh", std::time::Duration::from_secs(20), || async {
        a.mesh_peers().await == 1 && b.mesh_peers().await == 1
    })
    .await;
    let token = a.node().token().to_owned();
    let (_, headers, _) = call(&a, form("/signin", "", &[("token", &token), ("next", "/publish")])).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, _, page) =
        call(&a, Request::get("/publish").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    let fields = [
        ("csrf", csrf_of(&page)),
        ("base_revision", "0".to_owned()),
        ("slug", "flood-maps".to_owned()),
        ("title", "Community flood maps".to_owned()),
        ("summary", "Residents map where water stands after rain.".to_owned()),
        ("approach", "Volunteers walk the kampungs after every storm.".to_owned()),
        ("themes", "climate-resilience".to_owned()),
        ("status", "ongoing".to_owned()),
        ("location.country", "ID".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let (status, _, _) = call(&a, form("/publish", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    eventually("B's browse page finds A's note by a word of its body", std::time::Duration::from_secs(20), || async {
        get(&b, "/notes?q=kampungs").await.1.contains("Community flood maps")
    })
    .await;
    let (_, home) = get(&b, "/").await;
    assert!(home.contains("Community flood maps"), "B's home page lists it among the newest");
    a.stop().await;
    b.stop().await;
}
