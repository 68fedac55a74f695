//! The node's event loop: network events (gossip to the validator, peers' requests to be
//! answered, new peers to sync with and remember), sync requests and the periodic sync, in
//! one closed loop; and the task that keeps the search index up to date.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Shared, syncing};
use crate::author::now_ms;
use crate::net::{Answer, During, Event, Exchange, Inbound, Multiaddr, PeerId, Refusal, Verdict, Version};

/// A peer that connects is not synced with again if a sync with it succeeded this recently.
const RECENT_SYNC_MS: i64 = 30_000;
/// How often the search index looks for records the store received.
const SEARCH_INDEX_INTERVAL: Duration = Duration::from_millis(500);
/// When a peer whose request this node failed to answer is told to ask again.
const CANNOT_ANSWER_RETRY: Duration = Duration::from_secs(30);

/// Runs `work` off the async runtime every `period` (the first time at once), until shutdown.
async fn every(shared: Arc<Shared>, shutdown: CancellationToken, period: Duration, what: &str, work: fn(&Shared)) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let running = Arc::clone(&shared);
        if let Err(error) = shared.blocking.spawn_blocking(move || work(&running)).await {
            tracing::warn!(%error, "{what} stopped");
        }
    }
}

/// Keeps the search index up to date with the store, in the background, until shutdown.
pub(super) async fn keep_search_index(shared: Arc<Shared>, shutdown: CancellationToken) {
    every(shared, shutdown, SEARCH_INDEX_INTERVAL, "the search indexer", |shared| {
        let archive = &shared.archive;
        match archive.search_index().and_then(|index| index.catch_up(archive.store())) {
            Ok(indexed) => after_indexing(indexed),
            Err(error) => tracing::warn!(%error, "cannot update the search index; searches may miss new notes"),
        }
    })
    .await
}

/// How often files no record names are looked for, and how old such a file must be to go.
const BLOB_CLEANING: Duration = Duration::from_secs(3600);

/// Removes, once an hour, the attachments' files that no held record names any more (their
/// notes were revised without them, purged or erased), until shutdown.
pub(super) async fn keep_blobs_tidy(shared: Arc<Shared>, shutdown: CancellationToken) {
    every(shared, shutdown, BLOB_CLEANING, "the attachments' cleaner", |shared| {
        match shared.archive.clean_blobs(BLOB_CLEANING) {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed attachments' files that no record names any more"),
            Err(error) => tracing::warn!(%error, "cannot clean up attachments' files"),
        }
    })
    .await
}

/// Notes indexed in one catch-up after which freed memory is handed back to the system.
const TRIM_AFTER_INDEXING: usize = 10_000;

