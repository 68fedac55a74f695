//! Practice notes as Markdown files: YAML front matter for the structured fields, then one
//! `## Heading` section per text field. [`parse`] reads the format and [`render`] writes it, so
//! an exported note can be edited and published again.
//!
//! Field values are checked by the record rules when the note is signed; this module reports
//! only what is wrong with the file's shape, with its line number.

use serde::{Deserialize, Serialize};

use crate::record::{self, RecordId};
use crate::wire::{Attachment, Contact, Indicator, Partner, Place, Practice, Resources, Transferability};

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

/// Text sections, by heading (compared case-insensitively).
const TEXT_SECTIONS: [&str; 7] =
    ["Summary", "Problem", "Objectives", "Approach", "Results", "Lessons learned", "Transferability"];
/// List sections: each `- item` line is one element.
const LIST_SECTIONS: [&str; 3] = ["Core elements", "Adaptable elements", "Preconditions"];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    slug: String,
    title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    themes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sdg_targets: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    start_date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    end_date: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    country: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    place: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    wikidata: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    geonames: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    language: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    license: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contacts: Vec<ContactFields>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    partners: Vec<PartnerFields>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    indicators: Vec<IndicatorFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resources: Option<ResourceFields>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<AttachmentFields>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    based_on: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ContactFields {
    role: String,
    channel: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PartnerFields {
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    role: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    support: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFields {
    label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    baseline: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    date: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ResourceFields {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    budget: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    currency: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    funding_sources: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    staff: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AttachmentFields {
    sha256: String,
    size: u64,
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    media_type: String,
}

/// The name a Markdown file gives a body field that the record rules name by its path: the
/// place's fields are front matter keys of their own (`location.name` is `place`).
pub fn field_name(path: &str) -> String {
    match path.strip_prefix("location.") {
        Some("name") => "place".to_owned(),
        Some(field) => field.to_owned(),
        None => path.to_owned(),
    }
}

/// Reads a note. `default_license` fills in a missing `license`.
pub fn parse(text: &str, default_license: &str) -> Result<Note, MarkdownError> {
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
    let fields: FrontMatter = serde_norway::from_str(&yaml).map_err(|error| {
        // Front matter starts on line 2 of the file.
        let line = error.location().map(|at| at.line() + 1).unwrap_or(2);
        let message = error.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        error_at(line, format!("front matter: {message}"))
    })?;
    if !record::is_slug(&fields.slug) {
        return Err(error_at(
            2,
            format!(
                "front matter: slug {:?} is not valid: use 1 to 64 of a-z, 0-9 and '-', not starting with '-'",
                fields.slug
            ),
        ));
    }
    let sections = read_sections(&lines, close + 1)?;
    let slug = fields.slug.clone();
    let mut practice = practice_from(fields, default_license)?;
    apply_sections(&mut practice, sections);
    Ok(Note { slug, practice })
}

fn practice_from(fields: FrontMatter, default_license: &str) -> Result<Practice, MarkdownError> {
    let based_on = match fields.based_on.as_str() {
        "" => Vec::new(),
        text => text
            .parse::<RecordId>()
            .map(|id| id.0.to_vec())
            .map_err(|error| error_at(2, format!("front matter: based_on: {error}")))?,
    };
    let mut attachments = Vec::new();
    for (index, attachment) in fields.attachments.into_iter().enumerate() {
        let sha256 = attachment
            .sha256
            .parse::<RecordId>()
            .map_err(|_| error_at(2, format!("front matter: attachments[{index}].sha256 must be 64 hex characters")))?;
        attachments.push(Attachment {
            sha256: sha256.0.to_vec(),
            size: attachment.size,
            name: attachment.name,
            media_type: attachment.media_type,
        });
    }
    Ok(Practice {
        title: fields.title,
        themes: fields.themes,
        sdg_targets: fields.sdg_targets,
        status: fields.status,
        start_date: fields.start_date,
        end_date: fields.end_date,
        location: Some(Place {
            country: fields.country,
            name: fields.place,
            wikidata: fields.wikidata,
            geonames: fields.geonames,
            ..Place::default()
        }),
        language: fields.language,
        license: if fields.license.is_empty() { default_license.to_owned() } else { fields.license },
        keywords: fields.keywords,
        contacts: fields
            .contacts
            .into_iter()
            .map(|c| Contact { role: c.role, channel: c.channel, name: c.name })
            .collect(),
        partners: fields
            .partners
            .into_iter()
            .map(|p| Partner { name: p.name, role: p.role, support: p.support })
            .collect(),
        indicators: fields
            .indicators
            .into_iter()
            .map(|i| Indicator { label: i.label, baseline: i.baseline, value: i.value, unit: i.unit, date: i.date })
            .collect(),
        resources: fields.resources.map(|r| Resources {
            budget: r.budget,
            currency: r.currency,
            funding_sources: r.funding_sources,
            staff: r.staff,
        }),
        attachments,
        based_on,
        ..Practice::default()
    })
}

/// The body of one `## Heading` section.
struct Section {
    heading: &'static str,
    text: String,
}

/// Splits the text after the front matter into sections. Headings inside fenced code blocks
/// are text, and `###` or deeper headings belong to the section they are in.
fn read_sections(lines: &[&str], first: usize) -> Result<Vec<Section>, MarkdownError> {
    let mut sections: Vec<Section> = Vec::new();
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
                let heading = section_named(title.trim()).ok_or_else(|| {
                    let known: Vec<&str> = TEXT_SECTIONS.iter().chain(&LIST_SECTIONS).copied().collect();
                    error_at(
                        number,
                        format!("unknown section \"{}\"; sections are: {}", title.trim(), known.join(", ")),
                    )
                })?;
                if sections.iter().any(|section| section.heading == heading) {
                    return Err(error_at(number, format!("section \"{heading}\" appears twice")));
                }
                sections.push(Section { heading, text: String::new() });
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

fn section_named(title: &str) -> Option<&'static str> {
    TEXT_SECTIONS.iter().chain(&LIST_SECTIONS).copied().find(|known| known.eq_ignore_ascii_case(title))
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

fn apply_sections(practice: &mut Practice, sections: Vec<Section>) {
    let mut transferability = Transferability::default();
    for Section { heading, text } in sections {
        let text_value = section_text(&text);
        match heading {
            "Summary" => practice.summary = text_value,
            "Problem" => practice.problem = text_value,
            "Objectives" => practice.objectives = text_value,
            "Approach" => practice.approach = text_value,
            "Results" => practice.results = text_value,
            "Lessons learned" => practice.lessons_learned = text_value,
            "Transferability" => transferability.summary = text_value,
            "Core elements" => transferability.core_elements = list_items(&text),
            "Adaptable elements" => transferability.adaptable_elements = list_items(&text),
            _ => transferability.preconditions = list_items(&text),
        }
    }
    if transferability != Transferability::default() {
        practice.transferability = Some(transferability);
    }
}

/// Writes a note in the format [`parse`] reads; `parse(render(note))` gives the note back.
pub fn render(slug: &str, practice: &Practice) -> String {
    let place = practice.location.clone().unwrap_or_default();
    let fields = FrontMatter {
        slug: slug.to_owned(),
        title: practice.title.clone(),
        themes: practice.themes.clone(),
        sdg_targets: practice.sdg_targets.clone(),
        status: practice.status.clone(),
        start_date: practice.start_date.clone(),
        end_date: practice.end_date.clone(),
        country: place.country,
        place: place.name,
        wikidata: place.wikidata,
        geonames: place.geonames,
        language: practice.language.clone(),
        license: practice.license.clone(),
        keywords: practice.keywords.clone(),
        contacts: practice
            .contacts
            .iter()
            .map(|c| ContactFields { role: c.role.clone(), channel: c.channel.clone(), name: c.name.clone() })
            .collect(),
        partners: practice
            .partners
            .iter()
            .map(|p| PartnerFields { name: p.name.clone(), role: p.role.clone(), support: p.support.clone() })
            .collect(),
        indicators: practice
            .indicators
            .iter()
            .map(|i| IndicatorFields {
                label: i.label.clone(),
                baseline: i.baseline.clone(),
                value: i.value.clone(),
                unit: i.unit.clone(),
                date: i.date.clone(),
            })
            .collect(),
        resources: practice.resources.as_ref().map(|r| ResourceFields {
            budget: r.budget.clone(),
            currency: r.currency.clone(),
            funding_sources: r.funding_sources.clone(),
            staff: r.staff.clone(),
        }),
        attachments: practice
            .attachments
            .iter()
            .map(|a| AttachmentFields {
                sha256: record::to_hex(&a.sha256),
                size: a.size,
                name: a.name.clone(),
                media_type: a.media_type.clone(),
            })
            .collect(),
        based_on: record::to_hex(&practice.based_on),
    };
    let yaml = serde_norway::to_string(&fields).unwrap_or_default();
    let mut out = format!("---\n{yaml}---\n");
    let transferability = practice.transferability.clone().unwrap_or_default();
    let texts = [
        ("Summary", &practice.summary),
        ("Problem", &practice.problem),
        ("Objectives", &practice.objectives),
        ("Approach", &practice.approach),
        ("Results", &practice.results),
        ("Lessons learned", &practice.lessons_learned),
        ("Transferability", &transferability.summary),
    ];
    for (heading, text) in texts.into_iter().filter(|(_, text)| !text.is_empty()) {
        out.push_str(&format!("\n## {heading}\n\n{text}\n"));
    }
    let lists = [
        ("Core elements", &transferability.core_elements),
        ("Adaptable elements", &transferability.adaptable_elements),
        ("Preconditions", &transferability.preconditions),
    ];
    for (heading, items) in lists.into_iter().filter(|(_, items)| !items.is_empty()) {
        out.push_str(&format!("\n## {heading}\n\n"));
        for item in items {
            out.push_str(&format!("- {item}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
