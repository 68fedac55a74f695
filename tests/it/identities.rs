//! Organisation identities through the command line: records signed by operators are imported
//! only as their organisation's log allows, and a key marked compromised loses, at a node that
//! held them, the records it signed from then on. The records are the spec's identity vectors.

use std::fs;
use std::path::PathBuf;

use crate::harness::*;

fn vector(name: &str) -> (String, Vec<u8>) {
    let file: serde_json::Value = serde_json::from_str(include_str!("../../proto/test-vectors.json")).unwrap();
    let vector = file["vectors"].as_array().unwrap().iter().find(|vector| vector["name"] == name).unwrap();
    let hex = vector["envelope_hex"].as_str().unwrap();
    let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    (vector["id"].as_str().unwrap().to_owned(), bytes)
}

/// A directory holding these vectors as record files, named after the vectors.
fn files(city: &DataDir, directory: &str, names: &[&str]) -> PathBuf {
    let dir = city.scratch(directory);
    fs::create_dir_all(&dir).unwrap();
    for name in names {
        fs::write(dir.join(format!("{name}.cmr")), vector(name).1).unwrap();
    }
    dir
}

fn held(city: &DataDir, name: &str) -> bool {
    city.run(&["show", &vector(name).0, "--json"]).status.success()
}

#[test]
fn import_follows_the_identity_log_and_a_compromise_purges_what_the_key_signed_after() {
    let city = DataDir::empty();
    // Without the organisation's identity, an operator's record waits (not the file's fault).
    let early = files(&city, "early", &["identity-request-by-operator"]);
    check_mentions(&city.fails(&["import", path_str(&early)]), &["rule identity-missing"]);
    assert!(!held(&city, "identity-request-by-operator"));

    city.ok(&["import", path_str(&files(&city, "founding", &["identity-founding"]))]);
    let records = files(
        &city,
        "records",
        &[
            "identity-request-by-operator",
            "identity-request-after-compromise",
            "identity-offer-out-of-scope",
            "identity-request-by-stranger",
        ],
    );
    check_mentions(
        &city.fails(&["import", path_str(&records)]),
        &[
            "rejected identity-offer-out-of-scope.cmr: rule operator-scope",
            "rejected identity-request-by-stranger.cmr: rule operator:",
            "2 new records",
            "2 rejected",
        ],
    );
    assert!(held(&city, "identity-request-by-operator"));
    assert!(held(&city, "identity-request-after-compromise"));

    // Revision 2 marks operator 01 compromised six days before the vectors' clock: its record
    // from after that goes, its earlier one stays, and the later one is refused if offered again.
    let rotation = files(&city, "rotation", &["identity-rotation-one-signature", "identity-rotation"]);
    check_mentions(
        &city.fails(&["import", path_str(&rotation)]),
        &["rejected identity-rotation-one-signature.cmr: rule identity-threshold", "1 new record"],
    );
    assert!(held(&city, "identity-request-by-operator"));
    assert!(!held(&city, "identity-request-after-compromise"));
    check_mentions(&city.fails(&["import", path_str(&records)]), &["rule operator-revoked"]);
    assert!(!held(&city, "identity-request-after-compromise"));
}

