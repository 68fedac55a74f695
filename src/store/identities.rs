//! The identity logs the store holds (DESIGN.md §9, `proto/README.md` §21), applied on every
//! write: an identity revision joins its organisation's log or is refused, any other record is
//! stored only if the log says its signer signs that kind for the organisation at its time, and
//! a revision that marks a key compromised purges the records that key signed from then on.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::Ordering;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{
    PURGES_KEY, Store, StoreError, damaged, head_key, history_key, parse_total, time_key, trailing_id, version_bytes,
};
use crate::identity::{Applied, Book, COMPROMISED, Chain, IdentityError, Revision};
use crate::record::{Kind, PublisherId, Record, RecordId, Version};

/// Builds the book from the identity revisions held, each log's revisions in order (two of the
/// same number, a fork, in the order of their ids).
pub(super) fn load(store: &Store) -> Result<Book, StoreError> {
    let mut book = Book::default();
    let received = |id: &RecordId| -> Result<Option<i64>, StoreError> {
        let held = store.meta.get(received_key(id))?;
        Ok(held.and_then(|bytes| bytes.as_ref().try_into().ok()).map(i64::from_be_bytes))
    };
    for head in store.heads(Some(Kind::Identity))? {
        let mut revisions: Vec<Revision> = store.history(&head.key())?.iter().filter_map(Revision::of).collect();
        revisions.sort_by_key(|revision| (revision.revision, revision.id));
        for revision in revisions {
            let received_ms = received(&revision.id)?.unwrap_or(revision.timestamp_ms);
            if let Err(error) = book.apply_received(revision, received_ms) {
                // Only what the log accepted was stored; a log that no longer applies was
                // written by a version with other rules.
                tracing::warn!(organisation = %head.publisher(), %error, "an identity revision held no longer applies");
            }
        }
    }
    Ok(book)
}

/// What the log says of each record of a batch, in order: `None` to store it, or why not.
/// Judged against an overlay of the book that takes in the batch's own revisions first, in
/// the order of their numbers, so that a batch fetched in any order (sync fetches by id) holds
/// together. Records already held are not judged again.
pub(super) fn judge(store: &Store, book: &Book, batch: &[Record], now_ms: i64) -> Result<(Book, Judged), StoreError> {
    let organisations: HashSet<PublisherId> = batch.iter().map(Record::publisher).collect();
    let mut overlay = book.overlay(&organisations);
    let mut judged = Judged {
        verdicts: vec![None; batch.len()],
        revoking: BTreeSet::new(),
        received: Vec::new(),
        cancelled: Vec::new(),
    };
    let mut revisions: Vec<(usize, Revision)> = Vec::new();
    let mut others = Vec::new();
    for (index, record) in batch.iter().enumerate() {
        if store.contains(&record.id())? {
            continue;
        }
        match Revision::of(record) {
            Some(revision) => revisions.push((index, revision)),
            None => others.push(index),
        }
    }
    revisions.sort_by_key(|(_, revision)| (revision.organisation, revision.revision, revision.id));
    for (index, revision) in revisions {
        let organisation = revision.organisation;
        let pending = overlay.chain(&organisation).and_then(|chain| chain.pending()).map(|held| held.revision.id);
        let (id, compromised) = (revision.id, !compromised(&revision).is_empty());
        match overlay.apply_received(revision, now_ms) {
            Ok(Applied::Head | Applied::Settled) if compromised => drop(judged.revoking.insert(organisation)),
            Ok(Applied::Pending) => judged.received.push(id),
            Ok(Applied::Head | Applied::Settled) if pending.is_some() => {
                // The governance keys answered: the recovery is cancelled, and goes.
                judged.cancelled.extend(pending.map(|id| (organisation, id)));
                if compromised {
                    judged.revoking.insert(organisation);
                }
            }
            Ok(_) => {}
            Err(error) => judged.verdicts[index] = Some(error),
        }
    }
    for index in others {
        let record = &batch[index];
        let verdict = overlay.authorise(&record.publisher(), &record.signer(), record.kind(), record.timestamp_ms());
        judged.verdicts[index] = verdict.err();
    }
    Ok((overlay, judged))
}

