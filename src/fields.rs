//! A record kind's fields, described once. Each kind whose body people write lists its fields
//! in one table ([`Described::FIELDS`]): the field's path (as the record rules name it, and
//! the web form's input), its label, where it goes in a Markdown file, how the form asks for
//! it, how a page shows it and whether search reads it. The Markdown reader and writer, the web
//! form, the note page and the search index all work from the table, so a new field is one
//! entry (and its `.proto` field). Pure: no I/O.
//!
//! Values travel as text: a field is one text, a list of texts, or rows of texts (one per
//! column), and its accessors move them in and out of the body.

/// A text field of the body `$body`, or of one of its optional parts (`location.country`).
macro_rules! text {
    ($body:ident: $field:ident) => {
        $crate::fields::Access::Text {
            get: |body: &$body| body.$field.clone(),
            set: |body: &mut $body, value| {
                body.$field = value;
                Ok(())
            },
        }
    };
    ($body:ident: $part:ident . $field:ident) => {
        $crate::fields::Access::Text {
            get: |body: &$body| body.$part.as_ref().map(|part| part.$field.clone()).unwrap_or_default(),
            set: |body: &mut $body, value| {
                body.$part.get_or_insert_with(Default::default).$field = value;
                Ok(())
            },
        }
    };
}

/// A list field of the body `$body`, or of one of its optional parts.
macro_rules! list {
    ($body:ident: $field:ident) => {
        $crate::fields::Access::List {
            get: |body: &$body| body.$field.clone(),
            set: |body: &mut $body, value| {
                body.$field = value;
                Ok(())
            },
        }
    };
    ($body:ident: $part:ident . $field:ident) => {
        $crate::fields::Access::List {
            get: |body: &$body| body.$part.as_ref().map(|part| part.$field.clone()).unwrap_or_default(),
            set: |body: &mut $body, value| {
                body.$part.get_or_insert_with(Default::default).$field = value;
                Ok(())
            },
        }
    };
}

#[macro_use]
mod parts;
mod engagements;
mod events;
mod practice;
mod requests;

use parts::{
    CONTACT_COLUMNS, contact_item, contact_of, contact_rows, optional_ref, ref_list, set_optional_ref, set_ref_list,
};
pub use parts::{parse_ref, ref_text};

pub use practice::ADAPTS;

use crate::vocab::Words;

/// A row's texts as exactly `N` cells (missing ones empty).
fn cells<const N: usize>(row: Vec<String>) -> [String; N] {
    let mut row = row.into_iter();
    std::array::from_fn(|_| row.next().unwrap_or_default())
}

const fn column(name: &'static str, label: &'static str) -> Column {
    Column { name, label, hint: "", required: false, number: false }
}

const fn required_column(name: &'static str, label: &'static str) -> Column {
    Column { required: true, ..column(name, label) }
}

const fn group(legend: &'static str) -> Group {
    Group { legend, hint: "", required: "" }
}

const DATE_HINT: &str = "YYYY, YYYY-MM or YYYY-MM-DD.";

/// A bare e-mail address as a `mailto:` one; other channels as they are.
fn channel(text: String) -> String {
    let bare_email = !text.contains(':')
        && !text.contains(char::is_whitespace)
        && text.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
    if bare_email { format!("mailto:{text}") } else { text }
}

/// A field's value, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    List(Vec<String>),
    /// One text per column, in the columns' order.
    Rows(Vec<Vec<String>>),
}

impl Value {
    /// Whether the value holds nothing (an empty text, list or table).
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(text) => text.is_empty(),
            Value::List(items) => items.is_empty(),
            Value::Rows(rows) => rows.is_empty(),
        }
    }

    /// The texts a value holds, for search: a text, each item, each row's first column.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Value::Text(text) => vec![text.as_str()],
            Value::List(items) => items.iter().map(String::as_str).collect(),
            Value::Rows(rows) => rows.iter().filter_map(|row| row.first()).map(String::as_str).collect(),
        }
    }
}

/// How a field's value is read from a body and written into one. A setter refuses a text it
/// cannot hold (a hash that is not hex), saying why.
pub enum Access<T: 'static> {
    Text {
        get: fn(&T) -> String,
        set: fn(&mut T, String) -> Result<(), String>,
    },
    List {
        get: fn(&T) -> Vec<String>,
        set: fn(&mut T, Vec<String>) -> Result<(), String>,
    },
    Rows {
        columns: &'static [Column],
        get: fn(&T) -> Vec<Vec<String>>,
        set: fn(&mut T, Vec<Vec<String>>) -> Result<(), String>,
    },
}

