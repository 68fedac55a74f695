//! Partners and trust: the invite flow between two running nodes driven by the CLI, the three
//! policies on gossip and sync, and the blocklist winning over partnership.

use std::collections::BTreeMap;
use std::time::Duration;

use citymesh::invite::InviteCode;
use citymesh::record::PublisherId;

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(30);
const TCP: &str = "/ip4/127.0.0.1/tcp/0";

/// Records held, counted by publisher.
fn held(node: &Node) -> BTreeMap<PublisherId, usize> {
    let mut out = BTreeMap::new();
    for record in node.node().store().records() {
        *out.entry(record.expect("a stored record").publisher()).or_default() += 1;
    }
    out
}

fn note(slug: &str) -> String {
    example_with("slug: community-composting", &format!("slug: {slug}"))
}

/// `publisher` adds `partner` by an invite code made from it, as `partner add` does, which
/// gossips its partnership record.
async fn partner_with(publisher: &Node, partner: &Node) {
    let code = InviteCode {
        publisher: partner.publisher(),
        peer_id: partner.peer_id().await.to_string(),
        addresses: Vec::new(),
        name: "Partner".to_owned(),
    };
    publisher.node().add_partner(code.encode(), String::new()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_policy_keeps_exactly_its_publishers_through_sync_and_gossip() {
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    let c = Node::start("City C", &["main"], &[a.address().await]).await;
    eventually("A meshes with B and C", TIMEOUT, || async { a.mesh_peers().await == 2 }).await;
    // A names B as its partner; C is nobody's.
    partner_with(&a, &b).await;
    for (node, slug) in [(&a, "a-one"), (&b, "b-one"), (&c, "c-one")] {
        node.publish(&note(slug)).await;
    }
    let publishers = [a.publisher(), b.publisher(), c.publisher()];
    eventually("A holds everyone's notes", TIMEOUT, || async {
        let held = held(&a);
        publishers.iter().all(|publisher| held.get(publisher).copied().unwrap_or_default() >= 2)
    })
    .await;

    // Three observers join through A: what A holds reaches them by sync.
    let partners = format!("[trust]\npartners = [\"{}\"]\n", a.publisher());
    let observer = |name: &'static str, policy: &'static str| {
        let config = format!("{partners}policy = \"{policy}\"\n");
        let bootstrap = vec![];
        async move { Node::start_with(name, &["main"], &bootstrap, TCP, &config).await }
    };
    let open = observer("Open", "open").await;
    let only = observer("Partners", "partners").await;
    let plus = observer("Partners+1", "partners+1").await;
    for node in [&open, &only, &plus] {
        node.dial(&a).await;
    }
    let expected = [(&open, vec![0, 1, 2]), (&only, vec![0]), (&plus, vec![0, 1])];
    let matches = |node: &Node, kept: &[usize]| {
        let (theirs, hub) = (held(node), held(&a));
        publishers.iter().enumerate().all(|(index, publisher)| {
            let want = if kept.contains(&index) { hub.get(publisher).copied() } else { None };
            theirs.get(publisher).copied() == want
        })
    };
    for (node, kept) in &expected {
        eventually("each observer holds exactly its publishers' records", TIMEOUT, || async { matches(node, kept) })
            .await;
    }

    // New notes travel by gossip now, and the same publishers' records arrive.
    eventually("the observers join A's mesh", TIMEOUT, || async { a.mesh_peers().await == 5 }).await;
    for (node, slug) in [(&a, "a-two"), (&b, "b-two"), (&c, "c-two")] {
        node.publish(&note(slug)).await;
    }
    eventually("A holds the new notes", TIMEOUT, || async {
        let held = held(&a);
        publishers.iter().all(|publisher| held.get(publisher).copied().unwrap_or_default() >= 3)
    })
    .await;
    for (node, kept) in &expected {
        eventually("each observer holds exactly its publishers' records", TIMEOUT, || async { matches(node, kept) })
            .await;
    }
    // Nothing of anyone else's reached the partners-only observers either (other observers'
    // profiles included).
    for (node, kept) in [(&only, 1), (&plus, 2)] {
        assert_eq!(held(node).len(), kept + 1, "{:?}", held(node).keys().collect::<Vec<_>>());
    }
    for node in [a, b, c, open, only, plus] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocklist_beats_partnership() {
    let a = Node::start("City A", &["main"], &[]).await;
    let config = format!("[trust]\npolicy = \"partners\"\npartners = [\"{}\"]\n", a.publisher());
    let b = Node::start_with("City B", &["main"], &[a.address().await], TCP, &config).await;
    eventually("A and B form a mesh", TIMEOUT, || async { a.mesh_peers().await == 1 }).await;
    let first = a.publish(&note("first")).await;
    eventually("B keeps its partner's note", TIMEOUT, || async { b.holds(&first) }).await;

    b.node().block(a.publisher().to_string()).await.unwrap();
    let second = a.publish(&note("second")).await;
    eventually("B ignores the blocked partner's gossip", TIMEOUT, || async {
        b.node().metrics().await.contains("citymesh_records_ignored_total{reason=\"policy\"}")
    })
    .await;
    let report = b.sync_with(&a).await;
    assert_eq!((report.fetched, report.error.as_deref()), (0, None));
    assert!(!b.holds(&second), "a blocked publisher's record was stored");

    // Unblocked, the sync that unblocking starts brings what was refused.
    b.node().unblock(a.publisher().to_string()).await.unwrap();
    let a_peer = a.peer_id().await.to_string();
    eventually("the next sync with A brings what was refused", TIMEOUT, || async {
        b.node().syncs().get(&a_peer).is_some_and(|report| report.fetched == 1)
    })
    .await;
    assert!(b.holds(&second));
    a.stop().await;
    b.stop().await;
}

fn publisher_of(city: &DataDir) -> String {
    let status: serde_json::Value = serde_json::from_str(&city.ok(&["status", "--json"])).unwrap();
    status["publisher"].as_str().unwrap().to_owned()
}

fn partners_of(city: &DataDir) -> serde_json::Value {
    serde_json::from_str(&city.ok(&["partner", "list", "--json"])).unwrap()
}

#[test]
fn two_cities_become_partners_by_invite_code_with_the_cli_alone() {
    let (a, b) = (DataDir::initialised("City A"), DataDir::initialised("City B"));
    for city in [&a, &b] {
        let config = "[node]\ndiscovery = false\n[trust]\npolicy = \"partners\"\n";
        std::fs::write(city.path().join("config.toml"), config).unwrap();
    }
    let note_id = check_id(&a.publish(EXAMPLE));
    let (_a_running, _b_running) = (Process::start(&a, &[]), Process::start(&b, &[]));
    let (a_key, b_key) = (publisher_of(&a), publisher_of(&b));

    let code = a.ok(&["invite"]).trim().to_owned();
    assert!(code.starts_with("citymesh1"), "{code}");
    // Bad codes change nothing, and say what is wrong.
    let typo = format!("{}{}{}", &code[..30], if &code[30..31] == "a" { "b" } else { "a" }, &code[31..]);
    check_mentions(&b.fails(&["partner", "add", &typo]), &["typo"]);
    check_mentions(&b.fails(&["partner", "add", &code[..code.len() / 2]]), &["Copy the whole line again"]);
    check_mentions(&b.fails(&["partner", "add", "hello"]), &["not a citymesh invite code"]);
    check_mentions(&b.fails(&["partner", "add", &b.ok(&["invite"])]), &["your own invite code"]);
    assert_eq!(partners_of(&b), serde_json::json!([]));

    // Pasted as an e-mail would carry it: wrapped over lines.
    let wrapped = format!("{}\n  {}", &code[..40], &code[40..]);
    b.ok(&["partner", "add", &wrapped, "--label", "sister city"]);
    eventually_blocking("B holds A's note", TIMEOUT, || {
        b.list().as_array().unwrap().iter().any(|row| row["id"] == note_id.as_str())
    });
    let listed = partners_of(&b);
    assert_eq!(listed[0]["publisher"], a_key.as_str());
    assert_eq!((listed[0]["name"].as_str(), listed[0]["label"].as_str()), (Some("City A"), Some("sister city")));
    assert_eq!(listed[0]["mutual"], false);
    check_mentions(&b.ok(&["partner", "list"]), &["City A [sister city]", "one-way", "records held"]);

    // A adds B back: once B holds A's partnership record naming it, the partnership is mutual.
    a.ok(&["partner", "add", b.ok(&["invite"]).trim()]);
    eventually_blocking("B sees the partnership as mutual", TIMEOUT, || partners_of(&b)[0]["mutual"] == true);
    check_mentions(&a.ok(&["partner", "list"]), &["City B", "mutual"]);

    check_mentions(&b.fails(&["block", "not-a-key"]), &["not a publisher key"]);
    check_mentions(&b.fails(&["partner", "remove", &"ab".repeat(32)]), &["is not a partner"]);
    check_mentions(&b.fails(&["unblock", &a_key]), &["is not blocked"]);
    b.ok(&["partner", "remove", &a_key]);
    assert_eq!(partners_of(&b), serde_json::json!([]));
    check_mentions(&b.fails(&["block", &b_key]), &["your own"]);

    // The policy changes on the running node at once, and stays changed.
    assert_eq!(b.ok(&["policy"]).trim(), "partners");
    check_mentions(&b.fails(&["policy", "friends"]), &["open, partners, or partners+N"]);
    b.ok(&["policy", "partners+2"]);
    assert_eq!(b.ok(&["policy"]).trim(), "partners+2");
    let status: serde_json::Value = serde_json::from_str(&b.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["trust_policy"], "partners+2");
}
