//! Catch-up between two nodes: the initiator reconciles its set of records with a peer's over
//! `/citymesh/sync/1` ([`crate::reconcile`]) and, while the rounds go on, fetches what it lacks
//! over `/citymesh/fetch/1` in batches and stores them through the same verification as
//! gossip. Both sides reconcile only the publishers the initiator's trust policy keeps.
//!
//! The responder keeps no session: each round is answered from the set of records in scope,
//! which is cached while the store does not change, so a round costs time in proportion to
//! its message, not to the number of records held.
//!
//! A peer that breaks the protocol (a message that does not decode, a fetch answer with
//! records that were not asked for or are out of scope, an invalid record) ends the session
//! and is penalised (see [`crate::node::penalise`]).

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::author::now_ms;
use crate::ingest::{self, Outcome};
use crate::net::{Exchange, PeerId};
use crate::node::Shared;
use crate::reconcile::{Item, ItemSet, ReconcileError, Session};
use crate::record::{self, RecordError, RecordId};
use crate::trust::Scope;
use crate::wire::{self, FetchRequest, FetchResponse, SyncRequest, SyncResponse};

/// Largest reconciliation message.
const FRAME_LIMIT: usize = 1024 * 1024;
/// Reconciliation rounds per session, at most.
const MAX_ROUNDS: usize = 64;
/// Ids per fetch request, at most.
pub const FETCH_BATCH: usize = 512;
/// Bytes of envelopes per fetch answer, at most.
const FETCH_BYTES: usize = 4 * 1024 * 1024;
/// Publishers a scoped sync may name, at most.
pub const MAX_SCOPE: usize = 10_000;
/// Records fetched in one session, at most; a node further behind catches up over several
/// sessions, run one after another.
pub const MAX_FETCH_PER_SESSION: usize = 250_000;
/// A session still running after this long is ended (what it stored stays stored).
pub const SESSION_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// Sets of items kept for answering rounds, at most (each is ~80 bytes per record).
const CACHED_SETS: usize = 2;
/// Memory one session can make this node hold, at most, whatever the peer answers: the ids
/// queued for fetching ([`MAX_FETCH_PER_SESSION`], ~64 bytes each in their set), the ids of the
/// answer being read (an answer frame's worth), and the fetch answers queued (two) and being
/// stored (one), each at most an answer frame.
pub const SESSION_MEMORY_BOUND: usize = MAX_FETCH_PER_SESSION * 64 + 4 * crate::net::MAX_RESPONSE;

/// A peer broke the protocol; the text says how. Syncs that end with this penalise the peer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PeerFault(pub String);

fn fault(text: impl Into<String>) -> anyhow::Error {
    PeerFault(text.into()).into()
}

/// Sets of items in scope, labelled with the store generation they were read at.
#[derive(Default)]
pub struct SetCache {
    sets: Mutex<Vec<(u64, Scope, Arc<ItemSet>)>>,
}

impl SetCache {
    /// The records in `scope`, as reconciliation items; read from the store unless a set read
    /// since the store last changed is at hand.
    pub fn items(&self, shared: &Shared, scope: &Scope) -> Result<Arc<ItemSet>> {
        let generation = shared.store.generation();
        if let Ok(sets) = self.sets.lock()
            && let Some((_, _, set)) = sets.iter().find(|(at, cached, _)| *at == generation && cached == scope)
        {
            return Ok(Arc::clone(set));
        }
        let items = match scope {
            Scope::All => shared
                .store
                .time_index()
                .map(|entry| entry.map(|(timestamp, id)| Item { timestamp, id: id.0 }))
                .collect::<Result<Vec<_>, _>>()?,
            Scope::Publishers(publishers) => {
                let mut items = Vec::new();
                for publisher in publishers {
                    let held = shared.store.publisher_items(publisher)?;
                    items.extend(held.into_iter().map(|(timestamp, id)| Item { timestamp, id: id.0 }));
                }
                items
            }
        };
        let set = Arc::new(ItemSet::new(items));
        if let Ok(mut sets) = self.sets.lock() {
            sets.retain(|(at, _, _)| *at == generation);
            if sets.len() == CACHED_SETS {
                sets.remove(0);
            }
            sets.push((generation, scope.clone(), Arc::clone(&set)));
        }
        Ok(set)
    }
}

