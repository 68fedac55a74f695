//! Drives [`crate::sync`] sessions over the network: asks the peer what a session says to ask
//! (a round and a fetch can be out at once), verifies and stores the fetched batches through
//! the ingest pipeline off the runtime (one at a time, while the next is fetched), and answers
//! peers' requests from the store through a cache of item sets.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, OptionFuture};

use super::Shared;
use super::budget::{self, OverBudget, Pending};
use crate::author::now_ms;
use crate::ingest::{self, Outcome};
use crate::net::{Answer, During, Exchange, PeerId, Version};
use crate::reconcile::{Item, ItemSet};
use crate::record::{self, RecordId};
use crate::store::StoreError;
use crate::sync::{Ask, SESSION_DEADLINE, Session, Source, SyncError, SyncReport};
use crate::trust::Scope;

/// Sets of items kept for answering rounds, at most (each is ~42 bytes per record in scope:
/// `reconcile::SUM_STRIDE`).
const CACHED_SETS: usize = 2;
/// Refusals of one request waited out before the session ends.
const REFUSALS_WAITED: usize = 5;
/// The longest wait a refusal may ask for and still be waited out in the session.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Sets of items in scope, labelled with the store generation they were read at.
#[derive(Default)]
pub(super) struct SetCache {
    sets: Mutex<Vec<(u64, Scope, Arc<ItemSet>)>>,
}

impl Source for Shared {
    /// The records in `scope`, as reconciliation items; read from the store unless a set read
    /// since the store last changed is at hand.
    fn items(&self, scope: &Scope) -> Result<Arc<ItemSet>, StoreError> {
        let generation = self.store().generation();
        if let Ok(sets) = self.sets.sets.lock()
            && let Some((_, _, set)) = sets.iter().find(|(at, cached, _)| *at == generation && cached == scope)
        {
            return Ok(Arc::clone(set));
        }
        let items = match scope {
            Scope::All => self
                .store()
                .time_index()
                .map(|entry| entry.map(|(timestamp, id)| Item { timestamp, id: id.0 }))
                .collect::<Result<Vec<_>, _>>()?,
            Scope::Publishers(publishers) => {
                let mut items = Vec::new();
                for publisher in publishers {
                    let held = self.store().publisher_items(publisher)?;
                    items.extend(held.into_iter().map(|(timestamp, id)| Item { timestamp, id: id.0 }));
                }
                items
            }
        };
        let set = Arc::new(ItemSet::new(items));
        if let Ok(mut sets) = self.sets.sets.lock() {
            sets.retain(|(at, _, _)| *at == generation);
            if sets.len() == CACHED_SETS {
                sets.remove(0);
            }
            sets.push((generation, scope.clone(), Arc::clone(&set)));
        }
        Ok(set)
    }

    fn envelope(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        self.store().envelope(id)
    }
}

/// Answers a peer's request (runs off the async runtime: it reads the store).
pub(super) fn answer(
    shared: &Shared,
    exchange: Exchange,
    version: Version,
    request: &[u8],
) -> Result<Vec<u8>, SyncError> {
    match exchange {
        Exchange::Sync => crate::sync::answer_round(shared, version, request),
        Exchange::Fetch => crate::sync::answer_fetch(shared, request),
    }
}

/// Why a sync asked for did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSynced {
    /// The peer is banned for breaking the protocol.
    Banned,
    /// A sync with the peer is running; it runs once more when it ends.
    Running,
}

impl std::fmt::Display for NotSynced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotSynced::Banned => "the peer is banned for a while for breaking the protocol",
            NotSynced::Running => "a sync with this peer is already running",
        })
    }
}

