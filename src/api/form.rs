//! The publish and edit form of the web page, for any kind whose fields are described
//! ([`crate::fields::Described`]): every field with an input, laid out by the kind's groups;
//! read back from the posted pairs (what was typed is kept), turned into a body, and the record
//! rules' complaints put beside the inputs they are about.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::fields::{self, Described, Field, Input, Value};
use crate::record::{self, Context, KindBody, PublisherId, RecordError};

/// Empty rows shown after the filled ones, for each field made of rows.
const SPARE_ROWS: usize = 2;
/// Rows of one field read from a form, at most.
const MAX_ROWS: usize = 50;
/// What a slug may be.
const SLUG_RULE: &str = "use 1 to 64 of a-z, 0-9 and '-', not starting with '-'";

/// A problem as a sentence about the input labelled `label`: "Title is required",
/// "Started: \"May\" is not a date written YYYY, YYYY-MM or YYYY-MM-DD".
fn sentence(label: &str, problem: &str) -> String {
    let joins = ["is ", "are ", "must ", "has "].iter().any(|verb| problem.starts_with(verb));
    if joins { format!("{label} {problem}") } else { format!("{label}: {problem}") }
}

/// The form's values, as typed, and what is wrong with them.
pub struct Form<T: Described> {
    pub editing: bool,
    pub base_revision: u64,
    pub slug: String,
    /// Typed text by input name, for every input but ticked boxes and rows.
    texts: BTreeMap<&'static str, String>,
    /// The values ticked, by input name.
    ticked: BTreeMap<&'static str, Vec<String>>,
    /// Rows as typed (blank ones dropped), by field path.
    rows: BTreeMap<&'static str, Vec<Vec<String>>>,
    /// Rows of fields the form does not edit, kept from the revision edited, by field path.
    kept: BTreeMap<&'static str, usize>,
    /// Problems by input name.
    errors: BTreeMap<String, String>,
    /// Problems not about one input.
    pub general: Vec<String>,
    kind: PhantomData<T>,
}

/// A fieldset of the form, as the template shows it.
pub struct FormGroup {
    pub legend: &'static str,
    pub hint: &'static str,
    pub required: &'static str,
    pub inputs: Vec<FormInput>,
}

/// One input (or group of inputs), as the template shows it.
pub struct FormInput {
    pub name: String,
    pub label: String,
    pub hint: &'static str,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
    pub widget: Widget,
}

/// One value a box or a list offers, in words.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

impl Choice {
    fn chosen(self, chosen: bool) -> Choice {
        Choice { chosen, ..self }
    }
}

/// The values a field offers, in its words' order.
fn choices<T>(field: &Field<T>) -> Vec<Choice> {
    let words = field.words.map(|words| words.choices()).unwrap_or_default();
    words
        .into_iter()
        .map(|(code, label)| Choice { value: code.to_owned(), label: label.into_owned(), chosen: false })
        .collect()
}

pub enum Widget {
    Line,
    Area,
    /// A box per value.
    Checks(Vec<Choice>),
    /// One of the values.
    Select(Vec<Choice>),
    /// Rows of inputs, each labelled ("Contact 2").
    Rows(Vec<(String, Vec<FormInput>)>),
}

fn split_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

fn split_commas(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

fn split_codes(text: &str) -> Vec<String> {
    text.split([',', ' ']).filter(|code| !code.is_empty()).map(str::to_owned).collect()
}

fn is_blank(row: &[String]) -> bool {
    row.iter().all(|cell| cell.is_empty())
}

/// Reads `path[index].column` input names.
fn indexed<'a>(name: &'a str, path: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(path)?.strip_prefix('[')?;
    let (index, column) = rest.split_once("].")?;
    let index: usize = index.parse().ok()?;
    (index < MAX_ROWS).then_some((index, column))
}

/// The fields the form has an input for.
fn inputs<T: Described>() -> impl Iterator<Item = &'static Field<T>> {
    T::FIELDS.iter().filter(|field| field.input != Input::None)
}

