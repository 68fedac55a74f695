//! The web page in a real browser: Debian's Chromium, driven over WebDriver by chromedriver
//! (both installed by `.ci/run`). A knowledge officer signs in, publishes a note through the
//! form, finds it by a word from its body and by a facet, opens it, asks other cities for
//! expertise and sees what matches; then every page, at 390 px and 1280 px, is checked by
//! axe-core (installed by `tests/run.sh`) at WCAG 2.1 AA and photographed (target/screenshots/).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C WebDriver name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long any one step may take to show its result.
const STEP: Duration = Duration::from_secs(20);

/// chromedriver, stopped when dropped.
struct Driver {
    process: Child,
    base: String,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    fn start() -> Driver {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (bash .ci/run does)"
            );
        }
        let port = free_port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let driver = Driver { process, base: format!("http://127.0.0.1:{port}"), agent };
        eventually_blocking("chromedriver is ready", STEP, || {
            driver.call("GET", "/status", None).is_ok_and(|status| status["ready"] == true)
        });
        driver
    }

    /// One WebDriver command; answers its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        };
        let mut response = response.map_err(|error| error.to_string())?;
        let status = response.status();
        let answer: Value = response.body_mut().read_json().map_err(|error| error.to_string())?;
        if status.is_success() { Ok(answer["value"].clone()) } else { Err(format!("{path}: {}", answer["value"])) }
    }

    fn session(&self, profile: &std::path::Path) -> Session<'_> {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1200,1600".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let created = self.call("POST", "/session", Some(capabilities)).expect("a browser session");
        Session { driver: self, id: created["sessionId"].as_str().expect("a session id").to_owned() }
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.call("DELETE", &format!("/session/{}", self.id), None);
    }
}

