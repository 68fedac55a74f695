//! What a publisher does: publish a note as its next revision, withdraw one. The CLI and the
//! node's API both come here, so both follow the same rules.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::markdown::{self, MarkdownError};
use crate::record::{self, Body, Draft, Key, Kind, PublisherKey, Record, RecordError};
use crate::store::{Store, StoreError};
use crate::wire::Tombstone;

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Why a note could not be published or withdrawn.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    #[error(transparent)]
    Markdown(#[from] MarkdownError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("you have published no note with slug {0:?}; `citymesh list --kind practice` shows what is held")]
    NoSuchNote(String),
    #[error("{slug} was already withdrawn at revision {revision}")]
    AlreadyWithdrawn { slug: String, revision: u64 },
}

/// What the key's head was before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    None,
    Older,
    Withdrawn,
    /// The head already had this content; nothing new was signed.
    Same,
}

/// A published note.
#[derive(Debug)]
pub struct Published {
    /// The new head (or the unchanged one).
    pub record: Record,
    pub previous: Previous,
}

/// Signs a Markdown note as the next revision of its slug and stores it durably; an unchanged
/// note is not signed again.
pub fn publish(store: &Store, key: &PublisherKey, config: &Config, text: &str) -> Result<Published, AuthorError> {
    let mut note = markdown::parse(text, &config.publish.default_license)?;
    if note.practice.language.is_empty() {
        note.practice.language = config.publish.default_language.clone();
    }
    let record_key = Key { publisher: key.publisher(), kind: Kind::Practice, slug: note.slug.clone() };
    let head = store.head(&record_key)?;
    let previous = match &head {
        None => Previous::None,
        Some(head) if head.is_tombstone() => Previous::Withdrawn,
        Some(head) if head.parse_body()? == Body::Practice(note.practice.clone()) => {
            return Ok(Published { record: head.clone(), previous: Previous::Same });
        }
        Some(_) => Previous::Older,
    };
    let draft = Draft {
        kind: Kind::Practice,
        slug: note.slug,
        revision: head.as_ref().map_or(1, |head| head.revision() + 1),
        timestamp_ms: now_ms(),
        body: Body::Practice(note.practice),
    };
    let record = record::sign(key, draft)?;
    store.insert_durable(&record)?;
    Ok(Published { record, previous })
}

/// Signs a withdrawal of one of this publisher's notes and stores it durably.
pub fn withdraw(store: &Store, key: &PublisherKey, slug: &str, reason: &str) -> Result<Record, AuthorError> {
    let record_key = Key { publisher: key.publisher(), kind: Kind::Practice, slug: slug.to_owned() };
    let Some(head) = store.head(&record_key)? else {
        return Err(AuthorError::NoSuchNote(slug.to_owned()));
    };
    if head.is_tombstone() {
        return Err(AuthorError::AlreadyWithdrawn { slug: slug.to_owned(), revision: head.revision() });
    }
    let draft = Draft {
        kind: Kind::Practice,
        slug: slug.to_owned(),
        revision: head.revision() + 1,
        timestamp_ms: now_ms(),
        body: Body::Tombstone(Tombstone { reason: reason.trim().to_owned() }),
    };
    let record = record::sign(key, draft)?;
    store.insert_durable(&record)?;
    Ok(record)
}