impl<T: Described> Form<T> {
    fn empty() -> Form<T> {
        Form {
            editing: false,
            base_revision: 0,
            slug: String::new(),
            texts: BTreeMap::new(),
            ticked: BTreeMap::new(),
            rows: BTreeMap::new(),
            kept: BTreeMap::new(),
            errors: BTreeMap::new(),
            general: Vec::new(),
            kind: PhantomData,
        }
    }

    /// An empty form for a new body, with `defaults` filled in (`(path, text)`).
    pub fn new(defaults: &[(&'static str, &str)]) -> Form<T> {
        let mut form = Form::empty();
        for (path, text) in defaults {
            form.texts.insert(path, (*text).to_owned());
        }
        form
    }

    /// A form holding a body's current revision, for an edit.
    pub fn editing(slug: &str, revision: u64, body: &T) -> Form<T> {
        let mut form = Form { editing: true, base_revision: revision, slug: slug.to_owned(), ..Form::empty() };
        for field in T::FIELDS {
            match (field.input, field.get(body)) {
                (Input::None, Value::Rows(rows)) if !rows.is_empty() => drop(form.kept.insert(field.path, rows.len())),
                (Input::None, _) => {}
                (Input::Choices, Value::List(items)) => drop(form.ticked.insert(field.path, items)),
                (Input::Lines, Value::List(items)) => drop(form.texts.insert(field.path, items.join("\n"))),
                (_, Value::List(items)) => drop(form.texts.insert(field.path, items.join(", "))),
                (_, Value::Text(text)) => drop(form.texts.insert(field.path, text)),
                (_, Value::Rows(rows)) => drop(form.rows.insert(field.path, rows)),
            }
        }
        form
    }

    /// The form as posted (pairs in order; a group of boxes repeats its name).
    pub fn from_pairs(pairs: &[(String, String)]) -> Form<T> {
        let mut form = Form::empty();
        for (name, value) in pairs {
            let text = value.replace("\r\n", "\n").trim().to_owned();
            match name.as_str() {
                "base_revision" => form.base_revision = text.parse().unwrap_or_default(),
                "slug" => form.slug = text,
                name => form.take(name, text),
            }
        }
        form.editing = form.base_revision > 0;
        for rows in form.rows.values_mut() {
            rows.retain(|row| !is_blank(row));
        }
        form
    }

    /// Keeps what was typed into the input `name`.
    fn take(&mut self, name: &str, text: String) {
        for field in inputs::<T>() {
            match field.input {
                Input::Choices if name == field.path => {
                    self.ticked.entry(field.path).or_default().push(text);
                    return;
                }
                Input::Rows { .. } => {
                    let Some((index, column)) = indexed(name, field.path) else { continue };
                    let Some(column) = field.columns().iter().position(|known| known.name == column) else { return };
                    let rows = self.rows.entry(field.path).or_default();
                    while rows.len() <= index {
                        rows.push(vec![String::new(); field.columns().len()]);
                    }
                    rows[index][column] = text;
                    return;
                }
                Input::Upper if name == field.path => {
                    self.texts.insert(field.path, text.to_ascii_uppercase());
                    return;
                }
                _ if name == field.path => {
                    self.texts.insert(field.path, text);
                    return;
                }
                _ => {}
            }
        }
    }

    /// The value of one input as typed (the title, for the page's heading).
    pub fn value(&self, path: &str) -> &str {
        self.texts.get(path).map(String::as_str).unwrap_or_default()
    }

    /// The fields the form keeps as they are (it has no input for them) and holds rows of, each
    /// with its label and how many rows: `("Attachments", 2)`.
    pub fn kept(&self) -> Vec<(&'static str, usize)> {
        T::FIELDS.iter().filter_map(|field| self.kept.get(field.path).map(|rows| (field.label, *rows))).collect()
    }

    /// The problem with one input, if any.
    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// The rows of a field.
    fn filled(&self, path: &str) -> Vec<Vec<String>> {
        self.rows.get(path).cloned().unwrap_or_default()
    }

    /// A field's value as the form holds it.
    fn field_value(&self, field: &Field<T>) -> Value {
        let text = self.value(field.path);
        match field.input {
            Input::Commas => Value::List(split_commas(text)),
            Input::Codes => Value::List(split_codes(text)),
            Input::Lines => Value::List(split_lines(text)),
            Input::Choices => Value::List(self.ticked.get(field.path).cloned().unwrap_or_default()),
            Input::Rows { .. } => Value::Rows(self.filled(field.path)),
            _ => Value::Text(text.to_owned()),
        }
    }

    /// The slug and body the form describes; `base` is the revision being edited, whose fields
    /// the form has no input for are kept. Every problem is found at once: inputs left empty
    /// that must be filled, the slug, and whatever the record rules refuse, each put beside
    /// its input. `complete` fills in what signing would (the node's defaults) before the rules
    /// are checked.
    pub fn check_into_body(
        &mut self,
        base: Option<&T>,
        publisher: PublisherId,
        complete: impl FnOnce(&mut T),
    ) -> Option<(String, T)>
    where
        T: KindBody,
    {
        let values: Vec<(&Field<T>, Value)> = inputs::<T>().map(|field| (field, self.field_value(field))).collect();
        for (field, value) in &values {
            if let Some(message) = field.required
                && value.is_empty()
            {
                self.errors.insert(field.path.to_owned(), message.to_owned());
            }
        }
        if !record::is_slug(&self.slug) {
            let problem = if self.slug.is_empty() { "is required" } else { SLUG_RULE };
            self.errors.insert("slug".to_owned(), problem.to_owned());
        }
        let mut body = base.cloned().unwrap_or_default();
        for (field, value) in values {
            if let Err(problem) = field.set(&mut body, value) {
                self.errors.entry(field.path.to_owned()).or_insert(problem);
            }
        }
        body.tidy();
        let mut checked = body.clone();
        complete(&mut checked);
        let mut problems = checked.problems(&Context { publisher, slug: &self.slug });
        problems.extend(checked.authoring_problems());
        for problem in problems {
            self.refused(&problem);
        }
        (self.errors.is_empty() && self.general.is_empty()).then(|| (self.slug.clone(), body))
    }

    /// Puts a problem beside the input `name` (the slug's when it is "slug").
    pub fn refuse(&mut self, name: &str, problem: impl Into<String>) {
        self.errors.insert(name.to_owned(), problem.into());
    }

    /// Every problem beside an input, in the form's order, as the summary at its top lists
    /// them: `(input name, message naming the input as the form labels it)`.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |input: &FormInput, label: &str| {
            if let Some(message) = &input.error {
                let message = if label == input.label { message.clone() } else { format!("{label}, {message}") };
                out.push((input.name.clone(), message));
            }
        };
        if !self.editing {
            let slug = self.slug_input();
            add(&slug, &slug.label);
        }
        for group in self.groups() {
            for input in &group.inputs {
                match &input.widget {
                    Widget::Rows(rows) => {
                        for (row, cells) in rows {
                            for cell in cells {
                                add(cell, row);
                            }
                        }
                    }
                    _ => add(input, &input.label),
                }
            }
        }
        out
    }