/// Hands memory that malloc holds free back to the system. After indexing a large store, most
/// of the heap's peak is free but kept by glibc (pinned behind live blocks), so the node would
/// stay at its peak for good: at 200,000 notes, 454 MiB resident after indexing, against 239
/// MiB once freed memory is returned.
/// What follows a catch-up of the search index that indexed `indexed` notes: freed memory
/// handed back after a large one.
pub(super) fn after_indexing(indexed: usize) {
    if indexed >= TRIM_AFTER_INDEXING {
        give_back_freed_memory();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_freed_memory() {
    // SAFETY: malloc_trim is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_freed_memory() {}

/// Renews this node's own key in its organisation's identity when it expires within a month
/// (a record signed by an expired key is refused everywhere), receipts the revisions of other
/// organisations' identities it holds (partners as witnesses), and gossips what it signed.
fn renew_identity(shared: &Arc<Shared>) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let renewing = Arc::clone(&shared);
        let done = shared
            .blocking
            .spawn_blocking(move || {
                let archive = &renewing.archive;
                if let Err(error) = archive.store().settle_recoveries(now_ms()) {
                    tracing::warn!(%error, "cannot apply the recoveries whose contest window passed");
                }
                let receipts = archive.witness_identities().unwrap_or_else(|error| {
                    tracing::warn!(%error, "cannot receipt the identity revisions of partners held here");
                    Vec::new()
                });
                super::domains::check_due(&renewing);
                (archive.renew_identity_if_due(), receipts)
            })
            .await;
        let (renewed, receipts) = match done {
            Ok(done) => done,
            Err(error) => return tracing::warn!(%error, "the identity renewal stopped"),
        };
        if !receipts.is_empty() {
            tracing::info!(receipts = receipts.len(), "witnessed partners' identity revisions");
        }
        for receipt in &receipts {
            if let Err(error) = shared.net.publish(receipt.envelope_bytes()).await {
                tracing::debug!(%error, "cannot gossip a receipt; partners fetch it by sync");
            }
        }
        match renewed {
            Ok(Some(crate::organisation::Changed::Unsigned { needed, .. })) => tracing::warn!(
                needed,
                "this node's key expires within a month and renewing it needs the officials' signatures: `citymesh identity renew`"
            ),
            Ok(Some(crate::organisation::Changed::Stored(record))) => {
                tracing::info!(revision = record.revision(), "renewed this node's key in the organisation's identity");
                if let Err(error) = shared.net.publish(record.envelope_bytes()).await {
                    tracing::warn!(%error, "cannot gossip the identity's new revision; partners fetch it by sync");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(
                %error,
                "cannot renew this node's key in the organisation's identity; renew it with `citymesh identity renew`"
            ),
        }
    });
}

/// Routes network events: gossip to the validator, requests to be answered, new peers to a
/// sync and the peers file; and runs the syncs asked for and the periodic one.
pub(super) async fn on_events(
    shared: Arc<Shared>,
    mut events: mpsc::Receiver<Event>,
    inbox: mpsc::Sender<Inbound>,
    mut sync_requests: mpsc::Receiver<Option<PeerId>>,
) {
    // Syncs and answers run beside this loop; when the network stops, they are ended and
    // awaited, so none outlives the node (each holds the store).
    let mut work = JoinSet::new();
    let interval = Duration::from_secs(shared.archive.config().node.sync_interval_secs);
    let mut periodic = tokio::time::interval(interval);
    periodic.tick().await;
    renew_identity(&shared);
    loop {
        while work.try_join_next().is_some() {}
        let event = tokio::select! {
            event = events.recv() => event,
            _ = periodic.tick() => {
                renew_identity(&shared);
                if let Some(peer) = random_peer(&shared).await {
                    spawn_sync(&mut work, &shared, peer);
                }
                continue;
            }
            Some(request) = sync_requests.recv() => {
                let peers = match request {
                    Some(peer) => vec![peer],
                    None => connected_peers(&shared).await,
                };
                for peer in peers {
                    spawn_sync(&mut work, &shared, peer);
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        match event {
            Event::Received(inbound) => on_gossip(&shared, &inbox, inbound),
            Event::PeerConnected { peer, address, dialed } => {
                // Naming the peer and remembering its address read and write files: off the loop.
                let connected = Arc::clone(&shared);
                shared.blocking.spawn_blocking(move || {
                    match connected.archive.peer_names().get(&peer.to_string()) {
                        Some(name) => tracing::info!(%peer, %address, "{name}'s node connected"),
                        None => tracing::info!(%peer, %address, "a peer connected"),
                    }
                    if dialed {
                        remember(&connected, peer, address);
                    }
                });
                if !synced_recently(&shared, peer) {
                    spawn_sync(&mut work, &shared, peer);
                }
            }
            Event::Request { exchange, version, peer, id, data } => match shared.guard.admit(peer) {
                Ok(()) => drop(work.spawn(serve(Arc::clone(&shared), exchange, version, peer, id, data))),
                Err(refusal) => {
                    tracing::debug!(%peer, reason = refusal.as_str(), "refused a peer's request");
                    shared.metrics.refused(refusal.as_str());
                    shared.net.respond(id, Answer::Refused(refusal.to_peer()));
                }
            },
            Event::Misbehaved { peer, reason, during } => shared.penalise(peer, &reason, during),
        }
    }
    work.shutdown().await;
}

/// Remembers the address of a peer this node dialled, for the next start. A write of a few
/// hundred bytes, rare enough to do on the event loop.
fn remember(shared: &Shared, peer: PeerId, address: Multiaddr) {
    let address = address.with_p2p(peer).unwrap_or_else(|address| address).to_string();
    if let Err(error) = shared.archive.data().remember_peer(&address) {
        tracing::warn!(%error, "cannot remember a peer");
    }
}

/// Hands a gossip message to the validator, or ignores it when the validator is busy.
fn on_gossip(shared: &Shared, inbox: &mpsc::Sender<Inbound>, inbound: Inbound) {
    if let Err(mpsc::error::TrySendError::Full(inbound)) = inbox.try_send(inbound) {
        tracing::warn!(peer = %inbound.source, "validator busy: ignoring a gossip message (sync will repair)");
        shared.net.validated(&inbound, Verdict::Ignore);
    }
}

fn spawn_sync(work: &mut JoinSet<()>, shared: &Arc<Shared>, peer: PeerId) {
    let shared = Arc::clone(shared);
    work.spawn(async move { drop(syncing::sync(&shared, peer).await) });
}

/// Answers one request off the runtime, at most [`super::MAX_SERVING`] at a time; a request
/// that is the peer's fault ends its stream unanswered and is penalised, and one this node
/// cannot answer now is refused.
async fn serve(shared: Arc<Shared>, exchange: Exchange, version: Version, peer: PeerId, id: u64, data: Vec<u8>) {
    let Ok(_permit) = Arc::clone(&shared.serving).acquire_owned().await else { return };
    let answering = Arc::clone(&shared);
    let answer = shared.blocking.spawn_blocking(move || syncing::answer(&answering, exchange, version, &data)).await;
    match answer {
        Ok(Ok(answer)) => {
            shared.metrics.served(exchange.as_str());
            shared.net.respond(id, Answer::message(answer));
        }
        Ok(Err(error)) if error.is_peer_fault() => {
            tracing::warn!(%peer, %error, "a peer's request broke the protocol");
            shared.net.respond(id, Answer::Fault);
            shared.metrics.refused("malformed");
            shared.penalise(peer, &error.to_string(), During::Serving);
        }
        Ok(Err(error)) => {
            tracing::warn!(%peer, %error, "cannot answer a peer's request");
            shared.net.respond(id, Answer::Refused(cannot_answer()));
            shared.metrics.refused("failed");
        }
        Err(_) => shared.net.respond(id, Answer::Refused(cannot_answer())),
    }
}

/// The refusal of a request this node failed to answer (its store could not be read, say).
fn cannot_answer() -> Refusal {
    Refusal {
        reason: "this node could not answer just now; its log says why".to_owned(),
        retry_after: CANNOT_ANSWER_RETRY,
    }
}

pub(super) async fn connected_peers(shared: &Shared) -> Vec<PeerId> {
    let peers = shared.net.status().await.map(|status| status.connected_peers).unwrap_or_default();
    peers.iter().filter_map(|peer| peer.parse().ok()).collect()
}

/// One connected peer, chosen at random, for the periodic sync.
async fn random_peer(shared: &Shared) -> Option<PeerId> {
    let peers = connected_peers(shared).await;
    if peers.is_empty() {
        return None;
    }
    Some(peers[rand::random::<u64>() as usize % peers.len()])
}

fn synced_recently(shared: &Shared, peer: PeerId) -> bool {
    let changed = shared.policy_changed_ms.load(Ordering::Relaxed);
    shared
        .state
        .last_sync(&peer.to_string())
        .is_some_and(|last| last.error.is_none() && now_ms() - last.at_ms < RECENT_SYNC_MS && last.at_ms > changed)
}
