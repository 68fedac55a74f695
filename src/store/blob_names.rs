//! Which held records name each attachment: the `blob_names` tree, SHA-256 (32) ‖ record id
//! (32) → the `Attachment` as the record names it (its size, file name and media type). It is
//! an index like the others: written by the same writer as the records it comes from, removed
//! with them, checked and rebuilt from the records tree after a crash. A blob is wanted while
//! a record names it, so cleaning up blobs reads this tree under the store's writer and can
//! never remove one that a record stored meanwhile names.

use super::{Store, StoreError, trailing_id};
use crate::record::{Record, RecordId};
use crate::wire::{self, Attachment};

/// Set in `meta` once the tree holds the names of every record (a store written before it was
/// kept gets them counted once, when first opened).
const FILLED: &[u8] = b"blob_names";

/// The tree's entries for one record: one for each file it names.
pub(super) fn entries(record: &Record) -> Vec<(Vec<u8>, Vec<u8>)> {
    let attachments = record.attachments();
    let attachments = attachments.iter().filter_map(|attachment| {
        let sha256 = <[u8; 32]>::try_from(attachment.sha256.as_slice()).ok()?;
        Some(([&sha256[..], &record.id().0].concat(), wire::encode(attachment)))
    });
    attachments.collect()
}

/// Fills the tree from the records once, for a store written before it was kept.
pub(super) fn fill_once(store: &Store) -> Result<(), StoreError> {
    if store.meta.contains_key(FILLED)? {
        return Ok(());
    }
    if !store.records.is_empty() {
        tracing::info!("listing the attachments each record names (once, for the new store layout)");
        for record in store.records() {
            for (key, value) in entries(&record?) {
                store.blob_names.insert(key, value)?;
            }
        }
    }
    store.meta.insert(FILLED, &[1u8][..])?;
    Ok(())
}

impl Store {
    /// The held records that name the blob with this SHA-256, with the attachment as each
    /// names it: none when no record wants the blob.
    pub fn blob_names(&self, sha256: &[u8; 32]) -> Result<Vec<(RecordId, Attachment)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.blob_names.scan_prefix(sha256) {
            let (key, value) = entry?;
            let attachment = wire::decode(&value)
                .map_err(|error| super::damaged(&key, &format!("an attachment entry does not decode: {error}")))?;
            out.push((trailing_id(&key)?, attachment));
        }
        Ok(out)
    }

    /// Runs `clean` on every blob no held record names, under the store's writer, so that no
    /// record naming one is stored meanwhile; answers how many `clean` says it removed.
    pub fn with_unnamed_blobs(
        &self,
        held: impl IntoIterator<Item = [u8; 32]>,
        mut clean: impl FnMut(&[u8; 32]) -> bool,
    ) -> Result<usize, StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut removed = 0;
        for sha256 in held {
            if self.blob_names.scan_prefix(sha256).next().transpose()?.is_none() && clean(&sha256) {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