/// One column of a field made of rows (a contact's role, channel and name).
pub struct Column {
    /// Its key in Markdown and the last part of its form inputs' names (`contacts[0].role`).
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// Whether Markdown requires it (and always writes it).
    pub required: bool,
    /// Whether Markdown writes it as a number.
    pub number: bool,
}

/// Where a field goes in a Markdown file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markdown {
    /// Nowhere: Markdown neither reads nor writes it.
    None,
    /// A key of the front matter; `required` ones must be there.
    Front { key: &'static str, required: bool },
    /// A key of a map in the front matter (`resources: {budget: ...}`).
    FrontIn { map: &'static str, key: &'static str },
    /// A `## Heading` section: a text's paragraphs, or a list's `- item` lines.
    Section(&'static str),
}

/// How the web form asks for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// It does not: an edit keeps the value of the revision it began from.
    None,
    /// One line of text.
    Line,
    /// One line, read in capitals (codes such as ID or USD).
    Upper,
    /// Several lines of text.
    Area,
    /// One line of items separated by commas.
    Commas,
    /// One line of codes separated by commas or spaces.
    Codes,
    /// Several lines, an item on each.
    Lines,
    /// A box to tick for each value of the field's [`Words`].
    Choices,
    /// One of the values of the field's [`Words`], from a list.
    Choice,
    /// A group of inputs per row (the field's columns); `singular` names one row.
    Rows { singular: &'static str },
}

/// What a page shows of a field.
pub enum Show<T: 'static> {
    Hidden,
    /// A fact with this label: the text, or the list's items joined.
    Fact(&'static str),
    /// A fact with this label, worded from the whole body (several fields in one line).
    FactOf(&'static str, fn(&T) -> String),
    /// A section with this heading: the text's paragraphs, or the list's items.
    Section(&'static str),
    /// A table with this heading, a column per column of the rows.
    Table(&'static str),
    /// A list with this heading, each row worded as one item.
    Items(&'static str, fn(&[String]) -> Item),
}

/// One item of a list on a page, ending in a link when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub text: String,
    pub link: Option<String>,
}

impl Item {
    /// The link as a reader would write it: an e-mail address or phone number without its
    /// scheme, a web address without `https://`; "download" for a file this node serves.
    pub fn link_text(&self) -> String {
        let link = self.link.as_deref().unwrap_or_default();
        if link.starts_with('/') {
            return "download".to_owned();
        }
        ["mailto:", "tel:", "https://", "http://"]
            .into_iter()
            .find_map(|scheme| link.strip_prefix(scheme))
            .unwrap_or(link)
            .trim_end_matches('/')
            .to_owned()
    }
}

/// What search makes of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searched {
    No,
    /// The title: shown in results and weighted up.
    Title,
    /// The summary: shown in results, and searched.
    Summary,
    /// Part of the body's text: searched, and where snippets come from.
    Body,
    /// Searched, but not part of the body's text (keywords, place names).
    Words,
}

/// A fieldset of the web form, which is also a block of the note page, in the kind's order.
pub struct Group {
    pub legend: &'static str,
    pub hint: &'static str,
    /// Said after the legend when the group's field must be filled ("at least one").
    pub required: &'static str,
}

/// One field of a kind.
pub struct Field<T: 'static> {
    /// Its path, as the record rules name it (`location.country`); also its form input's name.
    pub path: &'static str,
    /// The form's label for it.
    pub label: &'static str,
    /// A hint the form shows under the label.
    pub hint: &'static str,
    /// The legend of the form's group it belongs to.
    pub group: &'static str,
    /// What the form says when it is left empty; `None` when it may be.
    pub required: Option<&'static str>,
    pub markdown: Markdown,
    pub input: Input,
    pub show: Show<T>,
    pub search: Searched,
    /// The search facet its values go to (`theme`), if any.
    pub facet: Option<&'static str>,
    /// The vocabulary its codes come from: pages, forms and facets show them in its words.
    pub words: Option<Words>,
    pub access: Access<T>,
}

impl<T> Field<T> {
    /// A field at `path`, labelled `label`, in the form's group `group`: neither in Markdown nor
    /// in the form nor on a page until the builder methods below say where it goes.
    pub const fn new(path: &'static str, label: &'static str, group: &'static str, access: Access<T>) -> Self {
        Field {
            path,
            label,
            hint: "",
            group,
            required: None,
            markdown: Markdown::None,
            input: Input::None,
            show: Show::Hidden,
            search: Searched::No,
            facet: None,
            words: None,
            access,
        }
    }

    pub const fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    /// The field must be filled; `message` says so beside the form's input.
    pub const fn required(mut self, message: &'static str) -> Self {
        self.required = Some(message);
        self
    }

    /// A key of the front matter.
    pub const fn front(mut self, key: &'static str) -> Self {
        self.markdown = Markdown::Front { key, required: false };
        self
    }

    /// A key the front matter must have.
    pub const fn front_required(mut self, key: &'static str) -> Self {
        self.markdown = Markdown::Front { key, required: true };
        self
    }

    /// A key of the map `map` in the front matter.
    pub const fn front_in(mut self, map: &'static str, key: &'static str) -> Self {
        self.markdown = Markdown::FrontIn { map, key };
        self
    }

    /// A `## heading` section of the Markdown file.
    pub const fn section(mut self, heading: &'static str) -> Self {
        self.markdown = Markdown::Section(heading);
        self
    }

    pub const fn input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    pub const fn show(mut self, show: Show<T>) -> Self {
        self.show = show;
        self
    }

    pub const fn search(mut self, search: Searched) -> Self {
        self.search = search;
        self
    }

    pub const fn facet(mut self, facet: &'static str) -> Self {
        self.facet = Some(facet);
        self
    }

    /// Its codes come from `words`, and are shown in them.
    pub const fn words(mut self, words: Words) -> Self {
        self.words = Some(words);
        self
    }

    /// A code of the field in words (the code itself when the field has no vocabulary).
    pub fn label(&self, code: &str) -> String {
        self.words.map_or_else(|| code.to_owned(), |words| words.label(code).into_owned())
    }

    /// The field's value in `body`.
    pub fn get(&self, body: &T) -> Value {
        match &self.access {
            Access::Text { get, .. } => Value::Text(get(body)),
            Access::List { get, .. } => Value::List(get(body)),
            Access::Rows { get, .. } => Value::Rows(get(body)),
        }
    }

    /// Puts `value` into `body`; a value of another shape than the field's is refused.
    pub fn set(&self, body: &mut T, value: Value) -> Result<(), String> {
        match (&self.access, value) {
            (Access::Text { set, .. }, Value::Text(text)) => set(body, text),
            (Access::List { set, .. }, Value::List(items)) => set(body, items),
            (Access::Rows { set, .. }, Value::Rows(rows)) => set(body, rows),
            _ => Err(format!("{}: a value of the wrong shape", self.path)),
        }
    }

    /// The columns of a field made of rows (none for other fields).
    pub fn columns(&self) -> &'static [Column] {
        match &self.access {
            Access::Rows { columns, .. } => columns,
            _ => &[],
        }
    }
}

/// Runs `$then` with `$T` standing for the body type of `$kind` when that kind's fields are
/// described (every kind people write: not profiles, which `profile set` changes, nor
/// partnerships, which invite codes make); `$else` otherwise.
#[macro_export]
macro_rules! with_described {
    ($kind:expr, $T:ident => $then:expr, else $else:expr) => {{
        #[allow(unused_imports)]
        use $crate::fields::Described as _;
        use $crate::record::Kind;
        match $kind {
            Kind::Practice => {
                type $T = $crate::wire::Practice;
                $then
            }
            Kind::Request => {
                type $T = $crate::wire::Request;
                $then
            }
            Kind::Offer => {
                type $T = $crate::wire::Offer;
                $then
            }
            Kind::Event => {
                type $T = $crate::wire::Event;
                $then
            }
            Kind::Engagement => {
                type $T = $crate::wire::Engagement;
                $then
            }
            Kind::Outcome => {
                type $T = $crate::wire::Outcome;
                $then
            }
            Kind::Endorsement => {
                type $T = $crate::wire::Endorsement;
                $then
            }
            Kind::Profile | Kind::Partnership | Kind::Identity | Kind::Receipt | Kind::Erasure => $else,
        }
    }};
}

/// The kinds whose fields are described, in the order pages list them.
pub const WRITTEN_KINDS: &[crate::record::Kind] = {
    use crate::record::Kind;
    &[Kind::Practice, Kind::Request, Kind::Offer, Kind::Event, Kind::Engagement, Kind::Outcome, Kind::Endorsement]
};

/// A body type whose fields are described.
pub trait Described: Clone + Default + PartialEq + 'static {
    /// The kind of record it is the body of.
    const KIND: crate::record::Kind;
    /// Wraps it as a record body.
    fn into_body(self) -> crate::record::Body;
    /// Takes it out of a record body of its kind.
    fn from_body(body: crate::record::Body) -> Option<Self>;
    /// Every field, in the order Markdown writes them.
    const FIELDS: &'static [Field<Self>];
    /// The form's groups (and the note page's blocks), in order.
    const GROUPS: &'static [Group];
    /// Makes a body whole once its fields were set one by one: optional parts left empty are
    /// dropped, and parts the rules require are there.
    fn tidy(&mut self);
}

