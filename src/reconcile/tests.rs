//! Reconciliation finds exactly the differences, whatever the sets, and speaks the same bytes
//! as the `negentropy` crate (the reference Rust implementation), in both roles.

use std::collections::BTreeSet;

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use proptest::prelude::*;

use super::*;

/// Items drawn from a small space of timestamps and ids, so that sets overlap and share
/// timestamps (which exercises id-prefix bounds).
fn item() -> impl Strategy<Value = Item> {
    (0u64..40, 0u8..=255, any::<[u8; 4]>()).prop_map(|(timestamp, first, tail)| {
        let mut id = [first; 32];
        id[28..].copy_from_slice(&tail);
        Item { timestamp, id }
    })
}

fn set() -> impl Strategy<Value = BTreeSet<Item>> {
    prop::collection::btree_set(item(), 0..300)
}

/// Runs our initiator against our responder until done; returns (have, need).
fn ours_with_ours(client: &ItemSet, server: &ItemSet, frame_limit: usize) -> (BTreeSet<[u8; 32]>, BTreeSet<[u8; 32]>) {
    let mut initiator = Session::new(client, frame_limit).unwrap();
    let mut responder = Session::new(server, frame_limit).unwrap();
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut message = initiator.initiate();
    for _ in 0..1000 {
        if frame_limit != 0 {
            assert!(message.len() <= frame_limit, "a message of {} bytes broke the limit", message.len());
        }
        let answer = responder.respond(&message).unwrap();
        if frame_limit != 0 {
            assert!(answer.len() <= frame_limit, "an answer of {} bytes broke the limit", answer.len());
        }
        match initiator.reconcile(&answer, &mut have, &mut need).unwrap() {
            Some(next) => message = next,
            None => return (have.into_iter().collect(), need.into_iter().collect()),
        }
    }
    panic!("reconciliation did not finish in 1000 rounds");
}

fn expected(client: &BTreeSet<Item>, server: &BTreeSet<Item>) -> (BTreeSet<[u8; 32]>, BTreeSet<[u8; 32]>) {
    let ids = |items: &BTreeSet<Item>| items.iter().map(|item| item.id).collect::<BTreeSet<_>>();
    let (client_ids, server_ids) = (ids(client), ids(server));
    (client_ids.difference(&server_ids).copied().collect(), server_ids.difference(&client_ids).copied().collect())
}

fn theirs(items: &BTreeSet<Item>) -> NegentropyStorageVector {
    let mut storage = NegentropyStorageVector::new();
    for item in items {
        storage.insert(item.timestamp, Id::from_byte_array(item.id)).unwrap();
    }
    storage.seal().unwrap();
    storage
}

fn ours(items: &BTreeSet<Item>) -> ItemSet {
    ItemSet::new(items.iter().copied().collect())
}

