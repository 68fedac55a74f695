//! Catch-up between two nodes as the protocol has it, without I/O. The initiator's side is a
//! [`Session`]: it says what to ask the peer next ([`Ask`]: a reconciliation round over
//! `/citymesh/sync/1`, a batch of ids over `/citymesh/fetch/1`), takes the answers, hands out
//! the envelopes to verify and store, and keeps the [`SyncReport`]. The node moves the bytes
//! and stores what it is handed ([`crate::node`]). The responder's side is [`answer_round`] and
//! [`answer_fetch`] over a [`Source`] of item sets and envelopes. Both sides reconcile only the
//! publishers the initiator's trust policy keeps.
//!
//! Rounds and fetches overlap: while the next round is out, one batch of ids is fetched and up
//! to two fetched batches wait to be stored, so what a session holds is bounded whatever the
//! peer answers ([`SESSION_MEMORY_BOUND`]). The responder keeps no session: each round is
//! answered from the set of records in scope, which the node caches while its store does not
//! change, so a round costs time in proportion to its message, not to the records held.
//!
//! A peer that breaks the protocol (a message that does not decode, a fetch answer with records
//! that were not asked for or are out of scope, an invalid record) ends the session with
//! [`SyncError::PeerFault`], which the node penalises.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::net::Version;
use crate::reconcile::{self, ItemSet, ReconcileError};
use crate::record::{self, RecordId};
use crate::store::StoreError;
use crate::trust::Scope;
use crate::wire::{self, FetchRequest, FetchResponse, SyncRequest, SyncResponse};

/// Largest reconciliation message.
pub const FRAME_LIMIT: usize = 1024 * 1024;
/// Reconciliation rounds per session, at most.
pub const MAX_ROUNDS: usize = 64;
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
/// Fetched batches handed out to store and not yet stored, at most, before the next fetch.
const BATCHES_STORING: usize = 2;
/// Memory one session can make this node hold, at most, whatever the peer answers: the ids
/// queued for fetching ([`MAX_FETCH_PER_SESSION`], ~64 bytes each in their set), the ids of the
/// answer being read (an answer frame's worth), and the fetch answers waiting to be stored
/// (two) and being read (one), each at most an answer frame.
pub const SESSION_MEMORY_BOUND: usize = MAX_FETCH_PER_SESSION * 64 + 4 * crate::net::MAX_RESPONSE;

/// Why a sync, or an answer to a peer's request, stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer broke the protocol; the text says how.
    #[error("{0}")]
    PeerFault(String),
    /// A request or its answer did not get through: the peer is gone, slow, or refused it.
    #[error("{0}")]
    Network(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the session passed its deadline of {} s", .0.as_secs())]
    Deadline(Duration),
    #[error("reconciliation did not finish in {MAX_ROUNDS} rounds")]
    TooManyRounds,
    /// The peer speaks another version of the protocol: nobody's fault.
    #[error(transparent)]
    Version(ReconcileError),
    /// The peer declined for now: nobody's fault.
    #[error("the peer refused: {}; it asks to be asked again in {} s", .0.reason, .0.retry_after.as_secs_f64().ceil())]
    Refused(crate::net::Refusal),
    /// This node could not go on (a task it needed stopped).
    #[error("{0}")]
    Local(String),
}

impl SyncError {
    /// Whether the peer is to blame (and is to be penalised).
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, SyncError::PeerFault(_))
    }
}

