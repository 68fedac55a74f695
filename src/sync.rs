//! Catch-up between two nodes: the initiator reconciles its set of records with a peer's over
//! `/citymesh/sync/1` ([`crate::reconcile`]), then fetches what it lacks over
//! `/citymesh/fetch/1` in batches, and stores them through the same verification as gossip.
//! The responder answers both statelessly. A sync starts whenever a peer connects.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::author::now_ms;
use crate::ingest::{self, Outcome};
use crate::net::{Exchange, PeerId};
use crate::node::Shared;
use crate::reconcile::{Item, ItemSet, Session};
use crate::record::{self, RecordId};
use crate::wire::{self, FetchRequest, FetchResponse, SyncRequest, SyncResponse};

/// Largest reconciliation message.
const FRAME_LIMIT: usize = 1024 * 1024;
/// Reconciliation rounds per session, at most.
const MAX_ROUNDS: usize = 64;
/// Ids per fetch request, at most.
const FETCH_BATCH: usize = 512;
/// Bytes of envelopes per fetch answer, at most.
const FETCH_BYTES: usize = 4 * 1024 * 1024;

/// Every record held, as reconciliation items.
fn items(shared: &Shared) -> Result<ItemSet> {
    let items = shared
        .store
        .time_index()
        .map(|entry| entry.map(|(timestamp, id)| Item { timestamp, id: id.0 }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ItemSet::new(items))
}

/// Answers a peer's request (runs off the async runtime: it reads the store).
pub fn answer(shared: &Shared, exchange: Exchange, request: &[u8]) -> Result<Vec<u8>> {
    match exchange {
        Exchange::Sync => {
            let request: SyncRequest = wire::decode(request).context("not a SyncRequest")?;
            if !request.all {
                bail!("scoped sync (a list of publishers) is not served yet");
            }
            let set = items(shared)?;
            let negentropy = Session::new(&set, FRAME_LIMIT)?.respond(&request.negentropy)?;
            Ok(wire::encode(&SyncResponse { negentropy }))
        }
        Exchange::Fetch => {
            let request: FetchRequest = wire::decode(request).context("not a FetchRequest")?;
            if request.ids.len() > FETCH_BATCH {
                bail!("{} ids asked for; at most {FETCH_BATCH} per request", request.ids.len());
            }
            let mut envelopes = Vec::new();
            let mut size = 0;
            for id in &request.ids {
                let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) else { bail!("an id is not 32 bytes") };
                if let Some(record) = shared.store.get(&RecordId(id))? {
                    let envelope = record.envelope_bytes();
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
    pub duration_ms: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// Reconciles with `peer` and fetches and stores every record it has that we lack.
pub async fn with_peer(shared: Arc<Shared>, peer: PeerId) -> SyncReport {
    let started = std::time::Instant::now();
    let mut report = SyncReport { peer: peer.to_string(), at_ms: now_ms(), ..SyncReport::default() };
    if let Err(error) = run(shared, peer, &mut report).await {
        tracing::warn!(%peer, error = format!("{error:#}"), "sync failed");
        report.error = Some(format!("{error:#}"));
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

async fn run(shared: Arc<Shared>, peer: PeerId, report: &mut SyncReport) -> Result<()> {
    let set = {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || items(&shared)).await??
    };
    let mut session = Session::new(&set, FRAME_LIMIT)?;
    let mut message = session.initiate();
    let (mut have, mut need) = (Vec::new(), Vec::new());
    for round in 0.. {
        if round == MAX_ROUNDS {
            bail!("reconciliation with {peer} did not finish in {MAX_ROUNDS} rounds");
        }
        let request = wire::encode(&SyncRequest { publishers: Vec::new(), all: true, negentropy: message });
        report.rounds += 1;
        report.bytes_sent += request.len();
        let answer = shared.net.ask(Exchange::Sync, peer, request).await?;
        report.bytes_received += answer.len();
        let answer: SyncResponse =
            wire::decode(&answer).with_context(|| format!("{peer} answered a sync round with something else"))?;
        match session.reconcile(&answer.negentropy, &mut have, &mut need)? {
            Some(next) => message = next,
            None => break,
        }
    }
    need.sort_unstable();
    need.dedup();
    for batch in need.chunks(FETCH_BATCH) {
        report.fetched += fetch(&shared, peer, batch, report).await?;
    }
    if report.fetched > 0 {
        tracing::info!(%peer, fetched = report.fetched, rounds = report.rounds, "caught up");
    }
    Ok(())
}

/// Fetches one batch and stores it; a peer that sends records we did not ask for ends the sync.
async fn fetch(shared: &Arc<Shared>, peer: PeerId, ids: &[[u8; 32]], report: &mut SyncReport) -> Result<usize> {
    let request = wire::encode(&FetchRequest { ids: ids.iter().map(|id| id.to_vec()).collect() });
    report.bytes_sent += request.len();
    let answer = shared.net.ask(Exchange::Fetch, peer, request).await?;
    report.bytes_received += answer.len();
    let answer: FetchResponse =
        wire::decode(&answer).with_context(|| format!("{peer} answered a fetch with something else"))?;
    let asked: HashSet<[u8; 32]> = ids.iter().copied().collect();
    // A peer that answers with records we did not ask for is not trusted with this batch.
    if let Some(stray) =
        answer.envelopes.iter().find(|envelope| record::claimed_id(envelope).is_none_or(|id| !asked.contains(&id.0)))
    {
        let what = record::claimed_id(stray).map_or("an undecodable envelope".to_owned(), |id| format!("record {id}"));
        bail!("{peer} answered a fetch with {what}, which was not asked for; nothing of the batch was stored");
    }
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        let mut stored = Vec::new();
        let items = answer.envelopes.into_iter().map(|envelope| ((), Ok(envelope)));
        ingest::ingest(&shared.store, items, now_ms(), |(), outcome| match outcome {
            Outcome::Stored { id, .. } => stored.push(id),
            Outcome::AlreadyHeld { .. } | Outcome::Unreadable(_) => {}
            Outcome::Invalid(error) => tracing::warn!(%peer, rule = error.rule(), %error, "rejected a fetched record"),
        })?;
        for id in &stored {
            if let Some(record) = shared.store.get(id)? {
                crate::node::accepted(&shared, &record, &peer.to_string());
            }
        }
        Ok(stored.len())
    })
    .await?
}
