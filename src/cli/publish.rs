//! `publish` and `withdraw`: sign a new revision of one of this publisher's notes.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::backend::Backend;
use crate::author::Previous;
use crate::blobs::{Blobs, photos};
use crate::datadir::DataDir;
use crate::markdown;
use crate::wire::Attachment;

/// Publishes the note in `file`, keeping the files it names; photos lose their metadata unless
/// `keep_photo_metadata`.
pub(super) fn publish(data: &DataDir, file: &Path, keep_photo_metadata: bool) -> Result<()> {
    data.require_initialised()?;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = keep_named_files(data, file, &text, keep_photo_metadata)?;
    let published =
        Backend::open(data)?.publish(&text).map_err(|error| anyhow::anyhow!("{}: {error:#}", file.display()))?;
    report(&published);
    out!("{}", published.id)?;
    Ok(())
}

/// Keeps the files the note's front matter names by path (beside the note, unless absolute) in
/// the data directory, and answers the note with each named by its hash, size, name and type.
/// A JPEG or PNG photo loses its metadata first (EXIF, GPS, XMP), unless `keep_photo_metadata`.
fn keep_named_files(data: &DataDir, note: &Path, text: &str, keep_photo_metadata: bool) -> Result<String> {
    let named = markdown::files_named(text).map_err(|error| anyhow!("{}: {error}", note.display()))?;
    if named.is_empty() {
        return Ok(text.to_owned());
    }
    let blobs = Blobs::open(&data.blobs_path(), data.config()?.store.max_file_mb << 20)?;
    let folder = note.parent().unwrap_or(Path::new("."));
    let mut kept = Vec::with_capacity(named.len());
    for (index, named) in named.into_iter().enumerate() {
        let path = folder.join(&named.path);
        let at = |problem: String| anyhow!("{}: attachments[{index}] ({}): {problem}", note.display(), path.display());
        let name = named.name.unwrap_or_else(|| {
            path.file_name().map_or_else(|| named.path.clone(), |name| name.to_string_lossy().into_owned())
        });
        let media_type = named.media_type.unwrap_or_else(|| markdown::media_type_of(&name).to_owned());
        let file = std::fs::File::open(&path).map_err(|error| at(format!("cannot read the file: {error}")))?;
        let stored = if photos::is_photo(&media_type) && !keep_photo_metadata {
            let mut bytes = Vec::new();
            let limit = blobs.max_bytes() + 1;
            std::io::Read::read_to_end(&mut std::io::Read::take(file, limit), &mut bytes)
                .map_err(|error| at(format!("cannot read the file: {error}")))?;
            if bytes.len() as u64 == limit {
                return Err(at(crate::blobs::BlobError::TooLarge { max: blobs.max_bytes() }.to_string()));
            }
            let clean = photos::without_metadata(&bytes, &media_type)
                .map_err(|error| at(format!("{error}; fix the file, or publish with --keep-photo-metadata")))?;
            if clean.len() < bytes.len() {
                eprintln!(
                    "removed {} bytes of metadata (EXIF, GPS) from {}",
                    bytes.len() - clean.len(),
                    path.display()
                );
            }
            blobs.put(clean.as_slice())
        } else {
            blobs.put(std::io::BufReader::new(file))
        };
        let stored = stored.map_err(|error| at(error.to_string()))?;
        eprintln!("kept {} ({} bytes) as {}", path.display(), stored.size, crate::hex::to_hex(&stored.sha256));
        kept.push(Attachment { sha256: stored.sha256.to_vec(), size: stored.size, name, media_type });
    }
    markdown::name_files(text, &kept).map_err(|error| anyhow!("{}: {error}", note.display()))
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
