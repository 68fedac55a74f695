//! What readers see of the store, as JSON: the rows of a listing and the detail of one record.
//! The CLI prints these (from its own store, or from a running node's API, which serves the
//! very same values), so both paths show the same thing.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::markdown;
use crate::record::{self, Body, Key, Kind, PublisherId, Record, RecordId};
use crate::store::{Store, StoreError};

/// Why a record could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no record with id {0} is held here")]
    NoSuchId(RecordId),
    #[error("no practice note with slug {0:?} is held here; `citymesh list` shows what is")]
    NoSuchSlug(String),
    #[error("{0:?} is neither a record id (64 hex characters) nor a slug (a-z, 0-9, '-')")]
    NotATarget(String),
    #[error("several publishers have a note {slug:?}; name one by id:\n{ids}")]
    Ambiguous { slug: String, ids: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishers' names, from their profiles; a short key where no profile is held.
pub struct Names(HashMap<PublisherId, String>);

impl Names {
    pub fn load(store: &Store) -> Result<Self, StoreError> {
        let mut names = HashMap::new();
        for profile in store.heads(Some(Kind::Profile))? {
            if let Ok(Body::Profile(body)) = profile.parse_body() {
                names.insert(profile.publisher(), body.name);
            }
        }
        Ok(Self(names))
    }

    /// The name in the publisher's profile, if one is held.
    pub fn known(&self, publisher: &PublisherId) -> Option<&str> {
        self.0.get(publisher).map(String::as_str)
    }

    pub fn of(&self, publisher: &PublisherId) -> String {
        self.0.get(publisher).cloned().unwrap_or_else(|| publisher.to_string()[..12].to_owned())
    }
}

/// The title a listing shows for a record.
fn title(record: &Record) -> String {
    match record.parse_body() {
        Ok(Body::Practice(note)) => note.title,
        Ok(Body::Profile(profile)) => profile.name,
        Ok(Body::Partnership(partnership)) => format!("partner {}", record::to_hex(&partnership.partner)),
        Ok(Body::Tombstone(stone)) => format!("(withdrawn: {})", stone.reason),
        Err(error) => format!("(unreadable: {error})"),
    }
}

/// One row of a listing.
pub fn summary(record: &Record, names: &Names) -> Value {
    json!({
        "id": record.id().to_string(),
        "publisher": record.publisher().to_string(),
        "publisher_name": names.of(&record.publisher()),
        "kind": record.kind().as_str(),
        "slug": record.slug(),
        "revision": record.revision(),
        "timestamp_ms": record.timestamp_ms(),
        "withdrawn": record.is_tombstone(),
        "title": title(record),
    })
}

/// Every head, optionally of one kind, as listing rows.
/// Every head (of one kind), newest first, as the API lists them.
pub fn list(store: &Store, kind: Option<Kind>) -> Result<Value, StoreError> {
    let filter = Filter { kind, ..Filter::default() };
    Ok(Value::Array(page(store, &filter, None, usize::MAX)?.0))
}

/// Which heads a filtered listing shows. Fields of practice notes (theme, SDG target, country,
/// language, status) match only practice notes that have them; withdrawn notes match none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub publisher: Option<PublisherId>,
    pub theme: Option<String>,
    pub sdg_target: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub status: Option<String>,
}

impl Filter {
    fn on_body(&self) -> bool {
        self.theme.is_some()
            || self.sdg_target.is_some()
            || self.country.is_some()
            || self.language.is_some()
            || self.status.is_some()
    }

    fn matches(&self, record: &Record) -> bool {
        if self.kind.is_some_and(|kind| kind != record.kind())
            || self.publisher.is_some_and(|publisher| publisher != record.publisher())
        {
            return false;
        }
        if !self.on_body() {
            return true;
        }
        let Ok(Body::Practice(note)) = record.parse_body() else { return false };
        let wanted = |filter: &Option<String>, value: &str| filter.as_ref().is_none_or(|wanted| wanted == value);
        self.theme.as_ref().is_none_or(|theme| note.themes.contains(theme))
            && self.sdg_target.as_ref().is_none_or(|target| note.sdg_targets.contains(target))
            && wanted(&self.country, note.location.as_ref().map_or("", |place| place.country.as_str()))
            && wanted(&self.language, &note.language)
            && wanted(&self.status, &note.status)
    }
}

/// Where a page of a listing ends: the last row's timestamp and id. Listings run newest first
/// (then by id), so the next page starts strictly after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    timestamp_ms: i64,
    id: RecordId,
}

impl Cursor {
    fn of(record: &Record) -> Cursor {
        Cursor { timestamp_ms: record.timestamp_ms(), id: record.id() }
    }

