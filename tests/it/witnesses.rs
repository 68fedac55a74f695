//! Partners as witnesses: a node receipts the identity revisions of its partners it holds; the receipts come back to the organisation, whose identity page and API show who saw
//! each revision when, and a receipt of a different revision with the same number shows there
//! as a fork. Receipts that break their rules are refused and named.

use std::time::Duration;

use citymesh::archive::ImportResult;
use citymesh::organisation::Change;
use citymesh::record::{Body, Draft, Kind, PublisherKey, to_hex};
use citymesh::wire::Receipt;

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(30);
/// The node receipts what it holds on its periodic tick: every second here.
const FAST_TICK: &str = "sync_interval_secs = 1\n";

/// City A, and City B which keeps A as a partner (so B witnesses A), ticking every second,
/// in one gossip mesh.
async fn a_and_its_partner_b() -> (Node, Node) {
    const TCP: &str = "/ip4/127.0.0.1/tcp/0";
    let a = Node::start_with("City A", &["main"], &[], TCP, FAST_TICK).await;
    let b_config = format!("{FAST_TICK}[trust]\npartners = [\"{}\"]\n", a.publisher());
    let b = Node::start_with("City B", &["main"], &[a.address().await], TCP, &b_config).await;
    eventually("A and B form their gossip mesh", TIMEOUT, || async {
        a.mesh_peers().await == 1 && b.mesh_peers().await == 1
    })
    .await;
    (a, b)
}