fn args(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

fn publisher_of(data: &DataDir) -> String {
    let status: serde_json::Value = serde_json::from_str(&data.ok(&["status", "--json"])).unwrap();
    status["publisher"].as_str().expect("an initialised directory has a publisher").to_owned()
}

fn identity(data: &DataDir) -> serde_json::Value {
    serde_json::from_str(&data.ok(&["identity", "show", "--json"])).unwrap()
}

#[test]
fn an_officer_adds_renews_and_removes_an_operator_and_bad_requests_are_named() {
    let city = DataDir::legacy("City of Surabaya");
    let own = publisher_of(&city);
    check_mentions(&city.ok(&["identity", "show"]), &["No identity log yet", &own]);
    assert_eq!(identity(&city)["state"], "none");
    let laptop = publisher_of(&DataDir::initialised("Dewi's laptop"));

    let add = ["identity", "add-operator", &laptop, "--label", "Dewi's laptop", "--scopes", "practice,request"];
    city.ok(&[&add[..], &["--days", "30"]].concat());
    let shown = identity(&city);
    assert_eq!((shown["state"].as_str(), shown["revision"].as_u64()), (Some("active"), Some(1)));
    assert_eq!(shown["governance"], serde_json::json!([own]));
    let operators = shown["operators"].as_array().unwrap();
    assert_eq!(operators.len(), 2, "{shown}");
    assert_eq!(operators[1]["key"], laptop.as_str());
    assert_eq!(operators[1]["scopes"], serde_json::json!(["practice", "request"]));
    // The city's own key still signs everything, so publishing goes on as before.
    city.publish(EXAMPLE);

    // Each bad request is named, and nothing is signed.
    let stranger = "11".repeat(32);
    for (args, expected) in [
        (vec!["add-operator", "not-a-key", "--label", "x"], "is not a key"),
        (vec!["add-operator", &laptop, "--label", "again"], "is already an operator"),
        (vec!["add-operator", &own[..63], "--label", "short"], "is not a key"),
        (vec!["renew", &stranger, "--days", "30"], "is not an operator"),
        (vec!["add-operator", &stranger, "--label", "x", "--scopes", "identity"], "is not a kind an operator signs"),
        (vec!["add-operator", &stranger, "--label", " "], "a label says who or what holds the key"),
        (vec!["renew", &laptop, "--days", "500"], "500 days is not allowed"),
        (vec!["remove-operator", &laptop, "--reason", "lost"], "is not a reason"),
        (vec!["remove-operator", &own, "--reason", "retired"], "cannot remove itself"),
    ] {
        check_mentions(&city.fails(&[&["identity"][..], &args].concat()), &[expected]);
    }
    assert_eq!(identity(&city)["revision"], 1);

    city.ok(&["identity", "renew", &laptop, "--days", "90"]);
    city.ok(&["identity", "remove-operator", &laptop, "--reason", "compromised"]);
    let shown = identity(&city);
    assert_eq!(shown["revision"], 3);
    assert_eq!(shown["operators"].as_array().unwrap().len(), 1);
    assert_eq!(shown["revoked"][0]["key"], laptop.as_str());
    assert_eq!(shown["revoked"][0]["reason"], "compromised");
    assert_eq!(shown["history"].as_array().unwrap().len(), 3);
    check_mentions(&city.ok(&["identity", "show"]), &["Revision 3", "compromised from", "Dewi's laptop"]);

    // A partner's node that imports everything gets the same identity.
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let partner = DataDir::empty();
    partner.ok(&["import", path_str(&export)]);
    let head = identity(&city)["history"][2]["id"].as_str().unwrap().to_owned();
    assert!(partner.run(&["show", &head, "--json"]).status.success());
}

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

fn draft(slug: &str) -> citymesh::record::Draft {
    citymesh::record::Draft {
        kind: citymesh::record::Kind::Practice,
        slug: slug.to_owned(),
        revision: 1,
        timestamp_ms: citymesh::author::now_ms(),
        body: citymesh::record::Body::Practice(example_practice()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_note_crosses_the_network_and_its_compromise_purges_it_everywhere() {
    use citymesh::archive::ImportResult;
    use citymesh::organisation::Change;
    use citymesh::record::{PublisherKey, sign_for, to_hex};
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    eventually("A and B form their gossip mesh", TIMEOUT, || async {
        a.mesh_peers().await == 1 && b.mesh_peers().await == 1
    })
    .await;
    // A lets a laptop sign for it; the revision reaches B by gossip.
    let laptop = PublisherKey::from_seed([42; 32]);
    let add = Change::AddOperator {
        key: laptop.publisher().to_string(),
        label: "Dewi's laptop".to_owned(),
        scopes: Vec::new(),
        days: Some(30),
    };
    let revision = a.node().change_identity(add).await.unwrap().record().clone();
    eventually("B holds A's identity", TIMEOUT, || async { b.holds(&revision.id()) }).await;

    // The laptop signs a note for A; handed to A, it is gossiped to B, which accepts it.
    let note = sign_for(a.publisher(), &laptop, draft("laptop-note")).unwrap();
    let results = a.node().import(vec![to_hex(&note.envelope_bytes())]).await.unwrap();
    assert!(matches!(results[0], ImportResult::Stored { .. }), "{results:?}");
    eventually("B stores the laptop's note", TIMEOUT, || async { b.holds(&note.id()) }).await;
    // A stranger's key signing for A is refused, and named.
    let forged = sign_for(a.publisher(), &PublisherKey::from_seed([43; 32]), draft("forged-note")).unwrap();
    let results = b.node().import(vec![to_hex(&forged.envelope_bytes())]).await.unwrap();
    assert!(matches!(&results[0], ImportResult::Rejected { rule, .. } if rule == "operator"), "{results:?}");
    assert!(!b.holds(&forged.id()));

    // The laptop is stolen: compromised from before it signed the note. Both nodes drop it.
    let since_ms = Some(note.timestamp_ms() - 1000);
    let remove = Change::RemoveOperator { key: laptop.publisher().to_string(), reason: "compromised".into(), since_ms };
    let revoked = a.node().change_identity(remove).await.unwrap().record().clone();
    eventually("A and B drop the stolen laptop's note", TIMEOUT, || async {
        b.holds(&revoked.id()) && !a.holds(&note.id()) && !b.holds(&note.id())
    })
    .await;
    // Both nodes' identity pages and APIs say what happened.
    let (status, page) = crate::web::get(&a, "/identity").await;
    assert_eq!(status, 200);
    check_mentions(
        &page,
        &["Revoked keys", "Dewi&#39;s laptop", "compromised: what it signed from then on was removed"],
    );
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    // Revision 1 is the one `init` made; 2 added the laptop, 3 revoked it.
    assert_eq!((view["revision"].as_u64(), view["revoked"][0]["reason"].as_str()), (Some(3), Some("compromised")));
    let (_, page) = crate::web::get(&b, "/identity").await;
    check_mentions(&page, &["Your organisation's identity", "A recovery key is kept offline", "Revision 1,"]);
    let later = sign_for(a.publisher(), &laptop, draft("after-the-theft")).unwrap();
    let results = b.node().import(vec![to_hex(&later.envelope_bytes())]).await.unwrap();
    assert!(matches!(&results[0], ImportResult::Rejected { rule, .. } if rule == "operator-revoked"), "{results:?}");
    for node in [a, b] {
        node.stop().await;
    }
}

#[test]
fn three_officials_two_of_whom_sign_govern_the_identity_by_passing_a_file() {
    let city = DataDir::legacy("City of Surabaya");
    let own = publisher_of(&city);
    let key_file = |name: &str| city.scratch(name);
    let official = |name: &str| city.ok(&["identity", "new-key", path_str(&key_file(name))]).trim().to_owned();
    let (second, third) = (official("second.key"), official("third.key"));
    check_mentions(&city.fails(&["identity", "new-key", path_str(&key_file("second.key"))]), &["cannot create"]);

    // The first revision must list the city's key first; then two of three must sign.
    let governance = format!("{second},{own},{third}");
    let wrong = ["identity", "rotate", "--governance", &governance, "--threshold", "2"];
    check_mentions(&city.fails(&wrong), &["lists the organisation's own key first"]);
    let file = city.scratch("revision-1.cmr");
    let governance = format!("{own},{second},{third}");
    // Two of the three by default: a majority.
    let rotate = ["identity", "rotate", "--governance", &governance, "--out", path_str(&file)];
    let output = city.run(&rotate);
    assert!(output.status.success(), "{output:?}");
    check_mentions(&String::from_utf8_lossy(&output.stderr), &["needs 2 governance signatures and has 1"]);
    assert_eq!(identity(&city)["state"], "none", "nothing is in force before the threshold signs");
    check_mentions(&city.fails(&["identity", "submit", path_str(&file)]), &["rule identity-threshold"]);

    // The second official signs on their machine; the file then goes back to the node.
    check_mentions(
        &city.fails(&["identity", "sign", path_str(&file), "--key", path_str(&file)]),
        &["is not a citymesh key file"],
    );
    let signer = city.ok(&["identity", "sign", path_str(&file), "--key", path_str(&key_file("second.key"))]);
    assert_eq!(signer.trim(), second);
    city.ok(&["identity", "submit", path_str(&file)]);
    let shown = identity(&city);
    assert_eq!((shown["revision"].as_u64(), shown["threshold"].as_u64()), (Some(1), Some(2)), "{shown}");
    assert_eq!(shown["governance"], serde_json::json!([own, second, third]));
    assert_eq!(shown["history"][0]["signers"], serde_json::json!([own, second]));

    // Every later change needs two of them too: here the node's key and the third official's.
    let laptop = "33".repeat(32);
    let file = city.scratch("revision-2.cmr");
    city.ok(&["identity", "add-operator", &laptop, "--label", "Dewi's laptop", "--out", path_str(&file)]);
    assert_eq!(identity(&city)["revision"], 1);
    city.ok(&["identity", "sign", path_str(&file), "--key", path_str(&key_file("third.key"))]);
    city.ok(&["identity", "submit", path_str(&file)]);
    let shown = identity(&city);
    assert_eq!(shown["revision"], 2);
    assert!(shown["operators"].as_array().unwrap().iter().any(|operator| operator["key"] == laptop.as_str()));
    // Officials at one machine sign together; a bad key file signs nothing.
    let file = city.scratch("revision-3.cmr");
    city.ok(&["identity", "renew", &laptop, "--days", "60", "--out", path_str(&file)]);
    let (second_key, third_key) = (key_file("second.key"), key_file("third.key"));
    let (second_key, third_key) = (path_str(&second_key), path_str(&third_key));
    check_mentions(
        &city.fails(&["identity", "cosign", path_str(&file), "--key", second_key, "--key", path_str(&file)]),
        &["is not a citymesh key file"],
    );
    let signers = city.ok(&["identity", "cosign", path_str(&file), "--key", second_key, "--key", third_key]);
    assert_eq!(signers.lines().collect::<Vec<_>>(), [second.as_str(), third.as_str()]);
    city.ok(&["identity", "submit", path_str(&file)]);
    assert_eq!(identity(&city)["history"][2]["signers"], serde_json::json!([own, second, third]));
    // The city still publishes with its own key, an operator for every kind.
    city.publish(EXAMPLE);
    // A note file is not an identity revision.
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let note = fs::read_dir(&export)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            fs::read(path).is_ok_and(|bytes| {
                citymesh::record::verify(&bytes, i64::MAX / 2)
                    .is_ok_and(|r| r.kind() == citymesh::record::Kind::Practice)
            })
        })
        .unwrap();
    check_mentions(
        &city.fails(&["identity", "sign", path_str(&note), "--key", path_str(&key_file("third.key"))]),
        &["not an identity revision"],
    );
}

/// A note for `organisation` of `kind` signed by `signer`.
fn operated(
    organisation: &citymesh::record::PublisherKey,
    signer: &citymesh::record::PublisherKey,
    kind: &str,
    slug: &str,
) -> Vec<u8> {
    use citymesh::record::{Body, Draft, Kind, sign_for};
    let kind: Kind = kind.parse().unwrap();
    let body = match kind {
        Kind::Practice => Body::Practice(example_practice()),
        _ => unreachable!("only notes here"),
    };
    let draft = Draft { kind, slug: slug.to_owned(), revision: 1, timestamp_ms: citymesh::author::now_ms(), body };
    sign_for(organisation.publisher(), signer, draft).unwrap().envelope_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_rejects_and_penalises_what_an_identity_refuses_and_waits_on_what_it_lacks() {
    use citymesh::identity::{MAX_OPERATOR_MS, founding};
    use citymesh::record::{Body, Draft, IDENTITY_SLUG, Kind, PublisherKey, sign, to_hex};
    let b = Node::start("City B", &["main"], &[]).await;
    // B holds the identity of organisation X: its own key, and an operator for notes only...
    let (x, operator, stranger) =
        (PublisherKey::from_seed([50; 32]), PublisherKey::from_seed([51; 32]), PublisherKey::from_seed([52; 32]));
    let now = citymesh::author::now_ms();
    let mut body = founding(x.publisher(), now - 1000, "X's node");
    body.operators.push(citymesh::wire::Operator {
        key: operator.publisher().0.to_vec(),
        scopes: vec!["request".to_owned()],
        expires_ms: now - 1000 + MAX_OPERATOR_MS,
        label: "X's officer".to_owned(),
    });
    let draft = Draft {
        kind: Kind::Identity,
        slug: IDENTITY_SLUG.into(),
        revision: 1,
        timestamp_ms: now - 1000,
        body: Body::Identity(body),
    };
    let revision = sign(&x, draft).unwrap();
    b.node().import(vec![to_hex(&revision.envelope_bytes())]).await.unwrap();
    assert!(b.holds(&revision.id()));

    let peer = crate::hostile::test_peer(b.address().await.parse().unwrap()).await;
    eventually("the test peer joins B's topic", TIMEOUT, || async { b.gossip_peers().await == 1 }).await;
    // ...so a stranger's note for X and the officer's note (not a request) are rejected, while
    // a note for an organisation whose identity B lacks is only set aside.
    let unknown = operated(&PublisherKey::from_seed([53; 32]), &stranger, "practice", "unknown-organisation");
    let bad = [operated(&x, &stranger, "practice", "stranger"), operated(&x, &operator, "practice", "out-of-scope")];
    let ids: Vec<_> =
        bad.iter().chain([&unknown]).map(|envelope| citymesh::record::claimed(envelope).unwrap().0).collect();
    for envelope in bad.into_iter().chain([unknown]) {
        peer.send(envelope).await.unwrap();
    }
    eventually("B rejects both", TIMEOUT, || async { b.node().rejections().len() == 2 }).await;
    let rules: Vec<String> = b.node().rejections().into_iter().map(|rejection| rejection.rule).collect();
    assert!(rules.contains(&"operator".to_owned()) && rules.contains(&"operator-scope".to_owned()), "{rules:?}");
    let sender: libp2p::PeerId = b.node().rejections()[0].from.parse().unwrap();
    let score = b.node().peer_score(sender).await.unwrap().unwrap();
    assert!(score < 0.0, "the sender's score is {score}");
    // A good note from X's own key, sent after the others, is stored: they were all judged.
    let good = operated(&x, &x, "practice", "good-one");
    let good_id = citymesh::record::claimed(&good).unwrap().0;
    peer.send(good).await.unwrap();
    eventually("B stores X's own note", TIMEOUT, || async { b.holds(&good_id) }).await;
    for id in &ids {
        assert!(!b.holds(id), "B holds {id}");
    }
    assert_eq!(b.node().rejections().len(), 2, "the note for an unknown identity is not held against its sender");
    b.stop().await;
}

#[test]
fn a_recovery_key_replaces_lost_governance_keys_unless_the_officials_answer_in_time() {
    let city = DataDir::legacy("City of Surabaya");
    let own = publisher_of(&city);
    let recovery_key = city.scratch("recovery.key");
    let words = city.ok(&["identity", "recovery-key", "--file", path_str(&recovery_key)]).trim().to_owned();
    assert_eq!(words.split(' ').count(), 24, "{words}");
    assert_eq!(identity(&city)["recovery"], true);
    let new_key = |name: &str| city.ok(&["identity", "new-key", path_str(&city.scratch(name))]).trim().to_owned();
    let governance = format!("{},{}", new_key("a.key"), new_key("b.key"));

    // The wrong key is named; the right one makes a recovery revision to hand to a node.
    let file = city.scratch("recovery.cmr");
    let recover = |key: &std::path::Path| {
        ["identity", "recover", "--recovery-key", path_str(key), "--governance", &governance, "--threshold", "2"]
            .iter()
            .map(|text| text.to_string())
            .chain(["--out".to_owned(), path_str(&file).to_owned()])
            .collect::<Vec<String>>()
    };
    let wrong = recover(&city.scratch("a.key"));
    check_mentions(&city.fails(&args(&wrong)), &["not the recovery key the identity committed to"]);
    // A typo in the words is named, and nothing is written.
    let mut typo: Vec<&str> = words.split(' ').collect();
    typo[4] = "citymesh";
    let by_words = |words: &str| -> Vec<String> {
        ["identity", "recover", "--words", words, "--governance", &governance, "--threshold", "2", "--out"]
            .iter()
            .map(|text| text.to_string())
            .chain([path_str(&file).to_owned()])
            .collect()
    };
    check_mentions(&city.fails(&args(&by_words(&typo.join(" ")))), &["word 5 (\"citymesh\") is not a recovery word"]);
    assert!(!file.exists());
    // The key file made beside the words works as well as the words.
    assert_eq!(city.ok(&args(&by_words(&words))).len(), 65);
    fs::remove_file(&file).unwrap();
    city.ok(&args(&recover(&recovery_key)));
    let output = city.run(&["identity", "submit", path_str(&file)]);
    assert!(output.status.success(), "{output:?}");
    check_mentions(&String::from_utf8_lossy(&output.stderr), &["recovery revision 2 is held"]);
    let shown = identity(&city);
    assert_eq!(shown["revision"], 1, "the recovery waits out its window");
    assert_eq!(shown["pending_recovery"]["revision"], 2);
    assert_eq!(shown["pending_recovery"]["governance"].as_array().unwrap().len(), 2);
    check_mentions(&city.ok(&["identity", "show"]), &["A RECOVERY IS PENDING"]);
    check_mentions(&city.ok(&["status"]), &["WARNING:     A RECOVERY IS PENDING"]);

    // The officials (here the node's key, the one governance key) answer: the recovery is gone.
    city.ok(&["identity", "renew", &own, "--days", "300"]);
    let shown = identity(&city);
    assert_eq!((shown["revision"].as_u64(), shown["pending_recovery"].is_null()), (Some(2), true), "{shown}");
    // The cancelled recovery is dropped, and refused if offered again (not held against whoever
    // offers it: a partner may not have heard of the cancellation yet).
    check_mentions(&city.fails(&["identity", "submit", path_str(&file)]), &["rule identity-recovery-cancelled"]);
}

#[test]
fn init_makes_the_identity_and_shows_its_recovery_words_once_and_they_recover_it() {
    let city = DataDir::empty();
    let output = city.run(&["init", "--name", "City of Surabaya"]);
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr);
    check_mentions(&said, &["Your organisation's identity is made", "shown this once as 24 words"]);
    // The words are the indented line; they are kept nowhere in the data directory.
    let words = said.lines().find(|line| line.starts_with("    ")).unwrap().trim().to_owned();
    assert_eq!(words.split(' ').count(), 24, "{said}");
    let shown = identity(&city);
    assert_eq!(
        (shown["state"].as_str(), shown["revision"].as_u64(), shown["recovery"].as_bool()),
        (Some("active"), Some(1), Some(true))
    );
    assert!(!city.ok(&["identity", "show"]).contains(&words));
    // They make the recovery revision: they are the key the identity committed to.
    let new_key = city.ok(&["identity", "new-key", path_str(&city.scratch("a.key"))]).trim().to_owned();
    let file = city.scratch("recovery.cmr");
    let recover = ["identity", "recover", "--words", &words, "--governance", &new_key, "--threshold", "1"];
    city.ok(&[&recover[..], &["--out", path_str(&file)]].concat());
    assert!(file.exists());
    // Without an identity, as before identities: the key alone signs.
    let legacy = DataDir::legacy("Recife");
    assert_eq!(identity(&legacy)["state"], "none");
}

#[test]
fn a_staff_laptop_made_an_operator_publishes_for_the_organisation_within_its_scopes() {
    let city = DataDir::initialised("City of Surabaya");
    let organisation = publisher_of(&city);
    let laptop = DataDir::empty();
    check_mentions(&laptop.fails(&["init", "--operator-of", "nope"]), &["is not an organisation's key"]);
    let output = laptop.run(&["init", "--operator-of", &organisation]);
    assert!(output.status.success(), "{output:?}");
    let laptop_key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    check_mentions(&String::from_utf8_lossy(&output.stderr), &["citymesh identity add-operator"]);
    // Before the organisation lists the key, nothing the laptop signs is the organisation's.
    check_mentions(&laptop.fails(&["publish", path_str(&laptop.write("note.md", EXAMPLE))]), &["identity"]);

    city.ok(&["identity", "add-operator", &laptop_key, "--label", "Dewi's laptop", "--scopes", "practice"]);
    let export = city.scratch("city-export");
    city.ok(&["export", path_str(&export)]);
    laptop.ok(&["import", path_str(&export)]);
    let id = check_id(&laptop.publish(EXAMPLE));
    let shown: serde_json::Value = serde_json::from_str(&laptop.ok(&["show", &id, "--json"])).unwrap();
    assert_eq!(shown["publisher"], organisation.as_str(), "{shown}");
    // Outside its scopes, and for the identity itself, the laptop is refused, and told why.
    let request = include_str!("../../config/examples/composting-request.md").replace("{surabaya}", &organisation);
    check_mentions(&laptop.fails(&["publish", path_str(&laptop.write("request.md", &request))]), &["operator-scope"]);
    check_mentions(
        &laptop.fails(&["identity", "add-operator", &"44".repeat(32), "--label", "someone"]),
        &["an operator of the organisation, not one of its governance keys"],
    );
    // The city takes the laptop's note in as its own.
    let from_laptop = laptop.scratch("laptop-export");
    laptop.ok(&["export", path_str(&from_laptop)]);
    city.ok(&["import", path_str(&from_laptop)]);
    let shown: serde_json::Value = serde_json::from_str(&city.ok(&["show", &id, "--json"])).unwrap();
    assert_eq!(shown["publisher"], organisation.as_str());
}
