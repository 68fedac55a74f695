//! What readers see of the store, as typed values: the rows of a listing ([`Summary`], a
//! [`Page`] of them), everything about one record ([`Detail`], with its [`HistoryRow`]s) and
//! search results ([`SearchPage`]). The API serves them as JSON, the web pages render them and
//! the CLI prints them, read from its own store or back from a running node's API, so every
//! front end shows the same thing.
//!
//! JSON objects are written with their keys in alphabetical order (through
//! [`serde_json::Value`], see [`to_json`]), as the API has always answered.

mod detail;
mod search;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::{self, Body, Key, Kind, PublisherId, Record, RecordId};
use crate::store::{Store, StoreError};
use crate::vocab;

pub use detail::{BodyView, Detail, HeadRef, HistoryRow, detail};
pub use search::{FacetValue, HitView, SearchPage, adaptations, search};

/// A view as JSON, with every object's keys in alphabetical order.
pub fn to_json(view: &impl Serialize) -> serde_json::Value {
    // Views are plain data: serialising them cannot fail.
    serde_json::to_value(view).unwrap_or_default()
}

/// Why a record could not be found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("no record with id {0} is held here")]
    NoSuchId(RecordId),
    #[error(
        "record {id} was erased by its publisher (erasure {erasure}): this node keeps its header and signature, not its body"
    )]
    Erased { id: RecordId, erasure: RecordId },
    #[error("no record with slug {0:?} is held here; `citymesh list` shows what is")]
    NoSuchSlug(String),
    #[error("{0:?} is neither a record id (64 hex characters) nor a slug (a-z, 0-9, '-')")]
    NotATarget(String),
    #[error("several publishers have a record {slug:?}; name one by id:\n{ids}")]
    Ambiguous { slug: String, ids: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishers' names as this node shows them: the local name (petname) this node gave a
/// partner, else the name in the publisher's profile, else the start of its key. A profile name
/// that another key's profile claims too is shown with the key's fingerprint, so that nobody
/// can pass for another city by taking its name. Each publisher is looked up when first asked
/// for, then remembered.
pub struct Names<'a> {
    store: &'a Store,
    petnames: HashMap<PublisherId, String>,
    known: std::cell::RefCell<HashMap<PublisherId, Option<String>>>,
    /// Publishers by their profile name, lower-cased; read when first needed.
    claims: std::cell::OnceCell<HashMap<String, Vec<PublisherId>>>,
}

/// Publishers by the name their profile claims, lower-cased.
pub fn claims(profiles: impl IntoIterator<Item = Record>) -> HashMap<String, Vec<PublisherId>> {
    let mut claims: HashMap<String, Vec<PublisherId>> = HashMap::new();
    for profile in profiles {
        if let Ok(Body::Profile(body)) = profile.parse_body() {
            claims.entry(body.name.trim().to_lowercase()).or_default().push(profile.publisher());
        }
    }
    claims
}

/// The start of a key in groups of four, as people compare keys: "3f2a 9c1b 77d0 e415".
pub fn fingerprint(publisher: &PublisherId) -> String {
    let hex = publisher.to_string();
    let groups: Vec<&str> = (0..4).filter_map(|group| hex.get(group * 4..group * 4 + 4)).collect();
    groups.join(" ")
}

