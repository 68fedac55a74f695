//! Attachments as the node serves and keeps them: a blob is offered while a held record names
//! it, under the name and media type that record gives.

use serde::{Deserialize, Serialize};

use super::Archive;
use crate::blobs::BlobError;
use crate::store::StoreError;
use crate::view::FindError;

/// A file a record names, and whether its bytes are here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRow {
    pub sha256: String,
    pub size: u64,
    pub name: String,
    pub media_type: String,
    /// The bytes are kept in this node's `blobs/`.
    pub here: bool,
}

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
    /// The attachment with this SHA-256, if a held record names it and its bytes are here, by
    /// the name and type this node's own record gives it, else a partner's, else the newest.
    pub fn attachment(&self, sha256: &[u8; 32]) -> Result<Download, AttachmentError> {
        let hex = crate::hex::to_hex(sha256);
        let named = self.store.blob_names(sha256)?;
        // Whose word on the file's name and type counts: this node's own, then a partner's,
        // then anyone's; the newest of those.
        let own = self.publisher();
        let policy = if named.len() > 1 { self.policy().ok() } else { None };
        let mut best = None;
        for (id, attachment) in named {
            let Some(record) = self.store.get(&id)? else { continue };
            let publisher = record.publisher();
            let standing = match () {
                _ if Some(publisher) == own => 2,
                _ if policy.as_ref().is_some_and(|policy| policy.is_partner(&publisher.0)) => 1,
                _ => 0,
            };
            let rank = (standing, record.timestamp_ms());
            if best.as_ref().is_none_or(|(best, _)| rank > *best) {
                best = Some((rank, attachment));
            }
        }
        let Some((_, attachment)) = best else { return Err(AttachmentError::NotNamed(hex)) };
        let Some((file, size)) = self.blobs.open_blob(sha256)? else { return Err(AttachmentError::NotHere(hex)) };
        Ok(Download { file, size, name: attachment.name, media_type: attachment.media_type })
    }

    /// The files a record names (by id, slug or publisher/slug, as `show` finds it), each with
    /// whether its bytes are here.
    pub fn attachments_of(&self, target: &str) -> Result<Vec<AttachmentRow>, FindError> {
        let record = self.find(target)?;
        let rows = record.attachments().into_iter().map(|attachment| {
            let sha256 = <[u8; 32]>::try_from(attachment.sha256.as_slice()).unwrap_or_default();
            AttachmentRow {
                sha256: crate::hex::to_hex(&attachment.sha256),
                size: attachment.size,
                name: attachment.name,
                media_type: attachment.media_type,
                here: self.blobs.has(&sha256),
            }
        });
        Ok(rows.collect())
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
}