/// The verdicts on a batch, and the organisations whose new revisions mark keys compromised.
pub(super) struct Judged {
    pub verdicts: Vec<Option<IdentityError>>,
    pub revoking: BTreeSet<PublisherId>,
    /// Recoveries now waiting out their window, received now.
    pub received: Vec<RecordId>,
    /// Recoveries the governance keys cancelled: no longer part of any log.
    pub cancelled: Vec<(PublisherId, RecordId)>,
}

/// Where the time a recovery was first received is kept (`meta`): its window runs from then.
pub(super) fn received_key(id: &RecordId) -> Vec<u8> {
    [&b"received/"[..], &id.0].concat()
}

/// Applies the recoveries whose window has passed at `now_ms`, purging what keys they mark
/// compromised signed; answers the organisations recovered.
pub(super) fn settle(store: &Store, book: &mut Book, now_ms: i64) -> Result<Vec<PublisherId>, StoreError> {
    let settled = book.settle(now_ms);
    for organisation in &settled {
        tracing::warn!(%organisation, "a recovery replaced an organisation's governance keys after its contest window");
        store.purged(purge(store, book, organisation)?);
    }
    Ok(settled)
}

fn compromised(revision: &Revision) -> Vec<&[u8]> {
    let revoked = revision.body.revoked.iter().filter(|revoked| revoked.reason == COMPROMISED);
    revoked.filter_map(|revoked| revoked.operator.as_ref().map(|operator| &operator.key[..])).collect()
}

/// Removes the records of `organisation` that its log now refuses because a key that signed
/// them is compromised: every index in one transaction, heads recomputed from what is left.
/// Returns how many were removed.
pub(super) fn purge(store: &Store, book: &Book, organisation: &PublisherId) -> Result<usize, StoreError> {
    let mut doomed: Vec<(RecordId, Record)> = Vec::new();
    for entry in store.by_publisher.scan_prefix(organisation.0) {
        let (index_key, _) = entry?;
        let id = trailing_id(&index_key)?;
        let record = store.get(&id)?.ok_or_else(|| damaged(&id.0, "the publisher index points at a missing record"))?;
        if record.kind() == Kind::Identity {
            continue;
        }
        if let Err(error) = book.authorise(organisation, &record.signer(), record.kind(), record.timestamp_ms())
            && matches!(&error, IdentityError::Revoked { reason, .. } if reason == COMPROMISED)
        {
            doomed.push((id, record));
        }
    }
    remove(store, organisation, doomed)
}

/// Removes records of `organisation` by id, if held: see [`purge`].
pub(super) fn remove_ids(store: &Store, organisation: &PublisherId, ids: &[RecordId]) -> Result<usize, StoreError> {
    let mut doomed = Vec::new();
    for id in ids {
        if let Some(record) = store.get(id)? {
            doomed.push((*id, record));
        }
    }
    remove(store, organisation, doomed)
}

