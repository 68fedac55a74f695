//! `cargo bench --bench reconcile`: two in-process peers reconcile sets of 100,000 and 1,000,000
//! items that differ by 100 items at the newest end (a node back from downtime), 100 scattered,
//! and 10,000 scattered. Prints rounds, bytes each way and time, against the naive way measured
//! in the same run: sending every id (bytes) and merging two sorted lists (time).

use std::time::{Duration, Instant};

use citymesh::reconcile::{Item, ItemSet, Session};
use sha2::{Digest, Sha256};

fn item(n: u64) -> Item {
    Item { timestamp: 1_700_000_000_000 + n * 10, id: Sha256::digest(n.to_le_bytes()).into() }
}

struct Outcome {
    rounds: usize,
    sent: usize,
    received: usize,
    elapsed: Duration,
    found: usize,
}

fn reconcile(client: &ItemSet, server: &ItemSet) -> Outcome {
    let started = Instant::now();
    let mut initiator = Session::new(client, 1 << 20).expect("a valid frame limit");
    let mut responder = Session::new(server, 1 << 20).expect("a valid frame limit");
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut message = initiator.initiate();
    let (mut rounds, mut sent, mut received) = (0, 0, 0);
    loop {
        rounds += 1;
        sent += message.len();
        let answer = responder.respond(&message).expect("an answer");
        received += answer.len();
        match initiator.reconcile(&answer, &mut have, &mut need).expect("a next step") {
            Some(next) => message = next,
            None => break,
        }
    }
    need.sort_unstable();
    need.dedup();
    Outcome { rounds, sent, received, elapsed: started.elapsed(), found: need.len() }
}

/// The naive floor of the same job: merge two sorted id lists to find the differences.
fn merge_time(client: &[Item], server: &[Item]) -> Duration {
    let started = Instant::now();
    let (mut i, mut j, mut missing) = (0, 0, 0usize);
    while i < client.len() && j < server.len() {
        match client[i].cmp(&server[j]) {
            std::cmp::Ordering::Equal => (i, j) = (i + 1, j + 1),
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => (j, missing) = (j + 1, missing + 1),
        }
    }
    std::hint::black_box(missing + server.len() - j);
    started.elapsed()
}

/// Which of the server's items the client lacks: (item number, set size) -> lacking.
type Lacks = fn(u64, u64) -> bool;

fn main() {
    println!("reconcile: client lacks some of the server's items; 1 MiB frame limit");
    println!(
        "{:>9} {:<22} {:>6} {:>10} {:>10} {:>10} {:>12} {:>10}",
        "items", "differences", "rounds", "sent B", "recv B", "naive B", "time", "merge time"
    );
    for size in [100_000u64, 1_000_000] {
        let server_items: Vec<Item> = (0..size).map(item).collect();
        let server = ItemSet::new(server_items.clone());
        let cases: [(&str, Lacks); 3] = [
            ("100 newest", |n, size| n >= size - 100),
            ("100 scattered", |n, size| n % (size / 100) == 7),
            ("10,000 scattered", |n, size| n % (size / 10_000) == 3),
        ];
        for (name, missing) in cases {
            let client_items: Vec<Item> = (0..size).filter(|&n| !missing(n, size)).map(item).collect();
            let lacking = (size as usize) - client_items.len();
            let client = ItemSet::new(client_items.clone());
            let outcome = reconcile(&client, &server);
            assert_eq!(outcome.found, lacking, "reconciliation missed differences");
            let naive_bytes = size as usize * 32;
            println!(
                "{size:>9} {name:<22} {:>6} {:>10} {:>10} {:>10} {:>12?} {:>10?}",
                outcome.rounds,
                outcome.sent,
                outcome.received,
                naive_bytes,
                outcome.elapsed,
                merge_time(&client_items, &server_items),
            );
            println!(
                "{:>32} bytes {:.4} of sending every id; {:.1} bytes per difference",
                "",
                (outcome.sent + outcome.received) as f64 / naive_bytes as f64,
                (outcome.sent + outcome.received) as f64 / lacking as f64
            );
        }
    }
}
