//! The publish and edit form of the web page: every field of a practice note as form inputs,
//! read back from the posted pairs, turned into a note, and the record rules' complaints put
//! beside the inputs they are about.

use std::collections::BTreeMap;

use crate::markdown::Note;
use crate::record::{self, RecordError};
use crate::vocab;
use crate::wire::{Contact, Indicator, Partner, Place, Practice, Resources, Transferability};

/// Empty rows shown after the filled ones, for each repeated group.
const SPARE_ROWS: usize = 2;
/// Rows of one group read from a form, at most.
const MAX_ROWS: usize = 50;

#[derive(Debug, Default, Clone)]
pub struct IndicatorRow {
    index: usize,
    pub label: String,
    pub baseline: String,
    pub value: String,
    pub unit: String,
    pub date: String,
}

#[derive(Debug, Default, Clone)]
pub struct PartnerRow {
    index: usize,
    pub name_value: String,
    pub role: String,
    pub support: String,
}

#[derive(Debug, Default, Clone)]
pub struct ContactRow {
    index: usize,
    pub role: String,
    pub channel: String,
    pub name_value: String,
}

macro_rules! row_names {
    ($row:ty, $group:literal) => {
        impl $row {
            /// The input name of one of this row's fields, e.g. `contacts[1].role`.
            pub fn name(&self, field: &str) -> String {
                format!("{}[{}].{field}", $group, self.index)
            }
        }
    };
}
impl IndicatorRow {
    fn is_blank(&self) -> bool {
        [&self.label, &self.baseline, &self.value, &self.unit, &self.date].iter().all(|text| text.is_empty())
    }
}

impl PartnerRow {
    fn is_blank(&self) -> bool {
        [&self.name_value, &self.role, &self.support].iter().all(|text| text.is_empty())
    }
}

impl ContactRow {
    fn is_blank(&self) -> bool {
        [&self.role, &self.channel, &self.name_value].iter().all(|text| text.is_empty())
    }
}

row_names!(IndicatorRow, "indicators");
row_names!(PartnerRow, "partners");
row_names!(ContactRow, "contacts");

/// The form's values, as typed, and what is wrong with them.
#[derive(Debug, Default, Clone)]
pub struct NoteForm {
    pub editing: bool,
    pub base_revision: u64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub problem: String,
    pub objectives: String,
    pub approach: String,
    pub results: String,
    pub lessons_learned: String,
    pub transfer_summary: String,
    pub core_elements: String,
    pub adaptable_elements: String,
    pub preconditions: String,
    pub themes: Vec<String>,
    pub sdg_targets: String,
    pub status: String,
    pub start_date: String,
    pub end_date: String,
    pub country: String,
    pub place_name: String,
    pub subdivision: String,
    pub wikidata: String,
    pub geonames: String,
    pub language: String,
    pub license: String,
    pub keywords: String,
    pub budget: String,
    pub currency: String,
    pub funding_sources: String,
    pub staff: String,
    pub indicators: Vec<IndicatorRow>,
    pub partners: Vec<PartnerRow>,
    pub contacts: Vec<ContactRow>,
    /// Attachments of the revision being edited, kept as they are (the form does not edit them).
    pub kept_attachments: usize,
    /// Problems by input name.
    pub errors: BTreeMap<String, String>,
    /// Problems not about one input.
    pub general: Vec<String>,
}

fn lines(items: &[String]) -> String {
    items.join("\n")
}

fn split_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

fn split_commas(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// Reads `group[index].field` input names.
fn indexed<'a>(name: &'a str, group: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(group)?.strip_prefix('[')?;
    let (index, field) = rest.split_once("].")?;
    let index: usize = index.parse().ok()?;
    (index < MAX_ROWS).then_some((index, field))
}

fn row<T: Default>(rows: &mut Vec<T>, index: usize) -> &mut T {
    while rows.len() <= index {
        rows.push(T::default());
    }
    &mut rows[index]
}