/// Removes these records of `organisation` from every index in one transaction, heads
/// recomputed from what is left; answers how many.
pub(super) fn remove(
    store: &Store,
    organisation: &PublisherId,
    doomed: Vec<(RecordId, Record)>,
) -> Result<usize, StoreError> {
    if doomed.is_empty() {
        return Ok(0);
    }
    let mut sequences = Vec::with_capacity(doomed.len());
    for (id, _) in &doomed {
        sequences.push(store.ids.get(id.0)?.ok_or_else(|| damaged(&id.0, "a record to purge has no sequence number"))?);
    }
    // Each key's head is then the newest revision left, if any.
    let gone: HashSet<RecordId> = doomed.iter().map(|(id, _)| *id).collect();
    let mut heads_after: BTreeMap<Vec<u8>, Option<Version>> = BTreeMap::new();
    for (_, record) in &doomed {
        let key = record.key();
        if heads_after.contains_key(&head_key(&key)) {
            continue;
        }
        let left = store.history(&key)?.into_iter().filter(|held| !gone.contains(&held.id()));
        heads_after.insert(head_key(&key), left.map(|held| held.version()).max());
    }
    let freed: u64 = doomed.iter().map(|(_, record)| record.envelope_bytes().len() as u64).sum();
    let trees = (
        &store.records,
        &store.ids,
        &store.heads,
        &store.by_time,
        &store.by_publisher,
        &store.publisher_bytes,
        &store.blob_names,
    );
    let names: Vec<Vec<u8>> =
        doomed.iter().flat_map(|(_, record)| super::blob_names::entries(record)).map(|(key, _)| key).collect();
    let result = trees.transaction(|(records, ids, heads, by_time, by_publisher, publisher_bytes, blob_names)| {
        for key in &names {
            blob_names.remove(key.as_slice())?;
        }
        for ((id, record), sequence) in doomed.iter().zip(&sequences) {
            records.remove(sequence)?;
            ids.remove(&id.0)?;
            by_time.remove(time_key(record.timestamp_ms(), *id))?;
            by_publisher.remove(history_key(&record.key(), record.version()))?;
        }
        for (key, head) in &heads_after {
            match head {
                Some(version) => heads.insert(key.as_slice(), version_bytes(*version))?,
                None => heads.remove(key.as_slice())?,
            };
        }
        let held = publisher_bytes.get(organisation.0)?.map_or(Ok(0), |held| parse_total(&held));
        let held = held.map_err(ConflictableTransactionError::Abort)?;
        publisher_bytes.insert(&organisation.0[..], &held.saturating_sub(freed).to_be_bytes())?;
        Ok(())
    });
    result.map_err(|error| match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => StoreError::Sled(error),
    })?;
    for (key, _) in heads_after.iter().filter(|(_, head)| head.is_none()) {
        store.count_head(key, -1);
    }
    Ok(doomed.len())
}

impl Store {
    /// Applies the recoveries whose contest window has passed at `now_ms` (the node calls this
    /// now and then; every write does too); answers the organisations recovered.
    pub fn settle_recoveries(&self, now_ms: i64) -> Result<Vec<PublisherId>, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        settle(self, &mut self.book.write().unwrap_or_else(|p| p.into_inner()), now_ms)
    }

    /// Counts `purged` records removed, so that caches of the store know to rebuild.
    pub(super) fn purged(&self, purged: usize) {
        if purged == 0 {
            return;
        }
        let purges = self.purges() + 1;
        if let Err(error) = self.meta.insert(PURGES_KEY, &purges.to_be_bytes()) {
            tracing::error!(%error, "cannot count a purge; the search index may show removed records until rebuilt");
        }
        tracing::warn!(
            purged,
            "removed records: a compromised key's, a cancelled recovery, or revisions their publisher erased"
        );
        self.count.fetch_sub(purged as u64, Ordering::AcqRel);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// How many times records were removed from the store (by a key's compromise): a cache of
    /// the store built at another count is stale.
    pub fn purges(&self) -> u64 {
        let held = self.meta.get(PURGES_KEY).ok().flatten();
        held.and_then(|bytes| bytes.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes)
    }

    /// The organisations whose identity logs are held.
    pub fn identities(&self) -> Vec<PublisherId> {
        self.book.read().unwrap_or_else(|poisoned| poisoned.into_inner()).organisations().copied().collect()
    }

    /// The identity log of an organisation, if any revision of it is held.
    pub fn identity(&self, organisation: &PublisherId) -> Option<Chain> {
        self.book.read().unwrap_or_else(|poisoned| poisoned.into_inner()).chain(organisation).cloned()
    }
}
