//! Files a note names by path in its front matter, beside the Markdown file:
//!
//! ```yaml
//! attachments:
//!   - path: reports/final-report.pdf
//!     name: Final report.pdf        # optional: the file's own name
//!     media_type: application/pdf   # optional: from the name's extension
//! ```
//!
//! Publishing keeps each file and names it by hash: [`files_named`] lists them, and
//! [`name_files`] writes each one's SHA-256, size, name and media type in place of its path.
//! Pure: the caller reads the files.

use serde_norway::{Mapping, Value as Yaml};

use super::{MarkdownError, error_at};
use crate::wire::Attachment;

/// A file the front matter names by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    /// As written: relative to the Markdown file's folder, unless absolute.
    pub path: String,
    /// The name to offer, if given.
    pub name: Option<String>,
    /// The media type, if given.
    pub media_type: Option<String>,
}

/// The files the front matter's `attachments` name by `path`, in order (none when it names
/// none, or the file has no front matter: reading it says what is wrong then).
pub fn files_named(text: &str) -> Result<Vec<NamedFile>, MarkdownError> {
    let Some((_, front, _)) = split(text) else { return Ok(Vec::new()) };
    if !front.contains("path") {
        return Ok(Vec::new());
    }
    let yaml = parse(&front)?;
    let mut out = Vec::new();
    for (index, item) in attachments(&yaml).iter().enumerate() {
        let Some(row) = item.as_mapping() else { continue };
        let Some(path) = row.get("path") else { continue };
        let text_of = |key: &str| -> Result<Option<String>, MarkdownError> {
            match row.get(key) {
                None => Ok(None),
                Some(Yaml::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(error_at(2, format!("front matter: attachments[{index}].{key} must be text"))),
            }
        };
        if row.contains_key("sha256") || row.contains_key("size") {
            return Err(error_at(
                2,
                format!(
                    "front matter: attachments[{index}] gives both a path and a sha256 or size; give the path \
                     alone (publishing hashes the file) or sha256 and size for a file kept already"
                ),
            ));
        }
        let Yaml::String(path) = path else {
            return Err(error_at(2, format!("front matter: attachments[{index}].path must be a file's path")));
        };
        out.push(NamedFile { path: path.clone(), name: text_of("name")?, media_type: text_of("media_type")? });
    }
    Ok(out)
}

/// The Markdown with each file [`files_named`] lists named by `kept` (one each, in order) in
/// place of its path.
pub fn name_files(text: &str, kept: &[Attachment]) -> Result<String, MarkdownError> {
    let Some((head, front, rest)) = split(text) else { return Ok(text.to_owned()) };
    let mut yaml = parse(&front)?;
    let mut kept = kept.iter();
    let Some(items) = yaml.get_mut("attachments").and_then(Yaml::as_sequence_mut) else {
        return Ok(text.to_owned());
    };
    for item in items.iter_mut().filter(|item| item.get("path").is_some()) {
        let Some(attachment) = kept.next() else { break };
        let mut row = Mapping::new();
        row.insert("sha256".into(), crate::hex::to_hex(&attachment.sha256).into());
        row.insert("size".into(), attachment.size.into());
        row.insert("name".into(), attachment.name.clone().into());
        row.insert("media_type".into(), attachment.media_type.clone().into());
        *item = Yaml::Mapping(row);
    }
    let front = serde_norway::to_string(&yaml).map_err(|error| error_at(2, format!("front matter: {error}")))?;
    Ok(format!("{head}{front}---\n{rest}"))
}

/// A media type for a file's name, by its extension (`application/octet-stream` when unknown).
pub fn media_type_of(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// The text up to and including the opening `---` line, the front matter, and what follows
/// its closing `---` line.
fn split(text: &str) -> Option<(String, String, String)> {
    let text = text.replace("\r\n", "\n");
    let after_open = text.strip_prefix("---\n")?;
    let mut front = String::new();
    let mut rest = after_open;
    loop {
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        if line.trim_end() == "---" {
            return Some(("---\n".to_owned(), front, next.to_owned()));
        }
        if next.is_empty() && !rest.contains('\n') {
            return None;
        }
        front.push_str(line);
        front.push('\n');
        rest = next;
    }
}

fn parse(front: &str) -> Result<Yaml, MarkdownError> {
    serde_norway::from_str(front).map_err(|error| {
        let message = error.to_string();
        error_at(2, format!("front matter: {}", message.split(" at line ").next().unwrap_or(&message)))
    })
}

fn attachments(yaml: &Yaml) -> &[Yaml] {
    yaml.get("attachments").and_then(Yaml::as_sequence).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "---\nslug: with-files\ntitle: \"Compost: a start\"\nattachments:\n  - path: reports/final.pdf\n  \
                        - path: photo.JPG\n    name: Market day.jpg\n  - sha256: \
                        0101010101010101010101010101010101010101010101010101010101010101\n    size: 12\n    name: \
                        kept.pdf\n---\n\n## Summary\n\nText.\n";

    #[test]
    fn files_named_by_path_are_listed_and_then_named_by_hash_in_their_place() {
        let files = files_named(NOTE).unwrap();
        assert_eq!(
            files,
            [
                NamedFile { path: "reports/final.pdf".into(), name: None, media_type: None },
                NamedFile { path: "photo.JPG".into(), name: Some("Market day.jpg".into()), media_type: None },
            ]
        );
        assert_eq!(media_type_of("photo.JPG"), "image/jpeg");
        let kept = [
            Attachment {
                sha256: vec![2; 32],
                size: 100,
                name: "final.pdf".into(),
                media_type: "application/pdf".into(),
            },
            Attachment {
                sha256: vec![3; 32],
                size: 200,
                name: "Market day.jpg".into(),
                media_type: "image/jpeg".into(),
            },
        ];
        let named = name_files(NOTE, &kept).unwrap();
        assert!(files_named(&named).unwrap().is_empty(), "{named}");
        let note = crate::markdown::parse(&named, "CC-BY-4.0").unwrap();
        assert_eq!(note.practice.title, "Compost: a start");
        assert_eq!(note.practice.attachments[..2], kept);
        assert_eq!(note.practice.attachments[2].name, "kept.pdf");
        assert!(named.ends_with("---\n\n## Summary\n\nText.\n"), "{named}");
    }

    #[test]
    fn a_path_beside_a_hash_or_not_text_is_refused_with_what_to_do() {
        let both = "---\nslug: x\nattachments:\n  - path: a.pdf\n    size: 3\n---\n";
        let error = files_named(both).unwrap_err().to_string();
        assert!(error.contains("attachments[0] gives both a path and a sha256 or size"), "{error}");
        let number = "---\nslug: x\nattachments:\n  - path: 12\n---\n";
        assert!(files_named(number).unwrap_err().to_string().contains("attachments[0].path must be a file's path"));
        assert!(files_named("no front matter").unwrap().is_empty());
        assert!(files_named("---\nslug: x\n---\n").unwrap().is_empty());
    }
}
