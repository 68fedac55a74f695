//! The ingest pipeline: many envelopes in, verified records stored in the order they came.
//! Verification (the signature check dominates) runs on worker threads, one per core, each
//! record checked on its own with `verify_strict`; the calling thread stores what they accept
//! in batches and flushes in groups. `import` and sync use it.
//!
//! Every queue between the stages is bounded, so a fast reader cannot fill memory.

use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::thread;

use crate::identity::IdentityError;
use crate::record::{Record, RecordError, RecordId, Verifier};
use crate::store::{Inserted, Store, StoreError};

/// Records per storage transaction at most.
const BATCH: usize = 256;
/// Records per flush at most (a group commit).
const FLUSH_EVERY: usize = 1024;
/// Items waiting between two stages, per stage.
const QUEUE: usize = 512;

/// What became of one envelope.
#[derive(Debug)]
pub enum Outcome {
    /// Verified and stored, durably; `head` tells whether it became its key's head.
    Stored { id: RecordId, head: bool, record: Box<Record> },
    /// Verified; the same record was already held.
    AlreadyHeld { id: RecordId },
    /// Broke a record rule; nothing of it was stored.
    Invalid(RecordError),
    /// Verified, but its organisation's identity log refuses it; nothing of it was stored.
    Refused { id: RecordId, error: IdentityError },
    /// Could not be read at all (the text says why); nothing was stored.
    Unreadable(String),
}

/// Verifies and stores every item, calling `report` once per item with its outcome. Stored
/// items are reported only after the flush that made them durable. `now_ms` is the clock the
/// timestamp rule is checked against.
pub fn ingest<T, I>(store: &Store, items: I, now_ms: i64, mut report: impl FnMut(T, Outcome)) -> Result<(), StoreError>
where
    T: Send,
    I: IntoIterator<Item = (T, Result<Vec<u8>, String>)>,
    I::IntoIter: Send,
{
    // A verifier per core: storing takes less than a core, and the verifiers use the rest.
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let items = items.into_iter();
    thread::scope(|scope| {
        // Item n goes to lane n mod the lanes, each a verifier with a queue in and one out; the
        // storing stage takes the lanes' answers in the same turn, so records are stored in
        // the order they came, however many verifiers there are.
        let (mut to_verifiers, mut from_verifiers) = (Vec::new(), Vec::new());
        for _ in 0..cores {
            let (work_in, work_out) = sync_channel::<(T, Result<Vec<u8>, String>)>(QUEUE / cores + 1);
            let (done_in, done_out) = sync_channel::<(T, Result<Record, Outcome>)>(QUEUE / cores + 1);
            let started = spawn(scope, "ingest-verify", move || {
                let mut verifier = Verifier::default();
                while let Ok((tag, bytes)) = work_out.recv() {
                    let verdict = match bytes {
                        Ok(bytes) => verifier.verify(&bytes, now_ms).map_err(Outcome::Invalid),
                        Err(reason) => Err(Outcome::Unreadable(reason)),
                    };
                    if done_in.send((tag, verdict)).is_err() {
                        break;
                    }
                }
            });
            if started {
                to_verifiers.push(work_in);
                from_verifiers.push(done_out);
            }
        }
        // Each stage owns its ends of the queues, so when one stage stops (the store failed, say)
        // the others see a closed queue and stop too, instead of waiting forever.
        spawn(scope, "ingest-read", move || {
            for (item, lane) in items.zip((0..to_verifiers.len()).cycle()) {
                if to_verifiers[lane].send(item).is_err() {
                    break;
                }
            }
        });
        store_all(store, &mut Lanes { lanes: from_verifiers, next: 0 }, &mut report)
    })
}

/// The verifiers' answers, taken lane by lane in turn: the order the items came in.
struct Lanes<M> {
    lanes: Vec<Receiver<M>>,
    next: usize,
}

impl<M> Lanes<M> {
    fn try_recv(&mut self) -> Result<M, TryRecvError> {
        let lane = self.lanes.get(self.next).ok_or(TryRecvError::Disconnected)?;
        let item = lane.try_recv()?;
        self.next = (self.next + 1) % self.lanes.len();
        Ok(item)
    }

