//! Notes as Markdown files: YAML front matter for the structured fields, then one
//! `## Heading` section per text field, where the kind's field table
//! ([`crate::fields::Described`]) places them. [`parse`] reads the format and [`render`] writes
//! it, so an exported note can be edited and published again.
//!
//! Field values are checked by the record rules when the note is signed; this module reports
//! only what is wrong with the file's shape, with its line number.

mod files;
mod front;

pub use files::{NamedFile, files_named, media_type_of, name_files};

use crate::fields::{Access, Described, Field, Markdown, Value};
use crate::record::{Body, Kind};
use crate::wire::Practice;

/// A note read from a Markdown file.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub slug: String,
    pub practice: Practice,
}

/// What is wrong with a Markdown file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|n| format!("line {n}: ")).unwrap_or_default())]
pub struct MarkdownError {
    /// 1-based line in the file, when the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

fn error_at(line: usize, message: impl Into<String>) -> MarkdownError {
    MarkdownError { line: Some(line), message: message.into() }
}

/// A record of any written kind read from a Markdown file: its kind, slug and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub kind: Kind,
    pub slug: String,
    pub body: Body,
}

/// The name a Markdown file gives a body field of a practice note that the record rules name
/// by its path: a key of the front matter (`location.name` is `place`, `themes[1]` stays
/// `themes[1]`), else the path itself.
pub fn field_name(path: &str) -> String {
    field_name_in::<Practice>(path)
}

/// [`field_name`] for a field of a record of `kind`.
pub fn field_name_of(kind: Kind, path: &str) -> String {
    crate::with_described!(kind, T => field_name_in::<T>(path), else path.to_owned())
}

fn field_name_in<T: Described>(path: &str) -> String {
    let head = path.split(['[', '.']).next().unwrap_or(path);
    let rest = &path[head.len()..];
    let front = |field: &Field<T>| match field.markdown {
        Markdown::Front { key, .. } => Some(key),
        _ => None,
    };
    if let Some(key) = crate::fields::field::<T>(path).and_then(front) {
        return key.to_owned();
    }
    match crate::fields::field::<T>(head).and_then(front) {
        Some(key) => format!("{key}{rest}"),
        None => path.to_owned(),
    }
}

/// The kind a Markdown file says it is (its front matter's `kind:` line), `practice` when it
/// says none.
pub fn kind_of(text: &str) -> Result<Kind, MarkdownError> {
    let front = text.lines().skip(1).take_while(|line| line.trim_end() != "---");
    for (index, line) in front.enumerate() {
        if let Some(value) = line.strip_prefix("kind:") {
            let value = value.trim().trim_matches(['"', '\'']);
            let kind: Kind = value.parse().map_err(|_| {
                let kinds: Vec<&str> = crate::fields::WRITTEN_KINDS.iter().map(|kind| kind.as_str()).collect();
                error_at(
                    index + 2,
                    format!("front matter: kind {value:?} is not a kind of record; use one of {}", kinds.join(", ")),
                )
            })?;
            return Ok(kind);
        }
    }
    Ok(Kind::Practice)
}

/// Reads a record of any written kind, by its `kind:` (a practice note when it has none).
pub fn parse_record(text: &str, default_license: &str) -> Result<Written, MarkdownError> {
    let kind = kind_of(text)?;
    if kind == Kind::Practice {
        let note = parse(text, default_license)?;
        return Ok(Written { kind, slug: note.slug, body: Body::Practice(note.practice) });
    }
    crate::with_described!(kind, T => {
        let (slug, body) = read::<T>(text)?;
        Ok(Written { kind, slug, body: body.into_body() })
    }, else Err(error_at(2, match kind {
        Kind::Profile => "front matter: a profile is not written in Markdown; use `citymesh profile set`",
        _ => "front matter: a partnership is not written in Markdown; use `citymesh partner add` with an invite code",
    })))
}