impl<'a> Names<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self::with_petnames(store, HashMap::new())
    }

    /// Names where `petnames` (a partner's local name, by publisher) win over profiles.
    pub fn with_petnames(store: &'a Store, petnames: HashMap<PublisherId, String>) -> Self {
        Self { store, petnames, known: Default::default(), claims: Default::default() }
    }

    /// Names that know every profile held already (their heads), instead of reading the store's
    /// heads when a name's claims are first asked for.
    pub fn with_profiles(self, profiles: &[Record]) -> Self {
        self.with_claims(claims(profiles.iter().cloned()))
    }

    /// Names that know who claims each name (lower case) already.
    pub fn with_claims(self, claims: HashMap<String, Vec<PublisherId>>) -> Self {
        let _ = self.claims.set(claims);
        self
    }

    /// The name in the publisher's profile, if one is held.
    pub fn known(&self, publisher: &PublisherId) -> Option<String> {
        if let Some(name) = self.known.borrow().get(publisher) {
            return name.clone();
        }
        let key = Key { publisher: *publisher, kind: Kind::Profile, slug: record::PROFILE_SLUG.to_owned() };
        let name = match self.store.head(&key) {
            Ok(Some(profile)) => match profile.parse_body() {
                Ok(Body::Profile(body)) => Some(body.name),
                _ => None,
            },
            _ => None,
        };
        self.known.borrow_mut().insert(*publisher, name.clone());
        name
    }

    /// The other publishers whose profiles claim the same name as `publisher`'s.
    pub fn sharing_name(&self, publisher: &PublisherId) -> Vec<PublisherId> {
        let Some(name) = self.known(publisher) else { return Vec::new() };
        let claims = self.claims.get_or_init(|| claims(self.store.heads(Some(Kind::Profile)).unwrap_or_default()));
        let others = claims.get(&name.trim().to_lowercase()).map(Vec::as_slice).unwrap_or_default();
        others.iter().filter(|other| *other != publisher).copied().collect()
    }

    pub fn of(&self, publisher: &PublisherId) -> String {
        if let Some(petname) = self.petnames.get(publisher) {
            return petname.clone();
        }
        match self.known(publisher) {
            Some(name) if !self.sharing_name(publisher).is_empty() => {
                format!("{name} (key {})", fingerprint(publisher))
            }
            Some(name) => name,
            None => publisher.to_string()[..12].to_owned(),
        }
    }

    /// [`Names::of`] for a key in hex (as search results carry it); other text stays as it is.
    pub fn of_hex(&self, hex: &str) -> String {
        record::parse_hex32(hex).map_or_else(|_| hex.to_owned(), |key| self.of(&PublisherId(key)))
    }
}

/// One row of a listing: a record, who published it, and its title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub publisher: String,
    pub publisher_name: String,
    pub kind: String,
    pub slug: String,
    pub revision: u64,
    pub timestamp_ms: i64,
    pub withdrawn: bool,
    pub title: String,
}

impl Summary {
    pub fn of(record: &Record, names: &Names) -> Summary {
        Summary {
            id: record.id().to_string(),
            publisher: record.publisher().to_string(),
            publisher_name: names.of(&record.publisher()),
            kind: record.kind().as_str().to_owned(),
            slug: record.slug().to_owned(),
            revision: record.revision(),
            timestamp_ms: record.timestamp_ms(),
            withdrawn: record.is_tombstone(),
            title: title(record),
        }
    }
}

/// The title a listing shows for a record.
fn title(record: &Record) -> String {
    record.parse_body().map_or_else(|error| format!("(unreadable: {error})"), |body| body.title())
}

/// One page of a listing, and where the next one starts (`None`: this is the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub records: Vec<Summary>,
    pub next_cursor: Option<String>,
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
        // Receipts are the nodes' bookkeeping, listed only when asked for by kind.
        if self.kind.is_none() && record.kind() == Kind::Receipt {
            return false;
        }
        if !self.on_body() {
            return true;
        }
        let Ok(Body::Practice(note)) = record.parse_body() else { return false };
        let values = crate::fields::facets(&note);
        let has = |facet: &str, wanted: &Option<String>| {
            wanted.as_ref().is_none_or(|wanted| values.iter().any(|(name, value)| *name == facet && value == wanted))
        };
        has("theme", &self.theme)
            && has("sdg", &self.sdg_target)
            && has("country", &self.country)
            && has("language", &self.language)
            && has("status", &self.status)
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
    names: &Names,
    filter: &Filter,
    after: Option<Cursor>,
    limit: usize,
) -> Result<Page, StoreError> {
    match page_newest_first(store, names, filter, after, limit)? {
        Some(page) => Ok(page),
        None => page_of_every_head(store, names, filter, after, limit),
    }
}

/// A page made by reading every head (of the filter's kind) and sorting them.
fn page_of_every_head(
    store: &Store,
    names: &Names,
    filter: &Filter,
    after: Option<Cursor>,
    limit: usize,
) -> Result<Page, StoreError> {
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
    let records = heads.iter().map(|record| Summary::of(record, names)).collect();
    Ok(Page { records, next_cursor: next.map(|cursor| cursor.to_string()) })
}

/// Entries of the time index a listing reads at most to fill a page before it falls back to
/// reading every head (a filter that few recent records match).
const SCAN_LIMIT: usize = 20_000;

