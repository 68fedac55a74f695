//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result};

use crate::author::{self, AuthorError, Previous};
use crate::datadir::DataDir;
use crate::record::RecordError;

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
    let published = author::publish(&store, &key, &config, &text).map_err(|error| match error {
        AuthorError::Record(RecordError::BodyField { field, problem }) => {
            anyhow::anyhow!("{}: {}: {problem}", file.display(), markdown_field(&field))
        }
        AuthorError::Markdown(_) | AuthorError::Record(_) => anyhow::anyhow!("{}: {error}", file.display()),
        other => other.into(),
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

pub(super) fn withdraw(data: &DataDir, slug: &str, reason: &str) -> Result<()> {
    data.require_initialised()?;
    let config = data.config()?;
    let key = data.publisher_key()?;
    let store = data.open_store(&config)?;
    let record = author::withdraw(&store, &key, slug, reason).map_err(|error| match error {
        AuthorError::Record(RecordError::BodyField { problem, .. }) => anyhow::anyhow!("--reason {problem}"),
        other => other.into(),
    })?;
    eprintln!("withdrew {slug} (revision {})", record.revision());
    println!("{}", record.id());
    Ok(())
}