impl NoteForm {
    /// An empty form for a new note, in the node's default language and licence.
    pub fn new(language: &str, license: &str) -> NoteForm {
        let mut form = NoteForm { language: language.to_owned(), license: license.to_owned(), ..NoteForm::default() };
        form.add_spare_rows();
        form
    }

    /// A form holding a note's current revision, for an edit.
    pub fn editing(slug: &str, revision: u64, note: &Practice) -> NoteForm {
        let place = note.location.clone().unwrap_or_default();
        let resources = note.resources.clone().unwrap_or_default();
        let transfer = note.transferability.clone().unwrap_or_default();
        let mut form = NoteForm {
            editing: true,
            base_revision: revision,
            slug: slug.to_owned(),
            title: note.title.clone(),
            summary: note.summary.clone(),
            problem: note.problem.clone(),
            objectives: note.objectives.clone(),
            approach: note.approach.clone(),
            results: note.results.clone(),
            lessons_learned: note.lessons_learned.clone(),
            transfer_summary: transfer.summary,
            core_elements: lines(&transfer.core_elements),
            adaptable_elements: lines(&transfer.adaptable_elements),
            preconditions: lines(&transfer.preconditions),
            themes: note.themes.clone(),
            sdg_targets: note.sdg_targets.join(", "),
            status: note.status.clone(),
            start_date: note.start_date.clone(),
            end_date: note.end_date.clone(),
            country: place.country,
            place_name: place.name,
            subdivision: place.subdivision,
            wikidata: place.wikidata,
            geonames: place.geonames,
            language: note.language.clone(),
            license: note.license.clone(),
            keywords: note.keywords.join(", "),
            budget: resources.budget,
            currency: resources.currency,
            funding_sources: resources.funding_sources.join(", "),
            staff: resources.staff,
            kept_attachments: note.attachments.len(),
            ..NoteForm::default()
        };
        form.indicators = note
            .indicators
            .iter()
            .map(|i| IndicatorRow {
                index: 0,
                label: i.label.clone(),
                baseline: i.baseline.clone(),
                value: i.value.clone(),
                unit: i.unit.clone(),
                date: i.date.clone(),
            })
            .collect();
        form.partners = note
            .partners
            .iter()
            .map(|p| PartnerRow {
                index: 0,
                name_value: p.name.clone(),
                role: p.role.clone(),
                support: p.support.clone(),
            })
            .collect();
        form.contacts = note
            .contacts
            .iter()
            .map(|c| ContactRow {
                index: 0,
                role: c.role.clone(),
                channel: c.channel.clone(),
                name_value: c.name.clone(),
            })
            .collect();
        form.add_spare_rows();
        form
    }

    /// The form as posted (pairs in order; a checkbox group repeats its name).
    pub fn from_pairs(pairs: &[(String, String)]) -> NoteForm {
        let mut form = NoteForm::default();
        for (name, value) in pairs {
            let value = value.replace("\r\n", "\n");
            let text = value.trim().to_owned();
            match name.as_str() {
                "base_revision" => form.base_revision = text.parse().unwrap_or_default(),
                "slug" => form.slug = text,
                "title" => form.title = text,
                "summary" => form.summary = text,
                "problem" => form.problem = text,
                "objectives" => form.objectives = text,
                "approach" => form.approach = text,
                "results" => form.results = text,
                "lessons_learned" => form.lessons_learned = text,
                "transferability.summary" => form.transfer_summary = text,
                "transferability.core_elements" => form.core_elements = text,
                "transferability.adaptable_elements" => form.adaptable_elements = text,
                "transferability.preconditions" => form.preconditions = text,
                "themes" => form.themes.push(text),
                "sdg_targets" => form.sdg_targets = text,
                "status" => form.status = text,
                "start_date" => form.start_date = text,
                "end_date" => form.end_date = text,
                "location.country" => form.country = text.to_ascii_uppercase(),
                "location.name" => form.place_name = text,
                "location.subdivision" => form.subdivision = text,
                "location.wikidata" => form.wikidata = text,
                "location.geonames" => form.geonames = text,
                "language" => form.language = text,
                "license" => form.license = text,
                "keywords" => form.keywords = text,
                "resources.budget" => form.budget = text,
                "resources.currency" => form.currency = text.to_ascii_uppercase(),
                "resources.funding_sources" => form.funding_sources = text,
                "resources.staff" => form.staff = text,
                other => {
                    if let Some((index, field)) = indexed(other, "indicators") {
                        let row = row(&mut form.indicators, index);
                        match field {
                            "label" => row.label = text,
                            "baseline" => row.baseline = text,
                            "value" => row.value = text,
                            "unit" => row.unit = text,
                            "date" => row.date = text,
                            _ => {}
                        }
                    } else if let Some((index, field)) = indexed(other, "partners") {
                        let row = row(&mut form.partners, index);
                        match field {
                            "name" => row.name_value = text,
                            "role" => row.role = text,
                            "support" => row.support = text,
                            _ => {}
                        }
                    } else if let Some((index, field)) = indexed(other, "contacts") {
                        let row = row(&mut form.contacts, index);
                        match field {
                            "role" => row.role = text,
                            "channel" => row.channel = text,
                            "name" => row.name_value = text,
                            _ => {}
                        }
                    }
                }
            }
        }
        form.editing = form.base_revision > 0;
        form.indicators.retain(|row| !row.is_blank());
        form.partners.retain(|row| !row.is_blank());
        form.contacts.retain(|row| !row.is_blank());
        form.add_spare_rows();
        form
    }