/// The scope a request names.
fn requested_scope(request: &SyncRequest) -> Result<Scope> {
    if request.all {
        return Ok(Scope::All);
    }
    if request.publishers.len() > MAX_SCOPE {
        return Err(fault(format!("a sync named {} publishers; at most {MAX_SCOPE}", request.publishers.len())));
    }
    let mut publishers = BTreeSet::new();
    for publisher in &request.publishers {
        let key = <[u8; 32]>::try_from(publisher.as_slice())
            .map_err(|_| fault(format!("a sync named a publisher of {} bytes; keys are 32", publisher.len())))?;
        publishers.insert(key);
    }
    Ok(Scope::Publishers(publishers))
}

/// Answers a peer's request (runs off the async runtime: it reads the store). An error that
/// is a [`PeerFault`] is the peer's doing.
pub fn answer(shared: &Shared, exchange: Exchange, request: &[u8]) -> Result<Vec<u8>> {
    match exchange {
        Exchange::Sync => {
            let request: SyncRequest =
                wire::decode(request).map_err(|error| fault(format!("a sync request does not decode: {error}")))?;
            let scope = requested_scope(&request)?;
            let set = shared.sets.items(shared, &scope)?;
            let negentropy = Session::new(&set, FRAME_LIMIT)?
                .respond(&request.negentropy)
                .map_err(|error| fault(format!("a reconciliation message is malformed: {error}")))?;
            Ok(wire::encode(&SyncResponse { negentropy }))
        }
        Exchange::Fetch => {
            let request: FetchRequest =
                wire::decode(request).map_err(|error| fault(format!("a fetch request does not decode: {error}")))?;
            if request.ids.len() > FETCH_BATCH {
                return Err(fault(format!("{} ids asked for; at most {FETCH_BATCH} per request", request.ids.len())));
            }
            let mut envelopes = Vec::new();
            let mut size = 0;
            for id in &request.ids {
                let id = <[u8; 32]>::try_from(id.as_slice())
                    .map_err(|_| fault(format!("a fetch asked for an id of {} bytes; ids are 32", id.len())))?;
                if let Some(envelope) = shared.store.envelope(&RecordId(id))? {
                    size += envelope.len();
                    if size > FETCH_BYTES {
                        break;
                    }
                    envelopes.push(envelope);
                }
            }
            Ok(wire::encode(&FetchResponse { envelopes }))
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub peer: String,
    /// When it started, in ms since the Unix epoch.
    pub at_ms: i64,
    pub rounds: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// Records stored from this peer.
    pub fetched: usize,
    /// Records the peer has that were left for the next session (over the per-session maximum).
    pub remaining: usize,
    pub duration_ms: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
    /// Whether it stopped because the peer broke the protocol.
    pub peer_fault: bool,
}

/// Reconciles with `peer` and fetches and stores every record in scope it has that we lack
/// (up to [`MAX_FETCH_PER_SESSION`]).
pub async fn with_peer(shared: Arc<Shared>, peer: PeerId) -> SyncReport {
    let started = std::time::Instant::now();
    let report = Mutex::new(SyncReport { peer: peer.to_string(), at_ms: now_ms(), ..SyncReport::default() });
    let outcome = tokio::time::timeout(SESSION_DEADLINE, run(&shared, peer, &report)).await;
    let mut report = report.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error),
        Err(_) => Some(anyhow::anyhow!("the session passed its deadline of {} s", SESSION_DEADLINE.as_secs())),
    };
    if let Some(error) = error {
        let text = format!("{error:#}");
        tracing::warn!(%peer, error = text, "sync failed");
        if error.downcast_ref::<PeerFault>().is_some() {
            report.peer_fault = true;
            crate::node::penalise(&shared, peer, &text);
        }
        report.error = Some(text);
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

fn add(report: &Mutex<SyncReport>, change: impl FnOnce(&mut SyncReport)) {
    if let Ok(mut report) = report.lock() {
        change(&mut report);
    }
}

/// Three stages run together: reconciliation finds what to fetch, the fetcher asks for it in
/// batches (one in flight while the previous one is stored), and the storer verifies and
/// stores. Bounded queues between them hold two batches each.
async fn run(shared: &Arc<Shared>, peer: PeerId, report: &Mutex<SyncReport>) -> Result<()> {
    let scope = shared.policy().scope().clone();
    let set = {
        let (shared, scope) = (Arc::clone(shared), scope.clone());
        tokio::task::spawn_blocking(move || shared.sets.items(&shared, &scope)).await??
    };
    let (wanted, mut to_fetch) = mpsc::channel::<Vec<[u8; 32]>>(2);
    let (fetched, mut to_store) = mpsc::channel::<FetchResponse>(2);
    let reconciling = reconcile(shared, peer, &set, &scope, wanted, report);
    let fetching = async {
        'batches: while let Some(mut ids) = to_fetch.recv().await {
            // An answer stops before it passes its size limit: ask again at once for what it
            // left out, for as long as answers bring something.
            while !ids.is_empty() {
                let (answer, left_out) = fetch(shared, peer, &ids, &scope, report).await?;
                let brought = answer.envelopes.len();
                if fetched.send(answer).await.is_err() {
                    break 'batches;
                }
                if brought == 0 {
                    break;
                }
                ids = left_out;
            }
        }
        drop(fetched);
        Ok::<_, anyhow::Error>(())
    };
    let storing = async {
        while let Some(answer) = to_store.recv().await {
            let stored = store(shared, peer, answer).await?;
            add(report, |report| report.fetched += stored);
        }
        Ok::<_, anyhow::Error>(())
    };
    tokio::try_join!(reconciling, fetching, storing)?;
    let report = report.lock().map(|report| report.clone()).unwrap_or_default();
    if report.fetched > 0 {
        tracing::info!(%peer, fetched = report.fetched, rounds = report.rounds, "caught up");
    }
    Ok(())
}

/// The reconciliation rounds; sends ids to fetch, in batches, as they are found.
async fn reconcile(
    shared: &Shared,
    peer: PeerId,
    set: &ItemSet,
    scope: &Scope,
    wanted: mpsc::Sender<Vec<[u8; 32]>>,
    report: &Mutex<SyncReport>,
) -> Result<()> {
    let (all, publishers) = match scope {
        Scope::All => (true, Vec::new()),
        Scope::Publishers(publishers) => (false, publishers.iter().map(|key| key.to_vec()).collect()),
    };
    let mut session = Session::new(set, FRAME_LIMIT)?;
    let mut message = session.initiate();
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut queued = HashSet::new();
    let mut batch = Vec::new();
    for round in 0.. {
        if round == MAX_ROUNDS {
            anyhow::bail!("reconciliation did not finish in {MAX_ROUNDS} rounds");
        }
        let request = wire::encode(&SyncRequest { publishers: publishers.clone(), all, negentropy: message });
        let answer = shared.net.ask(Exchange::Sync, peer, request.clone()).await?;
        add(report, |report| {
            report.rounds += 1;
            report.bytes_sent += request.len();
            report.bytes_received += answer.len();
        });
        let answer: SyncResponse =
            wire::decode(&answer).map_err(|error| fault(format!("a sync answer does not decode: {error}")))?;
        let next = session.reconcile(&answer.negentropy, &mut have, &mut need).map_err(|error| match error {
            ReconcileError::UnsupportedVersion(_) => anyhow::Error::new(error),
            error => fault(format!("a reconciliation answer is malformed: {error}")),
        })?;
        have.clear();
        for id in need.drain(..) {
            if queued.len() == MAX_FETCH_PER_SESSION {
                add(report, |report| report.remaining += 1);
            } else if queued.insert(id) {
                batch.push(id);
            }
        }
        while batch.len() >= FETCH_BATCH {
            let rest = batch.split_off(FETCH_BATCH);
            if wanted.send(std::mem::replace(&mut batch, rest)).await.is_err() {
                return Ok(());
            }
        }
        match next {
            Some(next) => message = next,
            None => break,
        }
    }
    if !batch.is_empty() {
        let _ = wanted.send(batch).await;
    }
    Ok(())
}

/// Asks for one batch; returns the answer and the ids it did not bring. An answer with records
/// that were not asked for (or asked for once and sent twice), or of publishers out of our
/// scope, is the peer's fault: nothing of it is kept.
async fn fetch(
    shared: &Shared,
    peer: PeerId,
    ids: &[[u8; 32]],
    scope: &Scope,
    report: &Mutex<SyncReport>,
) -> Result<(FetchResponse, Vec<[u8; 32]>)> {
    let request = wire::encode(&FetchRequest { ids: ids.iter().map(|id| id.to_vec()).collect() });
    let answer = shared.net.ask(Exchange::Fetch, peer, request.clone()).await?;
    add(report, |report| {
        report.bytes_sent += request.len();
        report.bytes_received += answer.len();
    });
    let answer: FetchResponse =
        wire::decode(&answer).map_err(|error| fault(format!("a fetch answer does not decode: {error}")))?;
    let mut asked: HashSet<[u8; 32]> = ids.iter().copied().collect();
    for envelope in &answer.envelopes {
        let Some((id, publisher)) = record::claimed(envelope) else {
            return Err(fault(
                "a fetch answer holds an envelope that does not decode; nothing of the batch was stored",
            ));
        };
        if !asked.remove(&id.0) {
            return Err(fault(format!(
                "a fetch answer holds record {id}, which was not asked for; nothing of the batch was stored"
            )));
        }
        if !scope.contains(&publisher) {
            return Err(fault(format!(
                "a fetch answer holds record {id} of publisher {}, outside the scope asked for; nothing of the batch was stored",
                record::to_hex(&publisher)
            )));
        }
    }
    let left_out = ids.iter().filter(|id| asked.contains(*id)).copied().collect();
    Ok((answer, left_out))
}

/// Verifies and stores one fetched batch; an invalid record ends the session (the valid ones
/// are kept: each was verified on its own).
async fn store(shared: &Arc<Shared>, peer: PeerId, answer: FetchResponse) -> Result<usize> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        let mut stored = 0;
        let mut invalid: Option<RecordError> = None;
        let from = peer.to_string();
        // Valid but unwanted (a blocked publisher, under `open`): dropped without fault.
        let policy = shared.policy();
        let items = answer
            .envelopes
            .into_iter()
            .filter(|envelope| {
                record::claimed(envelope).is_some_and(|(_, publisher)| {
                    policy.accepts(&publisher)
                        && crate::node::fetched_within_cap(&shared, &policy, &publisher, envelope.len())
                })
            })
            .map(|envelope| ((), Ok(envelope)));
        ingest::ingest(&shared.store, items, now_ms(), |(), outcome| match outcome {
            Outcome::Stored { record, .. } => {
                stored += 1;
                crate::node::accepted(&shared, &record, &from, "sync");
            }
            Outcome::AlreadyHeld { .. } | Outcome::Unreadable(_) => {}
            // Not the peer's fault: a newer version's kind or format, or clocks that differ.
            Outcome::Invalid(
                error @ (RecordError::Kind(_) | RecordError::Format(_) | RecordError::Timestamp { .. }),
            ) => {
                tracing::info!(%peer, %error, "ignored a fetched record");
            }
            Outcome::Invalid(error) => {
                crate::node::rejected(&shared, &error, &from);
                invalid.get_or_insert(error);
            }
        })?;
        match invalid {
            Some(error) => Err(fault(format!("a fetched record is invalid: {error}"))),
            None => Ok(stored),
        }
    })
    .await
    .context("the storing task stopped")?
}