    /// Waits for the next answer; `None` once every item is answered.
    fn recv(&mut self) -> Option<M> {
        let item = self.lanes.get(self.next)?.recv().ok()?;
        self.next = (self.next + 1) % self.lanes.len();
        Some(item)
    }
}

/// Starts a named thread (names show in `top -H` and profilers). Spawning fails only when the
/// system is out of threads; the work is then done by the threads that did start, or, if none
/// did, the pipeline ends with every item unreported, which the caller's counts show.
fn spawn<'scope, 'env>(
    scope: &'scope thread::Scope<'scope, 'env>,
    name: &str,
    work: impl FnOnce() + Send + 'scope,
) -> bool {
    match thread::Builder::new().name(name.to_owned()).spawn_scoped(scope, work) {
        Ok(_) => true,
        Err(error) => {
            tracing::error!(%error, "cannot start thread {name}");
            false
        }
    }
}

/// The storing stage: batches what the workers accepted, as large as is waiting (up to
/// [`BATCH`]), and flushes every [`FLUSH_EVERY`] records and at the end. Records whose
/// organisation's identity revisions came later in the stream are set aside and stored again
/// at the end, until nothing more goes in.
fn store_all<T>(
    store: &Store,
    done: &mut Lanes<(T, Result<Record, Outcome>)>,
    report: &mut impl FnMut(T, Outcome),
) -> Result<(), StoreError> {
    let (mut tags, mut batch): (Vec<T>, Vec<Record>) = (Vec::new(), Vec::with_capacity(BATCH));
    let mut unflushed: Vec<(T, Outcome)> = Vec::new();
    let mut waiting_for_identity: Vec<(T, Record, IdentityError)> = Vec::new();
    loop {
        let (finished, waiting) = match done.try_recv() {
            Ok(item) => (false, Some(item)),
            Err(TryRecvError::Empty) if batch.is_empty() => match done.recv() {
                Some(item) => (false, Some(item)),
                None => (true, None),
            },
            Err(TryRecvError::Empty) => (false, None),
            Err(TryRecvError::Disconnected) => (true, None),
        };
        let idle = waiting.is_none();
        match waiting {
            Some((tag, Ok(record))) => {
                tags.push(tag);
                batch.push(record);
            }
            Some((tag, Err(outcome))) => report(tag, outcome),
            None => {}
        }
        if batch.len() >= BATCH || (idle && !batch.is_empty()) {
            let stored = store_batch(store, std::mem::take(&mut tags), std::mem::take(&mut batch), &mut unflushed)?;
            waiting_for_identity.extend(stored);
        }
        if finished && !waiting_for_identity.is_empty() {
            // Once more, in batches, while that stores anything.
            loop {
                let before = waiting_for_identity.len();
                let mut still = Vec::new();
                let mut items = std::mem::take(&mut waiting_for_identity).into_iter().peekable();
                while items.peek().is_some() {
                    let (chunk_tags, chunk): (Vec<T>, Vec<Record>) =
                        items.by_ref().take(BATCH).map(|(tag, record, _)| (tag, record)).unzip();
                    still.extend(store_batch(store, chunk_tags, chunk, &mut unflushed)?);
                }
                let stuck = still.len() == before;
                waiting_for_identity = still;
                if stuck || waiting_for_identity.is_empty() {
                    break;
                }
            }
            for (tag, record, error) in waiting_for_identity.drain(..) {
                unflushed.push((tag, Outcome::Refused { id: record.id(), error }));
            }
        }
        if unflushed.len() >= FLUSH_EVERY || (finished && !unflushed.is_empty()) {
            store.flush()?;
            for (tag, outcome) in unflushed.drain(..) {
                report(tag, outcome);
            }
        }
        if finished && batch.is_empty() {
            return Ok(());
        }
    }
}