    fn order(&self) -> (std::cmp::Reverse<i64>, RecordId) {
        (std::cmp::Reverse(self.timestamp_ms), self.id)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.timestamp_ms, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(text: &str) -> Result<Cursor, String> {
        let bad = || format!("{text:?} is not a cursor; pass back the next_cursor of the previous page");
        let (timestamp, id) = text.split_once('.').ok_or_else(bad)?;
        Ok(Cursor { timestamp_ms: timestamp.parse().map_err(|_| bad())?, id: id.parse().map_err(|_| bad())? })
    }
}

/// One page of a filtered listing of heads, newest first: the rows and, when more follow, the
/// cursor of the next page.
pub fn page(
    store: &Store,
    filter: &Filter,
    after: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<Value>, Option<Cursor>), StoreError> {
    let names = Names::load(store)?;
    let mut heads: Vec<Record> = store
        .heads(filter.kind)?
        .into_iter()
        .filter(|record| filter.matches(record))
        .filter(|record| after.is_none_or(|after| Cursor::of(record).order() > after.order()))
        .collect();
    heads.sort_by_key(|record| Cursor::of(record).order());
    let more = heads.len() > limit;
    heads.truncate(limit);
    let next = if more { heads.last().map(Cursor::of) } else { None };
    Ok((heads.iter().map(|record| summary(record, &names)).collect(), next))
}

/// Finds a record by id, or a practice note's head by slug (`own` publisher's first).
pub fn find(store: &Store, own: Option<PublisherId>, target: &str) -> Result<Record, FindError> {
    if let Ok(id) = target.parse::<RecordId>() {
        return store.get(&id)?.ok_or(FindError::NoSuchId(id));
    }
    if !record::is_slug(target) {
        return Err(FindError::NotATarget(target.to_owned()));
    }
    if let Some(publisher) = own {
        let key = Key { publisher, kind: Kind::Practice, slug: target.to_owned() };
        if let Some(record) = store.head(&key)? {
            return Ok(record);
        }
    }
    let mut matches: Vec<Record> =
        store.heads(Some(Kind::Practice))?.into_iter().filter(|record| record.slug() == target).collect();
    match matches.len() {
        0 => Err(FindError::NoSuchSlug(target.to_owned())),
        1 => Ok(matches.remove(0)),
        _ => {
            let ids: Vec<String> =
                matches.iter().map(|record| format!("  {} ({})", record.id(), record.publisher())).collect();
            Err(FindError::Ambiguous { slug: target.to_owned(), ids: ids.join("\n") })
        }
    }
}

/// Everything about one record: its row, whether its signature verifies now, where it stands
/// among its key's revisions, its body (as fields, and as Markdown for a practice note) and,
/// if asked, every revision held.
pub fn detail(store: &Store, record: &Record, with_history: bool, now_ms: i64) -> Result<Value, StoreError> {
    let names = Names::load(store)?;
    let head = store.head(&record.key())?;
    let mut out = summary(record, &names);
    out["signature_verified"] = json!(record::verify(&record.envelope_bytes(), now_ms).is_ok());
    out["head"] = match &head {
        Some(head) => json!({"id": head.id().to_string(), "revision": head.revision()}),
        None => Value::Null,
    };
    let (body, markdown) = match record.parse_body() {
        Ok(Body::Practice(note)) => (json!(note), json!(markdown::render(record.slug(), &note))),
        Ok(Body::Profile(profile)) => (json!(profile), Value::Null),
        Ok(Body::Partnership(partnership)) => (json!(partnership), Value::Null),
        Ok(Body::Tombstone(stone)) => (json!(stone), Value::Null),
        Err(error) => (json!({"error": error.to_string()}), Value::Null),
    };
    out["body"] = body;
    out["markdown"] = markdown;
    if with_history {
        let revisions = store.history(&record.key())?;
        let mut history = Vec::with_capacity(revisions.len());
        let mut previous: Option<Value> = None;
        for revision in &revisions {
            let body = body_json(revision);
            let mut row = summary(revision, &names);
            row["changed"] = json!(changed_fields(previous.as_ref(), &body));
            previous = Some(body);
            history.push(row);
        }
        out["history"] = Value::Array(history);
    }
    Ok(out)
}

fn body_json(record: &Record) -> Value {
    match record.parse_body() {
        Ok(Body::Practice(note)) => json!(note),
        Ok(Body::Profile(profile)) => json!(profile),
        Ok(Body::Partnership(partnership)) => json!(partnership),
        Ok(Body::Tombstone(stone)) => json!({"withdrawn": stone.reason}),
        Err(_) => Value::Null,
    }
}

/// The body fields whose values differ from the previous revision's (every field set, for the
/// first revision; `withdrawn` for a withdrawal).
fn changed_fields(previous: Option<&Value>, body: &Value) -> Vec<String> {
    let Some(fields) = body.as_object() else { return Vec::new() };
    let empty = serde_json::Map::new();
    let before = previous.and_then(Value::as_object).unwrap_or(&empty);
    let unset = |value: &Value| value.is_null() || value == "" || value == &json!([]) || value == &json!(0);
    let mut changed: Vec<String> = fields
        .iter()
        .filter(|(name, value)| before.get(*name).map_or(!unset(value), |old| old != *value))
        .map(|(name, _)| name.clone())
        .collect();
    // Fields the previous revision set and this one drops.
    changed.extend(
        before.iter().filter(|(name, old)| !fields.contains_key(*name) && !unset(old)).map(|(name, _)| name.clone()),
    );
    changed
}
