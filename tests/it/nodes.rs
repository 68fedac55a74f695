//! Nodes gossiping over loopback: real libp2p, real stores, in one process.

use std::time::Duration;

use citymesh::record::{Key, Kind};

use crate::harness::*;

const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_and_its_withdrawal_cross_a_line_of_three_nodes() {
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    let c = Node::start("City C", &["main"], &[b.address().await]).await;
    eventually("the line A-B-C forms its gossip mesh", TIMEOUT, || async {
        a.mesh_peers().await == 1 && b.mesh_peers().await == 2 && c.mesh_peers().await == 1
    })
    .await;
    // Discovery is off, so C reaches A's records only through B's validation.
    assert_eq!(c.connected_peers().await, 1);

    let published = a.publish(EXAMPLE).await;
    eventually("C stores A's note", TIMEOUT, || async { c.holds(&published) }).await;
    assert!(b.holds(&published));

    let withdrawal = a.withdraw("community-composting").await;
    eventually("C stores A's withdrawal", TIMEOUT, || async { c.holds(&withdrawal) }).await;
    let key = Key { publisher: a.publisher(), kind: Kind::Practice, slug: "community-composting".into() };
    assert!(c.node().store().head(&key).unwrap().unwrap().is_tombstone());
    for node in [a, b, c] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_stays_within_its_network() {
    // Networks scope gossip only (proto/README.md §18.5): a later sync would carry the
    // asia-water note to the main-only node, as records carry no network. The connections'
    // syncs run before the note exists and the periodic one not for 60 s, so what this sees
    // is gossip alone.
    let main_only = Node::start("Main only", &["main"], &[]).await;
    let both = Node::start("Both", &["main", "asia-water"], &[main_only.address().await]).await;
    let water_only = Node::start("Water only", &["asia-water"], &[both.address().await]).await;
    eventually("both networks form their meshes", TIMEOUT, || async {
        main_only.mesh_peers().await == 1 && both.mesh_peers().await == 2 && water_only.mesh_peers().await == 1
    })
    .await;

    let water_note = water_only.publish(EXAMPLE).await;
    eventually("the middle node stores the asia-water note", TIMEOUT, || async { both.holds(&water_note) }).await;
    // The middle node publishes on both networks after it forwarded the asia-water note: once
    // its own note reached the main-only node, the asia-water note would have too, had it gone.
    let main_note = both.publish(&example_with("slug: community-composting", "slug: rain-gardens")).await;
    eventually("the main-only node stores the main note", TIMEOUT, || async { main_only.holds(&main_note) }).await;
    assert!(!main_only.holds(&water_note), "a record gossiped only in asia-water reached a main-only node");
    for node in [main_only, both, water_only] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_reconnects_to_the_peers_it_knew() {
    let a = Node::start("City A", &["main"], &[]).await;
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    eventually("B connects to A", TIMEOUT, || async { a.connected_peers().await == 1 }).await;
    let b_dir = b.stop_keeping_data().await;
    eventually("A sees B leave", TIMEOUT, || async { a.connected_peers().await == 0 }).await;

    // No bootstrap this time: B remembers A.
    let b = Node::restart(b_dir).await;
    eventually("B reconnects to A by itself", TIMEOUT, || async { b.connected_peers().await == 1 }).await;
    let published = a.publish(EXAMPLE).await;
    eventually("and receives A's notes again", TIMEOUT, || async { b.holds(&published) }).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_gossip_over_quic_too() {
    const QUIC: &str = "/ip4/127.0.0.1/udp/0/quic-v1";
    let a = Node::start_on("City A", &["main"], &[], QUIC).await;
    let address = a.address().await;
    assert!(address.contains("/quic-v1/"), "{address}");
    let b = Node::start_on("City B", &["main"], &[address], QUIC).await;
    eventually("A and B form a mesh over QUIC", TIMEOUT, || async { a.mesh_peers().await == 1 }).await;
    let published = a.publish(EXAMPLE).await;
    eventually("B stores A's note", TIMEOUT, || async { b.holds(&published) }).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_offline_catches_up_when_it_connects() {
    let a = Node::start("City A", &["main"], &[]).await;
    let mut published = Vec::new();
    for n in 0..500 {
        published.push(a.publish(&example_with("slug: community-composting", &format!("slug: note-{n}"))).await);
    }
    for n in [7, 70, 170, 270, 470] {
        published.push(a.withdraw(&format!("note-{n}")).await);
    }
    // B starts only now: nothing was gossiped to it, so only sync can bring A's records.
    let b = Node::start("City B", &["main"], &[a.address().await]).await;
    eventually("B holds every record A published", TIMEOUT, || async { published.iter().all(|id| b.holds(id)) }).await;
    // And A learns B's profile the same way.
    let b_profile = Key { publisher: b.publisher(), kind: Kind::Profile, slug: "profile".into() };
    eventually("A holds B's profile", TIMEOUT, || async { a.node().store().head(&b_profile).unwrap().is_some() }).await;
    let heads = |node: &Node| node.node().store().head_versions().unwrap();
    eventually("both hold the same heads", TIMEOUT, || async { heads(&a) == heads(&b) }).await;
    let fetched_from_a = || b.node().syncs().values().map(|report| report.fetched).sum::<usize>();
    // 500 notes, 5 withdrawals, A's profile and its identity.
    eventually("B's sync report counts what it fetched", TIMEOUT, || async { fetched_from_a() == 507 }).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_groups_that_publish_apart_converge_when_joined() {
    const TCP: &str = "/ip4/127.0.0.1/tcp/0";
    // Periodic sync (every second here) spreads what a join brings beyond the two nodes that
    // joined: fetched records are not gossiped on.
    const FAST_SYNC: &str = "sync_interval_secs = 1\n";
    let n0 = Node::start_with("City 0", &["main"], &[], TCP, FAST_SYNC).await;
    let n1 = Node::start_with("City 1", &["main"], &[n0.address().await], TCP, FAST_SYNC).await;
    let n2 = Node::start_with("City 2", &["main"], &[], TCP, FAST_SYNC).await;
    let n3 = Node::start_with("City 3", &["main"], &[n2.address().await], TCP, FAST_SYNC).await;
    let n4 = Node::start_with("City 4", &["main"], &[n3.address().await], TCP, FAST_SYNC).await;
    let nodes = [&n0, &n1, &n2, &n3, &n4];
    eventually("the groups form", TIMEOUT, || async {
        n0.connected_peers().await == 1 && n3.connected_peers().await == 2
    })
    .await;
    let mut published = Vec::new();
    for (node, slug) in [(&n0, "left-one"), (&n1, "left-two"), (&n2, "right-one"), (&n4, "right-two")] {
        published.push(node.publish(&example_with("slug: community-composting", &format!("slug: {slug}"))).await);
    }
    n4.withdraw("right-two").await;
    n1.dial(&n2).await;
    let heads = |node: &Node| node.node().store().head_versions().unwrap();
    eventually("every node holds the same heads", Duration::from_secs(60), || async {
        let first = heads(nodes[0]);
        first.len() == 5 + 5 + 4 && nodes.iter().all(|node| heads(node) == first)
    })
    .await;
    for node in [n0, n1, n2, n3, n4] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_keeps_only_its_partner_never_receives_a_strangers_records() {
    let hub = Node::start("Hub", &["main"], &[]).await;
    let partner = Node::start("Partner", &["main"], &[hub.address().await]).await;
    let stranger = Node::start("Stranger", &["main"], &[hub.address().await]).await;
    eventually("the hub meshes with both", TIMEOUT, || async { hub.mesh_peers().await == 2 }).await;
    let note = |slug: &str| example_with("slug: community-composting", &format!("slug: {slug}"));
    let mut partners = Vec::new();
    for n in 0..3 {
        partners.push(partner.publish(&note(&format!("partner-{n}"))).await);
        stranger.publish(&note(&format!("stranger-{n}"))).await;
    }
    let of = |node: &Node, publisher: citymesh::record::PublisherId| {
        node.node().store().publisher_items(&publisher.0).unwrap().len()
    };
    // Three notes, a profile and an identity each (profiles and identities come by sync on
    // connect).
    eventually("the hub holds both publishers' records", TIMEOUT, || async {
        of(&hub, partner.publisher()) == 5 && of(&hub, stranger.publisher()) == 5
    })
    .await;

    let trust = format!("[trust]\npolicy = \"partners\"\npartners = [\"{}\"]\n", partner.publisher());
    let b = Node::start_with("City B", &["main"], &[hub.address().await], "/ip4/127.0.0.1/tcp/0", &trust).await;
    eventually("B catches up on its partner's records", TIMEOUT, || async { of(&b, partner.publisher()) == 5 }).await;
    assert!(partners.iter().all(|id| b.holds(id)));

    // A sync now finds nothing to fetch: the hub does not offer the stranger's records.
    let report = b.sync_with(&hub).await;
    assert_eq!((report.fetched, report.error.as_deref()), (0, None));
    // The scoped sets hold identities and B's receipt of its partner's too; the stranger's five
    // records would add some 160 bytes more.
    assert!(report.bytes_received < 300, "the scoped sets matched at once: {report:?}");

    // Gossip of the stranger's is ignored too; the partner's arrives.
    stranger.publish(&note("stranger-late")).await;
    eventually("B ignores the stranger's gossip", TIMEOUT, || async {
        b.node().metrics().await.contains("citymesh_records_ignored_total{reason=\"policy\"}")
    })
    .await;
    let late = partner.publish(&note("partner-late")).await;
    eventually("B stores its partner's new note", TIMEOUT, || async { b.holds(&late) }).await;
    assert_eq!(of(&b, stranger.publisher()), 0, "B stored a record of a publisher it does not keep");
    assert!(b.node().rejections().is_empty());

    let peers = b.api_url() + "/api/v1/peers";
    let peers: serde_json::Value =
        tokio::task::spawn_blocking(move || ureq::get(&peers).call().unwrap().body_mut().read_json().unwrap())
            .await
            .unwrap();
    assert_eq!(peers["peers"][0]["last_sync"]["error"], serde_json::Value::Null, "{peers}");
    assert!(peers["peers"][0]["gossip_score"].is_number(), "{peers}");
    let metrics = b.api_url() + "/metrics";
    let text = tokio::task::spawn_blocking(move || ureq::get(&metrics).call().unwrap().body_mut().read_to_string())
        .await
        .unwrap()
        .unwrap();
    for series in [
        "citymesh_sync_records_fetched_total{peer=",
        "citymesh_peers 1",
        "citymesh_records ",
        "citymesh_api_request_duration_seconds_count{route=\"/api/v1/peers\"} 1",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    for node in [hub, partner, stranger, b] {
        node.stop().await;
    }
}