fn fault(text: impl Into<String>) -> SyncError {
    SyncError::PeerFault(text.into())
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// What answering peers needs from a node: the records in a scope, as reconciliation items,
/// and envelopes by id, exactly as stored.
pub trait Source {
    fn items(&self, scope: &Scope) -> Result<Arc<ItemSet>, StoreError>;
    fn envelope(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError>;
}

/// The scope a request names.
fn requested_scope(request: &SyncRequest) -> Result<Scope, SyncError> {
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

/// Answers a peer's reconciliation round (`/citymesh/sync/2` or `/1`). A message in another
/// Negentropy version gets, in version 1, the one-byte message `0x61`, which reads as "nothing
/// differs"; in version 2, an empty message and the versions this node speaks.
pub fn answer_round(source: &impl Source, version: Version, request: &[u8]) -> Result<Vec<u8>, SyncError> {
    let request: SyncRequest =
        wire::decode(request).map_err(|error| fault(format!("a sync request does not decode: {error}")))?;
    let scope = requested_scope(&request)?;
    let set = source.items(&scope)?;
    let mut session = reconcile::Session::new(&set, FRAME_LIMIT).map_err(SyncError::Version)?;
    let answer = match version {
        Version::One => session.respond(&request.negentropy),
        Version::Two => session.answer(&request.negentropy),
    };
    let response = match answer {
        Ok(negentropy) => SyncResponse { negentropy, versions: Vec::new() },
        Err(ReconcileError::UnsupportedVersion(_)) => {
            SyncResponse { negentropy: Vec::new(), versions: vec![reconcile::PROTOCOL_VERSION.into()] }
        }
        Err(error) => return Err(fault(format!("a reconciliation message is malformed: {error}"))),
    };
    Ok(wire::encode(&response))
}

/// Answers a peer's fetch (`/citymesh/fetch/2` or `/1`, the same message): the envelopes held of the ids asked for, in
/// order, up to an answer's size limit.
pub fn answer_fetch(source: &impl Source, request: &[u8]) -> Result<Vec<u8>, SyncError> {
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
        if let Some(envelope) = source.envelope(&RecordId(id))? {
            size += envelope.len();
            if size > FETCH_BYTES {
                break;
            }
            envelopes.push(envelope);
        }
    }
    Ok(wire::encode(&FetchResponse { envelopes }))
}

/// A request for the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A reconciliation round, for `/citymesh/sync/2` (or `/1`).
    Round(Vec<u8>),
    /// Records by id, for `/citymesh/fetch/2` (or `/1`).
    Fetch(Vec<u8>),
}

/// Where the reconciliation stands.
enum Rounds {
    /// This message is the next to send.
    Due(Vec<u8>),
    /// A round of this many bytes is out; its answer has not come.
    Asked(usize),
    /// The sets are reconciled.
    Done,
}

/// The initiator's side of one sync with one peer.
pub struct Session {
    set: Arc<ItemSet>,
    scope: Scope,
    rounds: Rounds,
    rounds_asked: usize,
    /// Every id found to fetch in this session (at most [`MAX_FETCH_PER_SESSION`]).
    queued: HashSet<[u8; 32]>,
    /// Ids found and not yet asked for.
    waiting: VecDeque<[u8; 32]>,
    /// Ids an answer left out (over its size limit), asked for again next.
    left_out: Vec<[u8; 32]>,
    /// The ids of the fetch that is out, and the bytes of its request.
    fetching: Option<(Vec<[u8; 32]>, usize)>,
    /// Fetched batches handed out to store and not reported stored yet.
    storing: usize,
    report: SyncReport,
}

impl Session {
    /// A session reconciling `set` (the records this node holds in `scope`) with `peer`'s.
    pub fn new(peer: String, at_ms: i64, set: Arc<ItemSet>, scope: Scope) -> Result<Session, SyncError> {
        let first = reconcile::Session::new(&set, FRAME_LIMIT).map_err(SyncError::Version)?.initiate();
        Ok(Session {
            set,
            scope,
            rounds: Rounds::Due(first),
            rounds_asked: 0,
            queued: HashSet::new(),
            waiting: VecDeque::new(),
            left_out: Vec::new(),
            fetching: None,
            storing: 0,
            report: SyncReport { peer, at_ms, ..SyncReport::default() },
        })
    }

    /// What to ask the peer now: the next round while none is out and the ids found so far are
    /// being fetched; the next batch of ids while no fetch is out and the store keeps up.
    pub fn asks(&mut self) -> Vec<Ask> {
        let mut asks = Vec::new();
        let room = self.waiting.len() <= BATCHES_STORING * FETCH_BATCH;
        if let Rounds::Due(negentropy) = &mut self.rounds
            && room
        {
            let negentropy = std::mem::take(negentropy);
            let (all, publishers) = match &self.scope {
                Scope::All => (true, Vec::new()),
                Scope::Publishers(publishers) => (false, publishers.iter().map(|key| key.to_vec()).collect()),
            };
            let request = wire::encode(&SyncRequest { publishers, all, negentropy });
            self.rounds_asked += 1;
            self.rounds = Rounds::Asked(request.len());
            asks.push(Ask::Round(request));
        }
        if self.fetching.is_none() && self.storing < BATCHES_STORING {
            let reconciled = matches!(self.rounds, Rounds::Done);
            let ids = if !self.left_out.is_empty() {
                Some(std::mem::take(&mut self.left_out))
            } else if self.waiting.len() >= FETCH_BATCH || (reconciled && !self.waiting.is_empty()) {
                let count = self.waiting.len().min(FETCH_BATCH);
                Some(self.waiting.drain(..count).collect())
            } else {
                None
            };
            if let Some(ids) = ids {
                let request = wire::encode(&FetchRequest { ids: ids.iter().map(|id| id.to_vec()).collect() });
                self.fetching = Some((ids, request.len()));
                asks.push(Ask::Fetch(request));
            }
        }
        asks
    }

    /// Takes the answer to the round that is out (its frame took `framed` bytes): queues the ids
    /// the peer has and this node lacks, and makes the next round due unless the sets are
    /// reconciled.
    pub fn on_round(&mut self, answer: &[u8], framed: usize) -> Result<(), SyncError> {
        if let Rounds::Asked(sent) = self.rounds {
            self.report.bytes_sent += sent;
        }
        self.report.rounds += 1;
        self.report.bytes_received += framed;
        let answer: SyncResponse =
            wire::decode(answer).map_err(|error| fault(format!("a sync answer does not decode: {error}")))?;
        if let Some(&theirs) = answer.versions.first() {
            // Nobody's fault: the peer said it speaks other versions only.
            let theirs = u8::try_from(theirs).unwrap_or(u8::MAX);
            return Err(SyncError::Version(ReconcileError::UnsupportedVersion(theirs)));
        }
        let (mut have, mut need) = (Vec::new(), Vec::new());
        let next = reconcile::Session::initiator(&self.set, FRAME_LIMIT)
            .map_err(SyncError::Version)?
            .reconcile(&answer.negentropy, &mut have, &mut need)
            .map_err(|error| match error {
                ReconcileError::UnsupportedVersion(_) => SyncError::Version(error),
                error => fault(format!("a reconciliation answer is malformed: {error}")),
            })?;
        for id in need {
            if self.queued.len() == MAX_FETCH_PER_SESSION {
                self.report.remaining += 1;
            } else if self.queued.insert(id) {
                self.waiting.push_back(id);
            }
        }
        self.rounds = match next {
            Some(_) if self.rounds_asked == MAX_ROUNDS => return Err(SyncError::TooManyRounds),
            Some(next) => Rounds::Due(next),
            None => Rounds::Done,
        };
        Ok(())
    }

    /// Takes the answer to the fetch that is out; returns its envelopes, to be verified and
    /// stored (then call [`Session::on_stored`] if there were any). An answer holding records
    /// that were not asked for (or asked for once and sent twice), or of publishers out of the
    /// scope, is the peer's fault: nothing of it is to be kept.
    pub fn on_fetch(&mut self, answer: &[u8], framed: usize) -> Result<Vec<Vec<u8>>, SyncError> {
        let (ids, sent) = self.fetching.take().unwrap_or_default();
        self.report.bytes_sent += sent;
        self.report.bytes_received += framed;
        let answer: FetchResponse =
            wire::decode(answer).map_err(|error| fault(format!("a fetch answer does not decode: {error}")))?;
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
            if !self.scope.contains(&publisher) {
                return Err(fault(format!(
                    "a fetch answer holds record {id} of publisher {}, outside the scope asked for; nothing of the batch was stored",
                    record::to_hex(&publisher)
                )));
            }
        }
        // An answer stops before it passes its size limit: what it left out is asked for again
        // at once, for as long as answers bring something.
        if !answer.envelopes.is_empty() {
            self.left_out = ids.into_iter().filter(|id| asked.contains(id)).collect();
            self.storing += 1;
        }
        Ok(answer.envelopes)
    }

    /// Reports a batch handed out by [`Session::on_fetch`] as stored: `stored` records were new,
    /// and `invalid` is the first that broke a record rule, which ends the session as the
    /// peer's fault (the valid ones stay stored: each was verified on its own).
    pub fn on_stored(&mut self, stored: usize, invalid: Option<String>) -> Result<(), SyncError> {
        self.storing = self.storing.saturating_sub(1);
        self.report.fetched += stored;
        match invalid {
            Some(error) => Err(fault(format!("a fetched record is invalid: {error}"))),
            None => Ok(()),
        }
    }

    /// Whether the sets are reconciled and everything found was fetched and stored.
    pub fn is_done(&self) -> bool {
        matches!(self.rounds, Rounds::Done)
            && self.waiting.is_empty()
            && self.left_out.is_empty()
            && self.fetching.is_none()
            && self.storing == 0
    }

    /// The report so far.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// The report of the session, ended after `duration` with `outcome`.
    pub fn finish(self, outcome: Result<(), SyncError>, duration: Duration) -> SyncReport {
        let mut report = self.report;
        report.duration_ms = duration.as_millis() as u64;
        if let Err(error) = outcome {
            report.peer_fault = error.is_peer_fault();
            report.error = Some(error.to_string());
        }
        report
    }
}

#[cfg(test)]
mod tests;
