//! `export` and `import`: records as files, for backups and for moving notes by hand.
//!
//! An export holds one `<id>.cmr` per record (the envelope bytes exactly as stored) and one
//! readable `<slug>.md` per current practice note. Import reads only the `.cmr` files and
//! verifies each one as if it came from a peer. Both go through a running node when one runs.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::backend::Backend;
use crate::archive::ImportResult;
use crate::datadir::DataDir;
use crate::record::MAX_ENVELOPE_BYTES;

const RECORD_EXTENSION: &str = "cmr";
/// Bytes of envelopes verified and stored per batch, at most (a running node takes up to 64 MiB
/// of hex per request).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// A progress bar on a terminal; hidden when stderr is not one.
fn progress(total: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(&format!("{verb} {{bar:40}} {{pos}}/{{len}} ({{eta}} left)")) {
        bar.set_style(style);
    }
    bar
}

/// Long store work (an upgrade's repacking) as a bar on the terminal: one bar per piece of
/// work, finished when it is done.
pub(super) fn progress_reporter() -> crate::store::Reporter {
    let bar: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);
    Box::new(move |what, done, total| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let shown = bar.get_or_insert_with(|| progress(total, what));
        shown.set_position(done);
        if done >= total {
            shown.finish();
            *bar = None;
        }
    })
}

/// Writes a file whole or not at all: a crash leaves the old file or none, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    fs::write(&partial, bytes)
        .and_then(|_| fs::rename(&partial, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(super) fn export(data: &DataDir, dir: &Path) -> Result<()> {
    let backend = Backend::open(data)?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bar = progress(backend.records_held()? as u64, "exporting");
    let mut records = 0u64;
    let mut after: Option<u64> = None;
    loop {
        let page = backend.envelopes(after)?;
        for (id, bytes) in &page.records {
            write_atomically(&dir.join(format!("{id}.{RECORD_EXTENSION}")), bytes)?;
            records += 1;
            bar.inc(1);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    bar.finish_and_clear();
    let notes = backend.current_notes()?;
    let own = data.publisher()?.map(|publisher| publisher.to_string());
    let notes = write_notes(dir, notes, own.as_deref())?;
    eprintln!("exported {records} records and {notes} current notes to {}", dir.display());
    Ok(())
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

/// What an import did.
#[derive(Default)]
struct Tally {
    stored: u64,
    held: u64,
    rejected: u64,
}

/// Imports into an initialised data directory, or restores into a new one (which then has a
/// store but no keys until `init`), in batches of a few MiB.
pub(super) fn import(data: &DataDir, dir: &Path) -> Result<()> {
    let files = record_files(dir)?;
    if files.is_empty() {
        bail!("{} holds no .{RECORD_EXTENSION} files; nothing to import", dir.display());
    }
    let backend = Backend::open_or_create(data)?;
    let bar = progress(files.len() as u64, "importing");
    let mut tally = Tally::default();
    let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
    let mut size = 0;
    for path in &files {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match read_record_file(path) {
            Ok(bytes) => {
                size += bytes.len();
                batch.push((name, bytes));
            }
            Err(reason) => {
                bar.suspend(|| eprintln!("rejected {name}: {reason}"));
                tally.rejected += 1;
                bar.inc(1);
            }
        }
        if size >= MAX_BATCH_BYTES {
            import_batch(&backend, &bar, std::mem::take(&mut batch), &mut tally)?;
            size = 0;
        }
    }
    import_batch(&backend, &bar, batch, &mut tally)?;
    bar.finish_and_clear();
    let Tally { stored, held, rejected } = tally;
    eprintln!("imported {stored} new records; {held} already held; {rejected} rejected");
    if rejected > 0 {
        bail!("{rejected} of {} files were rejected (listed above); the valid ones were stored", files.len());
    }
    Ok(())
}

fn import_batch(backend: &Backend, bar: &ProgressBar, batch: Vec<(String, Vec<u8>)>, tally: &mut Tally) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let (names, envelopes): (Vec<String>, Vec<Vec<u8>>) = batch.into_iter().unzip();
    let results = backend.import(envelopes)?;
    for (name, result) in names.iter().zip(results) {
        if let ImportResult::Stored { id } | ImportResult::Held { id } = &result
            && *name != format!("{id}.{RECORD_EXTENSION}")
        {
            bar.suspend(|| eprintln!("note: {name} holds record {id} (its file name does not say so)"));
        }
        match result {
            ImportResult::Stored { .. } => tally.stored += 1,
            ImportResult::Held { .. } => tally.held += 1,
            ImportResult::Rejected { detail, .. } => {
                bar.suspend(|| eprintln!("rejected {name}: {detail}"));
                tally.rejected += 1;
            }
        }
        bar.inc(1);
    }
    Ok(())
}
