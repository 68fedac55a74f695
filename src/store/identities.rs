//! The identity logs the store holds (DESIGN.md §9, `proto/README.md` §21), applied on every
//! write: an identity revision joins its organisation's log or is refused, any other record is
//! stored only if the log says its signer signs that kind for the organisation at its time, and
//! a revision that marks a key compromised purges the records that key signed from then on.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{Store, StoreError, damaged, head_key, history_key, parse_total, time_key, trailing_id, version_bytes};
use crate::identity::{Applied, Book, COMPROMISED, IdentityError, Revision};
use crate::record::{Kind, PublisherId, Record, RecordId, Version};

/// Builds the book from the identity revisions held, each log's revisions in order (two of the
/// same number, a fork, in the order of their ids).
pub(super) fn load(store: &Store) -> Result<Book, StoreError> {
    let mut book = Book::default();
    for head in store.heads(Some(Kind::Identity))? {
        let mut revisions: Vec<Revision> = store.history(&head.key())?.iter().filter_map(Revision::of).collect();
        revisions.sort_by_key(|revision| (revision.revision, revision.id));
        for revision in revisions {
            if let Err(error) = book.apply(revision) {
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
pub(super) fn judge(store: &Store, book: &Book, batch: &[Record]) -> Result<(Book, Judged), StoreError> {
    let organisations: HashSet<PublisherId> = batch.iter().map(Record::publisher).collect();
    let mut overlay = book.overlay(&organisations);
    let mut judged = Judged { verdicts: vec![None; batch.len()], revoking: BTreeSet::new() };
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
        let compromised = !compromised(&revision).is_empty();
        match overlay.apply(revision) {
            Ok(Applied::Head | Applied::Settled) if compromised => drop(judged.revoking.insert(organisation)),
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
    let trees = (&store.records, &store.ids, &store.heads, &store.by_time, &store.by_publisher, &store.publisher_bytes);
    let result = trees.transaction(|(records, ids, heads, by_time, by_publisher, publisher_bytes)| {
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
    Ok(doomed.len())
}
