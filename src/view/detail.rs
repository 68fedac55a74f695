//! Everything about one record: its row, whether its signature verifies now, where it stands
//! among its key's revisions, its body (and a practice note as Markdown) and, if asked, every
//! revision held with the fields each one changed.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::{Names, Summary};
use crate::markdown;
use crate::record::{self, Body, Kind, Record};
use crate::store::{Store, StoreError};

/// A record's body, as its kind has it, or why it cannot be read. Views are short-lived, so
/// the size difference between variants does not matter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
pub enum BodyView {
    Readable(Body),
    /// A body this version cannot read (a record of a newer version's kind).
    Unreadable {
        error: String,
    },
}

impl BodyView {
    fn of(record: &Record) -> BodyView {
        match record.parse_body() {
            Ok(body) => BodyView::Readable(body),
            Err(error) => BodyView::Unreadable { error: error.to_string() },
        }
    }

    /// Reads a body back from JSON, by the kind of the record it belongs to.
    fn read(summary: &Summary, body: Value) -> Result<BodyView, serde_json::Error> {
        if let Some(error) = body.get("error").and_then(Value::as_str) {
            return Ok(BodyView::Unreadable { error: error.to_owned() });
        }
        match summary.kind.parse::<Kind>() {
            Ok(kind) => Body::from_json(kind, summary.withdrawn, body).map(BodyView::Readable),
            Err(_) => Ok(BodyView::Unreadable { error: format!("a body of kind {:?}", summary.kind) }),
        }
    }
}

/// The current head of a record's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadRef {
    pub id: String,
    pub revision: u64,
}

/// One revision in a record's history, and the body fields it changed from the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    #[serde(flatten)]
    pub summary: Summary,
    /// Body fields whose values differ from the previous revision's (every field set, for the
    /// first revision; `withdrawn` and the fields it drops, for a withdrawal).
    pub changed: Vec<String>,
}

/// Everything about one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub signature_verified: bool,
    /// The head of the record's key (itself, unless a later revision replaced it).
    pub head: Option<HeadRef>,
    pub body: BodyView,
    /// A practice note as Markdown, in the format `citymesh publish` reads.
    pub markdown: Option<String>,
    /// Every revision held of the key, oldest first, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryRow>>,
}

impl Detail {
    /// Whether this record is its key's head.
    pub fn is_current(&self) -> bool {
        self.head.as_ref().is_some_and(|head| head.id == self.summary.id)
    }
}

impl<'de> Deserialize<'de> for Detail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(flatten)]
            summary: Summary,
            signature_verified: bool,
            head: Option<HeadRef>,
            body: Value,
            markdown: Option<String>,
            #[serde(default)]
            history: Option<Vec<HistoryRow>>,
        }
        let fields = Fields::deserialize(deserializer)?;
        let body = BodyView::read(&fields.summary, fields.body).map_err(D::Error::custom)?;
        Ok(Detail {
            summary: fields.summary,
            signature_verified: fields.signature_verified,
            head: fields.head,
            body,
            markdown: fields.markdown,
            history: fields.history,
        })
    }
}

/// Everything about `record`; with `with_history`, every revision held of its key too.
/// `now_ms` is the clock its signature is checked against.
pub fn detail(
    store: &Store,
    names: &Names,
    record: &Record,
    with_history: bool,
    now_ms: i64,
) -> Result<Detail, StoreError> {
    let head = store.head(&record.key())?;
    let body = BodyView::of(record);
    let markdown = match &body {
        BodyView::Readable(body) => markdown::render_record(record.slug(), body),
        _ => None,
    };
    let history = if with_history { Some(history(store, record, names)?) } else { None };
    Ok(Detail {
        summary: Summary::of(record, names),
        signature_verified: record::verify(&record.envelope_bytes(), now_ms).is_ok(),
        head: head.map(|head| HeadRef { id: head.id().to_string(), revision: head.revision() }),
        body,
        markdown,
        history,
    })
}

fn history(store: &Store, record: &Record, names: &Names) -> Result<Vec<HistoryRow>, StoreError> {
    let revisions = store.history(&record.key())?;
    let mut rows = Vec::with_capacity(revisions.len());
    let mut previous: Option<Value> = None;
    for revision in &revisions {
        let body = body_json(revision);
        let changed = changed_fields(previous.as_ref(), &body);
        previous = Some(body);
        rows.push(HistoryRow { summary: Summary::of(revision, names), changed });
    }
    Ok(rows)
}

/// A body's fields as JSON, for comparing revisions: any kind's, with no list of fields to
/// keep up to date.
fn body_json(record: &Record) -> Value {
    match record.parse_body() {
        Ok(Body::Tombstone(stone)) => json!({"withdrawn": stone.reason}),
        Ok(body) => json!(body),
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