    /// Puts a record rule's complaint beside the input it is about (or above the form).
    pub fn refused(&mut self, error: &RecordError) {
        let (path, problem) = match error {
            RecordError::BodyField { field, problem } => (field.as_str(), problem.as_str()),
            RecordError::Slug(_) => ("slug", SLUG_RULE),
            other => {
                self.general.push(other.to_string());
                return;
            }
        };
        match self.input_for(path) {
            Some(input) => drop(self.errors.entry(input).or_insert_with(|| problem.to_owned())),
            None => self.general.push(error.to_string()),
        }
    }

    /// The input a record rule's field path is about: a list's element is its list's input, a
    /// row's column its row's (the form holds no blank rows, so rows are numbered as signed).
    fn input_for(&self, path: &str) -> Option<String> {
        if path == "slug" || inputs::<T>().any(|field| field.path == path) {
            return Some(path.to_owned());
        }
        let (head, tail) = path.split_once('[')?;
        let field = inputs::<T>().find(|field| field.path == head)?;
        let (index, column) = tail.split_once(']')?;
        let Input::Rows { .. } = field.input else { return Some(head.to_owned()) };
        let column = column.trim_start_matches('.');
        let index: usize = index.parse().ok()?;
        if index >= self.rows.get(head)?.len() {
            return None;
        }
        Some(if column.is_empty() { head.to_owned() } else { format!("{head}[{index}].{column}") })
    }

