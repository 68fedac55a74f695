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

use super::remote::Remote;
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
    let remote = Remote::discover(data)?;
    if remote.is_none() {
        data.require_store()?;
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (records, notes) = match remote {
        Some(remote) => export_remote(&remote, dir)?,
        None => export_local(data, dir)?,
    };
    eprintln!("exported {records} records and {notes} current notes to {}", dir.display());
    Ok(())
}

fn export_local(data: &DataDir, dir: &Path) -> Result<(u64, u64)> {
    let store = data.open_store(&data.config()?)?;
    let bar = progress(store.len() as u64, "exporting");
    let mut records = 0u64;
    for record in store.records() {
        let record = record?;
        write_atomically(&dir.join(format!("{}.{RECORD_EXTENSION}", record.id())), &record.envelope_bytes())?;
        records += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut notes = Vec::new();
    for head in store.heads(Some(Kind::Practice))? {
        if let Body::Practice(note) = head.parse_body()? {
            notes.push((head.slug().to_owned(), head.publisher().to_string(), markdown::render(head.slug(), &note)));
        }
    }
    let own = data.publisher()?.map(|publisher| publisher.to_string());
    Ok((records, write_notes(dir, notes, own.as_deref())?))
}

/// Exports through a running node's API, a page of records at a time.
fn export_remote(remote: &Remote, dir: &Path) -> Result<(u64, u64)> {
    let mut records = 0u64;
    let mut after: Option<u64> = None;
    loop {
        let query = after.map(|after| format!("?after={after}")).unwrap_or_default();
        let page = remote.get(&format!("/api/v1/envelopes{query}"))?;
        for envelope in page["envelopes"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let id = envelope["id"].as_str().unwrap_or_default();
            let bytes = crate::record::parse_hex(envelope["hex"].as_str().unwrap_or_default())
                .map_err(|error| anyhow::anyhow!("the node sent record {id} garbled: {error}"))?;
            write_atomically(&dir.join(format!("{id}.{RECORD_EXTENSION}")), &bytes)?;
            records += 1;
        }
        match page["next"].as_u64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut notes = Vec::new();
    for row in remote.records("kind=practice")?.as_array().map(Vec::as_slice).unwrap_or_default() {
        if row["withdrawn"] == true {
            continue;
        }
        let id = row["id"].as_str().unwrap_or_default();
        let detail = remote.get(&format!("/api/v1/records/{id}"))?;
        if let Some(text) = detail["markdown"].as_str() {
            let field = |name: &str| row[name].as_str().unwrap_or_default().to_owned();
            notes.push((field("slug"), field("publisher"), text.to_owned()));
        }
    }
    let own = remote.get("/api/v1/status")?["publisher"].as_str().map(str::to_owned);
    Ok((records, write_notes(dir, notes, own.as_deref())?))
}

/// Writes `<slug>.md` per note: this publisher's notes get the plain names; another
/// publisher's note whose name is taken adds the start of its key.
fn write_notes(dir: &Path, mut notes: Vec<(String, String, String)>, own: Option<&str>) -> Result<u64> {
    notes.sort_by_key(|(_, publisher, _)| Some(publisher.as_str()) != own);
    let mut taken = HashSet::new();
    for (slug, publisher, text) in &notes {
        let mut name = format!("{slug}.md");
        if !taken.insert(name.clone()) {
            name = format!("{slug}-{}.md", &publisher[..publisher.len().min(12)]);
            taken.insert(name.clone());
        }
        write_atomically(&dir.join(name), text.as_bytes())?;
    }
    Ok(notes.len() as u64)
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
    if let Some(remote) = Remote::discover(data)? {
        return import_remote(&remote, &files);
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

/// Hex bytes per import request, at most (the API takes up to 64 MiB).
const MAX_REQUEST_HEX: usize = 16 * 1024 * 1024;

/// What an import did.
#[derive(Default)]
struct Tally {
    stored: u64,
    held: u64,
    rejected: u64,
}

/// Imports through a running node's API, in requests of a few MiB.
fn import_remote(remote: &Remote, files: &[PathBuf]) -> Result<()> {
    let bar = progress(files.len() as u64, "importing");
    let mut tally = Tally::default();
    let mut batch: Vec<(String, String)> = Vec::new();
    let mut size = 0;
    for path in files {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match read_record_file(path) {
            Ok(bytes) => {
                let hex = crate::record::to_hex(&bytes);
                size += hex.len();
                batch.push((name, hex));
            }
            Err(reason) => {
                bar.suspend(|| eprintln!("rejected {name}: {reason}"));
                tally.rejected += 1;
                bar.inc(1);
            }
        }
        if size >= MAX_REQUEST_HEX {
            send_batch(remote, &bar, &mut batch, &mut tally)?;
            size = 0;
        }
    }
    send_batch(remote, &bar, &mut batch, &mut tally)?;
    bar.finish_and_clear();
    let Tally { stored, held, rejected } = tally;
    eprintln!("imported {stored} new records; {held} already held; {rejected} rejected");
    if rejected > 0 {
        bail!("{rejected} of {} files were rejected (listed above); the valid ones were stored", files.len());
    }
    Ok(())
}

fn send_batch(remote: &Remote, bar: &ProgressBar, batch: &mut Vec<(String, String)>, tally: &mut Tally) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let envelopes: Vec<&str> = batch.iter().map(|(_, hex)| hex.as_str()).collect();
    let answer = remote.post("/api/v1/import", &serde_json::json!({ "envelopes": envelopes }))?;
    let results = answer["results"].as_array().map(Vec::as_slice).unwrap_or_default();
    for ((name, _), result) in batch.iter().zip(results) {
        if let Some(id) = result["id"].as_str()
            && *name != format!("{id}.{RECORD_EXTENSION}")
        {
            bar.suspend(|| eprintln!("note: {name} holds record {id} (its file name does not say so)"));
        }
        match result["outcome"].as_str() {
            Some("stored") => tally.stored += 1,
            Some("held") => tally.held += 1,
            _ => {
                bar.suspend(|| {
                    eprintln!("rejected {name}: {}", result["detail"].as_str().unwrap_or("no reason given"))
                });
                tally.rejected += 1;
            }
        }
        bar.inc(1);
    }
    batch.clear();
    Ok(())
}
