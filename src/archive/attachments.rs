//! Attachments as the node serves and keeps them: a blob is offered while a held record names
//! it, under the name and media type that record gives.

use super::Archive;
use crate::blobs::{BlobError, Kept};
use crate::store::StoreError;

/// A held attachment, ready to be sent.
pub struct Download {
    pub file: std::fs::File,
    pub size: u64,
    /// The file name the newest record naming it offers ("report.pdf").
    pub name: String,
    /// Its media type as that record says ("application/pdf"), empty when it says none.
    pub media_type: String,
}

/// Why an attachment cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("no record held here names a file with SHA-256 {0}")]
    NotNamed(String),
    #[error("a record held here names the file with SHA-256 {0}, but its bytes are not here yet")]
    NotHere(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Archive {
    /// The attachment with this SHA-256, if a held record names it and its bytes are here.
    pub fn attachment(&self, sha256: &[u8; 32]) -> Result<Download, AttachmentError> {
        let hex = crate::hex::to_hex(sha256);
        let mut named = self.store.blob_names(sha256)?;
        let mut newest = None;
        for (id, attachment) in named.drain(..) {
            let at = self.store.get(&id)?.map_or(i64::MIN, |record| record.timestamp_ms());
            if newest.as_ref().is_none_or(|(best, _)| at > *best) {
                newest = Some((at, attachment));
            }
        }
        let Some((_, attachment)) = newest else { return Err(AttachmentError::NotNamed(hex)) };
        let Some((file, size)) = self.blobs.open_blob(sha256)? else { return Err(AttachmentError::NotHere(hex)) };
        Ok(Download { file, size, name: attachment.name, media_type: attachment.media_type })
    }

    /// Removes the blobs no held record names that were kept at least `age` ago (a younger one
    /// may be a file kept for a note not yet signed); answers how many. Runs under the store's
    /// writer, so a record naming a blob cannot be stored while its file is removed.
    pub fn clean_blobs(&self, age: std::time::Duration) -> Result<usize, AttachmentError> {
        let candidates = self.blobs.kept_before(age)?;
        let mut failed = None;
        let removed = self.store.with_unnamed_blobs(candidates, |sha256| match self.blobs.remove(sha256) {
            Ok(removed) => removed,
            Err(error) => {
                failed = Some(error);
                false
            }
        })?;
        match failed {
            Some(error) => Err(error.into()),
            None => Ok(removed),
        }
    }

    /// Keeps a file to attach to a note this node is about to publish: its hash and size, for
    /// the note's `attachments` (the file stays unnamed, and may be cleaned up, until a record
    /// naming it is stored).
    pub fn keep_file(&self, from: impl std::io::Read) -> Result<Kept, BlobError> {
        self.blobs.put(from)
    }
}
