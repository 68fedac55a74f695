//! The ingest pipeline: many envelopes in, verified records stored. Verification (the
//! signature check dominates) runs on worker threads, one per core; the calling thread stores
//! what they accept in batched transactions and flushes in groups, so storage never becomes
//! the bottleneck. `import` uses it; the network's receive path will too.
//!
//! Every queue between the stages is bounded, so a fast reader cannot fill memory.

use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};
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
    // One core stores; the others verify.
    let workers = thread::available_parallelism().map_or(1, usize::from).saturating_sub(1).max(1);
    let (work_in, work_out) = sync_channel::<(T, Result<Vec<u8>, String>)>(QUEUE);
    let (done_in, done_out) = sync_channel::<(T, Result<Record, Outcome>)>(QUEUE);
    // Each stage owns its ends of the queues, so when one stage stops (the store failed, say)
    // the others see a closed queue and stop too, instead of waiting forever.
    let work_out = Arc::new(Mutex::new(work_out));
    let items = items.into_iter();
    thread::scope(|scope| {
        spawn(scope, "ingest-read", move || {
            for item in items {
                if work_in.send(item).is_err() {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let (work_out, done_in) = (Arc::clone(&work_out), done_in.clone());
            spawn(scope, "ingest-verify", move || {
                let mut verifier = Verifier::default();
                while let Some((tag, bytes)) = next(&work_out) {
                    let verdict = match bytes {
                        Ok(bytes) => verifier.verify(&bytes, now_ms).map_err(Outcome::Invalid),
                        Err(reason) => Err(Outcome::Unreadable(reason)),
                    };
                    if done_in.send((tag, verdict)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((done_in, work_out));
        store_all(store, done_out, &mut report)
    })
}

/// Starts a named thread (names show in `top -H` and profilers). Spawning fails only when the
/// system is out of threads; the work is then done by the threads that did start, or, if none
/// did, the pipeline ends with every item unreported, which the caller's counts show.
fn spawn<'scope, 'env>(scope: &'scope thread::Scope<'scope, 'env>, name: &str, work: impl FnOnce() + Send + 'scope) {
    if let Err(error) = thread::Builder::new().name(name.to_owned()).spawn_scoped(scope, work) {
        tracing::error!(%error, "cannot start thread {name}");
    }
}

fn next<M>(queue: &Mutex<Receiver<M>>) -> Option<M> {
    queue.lock().ok()?.recv().ok()
}

/// The storing stage: batches what the workers accepted, as large as is waiting (up to
/// [`BATCH`]), and flushes every [`FLUSH_EVERY`] records and at the end. Records whose
/// organisation's identity revisions came later in the stream (verification on several
/// threads reorders it) are set aside and stored again at the end, until nothing more goes in.
fn store_all<T>(
    store: &Store,
    done: Receiver<(T, Result<Record, Outcome>)>,
    report: &mut impl FnMut(T, Outcome),
) -> Result<(), StoreError> {
    let (mut tags, mut batch): (Vec<T>, Vec<Record>) = (Vec::new(), Vec::with_capacity(BATCH));
    let mut unflushed: Vec<(T, Outcome)> = Vec::new();
    let mut waiting_for_identity: Vec<(T, Record, IdentityError)> = Vec::new();
    loop {
        let (finished, waiting) = match done.try_recv() {
            Ok(item) => (false, Some(item)),
            Err(TryRecvError::Empty) if batch.is_empty() => match done.recv() {
                Ok(item) => (false, Some(item)),
                Err(_) => (true, None),
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