fn receipt(by: &PublisherKey, slug: &str, organisation: Vec<u8>, subject_kind: &str, revision: u64) -> String {
    let body = Receipt { organisation, subject_kind: subject_kind.to_owned(), revision };
    let draft = Draft {
        kind: Kind::Receipt,
        slug: slug.to_owned(),
        revision: 1,
        timestamp_ms: citymesh::author::now_ms(),
        body: Body::Receipt(body),
    };
    to_hex(&citymesh::fuzz::sign_unchecked(by, draft))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partners_witness_each_revision_and_a_receipt_of_another_revision_shows_a_fork() {
    let (a, b) = a_and_its_partner_b().await;
    let add = Change::AddOperator {
        key: PublisherKey::from_seed([42; 32]).publisher().to_string(),
        label: "Dewi's laptop".to_owned(),
        scopes: Vec::new(),
        days: Some(30),
    };
    let revision = a.node().change_identity(add).await.unwrap().record().clone();

    // B receives the revision, receipts it, and the receipt reaches A.
    eventually("B receipts A's revision", TIMEOUT, || async {
        !b.node().store().heads(Some(Kind::Receipt)).unwrap().is_empty()
    })
    .await;
    let b_key = b.publisher().to_string();
    eventually("A's identity shows B as a witness of revision 1", TIMEOUT, || async {
        let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
        view["history"][0]["witnesses"].as_array().is_some_and(|rows| rows.iter().any(|row| row["publisher"] == b_key))
    })
    .await;
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    let witness = &view["history"][0]["witnesses"][0];
    assert_eq!((witness["name"].as_str(), view["conflicts"].as_array().map(Vec::len)), (Some("City B"), Some(0)));
    assert!(witness["seen_ms"].as_i64().unwrap() >= revision.timestamp_ms(), "{witness}");
    let (status, page) = crate::web::get(&a, "/identity").await;
    assert_eq!(status, 200);
    check_mentions(&page, &["Revision 1", "Witnessed by City B on"]);
    // B shows A's identity as it holds it, with its own receipt.
    let (status, page) = crate::web::get(&b, &format!("/identity?organisation={}", a.publisher())).await;
    assert_eq!(status, 200);
    check_mentions(&page, &["City A&#39;s identity", "Dewi&#39;s laptop", "Witnessed by City B on"]);
    // B's node receipts each of A's two revisions (`init` made the first).
    eventually("B receipts both of A's revisions", TIMEOUT, || async {
        b.node().store().heads(Some(Kind::Receipt)).unwrap().len() == 2
    })
    .await;

    // A third node says it holds another revision 1 of A's identity: a fork A has not seen.
    let c = PublisherKey::from_seed([60; 32]);
    let other_revision = "ab".repeat(32);
    let conflicting = receipt(&c, &other_revision, a.publisher().0.to_vec(), "identity", 1);
    let results = a.node().import(vec![conflicting]).await.unwrap();
    assert!(matches!(results[0], ImportResult::Stored { .. }), "{results:?}");
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    assert_eq!(view["conflicts"][0]["id"].as_str(), Some(other_revision.as_str()), "{view}");
    assert_eq!(view["conflicts"][0]["revision"].as_u64(), Some(1));
    let (_, page) = crate::web::get(&a, "/identity").await;
    check_mentions(&page, &["holds a different revision 1 of this identity (abababababababab…)", "a fork"]);

    // Receipts that break their rules are refused, each named.
    let a_key = a.publisher().0.to_vec();
    let id = revision.id().to_string();
    for (bad, rule_text) in [
        (receipt(&c, "not-an-id", a_key.clone(), "identity", 1), "slug: \"not-an-id\" must be the id"),
        (receipt(&c, &id, c.publisher().0.to_vec(), "identity", 1), "organisation: is the publisher itself"),
        (receipt(&c, &id, a_key.clone(), "practice", 1), "subject_kind: \"practice\" cannot be receipted"),
        (receipt(&c, &id, a_key.clone(), "identity", 0), "revision: is required"),
        (receipt(&c, &id, vec![7; 5], "identity", 1), "organisation: is 5 bytes"),
    ] {
        let results = a.node().import(vec![bad]).await.unwrap();
        match &results[0] {
            ImportResult::Rejected { rule, detail } => {
                assert_eq!(rule, "body-field");
                assert!(detail.contains(rule_text), "{detail}");
            }
            other => panic!("a bad receipt was not rejected: {other:?}"),
        }
    }
    // The API names a bad organisation parameter; an organisation without a log is said so.
    let (status, answer) = crate::web::get_json(&a, "/api/v1/identity?organisation=nope").await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("is not a key"), "{answer}");
    let (_, page) = crate::web::get(&a, &format!("/identity?organisation={}", c.publisher())).await;
    check_mentions(&page, &["No identity log held"]);
    for node in [a, b] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_drops_superseded_bodies_everywhere_keeps_their_headers_and_is_receipted() {
    let (a, b) = a_and_its_partner_b().await;
    // A's note named a person's address; revision 2 no longer does.
    let with_contact = example_with("mailto:waste-unit@example.org", "mailto:dewi.private@example.org");
    let first = a.publish(&with_contact).await;
    let second = a.publish(&example_with("status: ongoing", "status: completed")).await;
    eventually("B holds both revisions", TIMEOUT, || async { b.holds(&first) && b.holds(&second) }).await;
    let first_envelope = a.node().store().envelope(&first).unwrap().unwrap();

    // Bad requests are named, and nothing is signed.
    for (ids, says) in [
        (vec![second.to_string()], "is the current revision of practice \"community-composting\""),
        (vec!["nope".to_owned()], "\"nope\" is not a record id"),
        (vec!["ab".repeat(32)], "this node holds no record"),
        (Vec::new(), "name 1 to 1000 revisions"),
    ] {
        let error = a.node().erase(ids, String::new()).await.unwrap_err().to_string();
        assert!(error.contains(says), "{error}");
    }
    let (status, answer) = crate::web::post_json(&a, "/api/v1/erasures", r#"{"ids": ["x"], "oops": 1}"#).await;
    assert_eq!(status, 400, "{answer}");

    let erasure = a.node().erase(vec![first.to_string()], "personal data in contacts".to_owned()).await.unwrap();
    assert!(!a.holds(&first) && a.holds(&second) && a.holds(&erasure.id()));
    eventually("B drops the erased body too", TIMEOUT, || async { b.holds(&erasure.id()) && !b.holds(&first) }).await;
    assert!(b.holds(&second), "the current revision stays");
    // Both keep the header and signature, which still verify.
    for node in [&a, &b] {
        let kept = node.node().store().erased(&first).unwrap().expect("the erased revision is remembered");
        assert_eq!(kept.erasure, erasure.id());
        let header = kept.header.expect("its header is kept");
        let verified = citymesh::record::verify_erased(&header.envelope_bytes(), citymesh::author::now_ms()).unwrap();
        assert_eq!((verified.id(), verified.revision()), (first, 1));
    }
    // The body offered again is refused, without blaming whoever offers it.
    let results = b.node().import(vec![to_hex(&first_envelope)]).await.unwrap();
    assert!(matches!(&results[0], ImportResult::Rejected { rule, .. } if rule == "erased"), "{results:?}");
    assert!(!b.holds(&first));
    let (status, answer) = crate::web::get_json(&b, &format!("/api/v1/records/{first}")).await;
    assert_eq!(status, 410, "{answer}");
    assert!(answer.to_string().contains("was erased by its publisher"), "{answer}");

    // B confirms with a receipt; A's identity page counts it.
    eventually("A's identity shows the erasure done at B", TIMEOUT, || async {
        let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
        view["erasures"][0]["erased_at"].as_array().is_some_and(|rows| rows.len() == 1)
    })
    .await;
    let (_, view) = crate::web::get_json(&a, "/api/v1/identity").await;
    assert_eq!(view["erasures"][0]["records"].as_u64(), Some(1), "{view}");
    assert_eq!(view["erasures"][0]["erased_at"][0]["name"].as_str(), Some("City B"));
    let (_, page) = crate::web::get(&a, "/identity").await;
    check_mentions(
        &page,
        &["Erasures", "1 revision (personal data in contacts), erased at 1 of 1 partner node (City B)"],
    );
    for node in [a, b] {
        node.stop().await;
    }
}

#[test]
fn an_erasure_signed_by_an_operator_without_that_scope_is_refused() {
    let city = DataDir::initialised("City");
    let laptop = PublisherKey::from_seed([61; 32]);
    let key = laptop.publisher().to_string();
    city.ok(&["identity", "add-operator", &key, "--label", "Dewi's laptop", "--scopes", "practice"]);
    let body = citymesh::wire::Erasure { ids: vec![vec![9; 32]], reason: String::new() };
    let draft = Draft {
        kind: Kind::Erasure,
        slug: "erasure-1".to_owned(),
        revision: 1,
        timestamp_ms: citymesh::author::now_ms(),
        body: Body::Erasure(body),
    };
    let organisation = city.ok(&["identity", "show", "--json"]);
    let organisation: serde_json::Value = serde_json::from_str(&organisation).unwrap();
    let organisation = organisation["organisation"].as_str().unwrap().parse().unwrap();
    let erasure = citymesh::record::sign_for(organisation, &laptop, draft).unwrap();
    let dir = city.scratch("erasure");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("erasure.cmr"), erasure.envelope_bytes()).unwrap();
    let said = city.fails(&["import", path_str(&dir)]);
    check_mentions(&said, &["rule operator-scope", "not erasure"]);
    assert!(!city.run(&["show", &erasure.id().to_string()]).status.success(), "nothing is stored");
}