/// A page read from the time index, newest first, keeping the records that are their key's
/// head and match the filter: it reads about as many records as the page shows, whatever the
/// store holds. `None` when [`SCAN_LIMIT`] entries did not fill the page.
fn page_newest_first(
    store: &Store,
    names: &Names,
    filter: &Filter,
    after: Option<Cursor>,
    limit: usize,
) -> Result<Option<Page>, StoreError> {
    let mut rows: Vec<Record> = Vec::new();
    // Entries of one millisecond, which listings order by id from the lowest.
    let (mut instant, mut same_instant): (Option<u64>, Vec<RecordId>) = (None, Vec::new());
    let keep = |ids: &mut Vec<RecordId>, rows: &mut Vec<Record>| -> Result<(), StoreError> {
        ids.sort();
        for id in ids.drain(..) {
            if rows.len() > limit {
                break;
            }
            let Some(record) = store.get(&id)? else { continue };
            let head = store.head_version(&record.key())?;
            if after.is_some_and(|after| Cursor::of(&record).order() <= after.order())
                || head.is_none_or(|head| head.id != id)
                || !filter.matches(&record)
            {
                continue;
            }
            rows.push(record);
        }
        Ok(())
    };
    let until = after.map(|after| after.timestamp_ms.max(0) as u64);
    for (scanned, entry) in store.newest_first(until).enumerate() {
        let (timestamp, id) = entry?;
        if instant != Some(timestamp) {
            keep(&mut same_instant, &mut rows)?;
            if rows.len() > limit {
                break;
            }
            instant = Some(timestamp);
        }
        if scanned == SCAN_LIMIT {
            return Ok(None);
        }
        same_instant.push(id);
    }
    keep(&mut same_instant, &mut rows)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(Cursor::of) } else { None };
    let records = rows.iter().map(|record| Summary::of(record, names)).collect();
    Ok(Some(Page { records, next_cursor: next.map(|cursor| cursor.to_string()) }))
}

/// Records in arrival order, a page at a time, with their exact bytes: what an export writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopePage {
    pub envelopes: Vec<EnvelopeRow>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeRow {
    pub id: String,
    /// The envelope bytes as stored, in hex.
    pub hex: String,
}

/// Up to `limit` records held, in arrival order, after the sequence number `after`.
pub fn envelopes(store: &Store, after: Option<u64>, limit: usize) -> Result<EnvelopePage, StoreError> {
    let (records, next) = records_page(store, after, limit)?;
    let envelopes = records
        .iter()
        .map(|record| EnvelopeRow { id: record.id().to_string(), hex: record::to_hex(&record.envelope_bytes()) })
        .collect();
    Ok(EnvelopePage { envelopes, next })
}

/// Records held, in arrival order, `limit` at a time after the arrival `after`, and the arrival
/// the next page starts after (`None` at the end).
pub fn records_page(store: &Store, after: Option<u64>, limit: usize) -> Result<(Vec<Record>, Option<u64>), StoreError> {
    let page = store.records_page(after, limit)?;
    let next = if page.len() == limit { page.last().map(|(sequence, _)| *sequence) } else { None };
    Ok((page.into_iter().map(|(_, record)| record).collect(), next))
}

/// Finds a record by id, or the head of a record by slug (`own` publisher's first, and a
/// practice note before other kinds). A partnership's slug is the partner's key, 64 hex characters like an
/// id: it is looked up as a slug when no record has it as its id.
pub fn find(store: &Store, own: Option<PublisherId>, target: &str) -> Result<Record, FindError> {
    const NAMED_BY_SLUG: [Kind; 8] = [
        Kind::Practice,
        Kind::Partnership,
        Kind::Request,
        Kind::Offer,
        Kind::Event,
        Kind::Engagement,
        Kind::Outcome,
        Kind::Endorsement,
    ];
    find_kind(store, own, &NAMED_BY_SLUG, target)
}