/// Ids are unique per item in these tests (as record ids are), so sets compare by id.
fn unique_ids(items: BTreeSet<Item>) -> BTreeSet<Item> {
    let mut seen = BTreeSet::new();
    items.into_iter().filter(|item| seen.insert(item.id)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn two_peers_find_exactly_their_differences(a in set(), b in set(), limited in any::<bool>()) {
        let (a, b) = (unique_ids(a), unique_ids(b));
        let frame_limit = if limited { MIN_FRAME_LIMIT } else { 0 };
        prop_assert_eq!(ours_with_ours(&ours(&a), &ours(&b), frame_limit), expected(&a, &b));
    }

    #[test]
    fn our_initiator_and_their_responder_agree(a in set(), b in set()) {
        let (a, b) = (unique_ids(a), unique_ids(b));
        let client_set = ours(&a);
        let mut client = Session::new(&client_set, 0).unwrap();
        let mut server = Negentropy::owned(theirs(&b), 0).unwrap();
        let (mut have, mut need) = (Vec::new(), Vec::new());
        let mut message = client.initiate();
        loop {
            let answer = server.reconcile(&message).unwrap();
            match client.reconcile(&answer, &mut have, &mut need).unwrap() {
                Some(next) => message = next,
                None => break,
            }
        }
        let got = (have.into_iter().collect(), need.into_iter().collect());
        prop_assert_eq!(got, expected(&a, &b));
    }

    #[test]
    fn their_initiator_and_our_responder_agree_byte_for_byte(a in set(), b in set()) {
        let (a, b) = (unique_ids(a), unique_ids(b));
        let server_set = ours(&b);
        let mut server = Session::new(&server_set, 0).unwrap();
        let mut reference_server = Negentropy::owned(theirs(&b), 0).unwrap();
        let mut client = Negentropy::owned(theirs(&a), 0).unwrap();
        let (mut have, mut need) = (Vec::new(), Vec::new());
        let mut message = client.initiate().unwrap();
        prop_assert_eq!(&message, &Session::new(&ours(&a), 0).unwrap().initiate());
        loop {
            let answer = server.respond(&message).unwrap();
            prop_assert_eq!(&answer, &reference_server.reconcile(&message).unwrap());
            match client.reconcile_with_ids(&answer, &mut have, &mut need).unwrap() {
                Some(next) => message = next,
                None => break,
            }
        }
        let have: BTreeSet<[u8; 32]> = have.into_iter().map(Id::to_bytes).collect();
        let need: BTreeSet<[u8; 32]> = need.into_iter().map(Id::to_bytes).collect();
        prop_assert_eq!((have, need), expected(&a, &b));
    }

    /// Three peers reconcile pairwise (a with b, then c with b, then a with b again), fetching
    /// what they need each time: all end with the union.
    #[test]
    fn three_peers_converge_on_the_union(a in set(), b in set(), c in set()) {
        let mut peers = [unique_ids(a), unique_ids(b), unique_ids(c)];
        let union: BTreeSet<[u8; 32]> = peers.iter().flatten().map(|item| item.id).collect();
        // Ids must mean the same item everywhere, as record ids do.
        let mut by_id = std::collections::HashMap::new();
        for item in peers.iter().flatten() {
            by_id.entry(item.id).or_insert(*item);
        }
        for peer in &mut peers {
            *peer = peer.iter().map(|item| by_id[&item.id]).collect();
        }
        for (client, server) in [(0, 1), (2, 1), (0, 1)] {
            let (have, need) = ours_with_ours(&ours(&peers[client]), &ours(&peers[server]), 0);
            peers[client].extend(need.iter().map(|id| by_id[id]));
            peers[server].extend(have.iter().map(|id| by_id[id]));
        }
        for peer in &peers {
            prop_assert_eq!(&peer.iter().map(|item| item.id).collect::<BTreeSet<_>>(), &union);
        }
    }

    /// Scoped pull: each peer keeps only some publishers (here an item's publisher is its
    /// first id byte mod 4) and pulls from each other peer, both sides reconciling only the
    /// puller's scope. Each ends with what it held plus every peer's records in its scope,
    /// and nothing out of its scope arrives.
    #[test]
    fn peers_with_scopes_converge_on_the_scoped_union(
        sets in prop::collection::vec(set(), 2..=3),
        scopes in prop::collection::vec(0u8..16, 3),
    ) {
        let publisher = |item: &Item| item.id[0] % 4;
        let in_scope = |peer: usize, item: &Item| scopes[peer] & (1 << publisher(item)) != 0;
        let mut by_id = std::collections::HashMap::new();
        for item in sets.iter().flatten() {
            by_id.entry(item.id).or_insert(*item);
        }
        let initial: Vec<BTreeSet<Item>> =
            sets.into_iter().map(|set| unique_ids(set).iter().map(|item| by_id[&item.id]).collect()).collect();
        let mut peers = initial.clone();
        let n = peers.len();
        for client in 0..n {
            for server in (0..n).filter(|&server| server != client) {
                let scoped = |items: &BTreeSet<Item>| -> BTreeSet<Item> {
                    items.iter().filter(|item| in_scope(client, item)).copied().collect()
                };
                let (_, need) = ours_with_ours(&ours(&scoped(&peers[client])), &ours(&scoped(&peers[server])), 0);
                peers[client].extend(need.iter().map(|id| by_id[id]));
            }
        }
        for (peer, held) in peers.iter().enumerate() {
            let mut expected = initial[peer].clone();
            expected.extend(initial.iter().flatten().filter(|item| in_scope(peer, item)));
            prop_assert_eq!(held, &expected);
        }
    }

    #[test]
    fn any_bytes_give_an_answer_or_an_error_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), b in set()) {
        let server_set = ours(&b);
        let mut message = vec![PROTOCOL_VERSION];
        message.extend(&bytes);
        let _ = Session::new(&server_set, 0).unwrap().respond(&message);
        let _ = Session::new(&server_set, 0).unwrap().respond(&bytes);
        let mut client = Session::new(&server_set, 0).unwrap();
        client.initiate();
        let _ = client.reconcile(&message, &mut Vec::new(), &mut Vec::new());
    }
}