impl Session<'_> {
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.driver.call(method, &format!("/session/{}{path}", self.id), body).unwrap_or_else(|error| panic!("{error}"))
    }

    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None).as_str().unwrap_or_default().to_owned()
    }

    fn source(&self) -> String {
        self.command("GET", "/source", None).as_str().unwrap_or_default().to_owned()
    }

    /// The element the CSS selector finds, waiting for it to appear.
    fn find(&self, css: &str) -> String {
        let mut element = None;
        eventually_blocking(&format!("an element {css:?} is on the page"), STEP, || {
            let path = format!("/session/{}/element", self.id);
            let found = self.driver.call("POST", &path, Some(json!({"using": "css selector", "value": css})));
            element = found.ok().and_then(|found| found[ELEMENT].as_str().map(str::to_owned));
            element.is_some()
        });
        element.expect("checked above")
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/value"), Some(json!({"text": text})));
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/click"), Some(json!({})));
    }

    fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None).as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the page's address satisfies `condition`.
    fn wait_for_url(&self, what: &str, condition: impl Fn(&str) -> bool) -> String {
        let mut url = String::new();
        eventually_blocking(what, STEP, || {
            url = self.url();
            condition(&url)
        });
        url
    }

    /// What axe-core finds wrong on the page at WCAG 2.1 level AA: one line per rule broken,
    /// with the elements that break it.
    fn accessibility_violations(&self, axe: &str) -> Vec<String> {
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];
             axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +
                   v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));"
        );
        let found = self.command("POST", "/execute/async", Some(json!({"script": script, "args": []})));
        found.as_array().expect("a list").iter().map(|line| line.as_str().unwrap_or_default().to_owned()).collect()
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap()).expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knowledge_officer_publishes_finds_and_reads_a_note_in_a_real_browser() {
    let node = Node::start("Surabaya City", &["main"], &[]).await;
    node.publish(EXAMPLE).await;
    let held = another_city(&node).await;
    let (base, token) = (node.api_url(), node.node().token().to_owned());
    let profile = tempfile::tempdir().unwrap();
    // A first-run set-up page too, for a data directory that does not exist yet.
    let fresh = tempfile::tempdir().unwrap();
    let setup_address: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let stop_setup = tokio_util::sync::CancellationToken::new();
    let setup = tokio::spawn(citymesh::api::first_run(
        citymesh::datadir::DataDir::new(fresh.path().join("new")),
        setup_address,
        stop_setup.clone(),
    ));
    let shot = tokio::task::spawn_blocking(move || {
        let held = held;
        let driver = Driver::start();
        let browser = driver.session(profile.path());

        // Publishing asks for signing in first, then comes back to the form.
        browser.open(&format!("{base}/publish"));
        browser.wait_for_url("sent to sign in", |url| url.contains("/signin"));
        browser.type_into("#token", &token);
        browser.click("form.stack button[type=submit]");
        browser.wait_for_url("back at the form", |url| url.ends_with("/publish"));

        // A form with several mistakes lists every one at the top, each linked to its input and
        // shown beside it, keeping what was typed.
        browser.type_into("#slug", "rain-gardens");
        browser.type_into("#title", "Rain gardens along school routes");
        browser.type_into("#summary", "Schools and residents planted rain gardens that soak up flash floods.");
        browser.type_into("#approach", "Volunteers dug bioswales beside the pavements near every primary school.");
        browser.click("#status option[value=ongoing]");
        browser.type_into("#start_date", "May 2020");
        browser.click("form.note-form button[type=submit]");
        let summary = browser.text(".error-summary");
        for named in ["Themes", "Started: \"May 2020\"", "Country is required"] {
            assert!(summary.contains(named), "{named} in the summary: {summary}");
        }
        browser.click(".error-summary a[href='#start_date']");
        browser.wait_for_url("the summary's link goes to the input", |url| url.ends_with("#start_date"));
        assert!(browser.text("[id='start_date-error']").contains("May 2020"));
        let field = browser.find("#start_date");
        browser.command("POST", &format!("/element/{field}/clear"), Some(json!({})));
        browser.type_into("#start_date", "2020-05");
        browser.click("input[name=themes][value=climate-resilience]");
        browser.click("[id='location.country'] option[value=ID]");
        browser.click("form.note-form button[type=submit]");
        let note_url = browser.wait_for_url("the note page after publishing", |url| url.contains("?saved=published"));
        assert!(browser.text(".verified").contains("Signature verified"));

        // The session ends while a note is being typed: sending it brings the note back with a
        // token box, nothing lost; the token signs in and sends it.
        browser.open(&format!("{base}/publish"));
        browser.type_into("#slug", "market-stalls");
        browser.type_into("#title", "Covered market stalls");
        browser.command("DELETE", "/cookie", None);
        browser.click("form.note-form button[type=submit]");
        assert!(browser.text(".signin-again").contains("Sign in to send this note"));
        let kept = browser.find("#title");
        let value = browser.command("GET", &format!("/element/{kept}/property/value"), None);
        assert_eq!(value, json!("Covered market stalls"), "the typed note is kept");
        browser.type_into("#token", &token);
        browser.click("form.note-form button[type=submit]");
        assert!(browser.text(".error-summary").contains("Themes"), "signed in, the form's own problems follow");
        assert!(browser.source().contains("Sign out"), "the token signed the browser in");

        // Found by a word from its body, through the search form.
        browser.click("nav a[href='/notes']");
        browser.type_into("#q", "bioswales");
        browser.click("form.search button[type=submit]");
        browser.wait_for_url("search results", |url| url.contains("q=bioswales"));
        assert!(browser.text("#results").starts_with("1 note matches"), "{}", browser.text("#results"));
        assert!(browser.source().contains("<mark>bioswales</mark>"), "the word is highlighted");

        // And by a facet: all notes, then the climate-resilience theme.
        browser.open(&format!("{base}/notes"));
        browser.click("aside a[href*='theme=climate-resilience']");
        browser.wait_for_url("filtered by theme", |url| url.contains("theme=climate-resilience"));
        assert_eq!(browser.text("#results"), "1 note", "{}", browser.text("#results"));
        browser.click("ol.notes h3 a");
        let opened = browser.wait_for_url("the note opened from the results", |url| url.contains("/notes/"));
        assert_eq!(opened, note_url.split('?').next().unwrap());
        assert!(browser.text("h1").contains("Rain gardens along school routes"));
        assert!(browser.text("#history").contains("Revision history"));
        let shot = browser.screenshot("note-page.png");

        // Asking for expertise from the board: the request's page shows the other city's offer
        // that matches it, with its reasons, and the match leads to the offer.
        browser.open(&format!("{base}/board"));
        browser.click("main a[href='/new/request']");
        browser.wait_for_url("the request form", |url| url.ends_with("/new/request"));
        browser.type_into("#slug", "composting-help");
        browser.type_into("#title", "Help us start composting hubs");
        browser.type_into("#need", "Half of our waste is organic; we want neighbourhood hubs.");
        browser.click("input[name=themes][value=solid-waste]");
        browser.click("input[name=formats][value=study-visit]");
        let languages = browser.find("#languages");
        browser.command("POST", &format!("/element/{languages}/clear"), Some(json!({})));
        browser.type_into("#languages", "pt, en");
        browser.click("form.note-form button[type=submit]");
        let request_url =
            browser.wait_for_url("the request's page", |url| url.contains("/requests/") && url.contains("saved=published"));
        let matches = browser.text(".matches");
        assert!(matches.contains("Composting advice and study visits"), "{matches}");
        assert!(matches.contains("both work in English") && matches.contains("same themes: Solid waste"), "{matches}");
        browser.click(".matches ol.notes h4 a");
        browser.wait_for_url("the matching offer", |url| url.contains("/offers/"));
        assert!(browser.text("h1").contains("Composting advice and study visits"));
        // Another city names this one in a transfer: its page offers to confirm it.
        browser.open(&format!("{base}{}", held.engagement));
        assert!(browser.text("main").contains("Confirm: publish your side"), "{}", browser.text("main"));
        let request_path = request_url.replace(&base, "");
        let request_path = request_path.split('?').next().unwrap().to_owned();

        // Every page, on a phone's width and a desktop's: it fits without sideways scrolling,
        // axe-core finds nothing below WCAG 2.1 AA, and it is photographed.
        let axe_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe_path)
            .unwrap_or_else(|_| panic!("{} is missing: tests/run.sh installs axe-core", axe_path.display()));
        let note_path = opened.replace(&base, "");
        let pages = [
            ("home", "/"),
            ("browse", "/notes"),
            ("search", "/notes?q=bioswales&theme=climate-resilience"),
            ("note", note_path.as_str()),
            ("example-note", "/notes/community-composting"),
            ("publish", "/publish"),
            ("partners", "/partners"),
            ("network", "/network"),
            ("identity", "/identity"),
            ("map", "/map"),
            ("hidden", "/hidden"),
            ("not-found", "/no-such-page"),
            ("board", "/board"),
            ("events", "/events"),
            ("request", request_path.as_str()),
            ("offer", held.offer.as_str()),
            ("event", held.event.as_str()),
            ("engagement", held.engagement.as_str()),
            ("new-request", "/new/request"),
            ("new-engagement", "/new/engagement"),
        ];
        let mut violations = Vec::new();
        for (width, height, device) in [(390, 844, "phone"), (1280, 900, "desktop")] {
            browser.command("POST", "/window/rect", Some(json!({"width": width, "height": height})));
            for (name, path) in pages {
                browser.open(&format!("{base}{path}"));
                let fits = browser.command(
                    "POST",
                    "/execute/sync",
                    Some(json!({"script": "return document.documentElement.scrollWidth <= window.innerWidth;", "args": []})),
                );
                assert_eq!(fits, json!(true), "{path} scrolls sideways at {width} px");
                violations.extend(
                    browser.accessibility_violations(&axe).into_iter().map(|line| format!("{path} at {width} px: {line}")),
                );
                browser.screenshot(&format!("{name}-{device}.png"));
            }
        }
        // The form with its problems listed, as a phone shows it.
        browser.command("POST", "/window/rect", Some(json!({"width": 390, "height": 844})));
        browser.open(&format!("{base}/publish"));
        browser.click("form.note-form button[type=submit]");
        browser.find(".error-summary");
        violations.extend(browser.accessibility_violations(&axe).into_iter().map(|line| format!("form errors: {line}")));
        browser.screenshot("publish-errors-phone.png");
        // On a phone, the filters wait behind a button above the results.
        browser.open(&format!("{base}/notes"));
        let shown = |css: &str| {
            let script = format!("return getComputedStyle(document.querySelector({css:?})).display !== 'none';");
            browser.command("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
        };
        assert_eq!(shown(".browse aside"), json!(false), "filters hidden at first");
        browser.click("label.filters-button");
        assert_eq!(shown(".browse aside"), json!(true), "the button shows them");
        // The invite code's copy button appears: the page's one script runs under its policy.
        browser.open(&format!("{base}/partners"));
        assert_eq!(shown("button[data-copy]"), json!(true), "the copy button is shown");
        // The first-run set-up page, with its problems listed.
        browser.open(&format!("http://{setup_address}/"));
        violations.extend(browser.accessibility_violations(&axe).into_iter().map(|line| format!("set-up: {line}")));
        browser.screenshot("setup-phone.png");
        browser.click("form.stack button[type=submit]");
        browser.find(".error-summary");
        violations.extend(browser.accessibility_violations(&axe).into_iter().map(|line| format!("set-up errors: {line}")));
        // Signing in, signed out.
        browser.command("DELETE", "/cookie", None);
        browser.open(&format!("{base}/signin"));
        violations.extend(browser.accessibility_violations(&axe).into_iter().map(|line| format!("/signin: {line}")));
        browser.screenshot("signin-phone.png");
        assert!(violations.is_empty(), "accessibility violations:\n{}", violations.join("\n"));
        shot
    })
    .await
    .unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a real picture of the page");
    stop_setup.cancel();
    assert_eq!(setup.await.unwrap().unwrap(), None, "stopped before anything was set up");
    node.stop().await;
}