/// A record of `kind` made from `name=value` pairs given on a command line, written as Markdown
/// (which publishing reads back). A name is a front matter key or a section's heading, in any
/// case (`title`, `themes`, `need`); a list takes items separated by commas, and a field made
/// of rows (a contact) one row per pair, its columns separated by `|` (`role|address|name`).
pub fn from_pairs(kind: Kind, slug: &str, pairs: &[(String, String)]) -> Result<String, MarkdownError> {
    crate::with_described!(kind, T => {
        let mut body = T::default();
        let mut rows: Vec<(&'static Field<T>, Vec<Vec<String>>)> = Vec::new();
        for (name, text) in pairs {
            let field = field_named::<T>(name).ok_or_else(|| {
                MarkdownError { line: None, message: format!("{kind} has no field {name:?}; it has {}", field_names::<T>()) }
            })?;
            let value = match field.access {
                Access::Text { .. } => Value::Text(text.trim().to_owned()),
                Access::List { .. } => {
                    Value::List(text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect())
                }
                Access::Rows { .. } => {
                    let row = text.split('|').map(|cell| cell.trim().to_owned()).collect();
                    match rows.iter_mut().find(|(known, _)| std::ptr::eq(*known, field)) {
                        Some((_, field_rows)) => field_rows.push(row),
                        None => rows.push((field, vec![row])),
                    }
                    continue;
                }
            };
            field.set(&mut body, value).map_err(|message| MarkdownError { line: None, message })?;
        }
        for (field, field_rows) in rows {
            field.set(&mut body, Value::Rows(field_rows)).map_err(|message| MarkdownError { line: None, message })?;
        }
        body.tidy();
        Ok(write(slug, &body))
    }, else Err(MarkdownError { line: None, message: format!("a {kind} is not written from fields") }))
}

/// The field a command line names: by its front matter key, its section's heading or its path.
fn field_named<T: Described>(name: &str) -> Option<&'static Field<T>> {
    let name = name.trim().to_lowercase().replace(' ', "_");
    T::FIELDS.iter().find(|field| match field.markdown {
        Markdown::Front { key, .. } => key == name,
        Markdown::FrontIn { key, .. } => key == name,
        Markdown::Section(heading) => heading.to_lowercase().replace(' ', "_") == name,
        Markdown::None => false,
    } || field.path == name)
}

/// The names [`from_pairs`] accepts for a kind, for messages.
fn field_names<T: Described>() -> String {
    let names: Vec<String> = T::FIELDS
        .iter()
        .filter_map(|field| match field.markdown {
            Markdown::Front { key, .. } | Markdown::FrontIn { key, .. } => Some(key.to_owned()),
            Markdown::Section(heading) => Some(heading.to_lowercase().replace(' ', "_")),
            Markdown::None => None,
        })
        .collect();
    names.join(", ")
}

/// Writes a record of a written kind in the format [`parse_record`] reads; `None` for the
/// other kinds and withdrawals.
pub fn render_record(slug: &str, body: &Body) -> Option<String> {
    let kind = body.kind()?;
    crate::with_described!(kind, T => T::from_body(body.clone()).map(|body| write(slug, &body)), else None)
}

/// Reads a practice note. `default_license` fills in a missing `license`.
pub fn parse(text: &str, default_license: &str) -> Result<Note, MarkdownError> {
    let (slug, mut practice) = read::<Practice>(text)?;
    if practice.license.is_empty() {
        practice.license = default_license.to_owned();
    }
    Ok(Note { slug, practice })
}

/// Writes a practice note in the format [`parse`] reads; `parse(render(note))` gives the note back.
pub fn render(slug: &str, practice: &Practice) -> String {
    write(slug, practice)
}

/// Reads a note of any described kind: its slug and body.
fn read<T: Described>(text: &str) -> Result<(String, T), MarkdownError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Line endings as CommonMark has them: "\r\n", "\n" or a lone "\r".
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|line| line.trim_end()) != Some("---") {
        return Err(error_at(1, "expected front matter: the file must start with a line `---`"));
    }
    let close = lines
        .iter()
        .skip(1)
        .position(|line| line.trim_end() == "---")
        .map(|index| index + 1)
        .ok_or_else(|| error_at(1, "the front matter is not closed: add a line `---` after it"))?;
    // Each line keeps its line break: a block scalar that keeps its final line breaks (`|+`)
    // as the last field would otherwise lose one.
    let yaml: String = lines[1..close].iter().flat_map(|line| [*line, "\n"]).collect();
    let front = front::read::<T>(&yaml).map_err(|error| {
        // Front matter starts on line 2 of the file.
        let line = error.location().map(|at| at.line() + 1).unwrap_or(2);
        let message = error.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        error_at(line, format!("front matter: {message}"))
    })?;
    if !crate::record::is_slug(&front.slug) {
        return Err(error_at(
            2,
            format!(
                "front matter: slug {:?} is not valid: use 1 to 64 of a-z, 0-9 and '-', not starting with '-'",
                front.slug
            ),
        ));
    }
    let sections = read_sections::<T>(&lines, close + 1)?;
    let mut body = T::default();
    for (field, value) in front.values {
        field.set(&mut body, value).map_err(|error| error_at(2, format!("front matter: {error}")))?;
    }
    for Section { field, text } in sections {
        let value = match field.access {
            Access::List { .. } => Value::List(list_items(&text)),
            _ => Value::Text(section_text(&text)),
        };
        field.set(&mut body, value).map_err(|error| error_at(2, error))?;
    }
    body.tidy();
    Ok((front.slug, body))
}

