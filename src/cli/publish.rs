//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::now_ms;
use crate::datadir::DataDir;
use crate::markdown;
use crate::record::{self, Body, Draft, Key, Kind, RecordError};
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
    let mut note = markdown::parse(&text, &config.publish.default_license)
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    if note.practice.language.is_empty() {
        note.practice.language = config.publish.default_language.clone();
    }
    let key = data.publisher_key()?;
    let store = data.open_store(&config)?;
    let record_key = Key { publisher: key.publisher(), kind: Kind::Practice, slug: note.slug.clone() };
    let head = store.head(&record_key)?;
    if let Some(head) = &head
        && !head.is_tombstone()
        && head.parse_body()? == Body::Practice(note.practice.clone())
    {
        eprintln!("{} is unchanged since revision {}; nothing published", note.slug, head.revision());
        println!("{}", head.id());
        return Ok(());
    }
    let draft = Draft {
        kind: Kind::Practice,
        slug: note.slug.clone(),
        revision: head.as_ref().map_or(1, |head| head.revision() + 1),
        timestamp_ms: now_ms(),
        body: Body::Practice(note.practice),
    };
    let record = record::sign(&key, draft).map_err(|error| match error {
        RecordError::BodyField { field, problem } => {
            anyhow::anyhow!("{}: {}: {problem}", file.display(), markdown_field(&field))
        }
        other => anyhow::anyhow!("{}: {other}", file.display()),
    })?;
    store.insert_durable(&record)?;
    let revived = if head.is_some_and(|head| head.is_tombstone()) { " (it had been withdrawn)" } else { "" };
    eprintln!("published {} revision {}{revived}", record.slug(), record.revision());
    println!("{}", record.id());
    Ok(())
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