/// Stores one batch, adding what became of each record to `unflushed`; answers the records
/// refused only because their organisation's identity is not held yet (or not far enough).
fn store_batch<T>(
    store: &Store,
    tags: Vec<T>,
    records: Vec<Record>,
    unflushed: &mut Vec<(T, Outcome)>,
) -> Result<Vec<(T, Record, IdentityError)>, StoreError> {
    let inserted = store.insert_batch(&records)?;
    let mut waiting = Vec::new();
    for ((tag, record), inserted) in tags.into_iter().zip(records).zip(inserted) {
        let id = record.id();
        let outcome = match inserted {
            Inserted::New { head } => Outcome::Stored { id, head, record: Box::new(record) },
            Inserted::AlreadyHeld => Outcome::AlreadyHeld { id },
            Inserted::Refused(error) if error.awaits_revisions() => {
                waiting.push((tag, record, error));
                continue;
            }
            Inserted::Refused(error) => Outcome::Refused { id, error },
        };
        unflushed.push((tag, outcome));
    }
    Ok(waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Body, Draft, Kind, PublisherKey, sign};
    use crate::store::StoreOptions;

    fn envelope(slug: &str) -> Vec<u8> {
        let body = Body::Practice(crate::record::tests::practice(slug));
        let draft = Draft { kind: Kind::Practice, slug: slug.to_owned(), revision: 1, timestamp_ms: 1, body };
        sign(&PublisherKey::from_seed([3; 32]), draft).unwrap().envelope_bytes()
    }

    #[test]
    fn records_are_stored_in_the_order_they_came_whatever_the_verifiers_take() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        // Every tenth item is a long note, slower to hash and decode than the rest.
        let envelopes: Vec<Vec<u8>> = (0..1500)
            .map(|n| if n % 10 == 0 { long_envelope(&format!("note-{n}")) } else { envelope(&format!("note-{n}")) })
            .collect();
        let items = envelopes.iter().enumerate().map(|(n, bytes)| (n, Ok(bytes.clone())));
        let mut reported = Vec::new();
        ingest(&store, items, 1, |n, outcome| {
            assert!(matches!(outcome, Outcome::Stored { .. }), "{outcome:?}");
            reported.push(n);
        })
        .unwrap();
        let expected: Vec<usize> = (0..envelopes.len()).collect();
        assert_eq!(reported, expected, "outcomes come in the order of the items");
        let stored: Vec<Vec<u8>> = store.records().map(|record| record.unwrap().envelope_bytes()).collect();
        assert!(stored == envelopes, "the records tree holds the records in the order they came");
    }

    fn long_envelope(slug: &str) -> Vec<u8> {
        let mut practice = crate::record::tests::practice(slug);
        practice.approach = "A long account of the practice. ".repeat(1500);
        let draft = Draft {
            kind: Kind::Practice,
            slug: slug.to_owned(),
            revision: 1,
            timestamp_ms: 1,
            body: Body::Practice(practice),
        };
        sign(&PublisherKey::from_seed([3; 32]), draft).unwrap().envelope_bytes()
    }

    #[test]
    fn every_item_gets_exactly_one_outcome_and_only_valid_ones_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        let mut tampered = envelope("tampered");
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        // More items than the queues hold, so every stage has to wait on the next at some point.
        let mut items: Vec<(usize, Result<Vec<u8>, String>)> =
            (0..2000).map(|n| (n, Ok(envelope(&format!("note-{}", n % 1500))))).collect();
        items.push((2000, Ok(tampered)));
        items.push((2001, Err("cannot read".to_owned())));
        let mut outcomes = vec![None; items.len()];
        ingest(&store, items, 1, |n, outcome| {
            assert!(outcomes[n].is_none(), "item {n} reported twice");
            outcomes[n] = Some(match outcome {
                Outcome::Stored { .. } => "stored",
                Outcome::AlreadyHeld { .. } => "held",
                Outcome::Invalid(error) => error.rule(),
                Outcome::Refused { error, .. } => error.rule(),
                Outcome::Unreadable(_) => "unreadable",
            });
        })
        .unwrap();
        let count = |what: &str| outcomes.iter().filter(|outcome| **outcome == Some(what)).count();
        assert_eq!((count("stored"), count("held")), (1500, 500));
        assert_eq!((count("body-hash"), count("unreadable")), (1, 1));
        assert_eq!(store.len(), 1500);
    }
}
