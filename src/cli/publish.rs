//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result};

use serde_json::json;

use super::remote::Remote;
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
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    if let Some(remote) = Remote::discover(data)? {
        let answer = remote
            .post("/api/v1/publish", &json!({ "markdown": text }))
            .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
        let (slug, revision) = (answer["slug"].as_str().unwrap_or_default(), &answer["revision"]);
        match answer["previous"].as_str() {
            Some("same") => eprintln!("{slug} is unchanged since revision {revision}; nothing published"),
            Some("withdrawn") => eprintln!("published {slug} revision {revision} (it had been withdrawn)"),
            _ => eprintln!("published {slug} revision {revision}"),
        }
        println!("{}", answer["id"].as_str().unwrap_or_default());
        return Ok(());
    }
    let config = data.config()?;
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
    if let Some(remote) = Remote::discover(data)? {
        let answer = remote.post("/api/v1/withdraw", &json!({ "slug": slug, "reason": reason }))?;
        eprintln!("withdrew {slug} (revision {})", answer["revision"]);
        println!("{}", answer["id"].as_str().unwrap_or_default());
        return Ok(());
    }
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
