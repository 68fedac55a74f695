//! The HTTP API of a running node: filtered, paginated listings, errors that name the bad
//! parameter, the token on every write, and the OpenAPI document.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// GET, answering (status, JSON body).
fn get(base: &str, path: &str) -> (u16, Value) {
    let mut response = http().get(format!("{base}{path}")).call().expect("the API answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["records"].as_array().unwrap().iter().map(|row| row["slug"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_filter_page_and_name_bad_parameters_and_writes_need_the_token() {
    let node = Node::start("City A", &["main"], &[]).await;
    let notes = [
        ("waste-hubs", "status: ongoing", "country: ID", "themes: [solid-waste, environment, social-inclusion]"),
        ("bus-lanes", "status: completed", "country: BR", "themes: [transport]"),
        ("rain-gardens", "status: ongoing", "country: BR", "themes: [climate-resilience, water-sanitation]"),
    ];
    for (slug, status, country, themes) in notes {
        let text = example_with("slug: community-composting", &format!("slug: {slug}"))
            .replace("status: ongoing", status)
            .replace("country: ID", country)
            .replace("themes: [solid-waste, environment, social-inclusion]", themes);
        let id = node.publish(&text).await;
        // Listings run newest first: give each note its own millisecond.
        let signed = node.node().store().get(&id).unwrap().unwrap().timestamp_ms();
        eventually("the clock passes the note's millisecond", Duration::from_secs(5), || async {
            citymesh::author::now_ms() > signed
        })
        .await;
    }
    let base = node.api_url();
    let (base, publisher, token) = (base.clone(), node.publisher().to_string(), node.node().token().to_owned());
    tokio::task::spawn_blocking(move || {
        // Pages of two, newest first, until next_cursor is null.
        let (status, first) = get(&base, "/api/v1/records?kind=practice&limit=2");
        assert_eq!(status, 200, "{first}");
        assert_eq!(ids(&first), ["rain-gardens", "bus-lanes"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let (_, second) = get(&base, &format!("/api/v1/records?kind=practice&limit=2&cursor={cursor}"));
        assert_eq!(ids(&second), ["waste-hubs"]);
        assert_eq!(second["next_cursor"], Value::Null);

        for (query, expected) in [
            ("country=BR", vec!["rain-gardens", "bus-lanes"]),
            ("country=br&status=ongoing", vec!["rain-gardens"]),
            ("theme=transport", vec!["bus-lanes"]),
            ("sdg=11.6&status=completed", vec!["bus-lanes"]),
            ("language=fr", vec![]),
            ("kind=profile", vec!["profile"]),
        ] {
            let (status, page) = get(&base, &format!("/api/v1/records?{query}"));
            assert_eq!((status, ids(&page)), (200, expected.iter().map(|s| s.to_string()).collect()), "{query}");
        }
        let (_, mine) = get(&base, &format!("/api/v1/records?publisher={publisher}"));
        // Three notes, the profile and the identity `init` made.
        assert_eq!(mine["records"].as_array().unwrap().len(), 5);

        for (query, named) in [
            ("theme=tourism", "theme"),
            ("status=sleeping", "status"),
            ("sdg=18.1", "sdg"),
            ("country=XX", "country"),
            ("kind=adoption", "kind"),
            ("publisher=abc", "publisher"),
            ("limit=0", "limit"),
            ("limit=5000", "limit"),
            ("cursor=yesterday", "cursor"),
            ("colour=red", "parameters: kind, publisher"),
        ] {
            let (status, error) = get(&base, &format!("/api/v1/records?{query}"));
            assert_eq!(status, 400, "{query}: {error}");
            assert_eq!(error["error"], "invalid");
            assert!(error["detail"].as_str().unwrap().contains(named), "{query}: {error}");
        }

        // Every write the OpenAPI document lists refuses a request without the token.
        let (status, document) = get(&base, "/api/v1/openapi.json");
        assert_eq!((status, document["openapi"].as_str()), (200, Some("3.1.0")));
        let mut writes = 0;
        for (path, operations) in document["paths"].as_object().unwrap() {
            if operations.get("post").is_some() {
                let response = http().post(format!("{base}{path}")).send_json(json!({})).unwrap();
                assert_eq!(response.status().as_u16(), 401, "POST {path} without a token");
                writes += 1;
            }
        }
        assert!(writes >= 10, "{writes} writes documented");

        // An edit names the revision it began from: a stale one is a 409, nothing signed.
        let post = |path: &str, body: Value| {
            let mut response = http()
                .post(format!("{base}{path}"))
                .header("Authorization", format!("Bearer {token}"))
                .send_json(body)
                .unwrap();
            (response.status().as_u16(), response.body_mut().read_json::<Value>().unwrap_or(Value::Null))
        };
        let note = example_with("slug: community-composting", "slug: street-lights");
        assert_eq!(post("/api/v1/publish", json!({"markdown": note, "base_revision": 0})).0, 201);
        let edited = note.replace("Neighbourhood composting hubs", "Solar street lights");
        let (status, stale) = post("/api/v1/publish", json!({"markdown": edited, "base_revision": 0}));
        assert_eq!((status, stale["error"].as_str()), (409, Some("conflict")), "{stale}");
        assert!(stale["detail"].as_str().unwrap().contains("revision 1, not 0"), "{stale}");
        let (status, fresh) = post("/api/v1/publish", json!({"markdown": edited, "base_revision": 1}));
        assert_eq!((status, fresh["revision"].as_u64()), (201, Some(2)), "{fresh}");
        // The history says what changed between revisions.
        let (_, detail) = get(&base, &format!("/api/v1/records/{}?history=true", fresh["id"].as_str().unwrap()));
        let history = detail["history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{detail}");
        assert_eq!(history[1]["changed"], json!(["title"]), "{detail}");
        assert!(history[0]["changed"].as_array().unwrap().len() > 5, "the first revision sets every field");
        // A body over the route's limit (2 MiB) is a JSON 413 like every other error. The node
        // answers as soon as it has read past the limit, and closes the connection: a client
        // still sending then has its writes cut off (broken pipe). So this client declares
        // 3 MiB, sends one byte more than the limit, and reads the answer.
        let address = base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "POST /api/v1/publish HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            3 << 20
        );
        std::io::Write::write_all(&mut stream, head.as_bytes()).unwrap();
        std::io::Write::write_all(&mut stream, &vec![b'x'; (2 << 20) + 1]).unwrap();
        // The answer, read until its JSON body is whole (the node may keep the connection open).
        let (mut answer, mut buffer) = (String::new(), [0u8; 4096]);
        let mut large = Value::Null;
        while large.is_null() {
            let read = std::io::Read::read(&mut stream, &mut buffer).unwrap();
            assert!(read > 0, "the connection ended before the answer did: {answer}");
            answer.push_str(&String::from_utf8_lossy(&buffer[..read]));
            let body = answer.split("\r\n\r\n").nth(1);
            large = body.and_then(|body| serde_json::from_str(body).ok()).unwrap_or(Value::Null);
        }
        let status_line = answer.lines().next().unwrap_or_default();
        assert!(status_line.starts_with("HTTP/1.1 413"), "{answer}");
        assert_eq!(large["error"].as_str(), Some("too-large"), "{answer}");
    })
    .await
    .unwrap();
    node.stop().await;
}