/// Finds a record by id, or the head of a record of one of `kinds` by slug (`own` publisher's
/// first, else the one publisher's that has it) or by `publisher/slug` (the publisher's key in
/// hex).
pub fn find_kind(store: &Store, own: Option<PublisherId>, kinds: &[Kind], target: &str) -> Result<Record, FindError> {
    let as_id = target.parse::<RecordId>();
    if let Ok(id) = as_id
        && let Some(record) = store.get(&id)?
    {
        return Ok(record);
    }
    if let Ok(id) = as_id
        && let Some(erased) = store.erased(&id)?
    {
        return Err(FindError::Erased { id, erasure: erased.erasure });
    }
    if let Some((publisher, slug)) = target.split_once('/')
        && let Ok(publisher) = publisher.parse::<PublisherId>()
        && record::is_slug(slug)
    {
        for kind in kinds {
            if let Some(record) = store.head(&Key { publisher, kind: *kind, slug: slug.to_owned() })? {
                return Ok(record);
            }
        }
        return Err(FindError::NoSuchSlug(target.to_owned()));
    }
    if !record::is_slug(target) {
        return Err(FindError::NotATarget(target.to_owned()));
    }
    if let Some(publisher) = own {
        for kind in kinds {
            if let Some(record) = store.head(&Key { publisher, kind: *kind, slug: target.to_owned() })? {
                return Ok(record);
            }
        }
    }
    let mut matches = Vec::new();
    for kind in kinds {
        matches.extend(store.heads(Some(*kind))?.into_iter().filter(|record| record.slug() == target));
    }
    match matches.len() {
        0 => match as_id {
            Ok(id) => Err(FindError::NoSuchId(id)),
            Err(_) => Err(FindError::NoSuchSlug(target.to_owned())),
        },
        1 => Ok(matches.remove(0)),
        _ => {
            let ids: Vec<String> =
                matches.iter().map(|record| format!("  {} ({})", record.id(), record.publisher())).collect();
            Err(FindError::Ambiguous { slug: target.to_owned(), ids: ids.join("\n") })
        }
    }
}

/// Checks the value of a listing or search filter, by its parameter name (`theme`, `sdg`,
/// `country`, `language`, `status`, `publisher`), and returns it normalised (country codes in
/// capitals, keys in lower case). The error names what is allowed.
pub fn check_filter(name: &str, value: &str) -> Result<String, String> {
    let refuse = |allowed: String| Err(format!("{name} {value:?} is not allowed; {allowed}"));
    match name {
        "theme" if vocab::is_theme(value) => Ok(value.to_owned()),
        "theme" => refuse(format!("themes: {}", vocab::THEMES.join(", "))),
        "sdg" if vocab::is_sdg_target(value) => Ok(value.to_owned()),
        "sdg" => refuse("an SDG target such as 11.6".to_owned()),
        "country" if vocab::is_country(&value.to_ascii_uppercase()) => Ok(value.to_ascii_uppercase()),
        "country" => refuse("an ISO 3166-1 alpha-2 code such as ID".to_owned()),
        "language" if vocab::is_language_tag(value) => Ok(value.to_owned()),
        "language" => refuse("a BCP 47 tag such as en or pt-BR".to_owned()),
        "status" if vocab::is_status(value) || statuses().contains(&value) => Ok(value.to_owned()),
        "status" => refuse(format!("statuses: {}", statuses().join(", "))),
        "kind" if crate::fields::WRITTEN_KINDS.iter().any(|kind| kind.as_str() == value) => Ok(value.to_owned()),
        "kind" => refuse(format!(
            "kinds: {}",
            crate::fields::WRITTEN_KINDS.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ")
        )),
        "publisher" => match record::parse_hex32(value) {
            Ok(key) => Ok(record::to_hex(&key)),
            Err(_) => refuse("a publisher key (64 hex characters)".to_owned()),
        },
        _ => Err(format!("{name} is not a filter; filters: theme, sdg, country, language, status, publisher, kind")),
    }
}

/// Every status of every kind: practice notes', requests', offers' and events'.
fn statuses() -> Vec<&'static str> {
    use vocab::transfer::{EVENT_STATUSES, OFFER_STATUSES, REQUEST_STATUSES};
    let mut all: Vec<&str> = vocab::STATUSES.to_vec();
    for (code, _) in REQUEST_STATUSES.iter().chain(OFFER_STATUSES).chain(EVENT_STATUSES) {
        if !all.contains(code) {
            all.push(code);
        }
    }
    all
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
pub fn format_time(timestamp_ms: i64) -> String {
    let seconds = timestamp_ms.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

#[cfg(test)]
mod tests;
