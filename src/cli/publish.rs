//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::backend::Backend;
use crate::author::Previous;
use crate::datadir::DataDir;

pub(super) fn publish(data: &DataDir, file: &Path) -> Result<()> {
    data.require_initialised()?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let published =
        Backend::open(data)?.publish(&text).map_err(|error| anyhow::anyhow!("{}: {error:#}", file.display()))?;
    report(&published);
    out!("{}", published.id)?;
    Ok(())
}

/// Says on standard error what publishing did.
pub(super) fn report(published: &crate::author::Publication) {
    let (slug, revision) = (&published.slug, published.revision);
    match published.previous {
        Previous::Same => eprintln!("{slug} is unchanged since revision {revision}; nothing published"),
        Previous::Withdrawn => eprintln!("published {slug} revision {revision} (it had been withdrawn)"),
        Previous::Older | Previous::None => eprintln!("published {slug} revision {revision}"),
    }
}

pub(super) fn withdraw(data: &DataDir, slug: &str, reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        bail!("--reason is required: say in a sentence why the note is withdrawn (readers see it)");
    }
    let withdrawal = Backend::open_initialised(data)?.withdraw(slug, reason)?;
    eprintln!("withdrew {slug} (revision {})", withdrawal.revision);
    out!("{}", withdrawal.id)?;
    Ok(())
}
