//! Erasures (DESIGN.md §9, `proto/README.md` §21): an organisation's signed request that nodes
//! drop the bodies of some of its superseded revisions. When an erasure is stored, each
//! revision it lists that is held here, the organisation's own, of a kind that can be erased
//! and no longer its key's head, leaves every index (as a purge does) and only its header and
//! signatures are kept; a listed revision not held here is remembered. Either way the body is
//! refused if it is offered again (rule `erased`, no fault of the sender, who may not hold the
//! erasure yet).
//!
//! Tree `erased`: record id (32) → the erasure's id (32) ‖ its publisher (32) ‖ the revision's
//! envelope without its body (empty when this node never held it).

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::{Store, StoreError, head_key, identities, parse_version};
use crate::identity::IdentityError;
use crate::record::{self, Body, Kind, PublisherId, Record, RecordId};

/// Whether revisions of `kind` can be erased: not the identity's (its log needs them), nor
/// erasures and receipts, which are never superseded.
pub fn erasable(kind: Kind) -> bool {
    !matches!(kind, Kind::Identity | Kind::Erasure | Kind::Receipt)
}

/// What this node keeps of an erased revision.
#[derive(Debug, Clone)]
pub struct Erased {
    /// The erasure that listed it.
    pub erasure: RecordId,
    pub publisher: PublisherId,
    /// The revision without its body, if this node held it.
    pub header: Option<Record>,
}

/// Why `record` is not taken in, if its publisher erased it.
pub(super) fn refusal(store: &Store, record: &Record) -> Result<Option<IdentityError>, StoreError> {
    match store.erased(&record.id())? {
        Some(erased) if erased.publisher == record.publisher() && erasable(record.kind()) => {
            Ok(Some(IdentityError::Erased { erasure: erased.erasure.to_string() }))
        }
        _ => Ok(None),
    }
}

/// Applies a stored erasure: drops the bodies of the revisions it lists that this node may
/// erase, and remembers the others. Answers how many records left the indexes.
pub(super) fn apply(store: &Store, erasure: &Record) -> Result<usize, StoreError> {
    let Ok(Body::Erasure(body)) = erasure.parse_body() else { return Ok(0) };
    let organisation = erasure.publisher();
    let mut doomed = Vec::new();
    let mut batch = sled::Batch::default();
    for id in &body.ids {
        let Ok(id) = <[u8; 32]>::try_from(id.as_slice()).map(RecordId) else { continue };
        if store.erased.contains_key(id.0)? {
            continue;
        }
        let kept = match store.get(&id)? {
            Some(held) if held.publisher() == organisation && erasable(held.kind()) && !is_head(store, &held)? => {
                let kept = held.erased_envelope_bytes();
                doomed.push((id, held));
                kept
            }
            // Another's record, one that cannot be erased, or the current revision: kept whole.
            Some(_) => continue,
            None => Vec::new(),
        };
        batch.insert(&id.0[..], [&erasure.id().0[..], &organisation.0, &kept].concat());
    }
    // Remembered first: a crash before the removal is finished at the next open.
    store.erased.apply_batch(batch)?;
    identities::remove(store, &organisation, doomed)
}

/// Removes the erased revisions still held (a crash between remembering and removing them);
/// answers how many.
pub(super) fn finish(store: &Store) -> Result<usize, StoreError> {
    let mut doomed: BTreeMap<PublisherId, Vec<(RecordId, Record)>> = BTreeMap::new();
    for entry in store.erased.iter() {
        let (id, _) = entry?;
        let id = super::trailing_id(&id)?;
        if let Some(held) = store.get(&id)? {
            doomed.entry(held.publisher()).or_default().push((id, held));
        }
    }
    let mut removed = 0;
    for (organisation, records) in doomed {
        removed += identities::remove(store, &organisation, records)?;
    }
    Ok(removed)
}

fn is_head(store: &Store, record: &Record) -> Result<bool, StoreError> {
    match store.heads.get(head_key(&record.key()))? {
        Some(value) => Ok(parse_version(&value)?.id == record.id()),
        None => Ok(false),
    }
}

impl Store {
    /// What this node keeps of a revision its publisher erased, if it did.
    pub fn erased(&self, id: &RecordId) -> Result<Option<Erased>, StoreError> {
        let Some(value) = self.erased.get(id.0)? else { return Ok(None) };
        let damaged = || super::damaged(&id.0, "its erasure entry is damaged");
        let (erasure, rest) = value.split_first_chunk::<32>().ok_or_else(damaged)?;
        let (publisher, kept) = rest.split_first_chunk::<32>().ok_or_else(damaged)?;
        let header = match kept.is_empty() {
            true => None,
            false => Some(record::from_trusted_storage(kept).map_err(|_| damaged())?),
        };
        Ok(Some(Erased { erasure: RecordId(*erasure), publisher: PublisherId(*publisher), header }))
    }
}
