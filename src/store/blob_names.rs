//! Which held records name each attachment: the `blob_names` tree, SHA-256 (32) ‖ record id
//! (32) → the `Attachment` as the record names it (its size, file name and media type). It is
//! an index like the others: written by the same writer as the records it comes from, removed
//! with them, checked and rebuilt from the records tree after a crash. A blob is wanted while
//! a record names it, so cleaning up blobs reads this tree under the store's writer and can
//! never remove one that a record stored meanwhile names.

use super::{Store, StoreError, trailing_id};
use crate::record::{Record, RecordId};
use crate::wire::{self, Attachment};

/// The tree's entries for one record: one for each file it names.
pub(super) fn entries(record: &Record) -> Vec<(Vec<u8>, Vec<u8>)> {
    let attachments = record.attachments();
    let attachments = attachments.iter().filter_map(|attachment| {
        let sha256 = <[u8; 32]>::try_from(attachment.sha256.as_slice()).ok()?;
        Some(([&sha256[..], &record.id().0].concat(), wire::encode(attachment)))
    });
    attachments.collect()
}

/// Lists the attachments of every record held, for a store of a format before this index
/// (format 3 and older), with progress; safe to repeat if cut short.
pub(super) fn fill(store: &Store) -> Result<(), StoreError> {
    let total = store.records.len() as u64;
    let mut progress = super::packing::reporter();
    for (done, record) in store.records().enumerate() {
        for (key, value) in entries(&record?) {
            store.blob_names.insert(key, value)?;
        }
        if (done + 1) % 10_000 == 0 {
            progress("listing the files each record names", done as u64 + 1, total);
        }
    }
    if total > 0 {
        progress("listing the files each record names", total, total);
    }
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
