//! `export` and `import`: records as files, for backups and for moving notes by hand.
//!
//! An export holds one `<id>.cmr` per record (the envelope bytes exactly as stored) and one
//! readable `<slug>.md` per current practice note. Import reads only the `.cmr` files and
//! verifies each one as if it came from a peer.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::author::now_ms;
use crate::datadir::DataDir;
use crate::ingest::{self, Outcome};
use crate::markdown;
use crate::record::{Body, Kind, MAX_ENVELOPE_BYTES};

const RECORD_EXTENSION: &str = "cmr";

/// A progress bar on a terminal; hidden when stderr is not one.
fn progress(total: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(&format!("{verb} {{bar:40}} {{pos}}/{{len}} ({{eta}} left)")) {
        bar.set_style(style);
    }
    bar
}

/// Writes a file whole or not at all: a crash leaves the old file or none, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    fs::write(&partial, bytes)
        .and_then(|_| fs::rename(&partial, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(super) fn export(data: &DataDir, dir: &Path) -> Result<()> {
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bar = progress(store.len() as u64, "exporting");
    let mut records = 0u64;
    for record in store.records() {
        let record = record?;
        write_atomically(&dir.join(format!("{}.{RECORD_EXTENSION}", record.id())), &record.envelope_bytes())?;
        records += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let own = data.publisher()?;
    let mut heads = store.heads(Some(Kind::Practice))?;
    // This publisher's notes get the plain `<slug>.md` names; others add their key when taken.
    heads.sort_by_key(|record| Some(record.publisher()) != own);
    let mut taken = HashSet::new();
    let mut notes = 0u64;
    for head in heads {
        let Body::Practice(note) = head.parse_body()? else { continue };
        let mut name = format!("{}.md", head.slug());
        if !taken.insert(name.clone()) {
            name = format!("{}-{}.md", head.slug(), &head.publisher().to_string()[..12]);
            taken.insert(name.clone());
        }
        write_atomically(&dir.join(name), markdown::render(head.slug(), &note).as_bytes())?;
        notes += 1;
    }
    eprintln!("exported {records} records and {notes} current notes to {}", dir.display());
    Ok(())
}

/// The `.cmr` files of a directory, in name order.
fn record_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read directory {}", dir.display()))?.path();
        if path.extension().is_some_and(|extension| extension == RECORD_EXTENSION) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_record_file(path: &Path) -> Result<Vec<u8>, String> {
    let size = fs::metadata(path).map_err(|error| format!("cannot read: {error}"))?.len();
    if size > MAX_ENVELOPE_BYTES as u64 {
        return Err(format!("rule envelope-size: the file is {size} bytes; the limit is {MAX_ENVELOPE_BYTES}"));
    }
    fs::read(path).map_err(|error| format!("cannot read: {error}"))
}

/// Imports into an initialised data directory, or restores into a new one (which then has a
/// store but no keys until `init`).
pub(super) fn import(data: &DataDir, dir: &Path) -> Result<()> {
    let files = record_files(dir)?;
    if files.is_empty() {
        bail!("{} holds no .{RECORD_EXTENSION} files; nothing to import", dir.display());
    }
    let store = data.open_store(&data.config()?)?;
    let bar = progress(files.len() as u64, "importing");
    let (mut stored, mut held, mut rejected) = (0u64, 0u64, 0u64);
    let items = files.iter().map(|path| {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        (name, read_record_file(path))
    });
    ingest::ingest(&store, items, now_ms(), |name, outcome| {
        if let Outcome::Stored { id, .. } | Outcome::AlreadyHeld { id } = &outcome
            && name != format!("{id}.{RECORD_EXTENSION}")
        {
            bar.suspend(|| eprintln!("note: {name} holds record {id} (its file name does not say so)"));
        }
        match outcome {
            Outcome::Stored { .. } => stored += 1,
            Outcome::AlreadyHeld { .. } => held += 1,
            Outcome::Invalid(error) => {
                bar.suspend(|| eprintln!("rejected {name}: {error}"));
                rejected += 1;
            }
            Outcome::Unreadable(reason) => {
                bar.suspend(|| eprintln!("rejected {name}: {reason}"));
                rejected += 1;
            }
        }
        bar.inc(1);
    })?;
    // The ingest pipeline reports stored records only after they were flushed.
    bar.finish_and_clear();
    eprintln!("imported {stored} new records; {held} already held; {rejected} rejected");
    if rejected > 0 {
        bail!("{rejected} of {} files were rejected (listed above); the valid ones were stored", files.len());
    }
    Ok(())
}