/// The fields written as sections, in order.
fn section_fields<T: Described>() -> impl Iterator<Item = (&'static str, &'static Field<T>)> {
    T::FIELDS.iter().filter_map(|field| match field.markdown {
        Markdown::Section(heading) => Some((heading, field)),
        _ => None,
    })
}

/// The text of one `## Heading` section, and the field it fills.
struct Section<T: 'static> {
    field: &'static Field<T>,
    text: String,
}

/// Splits the text after the front matter into sections. Headings inside fenced code blocks
/// are text, and `###` or deeper headings belong to the section they are in.
fn read_sections<T: Described>(lines: &[&str], first: usize) -> Result<Vec<Section<T>>, MarkdownError> {
    let mut sections: Vec<Section<T>> = Vec::new();
    // The line of the code fence open now, if one is: headings inside it are text.
    let mut fence: Option<usize> = None;
    for (index, line) in lines.iter().enumerate().skip(first) {
        let number = index + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = if fence.is_some() { None } else { Some(number) };
        }
        let in_fence = fence.is_some();
        let heading = if in_fence { None } else { line.strip_prefix("## ") };
        match (heading, sections.last_mut()) {
            (Some(title), _) => {
                let title = title.trim();
                let Some((heading, field)) = section_fields::<T>().find(|(known, _)| known.eq_ignore_ascii_case(title))
                else {
                    let known: Vec<&str> = section_fields::<T>().map(|(heading, _)| heading).collect();
                    return Err(error_at(
                        number,
                        format!("unknown section \"{title}\"; sections are: {}", known.join(", ")),
                    ));
                };
                if sections.iter().any(|section| std::ptr::eq(section.field, field)) {
                    return Err(error_at(number, format!("section \"{heading}\" appears twice")));
                }
                sections.push(Section { field, text: String::new() });
            }
            (None, Some(section)) => {
                section.text.push_str(line);
                section.text.push('\n');
            }
            (None, None) if line.trim().is_empty() => {}
            (None, None) => {
                return Err(error_at(
                    number,
                    "text before the first section: start the text with a heading such as `## Summary`",
                ));
            }
        }
    }
    // An open fence would take every heading after it as text.
    if let Some(opened) = fence {
        return Err(error_at(
            opened,
            "this code fence is never closed: add a closing line of ``` (or ~~~) before the next section",
        ));
    }
    Ok(sections)
}

/// Turns a list section into items: each `- ` or `* ` line starts one, other lines continue it.
fn list_items(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        match line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            Some(item) => items.push(item.trim().to_owned()),
            None => match items.last_mut() {
                Some(item) => {
                    item.push(' ');
                    item.push_str(line);
                }
                None => items.push(line.to_owned()),
            },
        }
    }
    items
}

/// A text section's value: without its leading blank lines and trailing whitespace. The first
/// line keeps what leads it (spaces, a form feed): without it, a line that was text could read
/// as a heading once the note is written out again.
fn section_text(text: &str) -> String {
    let mut rest = text;
    while let Some((line, after)) = rest.split_once('\n')
        && line.trim().is_empty()
    {
        rest = after;
    }
    rest.trim_end().to_owned()
}

/// Writes a note of any described kind.
fn write<T: Described>(slug: &str, body: &T) -> String {
    let mut out = format!("---\n{}---\n", front::write(slug, body));
    for (heading, field) in section_fields::<T>() {
        match field.get(body) {
            Value::Text(text) if !text.is_empty() => out.push_str(&format!("\n## {heading}\n\n{text}\n")),
            Value::List(items) if !items.is_empty() => {
                out.push_str(&format!("\n## {heading}\n\n"));
                for item in items {
                    out.push_str(&format!("- {item}\n"));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod kinds_tests;
#[cfg(test)]
mod tests;