#[test]
fn another_version_gets_our_version_in_one_byte() {
    let set = ItemSet::new(Vec::new());
    assert_eq!(Session::new(&set, 0).unwrap().respond(&[0x62, 0, 0]).unwrap(), vec![PROTOCOL_VERSION]);
    assert_eq!(Session::new(&set, 0).unwrap().respond(&[0x01]), Err(ReconcileError::NotAVersion(0x01)));
    assert!(Session::new(&set, 100).is_err());
}

#[test]
fn identical_sets_finish_in_one_round_with_one_fingerprint_each_way() {
    let items: Vec<Item> =
        (0..10_000u64).map(|n| Item { timestamp: n, id: Sha256::digest(n.to_le_bytes()).into() }).collect();
    let set = ItemSet::new(items);
    let mut client = Session::new(&set, 0).unwrap();
    let first = client.initiate();
    let answer = Session::new(&set, 0).unwrap().respond(&first).unwrap();
    // Sixteen fingerprints out; nothing but the version byte back.
    assert!(first.len() < 16 * 30, "{} bytes", first.len());
    assert_eq!(client.reconcile(&answer, &mut Vec::new(), &mut Vec::new()).unwrap(), None);
}

#[test]
fn a_frame_limit_bounds_every_message_and_still_finds_every_difference() {
    let item = |n: u64| Item { timestamp: n / 3, id: Sha256::digest(n.to_le_bytes()).into() };
    let a: BTreeSet<Item> = (0..6000).filter(|n| n % 5 != 0).map(item).collect();
    let b: BTreeSet<Item> = (0..6000).filter(|n| n % 7 != 0).map(item).collect();
    let (have, need) = ours_with_ours(&ours(&a), &ours(&b), MIN_FRAME_LIMIT);
    assert_eq!((have, need), expected(&a, &b));
}

#[test]
fn every_range_fingerprint_equals_the_sum_of_its_ids() {
    let items: Vec<Item> = (0..3 * SUM_STRIDE as u64 + 5)
        .map(|n| Item {
            timestamp: n,
            id: std::array::from_fn(|byte| (n as u8).wrapping_mul(31).wrapping_add(byte as u8) | 0x80),
        })
        .collect();
    let set = ItemSet::new(items.clone());
    for lower in 0..=items.len() {
        for upper in lower..=items.len() {
            let sum = items[lower..upper].iter().fold([0u64; 4], |sum, item| add(sum, limbs(&item.id)));
            let mut hasher = Sha256::new();
            for limb in sum {
                hasher.update(limb.to_le_bytes());
            }
            hasher.update(message::varint((upper - lower) as u64));
            assert_eq!(set.fingerprint(lower, upper)[..], hasher.finalize()[..16], "items {lower}..{upper}");
        }
    }
}