/// Syncs with a peer unless the peer is banned, and keeps the report. When a sync with it is
/// already running, that one runs once more when it ends (the scope may have grown since it
/// began) and this returns [`NotSynced::Running`]. A peer with more than one session's worth of
/// records gets more sessions, one after another. Returns the last session's report.
pub(super) async fn sync(shared: &Arc<Shared>, peer: PeerId) -> Result<SyncReport, NotSynced> {
    if shared.guard.is_banned(peer) {
        return Err(NotSynced::Banned);
    }
    {
        let mut syncing = shared.syncing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(again) = syncing.get_mut(&peer) {
            *again = true;
            return Err(NotSynced::Running);
        }
        syncing.insert(peer, false);
    }
    let mut fetched = 0;
    let report = loop {
        let mut report = with_peer(shared, peer).await;
        shared.metrics.synced(&report);
        fetched += report.fetched;
        let more = report.error.is_none() && report.remaining > 0 && report.fetched > 0;
        let mut syncing = shared.syncing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let asked_again = syncing.get(&peer).copied().unwrap_or(false);
        if more || (asked_again && report.error.is_none()) {
            syncing.insert(peer, false);
            continue;
        }
        syncing.remove(&peer);
        report.fetched = fetched;
        break report;
    };
    shared.state.synced(report.clone());
    Ok(report)
}

/// Reconciles with `peer` and fetches and stores every record in scope it has that this node
/// lacks (up to [`crate::sync::MAX_FETCH_PER_SESSION`]); a peer that broke the protocol is
/// penalised.
async fn with_peer(shared: &Arc<Shared>, peer: PeerId) -> SyncReport {
    let started = Instant::now();
    let scope = shared.policy().scope().clone();
    let set = {
        let (reading, scope) = (Arc::clone(shared), scope.clone());
        shared.blocking.spawn_blocking(move || reading.items(&scope)).await
    };
    let set = match set {
        Ok(Ok(set)) => set,
        Ok(Err(error)) => return failed(peer, started, SyncError::Store(error)),
        Err(error) => return failed(peer, started, SyncError::Local(format!("the sync task stopped: {error}"))),
    };
    let mut session = match Session::new(peer.to_string(), now_ms(), set, scope) {
        Ok(session) => session,
        Err(error) => return failed(peer, started, error),
    };
    let outcome = match tokio::time::timeout(SESSION_DEADLINE, drive(shared, peer, &mut session)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(SyncError::Deadline(SESSION_DEADLINE)),
    };
    if let Err(error) = &outcome {
        tracing::warn!(%peer, %error, "sync failed");
        if error.is_peer_fault() {
            shared.penalise(peer, &error.to_string(), During::Syncing);
        }
    }
    let report = session.finish(outcome, started.elapsed());
    if report.fetched > 0 {
        tracing::info!(%peer, fetched = report.fetched, rounds = report.rounds, "caught up");
    }
    report
}

fn failed(peer: PeerId, started: Instant, error: SyncError) -> SyncReport {
    tracing::warn!(%peer, %error, "sync failed");
    SyncReport {
        peer: peer.to_string(),
        at_ms: now_ms(),
        duration_ms: started.elapsed().as_millis() as u64,
        error: Some(error.to_string()),
        ..SyncReport::default()
    }
}

/// A peer's answer: the message and the bytes its frame took.
type Asked = BoxFuture<'static, Result<(Vec<u8>, usize), SyncError>>;
type Stored = tokio::task::JoinHandle<Result<(usize, Option<String>), StoreError>>;

/// Moves the session's bytes: at most one round and one fetch out, and one batch being stored
/// while at most one more waits.
async fn drive(shared: &Arc<Shared>, peer: PeerId, session: &mut Session) -> Result<(), SyncError> {
    let (mut round, mut fetch): (Option<Asked>, Option<Asked>) = (None, None);
    let mut storing: Option<Stored> = None;
    let mut to_store: VecDeque<Vec<Vec<u8>>> = VecDeque::new();
    loop {
        for ask in session.asks() {
            match ask {
                Ask::Round(request) => round = Some(ask_peer(shared, Exchange::Sync, peer, request)),
                Ask::Fetch(request) => fetch = Some(ask_peer(shared, Exchange::Fetch, peer, request)),
            }
        }
        if storing.is_none()
            && let Some(batch) = to_store.pop_front()
        {
            let storer = Arc::clone(shared);
            storing = Some(shared.blocking.spawn_blocking(move || store(&storer, peer, batch)));
        }
        if round.is_none() && fetch.is_none() && storing.is_none() {
            return if session.is_done() {
                Ok(())
            } else {
                Err(SyncError::Local("the session stopped with nothing to ask".to_owned()))
            };
        }
        tokio::select! {
            Some(answer) = OptionFuture::from(round.as_mut()) => {
                round = None;
                let (answer, framed) = answer?;
                session.on_round(&answer, framed)?;
            }
            Some(answer) = OptionFuture::from(fetch.as_mut()) => {
                fetch = None;
                let (answer, framed) = answer?;
                let envelopes = session.on_fetch(&answer, framed)?;
                if !envelopes.is_empty() {
                    to_store.push_back(envelopes);
                }
            }
            Some(stored) = OptionFuture::from(storing.as_mut()) => {
                storing = None;
                let (stored, invalid) =
                    stored.map_err(|error| SyncError::Local(format!("the storing task stopped: {error}")))??;
                session.on_stored(stored, invalid)?;
            }
        }
    }
}