/// A described field by its path.
pub fn field<T: Described>(path: &str) -> Option<&'static Field<T>> {
    T::FIELDS.iter().find(|field| field.path == path)
}

/// The fields in the order of their groups (then in table order): how the form and the page
/// lay them out.
pub fn by_group<T: Described>() -> impl Iterator<Item = (&'static Group, Vec<&'static Field<T>>)> {
    T::GROUPS.iter().map(|group| (group, T::FIELDS.iter().filter(|field| field.group == group.legend).collect()))
}

/// The fields in the order of their groups (then in table order), one by one.
fn in_page_order<T: Described>() -> impl Iterator<Item = &'static Field<T>> {
    T::GROUPS.iter().flat_map(|group| T::FIELDS.iter().filter(move |field| field.group == group.legend))
}

/// A block of a page showing a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Text { heading: &'static str, text: String },
    List { heading: &'static str, items: Vec<String> },
    Table { heading: &'static str, columns: Vec<&'static str>, rows: Vec<Vec<String>> },
    Items { heading: &'static str, items: Vec<Item> },
}

/// What a page shows of a body: its facts (`label`, text) and its blocks, in the order of the
/// kind's groups; empty ones are left out.
pub fn shown<T: Described>(body: &T) -> (Vec<(&'static str, String)>, Vec<Block>) {
    let (mut facts, mut blocks) = (Vec::new(), Vec::new());
    for field in in_page_order::<T>() {
        match &field.show {
            Show::Hidden => continue,
            Show::FactOf(label, word) => {
                facts.push((*label, word(body)));
                continue;
            }
            _ => {}
        }
        match (&field.show, field.get(body)) {
            (Show::Fact(label), Value::List(mut items)) => {
                if let Some(words) = field.words {
                    words.sort(&mut items);
                }
                let items: Vec<String> = items.iter().map(|item| field.label(item)).collect();
                facts.push((*label, items.join(", ")));
            }
            (Show::Fact(label), Value::Text(text)) => facts.push((*label, field.label(&text))),
            (Show::Section(heading), Value::Text(text)) if !text.is_empty() => {
                blocks.push(Block::Text { heading, text });
            }
            (Show::Section(heading), Value::List(items)) if !items.is_empty() => {
                blocks.push(Block::List { heading, items });
            }
            (Show::Table(heading), Value::Rows(rows)) if !rows.is_empty() => {
                let columns = field.columns().iter().map(|column| column.label).collect();
                blocks.push(Block::Table { heading, columns, rows });
            }
            (Show::Items(heading, word), Value::Rows(rows)) if !rows.is_empty() => {
                blocks.push(Block::Items { heading, items: rows.iter().map(|row| word(row)).collect() });
            }
            _ => {}
        }
    }
    facts.retain(|(_, text)| !text.is_empty());
    (facts, blocks)
}

/// The vocabulary of a search facet's values, as the kind's fields say.
pub fn facet_words<T: Described>(facet: &str) -> Option<Words> {
    T::FIELDS.iter().find(|field| field.facet == Some(facet)).and_then(|field| field.words)
}

/// The `(facet, value)` pairs of a body, for search and listing filters.
pub fn facets<T: Described>(body: &T) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for field in T::FIELDS {
        if let Some(facet) = field.facet {
            let value = field.get(body);
            out.extend(value.texts().into_iter().filter(|text| !text.is_empty()).map(|text| (facet, text.to_owned())));
        }
    }
    out
}

/// The texts search reads of a body, as `(title, summary, body, words)`: the body's texts
/// joined by line breaks in the order the page shows them, the other words listed.
pub fn search_text<T: Described>(body: &T) -> (String, String, String, Vec<String>) {
    let (mut title, mut summary, mut parts, mut words) = (String::new(), String::new(), Vec::new(), Vec::new());
    for field in in_page_order::<T>().filter(|field| field.search != Searched::No) {
        let value = field.get(body);
        let texts = value.texts().into_iter().filter(|text| !text.is_empty()).map(str::to_owned);
        match field.search {
            Searched::No => {}
            Searched::Title => title = texts.collect::<Vec<_>>().join(" "),
            Searched::Summary => summary = texts.collect::<Vec<_>>().join("\n"),
            Searched::Body => parts.extend(texts),
            Searched::Words => words.extend(texts),
        }
    }
    (title, summary, parts.join("\n"), words)
}
