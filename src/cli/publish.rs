//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::now_ms;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::markdown::{self, MarkdownError};
use crate::record::{self, Body, Draft, Key, Kind, PublisherKey, Record, RecordError};
use crate::store::{Store, StoreError};
use crate::wire::Tombstone;

/// Front matter names for body fields whose Markdown name differs from the wire name.
fn markdown_field(field: &str) -> String {
    let field = field.strip_prefix("location.").unwrap_or(field);
    match field {
        "name" => "place".to_owned(),
        other => other.to_owned(),
    }
}

pub(super) fn publish(data: &DataDir, file: &Path) -> Result<()> {
    data.require_initialised()?;
    let config = data.config()?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = data.publisher_key()?;
    let store = data.open_store(&config)?;
    let published = publish_text(&store, &key, &config, &text).map_err(|error| match error {
        PublishError::Markdown(error) => anyhow::anyhow!("{}: {error}", file.display()),
        PublishError::Record(RecordError::BodyField { field, problem }) => {
            anyhow::anyhow!("{}: {}: {problem}", file.display(), markdown_field(&field))
        }
        PublishError::Record(other) => anyhow::anyhow!("{}: {other}", file.display()),
        PublishError::Store(error) => error.into(),
    })?;
    let record = &published.record;
    match published.previous {
        Previous::Same => {
            eprintln!("{} is unchanged since revision {}; nothing published", record.slug(), record.revision())
        }
        Previous::Withdrawn => {
            eprintln!("published {} revision {} (it had been withdrawn)", record.slug(), record.revision())
        }
        Previous::Older | Previous::None => eprintln!("published {} revision {}", record.slug(), record.revision()),
    }
    println!("{}", record.id());
    Ok(())
}

/// Why a note could not be published.
#[derive(Debug, thiserror::Error)]
pub(super) enum PublishError {
    #[error(transparent)]
    Markdown(#[from] MarkdownError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the key's head was before publishing.
pub(super) enum Previous {
    None,
    Older,
    Withdrawn,
    /// The head already had this content; nothing new was signed.
    Same,
}

pub(super) struct Published {
    /// The new head (or the unchanged one).
    pub record: Record,
    pub previous: Previous,
}

/// Signs a Markdown note as the next revision of its slug and stores it durably; an unchanged
/// note is not signed again.
pub(super) fn publish_text(
    store: &Store,
    key: &PublisherKey,
    config: &Config,
    text: &str,
) -> Result<Published, PublishError> {
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

pub(super) fn withdraw(data: &DataDir, slug: &str, reason: &str) -> Result<()> {
    data.require_initialised()?;
    let config = data.config()?;
    let key = data.publisher_key()?;
    let store = data.open_store(&config)?;
    let record_key = Key { publisher: key.publisher(), kind: Kind::Practice, slug: slug.to_owned() };
    let Some(head) = store.head(&record_key)? else {
        bail!("you have published no note with slug {slug:?}; `citymesh list --kind practice` shows what is held");
    };
    if head.is_tombstone() {
        bail!("{slug} was already withdrawn at revision {}", head.revision());
    }
    let draft = Draft {
        kind: Kind::Practice,
        slug: slug.to_owned(),
        revision: head.revision() + 1,
        timestamp_ms: now_ms(),
        body: Body::Tombstone(Tombstone { reason: reason.trim().to_owned() }),
    };
    let record = record::sign(&key, draft).map_err(|error| match error {
        RecordError::BodyField { problem, .. } => anyhow::anyhow!("--reason {problem}"),
        other => other.into(),
    })?;
    store.insert_durable(&record)?;
    eprintln!("withdrew {slug} (revision {})", record.revision());
    println!("{}", record.id());
    Ok(())
}
