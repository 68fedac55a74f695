//! What the web page shows a knowledge officer, through the node's router: notes rendered from
//! Markdown with nothing unsafe left, codes in plain words, a form that names every problem at
//! once and never loses a note, sign-in attempts limited, and the headers and error pages every
//! answer carries.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::harness::*;
use crate::web::{call, csrf_of, form, get, get_json};

/// Every real tag of a page (text is escaped, so each `<` opens one), lower-cased.
fn tags(page: &str) -> Vec<String> {
    page.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default().to_ascii_lowercase()).collect()
}

async fn signed_in(node: &Node) -> (String, String) {
    let token = node.node().token().to_owned();
    let (_, headers, _) = call(node, form("/signin", "", &[("token", &token), ("next", "/publish")])).await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (_, _, page) =
        call(node, Request::get("/publish").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    (cookie, csrf_of(&page))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_render_markdown_safely_and_codes_read_as_words() {
    let node = Node::start("Surabaya", &["main"], &[]).await;
    let hostile = example_with("slug: community-composting", "slug: hostile")
        .replace(
            "## Problem\n",
            "## Problem\n\n<script>alert(1)</script>\n\n[click me](javascript:alert(1))\n\n\
             <img src=x onerror=alert(2)>\n\n<div onclick=\"alert(3)\">raw</div>\n\n![pixel](https://tracker.example/p.png)\n\n",
        )
        .replace("## Approach\n", "## Approach\n\n- **first** step\n- [guide](https://example.org/guide)\n\n");
    node.publish(&hostile).await;
    let (status, page) = get(&node, "/notes/hostile").await;
    assert_eq!(status, StatusCode::OK);
    let main = &page[page.find("<main").unwrap()..page.find("</main>").unwrap()];
    for tag in tags(main) {
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default().to_owned();
        assert!(!["script", "img", "iframe", "style", "object"].contains(&name.as_str()), "<{tag}> in the page");
        assert!(!tag.contains("javascript:"), "<{tag}> in the page");
        assert!(!tag.split_whitespace().skip(1).any(|attribute| attribute.starts_with("on")), "<{tag}> in the page");
    }
    assert!(main.contains("&lt;script&gt;"), "raw HTML shows as the text it is");
    assert!(main.contains("<strong>first</strong> step"), "Markdown renders");
    assert!(main.contains(r#"href="https://example.org/guide""#), "safe links stay");
    // Paragraphs reflow: the summary's hard line breaks are one paragraph.
    assert!(main.contains(
        "<p>Each neighbourhood runs a small composting hub where households drop sorted kitchen and garden\nwaste."
    ));

    // Codes in words on the page; the JSON keeps the codes.
    for words in [
        "Solid waste",
        "Social inclusion",
        "Surabaya, Indonesia",
        "11.6 Sustainable cities and communities",
        "12.5 Responsible consumption and production",
        "English",
        "Creative Commons Attribution 4.0",
        "Ongoing",
        "(in kind support)",
    ] {
        assert!(main.contains(words), "{words:?} on the note page");
    }
    assert!(!main.contains("solid-waste,"), "no theme slugs");
    // Contacts: who, then the address as people write it.
    assert!(main.contains(
        r#"Head of the solid waste unit: <a href="mailto:waste-unit@example.org">waste-unit@example.org</a>"#
    ));
    // The publisher: name, key fingerprint.
    let key = node.publisher().to_string();
    let fingerprint = format!("{} {} {} {}", &key[0..4], &key[4..8], &key[8..12], &key[12..16]);
    assert!(main.contains(&fingerprint), "the key's fingerprint beside the name");
    // Indicators as cards on narrow screens: each cell says its column.
    assert!(main.contains(r#"<td data-label="Baseline">1500</td>"#));

    let (_, detail) = get_json(&node, "/api/v1/records/hostile").await;
    assert_eq!(detail["body"]["themes"][0], "solid-waste", "{detail}");
    assert_eq!(detail["body"]["location"]["country"], "ID");
    // Facets: codes as values, words as names; SDG targets by number.
    let (_, found) = get_json(&node, "/api/v1/search?q=").await;
    let themes = found["facets"]["theme"].as_array().unwrap();
    assert!(themes.iter().any(|value| value["value"] == "solid-waste" && value["name"] == "Solid waste"), "{found}");
    let sdgs: Vec<&str> =
        found["facets"]["sdg"].as_array().unwrap().iter().map(|v| v["value"].as_str().unwrap()).collect();
    assert_eq!(sdgs, ["11.6", "12.5"]);
    // The map shades the countries notes come from, drawn here as SVG.
    let (status, map) = get(&node, "/map").await;
    assert_eq!(status, StatusCode::OK);
    assert!(map.contains("<svg viewBox=\"0 0 720 300\""), "{map}");
    assert!(map.contains(r#"class="shade4"><title>Indonesia: 1 note</title>"#), "Indonesia holds the note");
    assert!(map.contains(r#"class="shade0"><title>Brazil: 0 notes</title>"#), "Brazil holds none");
    assert!(map.contains(r#"<a href="/notes?country=ID">Indonesia</a>"#), "the table beside it");
    let (_, browse) = get(&node, "/notes?country=ID").await;
    assert!(browse.contains("Country: Indonesia"), "the active filter in words");
    assert!(browse.contains("Water and sanitation") || browse.contains("Solid waste"), "facets in words");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_names_every_problem_at_once_and_never_loses_a_note() {
    let node = Node::start("Surabaya", &["main"], &[]).await;
    let (cookie, csrf) = signed_in(&node).await;
    // The form offers choices in words.
    let (_, _, page) =
        call(&node, Request::get("/publish").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert!(page.contains(r#"<option value="ID">Indonesia</option>"#), "countries by name");
    assert!(page.contains(r#"<option value="pt">Portuguese</option>"#), "languages by name");
    assert!(page.contains(r#"value="solid-waste"> Solid waste</label>"#), "themes by label");
    assert!(page.contains("Creative Commons Attribution 4.0"), "licences by name");

    // Several bad fields at once: every one in the summary at the top, linked to its input and
    // named as the form labels it.
    let fields = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "rain-gardens"),
        ("title", "Rain gardens"),
        ("summary", "Gardens that drink the rain."),
        ("status", "ongoing"),
        ("start_date", "May 2020"),
        ("location.country", "BR"),
        ("location.wikidata", "8678"),
        ("resources.budget", "lots"),
        ("location.latitude", "-25.4284"),
        ("contacts[0].role", "Engineer"),
        ("contacts[0].channel", "ftp://gardens.example"),
    ];
    let (status, _, page) = call(&node, form("/publish", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let summary = &page[page.find("error-summary").expect("an error summary")..page.find("<h1>").unwrap()];
    for (input, words) in [
        ("themes", "Themes"),
        ("start_date", "Started"),
        ("location.wikidata", "Wikidata id"),
        ("resources.budget", "Budget"),
        ("contacts[0].channel", "Contact 1, Address"),
    ] {
        assert!(summary.contains(&format!("href=\"#{input}\"")), "{input} linked from the summary: {summary}");
        assert!(summary.contains(words), "{words} named in the summary: {summary}");
    }
    assert!(summary.contains("Currency is required when a budget is given"), "{summary}");
    assert!(summary.contains("href=\"#location.longitude\">Longitude is required with a latitude"), "{summary}");
    assert!(summary.contains("are 7 problems"), "{summary}");
    assert!(!summary.contains(">location."), "no field paths in the messages: {summary}");
    assert!(page.contains("value=\"Rain gardens\""), "what was typed is kept");

    // A bare e-mail address gets its mailto:, as Markdown does.
    let good = [
        ("csrf", csrf.as_str()),
        ("base_revision", "0"),
        ("slug", "rain-gardens"),
        ("title", "Rain gardens"),
        ("summary", "Gardens that drink the rain."),
        ("themes", "climate-resilience"),
        ("status", "ongoing"),
        ("location.country", "BR"),
        ("contacts[0].role", "Engineer"),
        ("contacts[0].channel", "gardens@example.org"),
    ];
    // The form's value is stale (an old page): the note comes back filled in, nothing is signed.
    let mut stale = good.to_vec();
    stale[0] = ("csrf", "0123456789abcdef0123456789abcdef");
    let (status, _, page) = call(&node, form("/publish", &cookie, &stale)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("came from an earlier session") && page.contains("value=\"Rain gardens\""), "{page}");
    assert_eq!(csrf_of(&page), csrf, "the page carries this session's value, so sending it again works");
    // The session ended: the note comes back with a token input; sending it with the token
    // signs in and publishes.
    let (status, _, page) = call(&node, form("/publish", "", &good)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("name=\"token\"") && page.contains("value=\"Rain gardens\""), "{page}");
    let token = node.node().token().to_owned();
    let mut with_token = good.to_vec();
    with_token.push(("token", &token));
    let (status, headers, _) = call(&node, form("/publish", "", &with_token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::SET_COOKIE].to_str().unwrap().starts_with("citymesh_session="), "signed in too");
    let (_, detail) = get_json(&node, "/api/v1/records/rain-gardens").await;
    assert_eq!(detail["body"]["contacts"][0]["channel"], "mailto:gardens@example.org", "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_make_an_address_wait_then_the_right_one_works() {
    let node = Node::start("Surabaya", &["main"], &[]).await;
    let token = node.node().token().to_owned();
    for attempt in 1..=4 {
        let (status, _, page) = call(&node, form("/signin", "", &[("token", "wrong")])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(!page.contains("wait"), "the first four cost nothing: {page}");
    }
    let (status, _, page) = call(&node, form("/signin", "", &[("token", "wrong")])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("After 5 wrong tokens, wait 1 second"), "{page}");
    // Within the wait even the right token is refused, saying how long is left.
    let (status, _, page) = call(&node, form("/signin", "", &[("token", &token)])).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many wrong tokens were tried from this computer. Wait 1 second"), "{page}");
    // After the wait, the right token signs in.
    eventually("the right token works after the wait", Duration::from_secs(10), || async {
        call(&node, form("/signin", "", &[("token", &token)])).await.0 == StatusCode::SEE_OTHER
    })
    .await;
    // Signing in cleared the count: a wrong token is again free.
    let (_, _, page) = call(&node, form("/signin", "", &[("token", "wrong")])).await;
    assert!(!page.contains("wait"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_safety_headers_and_errors_fit_where_they_are() {
    let node = Node::start("Surabaya", &["main"], &[]).await;
    for path in ["/", "/notes", "/api/v1/status", "/static/style.css", "/no-such-page", "/api/v1/nope"] {
        let (_, headers, _) = call(&node, Request::get(path).body(Body::empty()).unwrap()).await;
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"), "{path}: {policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{path}");
    }
    let (status, headers, body) = call(&node, Request::get("/api/v1/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "not-found", "{body}");
    let (status, headers, body) = call(&node, Request::get("/api/v1/publish").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "method-not-allowed", "{body}");
    assert!(error["detail"].as_str().unwrap().contains("POST"), "{body} {headers:?}");
    assert!(headers[header::ALLOW].to_str().unwrap().contains("POST"));
    let (status, headers, body) = call(&node, Request::get("/no-such-page").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("<h1>Page not found</h1>") && body.contains("/no-such-page"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_not_keys_no_impersonation_and_hiding_with_an_undo() {
    // Two keys claim the name "Curitiba"; a third city adds one of them as a partner.
    let a = Node::start("Surabaya", &["main"], &[]).await;
    let real = Node::start("Curitiba", &["main"], &[a.address().await]).await;
    let copycat = Node::start("Curitiba", &["main"], &[a.address().await]).await;
    let real_note = real.publish(&example_with("slug: community-composting", "slug: bus-rapid-transit")).await;
    let fake_note = copycat.publish(&example_with("slug: community-composting", "slug: free-money")).await;
    eventually("A holds both cities' notes and profiles", Duration::from_secs(30), || async {
        a.holds(&real_note) && a.holds(&fake_note) && a.node().sharing_name(real.publisher()).await.len() == 1
    })
    .await;
    let (real_key, fake_key) = (real.publisher().to_string(), copycat.publisher().to_string());
    let fingerprint = |key: &str| format!("{} {} {} {}", &key[0..4], &key[4..8], &key[8..12], &key[12..16]);

    // Both are marked wherever their name shows, with their fingerprints.
    let (_, page) = get(&a, &format!("/notes/{real_note}")).await;
    assert!(page.contains("Same name, different key"), "{page}");
    assert!(page.contains(&fingerprint(&real_key)) && page.contains(&fingerprint(&fake_key)), "both fingerprints");
    let (_, found) = get_json(&a, "/api/v1/search?q=").await;
    let names: Vec<&str> =
        found["hits"].as_array().unwrap().iter().map(|hit| hit["publisher_name"].as_str().unwrap()).collect();
    assert!(names.contains(&format!("Curitiba (key {})", fingerprint(&real_key)).as_str()), "{names:?}");
    assert!(names.contains(&format!("Curitiba (key {})", fingerprint(&fake_key)).as_str()), "{names:?}");

    // A partner's local name wins over the name it claims.
    let code = real.node().invite(None).await.unwrap().code;
    a.node().add_partner(code, "Curitiba (the real one)".to_owned()).await.unwrap();
    let (_, found) = get_json(&a, &format!("/api/v1/search?publisher={real_key}")).await;
    assert_eq!(found["hits"][0]["publisher_name"], "Curitiba (the real one)", "{found}");
    let (_, partners) = get(&a, "/partners").await;
    assert!(partners.contains("Curitiba (the real one)") && partners.contains("calls itself Curitiba"), "{partners}");
    // Each partner links to its identity as this node holds it.
    let identity_link = format!("<a href=\"/identity?organisation={real_key}\">who signs for it</a>");
    assert!(partners.contains(&identity_link), "{partners}");
    let (status, identity) = get(&a, &format!("/identity?organisation={real_key}")).await;
    assert_eq!(status, 200);
    assert!(identity.contains("Curitiba (the real one)"), "{identity}");
    // A partner city with coordinates in its profile is a dot on the map.
    let changes = citymesh::author::ProfileChanges {
        country: Some("BR".to_owned()),
        latitude: Some("-25.4284".to_owned()),
        longitude: Some("-49.2733".to_owned()),
        ..Default::default()
    };
    real.node().set_profile(changes).await.unwrap();
    eventually("Curitiba is a dot on Surabaya's map", Duration::from_secs(30), || async {
        get(&a, "/map").await.1.contains("class=\"city\"><title>Curitiba (the real one) (partner)</title>")
    })
    .await;
    let (_, map) = get(&a, "/map").await;
    assert!(map.contains(r#"<circle cx="261.4534" cy="230.8568""#), "projected as the outlines are: {map}");
    // The partner graph, as a picture: a dashed line while the partnership is one-way.
    let (_, network) = get(&a, "/network").await;
    assert!(network.contains("class=\"one-way\"") && network.contains(">Curitiba (the real one)</text>"), "{network}");

    // The real Curitiba sees that Surabaya added it, and accepts from its home page.
    eventually("Curitiba holds Surabaya's partnership record", Duration::from_secs(30), || async {
        real.node().invitations().await.unwrap_or_default() == vec![a.publisher()]
    })
    .await;
    let (cookie, csrf) = signed_in(&real).await;
    let (_, _, home) =
        call(&real, Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert!(home.contains("Surabaya added you as a partner") && home.contains("action=\"/partners/accept\""), "{home}");
    let a_key = a.publisher().to_string();
    let fields = [("csrf", csrf.as_str()), ("publisher", a_key.as_str()), ("next", "/")];
    let (status, headers, _) = call(&real, form("/partners/accept", &cookie, &fields)).await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/?done=accepted"));
    assert!(real.node().invitations().await.unwrap().is_empty(), "answered");
    let partners = real.node().partners().await.unwrap().partners;
    assert!(partners.iter().any(|row| row.partner.publisher == a_key), "Surabaya is Curitiba's partner now");
    let (_, home) = get(&real, "/?done=accepted").await;
    assert!(home.contains("You are partners now"), "the notice");

    // Surabaya hides the copycat: kept, not shown; Hidden lists it with an undo that works.
    let (cookie, csrf) = signed_in(&a).await;
    let (_, _, note_page) = call(
        &a,
        Request::get(format!("/notes/{fake_note}")).header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(note_page.contains("Hide everything from"), "the note page offers hiding");
    let fields = [("csrf", csrf.as_str()), ("publisher", fake_key.as_str()), ("next", "/notes")];
    let (status, _, _) = call(&a, form("/hide", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, browse) = get(&a, "/notes").await;
    assert!(!browse.contains("free-money") && !browse.contains(&format!("/notes/{fake_note}")), "hidden from browse");
    assert!(browse.contains("Leaving out what you hid (1)"), "{browse}");
    assert!(a.holds(&fake_note), "kept");
    let (_, hidden) = get(&a, "/hidden").await;
    assert!(hidden.contains("Everything from Curitiba"), "{hidden}");
    let fields = [("csrf", csrf.as_str()), ("publisher", fake_key.as_str()), ("slug", "")];
    let (status, _, _) = call(&a, form("/unhide", &cookie, &fields)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, browse) = get(&a, "/notes").await;
    assert!(browse.contains(&format!("/notes/{fake_note}")), "shown again");

    // A fresh node with no partners says how to add one; the home page keeps the wider network apart.
    let (_, home) = get(&copycat, "/").await;
    assert!(home.contains("You have no partners yet") && home.contains("From the wider network"), "{home}");
    for node in [a, real, copycat] {
        node.stop().await;
    }
}
