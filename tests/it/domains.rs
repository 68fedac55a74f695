//! Binding an identity to the city's website: the identity names a domain, a local HTTPS server
//! with a test certificate (from a test certificate authority the node is told to trust) serves
//! `/.well-known/citymesh`, and the node shows the identity as domain verified only while the
//! file names the organisation's key. A domain that is not a name is refused and named.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use citymesh::organisation::Change;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTPS server for `localhost` on a free port, serving `file` at every path; answers the
/// port and the PEM of the certificate authority that signed its certificate.
fn https_server(file: Arc<Mutex<String>>) -> (u16, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate =
        CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &ca, &ca_key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(connection) = rustls::ServerConnection::new(Arc::clone(&config)) else { continue };
            let mut tls = rustls::StreamOwned::new(connection, stream);
            let mut reader = BufReader::new(&mut tls);
            let mut line = String::new();
            // The request's head, up to its blank line; a failed handshake ends it early.
            while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
                line.clear();
            }
            let body = file.lock().unwrap().clone();
            let answer =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = tls.write_all(answer.as_bytes()).and_then(|()| tls.flush());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, ca.pem())
}

fn check_of(view: &serde_json::Value) -> (Option<bool>, String) {
    let check = &view["domain_check"];
    (check["verified"].as_bool(), check["problem"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_marks_the_identity_domain_verified_only_while_the_website_serves_its_key() {
    let file = Arc::new(Mutex::new(String::new()));
    let (port, ca) = https_server(Arc::clone(&file));
    let scratch = tempfile::tempdir().unwrap();
    let ca_file = scratch.path().join("test-ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let settings = format!(
        "sync_interval_secs = 1\n[trust]\ndomain_ca_file = {:?}\ndomain_port = {port}\n",
        ca_file.display().to_string()
    );
    let a = Node::start_with("City A", &["main"], &[], "/ip4/127.0.0.1/tcp/0", &settings).await;
    *file.lock().unwrap() = format!("{}\n", a.publisher());

    // A domain that is not a name is refused and named; nothing is signed.
    let (status, answer) =
        crate::web::post_json(&a, "/api/v1/identity", r#"{"change": "set-domain", "domain": "surabaya go id!"}"#).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("is not a domain name"), "{answer}");

    a.node().change_identity(Change::SetDomain { domain: "LocalHost.".to_owned() }).await.unwrap();
    eventually("A checks its domain and finds its key", TIMEOUT, || async {
        check_of(&crate::web::get_json(&a, "/api/v1/identity").await.1).0 == Some(true)
    })
    .await;
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    assert_eq!(view["domain"], "localhost", "stored as a lowercase name");
    let (_, page) = crate::web::get(&a, "/identity").await;
    check_mentions(&page, &["Website: <strong>localhost</strong>, domain verified on"]);

    // The website now names another key: the next revision is checked again and not verified.
    *file.lock().unwrap() = format!("{}\n", "ab".repeat(32));
    let add = Change::AddOperator {
        key: citymesh::record::PublisherKey::from_seed([5; 32]).publisher().to_string(),
        label: "Dewi's laptop".to_owned(),
        scopes: Vec::new(),
        days: Some(30),
    };
    a.node().change_identity(add).await.unwrap();
    eventually("A checks again and finds another key", TIMEOUT, || async {
        check_of(&crate::web::get_json(&a, "/api/v1/identity").await.1).0 == Some(false)
    })
    .await;
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    assert!(check_of(&view).1.contains("names another key, not this organisation's"), "{view}");
    let (_, page) = crate::web::get(&a, "/identity").await;
    check_mentions(&page, &["Website: <strong>localhost</strong>, not verified (checked"]);
    a.stop().await;
}

#[test]
fn a_ca_file_that_holds_no_certificate_stops_the_node_with_the_setting_named() {
    let city = DataDir::initialised("City");
    let bad = city.write("not-a-ca.pem", "hello\n");
    let config = std::fs::read_to_string(city.path().join("config.toml")).unwrap();
    let config = config.replace("domain_ca_file = \"\"", &format!("domain_ca_file = {:?}", path_str(&bad)));
    std::fs::write(city.path().join("config.toml"), config).unwrap();
    let said = city.fails(&["run", "--listen", "/ip4/127.0.0.1/tcp/0"]);
    check_mentions(&said, &["trust.domain_ca_file", "holds no PEM certificate"]);
}