    /// Numbers the rows and adds empty ones to fill in.
    fn add_spare_rows(&mut self) {
        let filled = (self.indicators.len(), self.partners.len(), self.contacts.len());
        self.indicators.resize(filled.0 + SPARE_ROWS, IndicatorRow::default());
        self.partners.resize(filled.1 + SPARE_ROWS, PartnerRow::default());
        self.contacts.resize(filled.2 + SPARE_ROWS, ContactRow::default());
        self.indicators.iter_mut().enumerate().for_each(|(index, row)| row.index = index);
        self.partners.iter_mut().enumerate().for_each(|(index, row)| row.index = index);
        self.contacts.iter_mut().enumerate().for_each(|(index, row)| row.index = index);
    }

    /// The problem with one input, if any.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    pub fn theme_choices(&self) -> Vec<(&'static str, bool)> {
        vocab::THEMES.iter().map(|theme| (*theme, self.themes.iter().any(|chosen| chosen == theme))).collect()
    }

    pub fn status_choices(&self) -> Vec<(&'static str, bool)> {
        vocab::STATUSES.iter().map(|status| (*status, self.status == *status)).collect()
    }

    fn filled_indicators(&self) -> impl Iterator<Item = &IndicatorRow> {
        self.indicators.iter().filter(|row| !row.is_blank())
    }

    fn filled_partners(&self) -> impl Iterator<Item = &PartnerRow> {
        self.partners.iter().filter(|row| !row.is_blank())
    }

    fn filled_contacts(&self) -> impl Iterator<Item = &ContactRow> {
        self.contacts.iter().filter(|row| !row.is_blank())
    }

    /// The note the form describes; `base` is the revision being edited, whose attachments and
    /// `based_on` are kept. Checks what needs no record rules (required inputs, the slug) so that
    /// several problems show at once; the record rules check the rest when it is signed.
    pub fn check_into_note(&mut self, base: Option<&Practice>) -> Option<Note> {
        let required = [
            ("title", self.title.is_empty()),
            ("summary", self.summary.is_empty()),
            ("status", self.status.is_empty()),
            ("location.country", self.country.is_empty()),
        ];
        for (name, missing) in required {
            if missing {
                self.errors.insert(name.to_owned(), "is required".to_owned());
            }
        }
        if self.themes.is_empty() {
            self.errors.insert("themes".to_owned(), "choose at least one theme".to_owned());
        }
        if !record::is_slug(&self.slug) {
            let problem = if self.slug.is_empty() {
                "is required"
            } else {
                "use 1 to 64 of a-z, 0-9 and '-', not starting with '-'"
            };
            self.errors.insert("slug".to_owned(), problem.to_owned());
        }
        if !self.errors.is_empty() {
            return None;
        }
        let base = base.cloned().unwrap_or_default();
        let transferability = Transferability {
            summary: self.transfer_summary.clone(),
            core_elements: split_lines(&self.core_elements),
            adaptable_elements: split_lines(&self.adaptable_elements),
            preconditions: split_lines(&self.preconditions),
        };
        let resources = Resources {
            budget: self.budget.clone(),
            currency: self.currency.clone(),
            funding_sources: split_commas(&self.funding_sources),
            staff: self.staff.clone(),
        };
        let practice = Practice {
            title: self.title.clone(),
            summary: self.summary.clone(),
            problem: self.problem.clone(),
            objectives: self.objectives.clone(),
            approach: self.approach.clone(),
            results: self.results.clone(),
            indicators: self
                .filled_indicators()
                .map(|r| Indicator {
                    label: r.label.clone(),
                    baseline: r.baseline.clone(),
                    value: r.value.clone(),
                    unit: r.unit.clone(),
                    date: r.date.clone(),
                })
                .collect(),
            resources: (resources != Resources::default()).then_some(resources),
            partners: self
                .filled_partners()
                .map(|r| Partner { name: r.name_value.clone(), role: r.role.clone(), support: r.support.clone() })
                .collect(),
            lessons_learned: self.lessons_learned.clone(),
            transferability: (transferability != Transferability::default()).then_some(transferability),
            themes: self.themes.clone(),
            sdg_targets: self.sdg_targets.split([',', ' ']).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            status: self.status.clone(),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            location: Some(Place {
                country: self.country.clone(),
                name: self.place_name.clone(),
                wikidata: self.wikidata.clone(),
                geonames: self.geonames.clone(),
                subdivision: self.subdivision.clone(),
                unlocode: base.location.as_ref().map(|place| place.unlocode.clone()).unwrap_or_default(),
            }),
            contacts: self
                .filled_contacts()
                .map(|r| Contact { role: r.role.clone(), channel: r.channel.clone(), name: r.name_value.clone() })
                .collect(),
            language: self.language.clone(),
            license: self.license.clone(),
            keywords: split_commas(&self.keywords),
            attachments: base.attachments,
            based_on: base.based_on,
        };
        Some(Note { slug: self.slug.clone(), practice })
    }

    /// Puts a record rule's complaint beside the input it is about (or above the form).
    pub fn refused(&mut self, error: &RecordError) {
        let (field, problem) = match error {
            RecordError::BodyField { field, problem } => (field.as_str(), problem.as_str()),
            RecordError::Slug(_) => ("slug", "use 1 to 64 of a-z, 0-9 and '-', not starting with '-'"),
            other => {
                self.general.push(other.to_string());
                return;
            }
        };
        let input = input_for(field, self);
        self.errors.insert(input, problem.to_owned());
    }
}

/// The input a record rule's field path is about: list elements map to their list's input,
/// rows to the row as shown (empty rows were dropped before signing).
fn input_for(field: &str, form: &NoteForm) -> String {
    let (head, index, rest) = match field.split_once('[') {
        Some((head, tail)) => match tail.split_once(']') {
            Some((index, rest)) => (head, index.parse::<usize>().ok(), rest.trim_start_matches('.')),
            None => (head, None, ""),
        },
        None => (field, None, ""),
    };
    let shown = |filled: Vec<usize>| index.and_then(|index| filled.get(index).copied());
    let row = match head {
        "indicators" => shown(form.filled_indicators().map(|r| r.index).collect()),
        "partners" => shown(form.filled_partners().map(|r| r.index).collect()),
        "contacts" => shown(form.filled_contacts().map(|r| r.index).collect()),
        _ => None,
    };
    match (head, row) {
        (_, Some(row)) if !rest.is_empty() => format!("{head}[{row}].{rest}"),
        ("location", _) | ("resources", _) | ("transferability", _) => field.to_owned(),
        _ => head.to_owned(),
    }
}