/// The pages of what another city published, as this node holds them.
struct Held {
    offer: String,
    event: String,
    engagement: String,
}

/// Another city's profile, offer, event and engagement (with this node's publisher, for its
/// composting note), imported as if a partner had sent them.
async fn another_city(node: &Node) -> Held {
    use citymesh::record::{Body, Draft, Kind, PublisherKey, sign, to_hex};
    use citymesh::wire::{Engagement, Event, Offer, Place, Profile, Ref, Stage};
    let key = PublisherKey::from_seed([77; 32]);
    let now = citymesh::author::now_ms();
    let sign_as = |kind: Kind, slug: &str, body: Body| {
        sign(&key, Draft { kind, slug: slug.to_owned(), revision: 1, timestamp_ms: now, body }).unwrap()
    };
    let texts = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect::<Vec<_>>();
    let profile = Profile {
        name: "City of Pune".into(),
        organisation_type: "local-government".into(),
        place: Some(Place { country: "IN".into(), name: "Pune".into(), ..Place::default() }),
        languages: texts(&["en", "mr"]),
        ..Profile::default()
    };
    let offer = Offer {
        title: "Composting advice and study visits".into(),
        summary: "Pune's waste pickers' cooperative runs decentralised composting; we host visits.".into(),
        themes: texts(&["solid-waste"]),
        formats: texts(&["study-visit", "remote-advice"]),
        languages: texts(&["en"]),
        status: "open".into(),
        ..Offer::default()
    };
    let event = Event {
        title: "Webinar: composting with waste pickers".into(),
        event_type: "webinar".into(),
        start: "2027-02-03T15:00+05:30".into(),
        end: "2027-02-03T16:30+05:30".into(),
        time_zone: "Asia/Kolkata".into(),
        online_url: "https://meet.example.org/pune".into(),
        languages: texts(&["en"]),
        status: "scheduled".into(),
        ..Event::default()
    };
    let engagement = Engagement {
        counterpart: node.publisher().0.to_vec(),
        role: "recipient".into(),
        practice: Some(Ref { publisher: node.publisher().0.to_vec(), slug: "community-composting".into() }),
        stages: vec![
            Stage { stage: "exploring".into(), date: "2026-10".into() },
            Stage { stage: "learning".into(), date: "2026-11".into() },
        ],
        ..Engagement::default()
    };
    let records = [
        sign_as(Kind::Profile, "profile", Body::Profile(profile)),
        sign_as(Kind::Offer, "composting-advice", Body::Offer(offer)),
        sign_as(Kind::Event, "pune-webinar", Body::Event(event)),
        sign_as(Kind::Engagement, "composting-from-surabaya", Body::Engagement(engagement)),
    ];
    let results =
        node.node().import(records.iter().map(|record| to_hex(&record.envelope_bytes())).collect()).await.unwrap();
    assert_eq!(results.len(), 4);
    Held {
        offer: format!("/offers/{}", records[1].id()),
        event: format!("/events/{}", records[2].id()),
        engagement: format!("/engagements/{}", records[3].id()),
    }
}
