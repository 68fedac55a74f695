//! Partitions with real processes: ten `citymesh run` processes on loopback. They run together,
//! then as two groups of five that cannot reach each other (each group restarted knowing only
//! its own members, with the remembered peers forgotten), each side publishing, editing and
//! withdrawing; then all ten together again. Within 30 seconds of healing every node holds the
//! same heads, and they are the ones both sides wrote.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::*;

const NODES: usize = 10;
const HEAL: Duration = Duration::from_secs(30);

/// Starts the given nodes, each dialling the ones started before it, none other.
fn start_group(cities: &[DataDir], members: &[usize]) -> BTreeMap<usize, Process> {
    let mut running: BTreeMap<usize, Process> = BTreeMap::new();
    let mut addresses = Vec::new();
    for &member in members {
        // Forget peers from earlier runs: a group must not find the other one.
        let _ = std::fs::remove_file(cities[member].path().join("peers.txt"));
        let process = Process::start(&cities[member], &addresses);
        addresses.push(process.address());
        running.insert(member, process);
    }
    running
}

fn stop_all(running: BTreeMap<usize, Process>) {
    for (_, process) in running {
        process.stop();
    }
}

fn write(process: &Process, token: &str, path: &str, body: Value) -> Value {
    let mut response = http()
        .post(format!("{}{path}", process.base))
        .header("Authorization", format!("Bearer {token}"))
        .send_json(body)
        .expect("the node answers");
    let status = response.status().as_u16();
    let answer: Value = response.body_mut().read_json().expect("JSON");
    assert!(status == 200 || status == 201, "{path}: {status} {answer}");
    answer
}

fn publish(process: &Process, token: &str, slug: &str, approach: &str) -> String {
    let note = example_with("slug: community-composting", &format!("slug: {slug}"))
        .replace("The city lent each neighbourhood", &format!("{approach}. The city lent each neighbourhood"));
    write(process, token, "/api/v1/publish", json!({"markdown": note}))["id"].as_str().unwrap().to_owned()
}

/// Every head the node holds: (publisher, kind, slug) -> id.
fn heads(process: &Process) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{}/api/v1/records?limit=1000", process.base);
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = http().get(url).call().expect("records").body_mut().read_json().expect("JSON");
        for row in page["records"].as_array().unwrap() {
            let field = |name: &str| row[name].as_str().unwrap().to_owned();
            out.insert((field("publisher"), field("kind"), field("slug")), field("id"));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
}

#[test]
fn after_a_partition_heals_every_node_holds_the_same_heads_within_30_seconds() {
    let cities: Vec<DataDir> = (0..NODES).map(|n| DataDir::initialised(&format!("City {n}"))).collect();
    for city in &cities {
        // The test decides who can reach whom: no mDNS, no Kademlia walks.
        std::fs::write(city.path().join("config.toml"), "[node]\nmdns = false\ndiscovery = false\n").unwrap();
    }
    let all: Vec<usize> = (0..NODES).collect();
    let (side_a, side_b): (Vec<usize>, Vec<usize>) = all.iter().partition(|n| **n < NODES / 2);

    // Together: each city publishes a note; the tokens are made by the first run.
    let running = start_group(&cities, &all);
    let tokens: Vec<String> = cities
        .iter()
        .map(|city| std::fs::read_to_string(city.path().join("api.token")).unwrap().trim().to_owned())
        .collect();
    for (&n, process) in &running {
        publish(process, &tokens[n], &format!("shared-{n}"), "Before the partition");
    }
    stop_all(running);

    // Apart: two groups that cannot reach each other, each writing on its side.
    let mut group_a = start_group(&cities, &side_a);
    let mut group_b = start_group(&cities, &side_b);
    for (group, side) in [(&mut group_a, "a"), (&mut group_b, "b")] {
        for (&n, process) in group.iter() {
            publish(process, &tokens[n], &format!("side-{side}-{n}"), "During the partition");
            // Edit the note written together, and withdraw another on every second node.
            publish(process, &tokens[n], &format!("shared-{n}"), &format!("Edited on side {side}"));
            if n % 2 == 0 {
                write(
                    process,
                    &tokens[n],
                    "/api/v1/withdraw",
                    json!({"slug": format!("side-{side}-{n}"), "reason": "ended"}),
                );
            }
        }
    }
    // Each side sees its own writes (by gossip, or by the next sync) but none of the other's.
    let mut a0 = BTreeMap::new();
    eventually_blocking("side a's writes spread on side a", HEAL, || {
        a0 = heads(&group_a[&side_a[0]]);
        a0.keys().any(|(_, _, slug)| slug == "side-a-1")
    });
    assert!(!a0.keys().any(|(_, _, slug)| slug.starts_with("side-b")), "the partition leaked");
    stop_all(group_a);
    stop_all(group_b);

    // Healed: all ten again, the second side dialling the first. The 30 seconds count from the
    // first start, so the time to start the processes counts too.
    let healed = Instant::now();
    let running = start_group(&cities, &all);
    let expected_keys = NODES /* profiles */ + NODES /* identities */ + NODES /* shared */ + NODES /* side notes */;
    let mut views: Vec<BTreeMap<(String, String, String), String>> = Vec::new();
    eventually_blocking("every node holds the same heads", HEAL.saturating_sub(healed.elapsed()), || {
        views = running.values().map(heads).collect();
        views.iter().all(|view| view == &views[0]) && views[0].len() == expected_keys
    });
    println!("identical heads on all {NODES} nodes {:.1} s after healing", healed.elapsed().as_secs_f64());
    // Every head is the latest write: edits and withdrawals from both sides.
    let get = |base: &str, path: &str| -> Value {
        http().get(format!("{base}{path}")).call().unwrap().body_mut().read_json().unwrap()
    };
    let detail = get(&running[&7].base, "/api/v1/records/shared-7?history=true");
    assert_eq!(detail["revision"], 2, "{detail}");
    let withdrawn = views[0]
        .iter()
        .filter(|((_, _, slug), _)| slug.starts_with("side-"))
        .filter(|(_, id)| get(&running[&0].base, &format!("/api/v1/records/{id}"))["withdrawn"] == true)
        .count();
    assert_eq!(withdrawn, NODES / 2, "one withdrawal per even node, from both sides");
    stop_all(running);
}