    fn input(&self, field: &Field<T>) -> FormInput {
        let value = self.value(field.path).to_owned();
        let widget = match field.input {
            Input::Area | Input::Lines => Widget::Area,
            Input::Choices => {
                let ticked = self.ticked.get(field.path).map(Vec::as_slice).unwrap_or_default();
                let ticked = |choice: Choice| {
                    let chosen = ticked.contains(&choice.value);
                    choice.chosen(chosen)
                };
                Widget::Checks(choices(field).into_iter().map(ticked).collect())
            }
            Input::Choice => {
                let mut choices = choices(field);
                // A value the list does not offer (a tag such as pt-BR, a LicenseRef-) stays a choice.
                if !value.is_empty() && !choices.iter().any(|choice| choice.value == value) {
                    choices.insert(0, Choice { label: field.label(&value), value: value.clone(), chosen: false });
                }
                let chosen = |choice: Choice| {
                    let chosen = choice.value == value;
                    choice.chosen(chosen)
                };
                Widget::Select(choices.into_iter().map(chosen).collect())
            }
            Input::Rows { singular } => Widget::Rows(self.row_inputs(field, singular)),
            _ => Widget::Line,
        };
        FormInput {
            name: field.path.to_owned(),
            label: field.label.to_owned(),
            hint: field.hint,
            required: field.required.is_some(),
            error: self.error(field.path).map(|problem| sentence(field.label, problem)),
            value,
            widget,
        }
    }

    /// The rows of a field made of rows: those filled, then spare ones to fill in.
    fn row_inputs(&self, field: &Field<T>, singular: &str) -> Vec<(String, Vec<FormInput>)> {
        let columns = field.columns();
        let mut rows = self.filled(field.path);
        rows.extend(std::iter::repeat_n(vec![String::new(); columns.len()], SPARE_ROWS));
        rows.iter()
            .enumerate()
            .map(|(index, row)| {
                let inputs = columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| {
                        let name = format!("{}[{index}].{}", field.path, column.name);
                        FormInput {
                            error: self.error(&name).map(|problem| sentence(column.label, problem)),
                            name,
                            label: column.label.to_owned(),
                            hint: column.hint,
                            required: false,
                            value: cell.clone(),
                            widget: Widget::Line,
                        }
                    })
                    .collect();
                (format!("{singular} {}", index + 1), inputs)
            })
            .collect()
    }

    /// The input for the slug, which names a new body for good (an edit keeps it).
    pub fn slug_input(&self) -> FormInput {
        FormInput {
            name: "slug".to_owned(),
            label: "Short name (slug)".to_owned(),
            hint: "Lower-case letters, digits and hyphens, such as community-composting; it stays the same in every revision.",
            required: true,
            value: self.slug.clone(),
            error: self.error("slug").map(|problem| sentence("Short name", problem)),
            widget: Widget::Line,
        }
    }

    /// The form's fieldsets, with their inputs.
    pub fn groups(&self) -> Vec<FormGroup> {
        fields::by_group::<T>()
            .map(|(group, fields)| FormGroup {
                legend: group.legend,
                hint: group.hint,
                required: group.required,
                inputs: fields.into_iter().filter(|field| field.input != Input::None).map(|f| self.input(f)).collect(),
            })
            .filter(|group| !group.inputs.is_empty())
            .collect()
    }
}