/// Asks the peer; a refusal is asked again after the wait the peer names, up to
/// [`REFUSALS_WAITED`] times and [`LONGEST_WAIT`] each, then ends the session without fault.
fn ask_peer(shared: &Shared, exchange: Exchange, peer: PeerId, request: Vec<u8>) -> Asked {
    let net = shared.net.clone();
    async move {
        let mut refusals = 0;
        loop {
            match net.ask(exchange, peer, request.clone()).await {
                Ok(Answer::Message { bytes, framed }) => return Ok((bytes, framed)),
                Ok(Answer::Refused(refusal)) if refusals < REFUSALS_WAITED && refusal.retry_after <= LONGEST_WAIT => {
                    tracing::debug!(%peer, reason = refusal.reason, "the peer refused a request; asking again");
                    refusals += 1;
                    // The peer's own word on when it will answer: this is the protocol's
                    // back-off, not a guess.
                    tokio::time::sleep(refusal.retry_after).await;
                }
                Ok(Answer::Refused(refusal)) => return Err(SyncError::Refused(refusal)),
                Ok(Answer::Fault) => return Err(SyncError::Local("an answer read as a fault".to_owned())),
                Err(error) => return Err(SyncError::Network(format!("{error:#}"))),
            }
        }
    }
    .boxed()
}

/// Verifies and stores one fetched batch; returns how many records were new and the first that
/// broke a record rule or an identity rule (its text), if one did. Records the trust policy does not keep, or over their
/// publisher's storage cap, are dropped without fault; so are those of a kind or format from a
/// newer version, or dated ahead of this node's clock.
fn store(shared: &Shared, peer: PeerId, envelopes: Vec<Vec<u8>>) -> Result<(usize, Option<String>), StoreError> {
    let mut stored = 0;
    let mut invalid: Option<String> = None;
    let from = peer.to_string();
    let policy = shared.policy();
    let mut pending = Pending::new();
    // The whole batch is judged before any of it is stored, so that the store's totals do not
    // yet hold what `pending` counts.
    let wanted: Vec<Vec<u8>> = envelopes
        .into_iter()
        .filter(|envelope| {
            let Some((_, publisher)) = record::claimed(envelope) else { return false };
            if !policy.accepts(&publisher) {
                return false;
            }
            let fits = budget::within_cap(shared, &policy, &publisher, envelope.len(), &mut pending);
            if !fits {
                shared.metrics.ignored(OverBudget::Storage.as_str());
            }
            fits
        })
        .collect();
    let items = wanted.into_iter().map(|envelope| ((), Ok(envelope)));
    ingest::ingest(shared.store(), items, now_ms(), |(), outcome| match outcome {
        Outcome::Stored { record, .. } => {
            stored += 1;
            super::validate::accepted(shared, &record, &from, "sync");
        }
        Outcome::AlreadyHeld { .. } | Outcome::Unreadable(_) => {}
        Outcome::Invalid(error) if !error.is_senders_fault() => {
            tracing::info!(%peer, %error, "ignored a fetched record");
        }
        Outcome::Invalid(error) => {
            super::validate::rejected(shared, &error, &from);
            invalid.get_or_insert(error.to_string());
        }
        Outcome::Refused { error, .. } if !error.is_senders_fault() => {
            tracing::info!(%peer, %error, "ignored a fetched record");
        }
        Outcome::Refused { error, .. } => {
            super::validate::rejected(shared, &error, &from);
            invalid.get_or_insert(error.to_string());
        }
    })?;
    Ok((stored, invalid))
}
