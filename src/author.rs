//! What a publisher does: publish a note as its next revision, withdraw one. The CLI and the
//! node's API both come here, so both follow the same rules.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::identity::IdentityError;
use crate::markdown::{self, MarkdownError, Written};
use crate::record::{self, Body, Draft, Key, Kind, KindBody, Record, RecordError, Signer};
use crate::store::{Inserted, Store, StoreError};
use crate::wire::Tombstone;

/// Milliseconds since the Unix epoch by this machine's clock.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Why a note could not be published or withdrawn.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    #[error(transparent)]
    Markdown(#[from] MarkdownError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("you have published no {} with slug {slug:?}; `citymesh list --kind {kind}` shows what is held", noun(*kind))]
    NoSuch { kind: Kind, slug: String },
    #[error(
        "you have published no engagement with slug {0:?}; an outcome is of one of your own engagements (`citymesh engagement list`)"
    )]
    NoEngagement(String),
    #[error("a {0} has no status to change; only requests, offers and events do")]
    NoStatus(Kind),
    #[error("{slug} was already withdrawn at revision {revision}")]
    AlreadyWithdrawn { slug: String, revision: u64 },
    #[error("{slug} is at revision {current}, not {base}: it changed since this edit began; reload it and edit again")]
    Stale { slug: String, current: u64, base: u64 },
    /// A field of a Markdown note broke a record rule; `field` is named as the file names it.
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
    #[error(transparent)]
    NotInitialised(#[from] NotInitialised),
    /// The organisation's identity log refuses what this node's key signed (an expired or
    /// revoked key, a kind outside its scopes, a revision the log does not take).
    #[error("{0}; `citymesh identity show` shows the keys that sign for this organisation")]
    Identity(#[from] IdentityError),
}

/// Stores a record this node signed, durably; refused when its organisation's identity log
/// does not let the key sign it.
pub fn store_signed(store: &Store, record: &Record) -> Result<(), AuthorError> {
    match store.insert_durable(record)? {
        Inserted::Refused(error) => Err(AuthorError::Identity(error)),
        Inserted::New { .. } | Inserted::AlreadyHeld => Ok(()),
    }
}

/// What messages call a kind's records.
fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Practice => "note",
        other => other.as_str(),
    }
}

impl AuthorError {
    /// Whether the fault is this node's (its store, its set-up), not what was asked of it.
    pub fn is_internal(&self) -> bool {
        matches!(self, AuthorError::Store(_) | AuthorError::NotInitialised(_))
    }
}

/// Signing needs the publisher key, which `citymesh init` makes; the text is the directory.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{0} is not a citymesh data directory yet: run `citymesh init` first, or point --data-dir (or CITYMESH_HOME) at an existing one"
)]
pub struct NotInitialised(pub String);

/// What the key's head was before publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Previous {
    None,
    Older,
    Withdrawn,
    /// The head already had this content; nothing new was signed.
    Same,
}

/// A published note.
#[derive(Debug)]
pub struct Published {
    /// The new head (or the unchanged one).
    pub record: Record,
    pub previous: Previous,
}

impl Published {
    /// Whether a new revision was signed (else the head already said this).
    pub fn is_new(&self) -> bool {
        self.previous != Previous::Same
    }

    pub fn answer(&self) -> Publication {
        Publication::of(&self.record, self.previous)
    }
}

/// What publishing (or withdrawing) answers: the record now at the head of the key, and what
/// was there before.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    pub id: String,
    pub slug: String,
    pub revision: u64,
    pub previous: Previous,
}

impl Publication {
    pub fn of(record: &Record, previous: Previous) -> Publication {
        Publication {
            id: record.id().to_string(),
            slug: record.slug().to_owned(),
            revision: record.revision(),
            previous,
        }
    }
}

/// Signs a Markdown note as the next revision of its slug and stores it durably; an unchanged
/// note is not signed again.
pub fn publish(store: &Store, key: &Signer, config: &Config, text: &str) -> Result<Published, AuthorError> {
    publish_over(store, key, config, text, None)
}

/// Like [`publish`], for an edit of revision `base` (0: a new record): refused as stale when
/// the record's current revision is another. The file's `kind:` says what it is (a practice
/// note when it says nothing).
pub fn publish_over(
    store: &Store,
    key: &Signer,
    config: &Config,
    text: &str,
    base: Option<u64>,
) -> Result<Published, AuthorError> {
    let written = markdown::parse_record(text, &config.publish.default_license)?;
    let kind = written.kind;
    publish_written(store, key, config, written, base).map_err(|error| match error {
        AuthorError::Record(RecordError::BodyField { field, problem }) => {
            AuthorError::Field { field: markdown::field_name_of(kind, &field), problem }
        }
        other => other,
    })
}

/// Gives a note the node's default language and licence where it names none.
pub fn fill_defaults(practice: &mut crate::wire::Practice, defaults: &crate::config::PublishConfig) {
    if practice.language.is_empty() {
        practice.language = defaults.default_language.clone();
    }
    if practice.license.is_empty() {
        practice.license = defaults.default_license.clone();
    }
}

/// Like [`publish_over`], for a note already read (from the web page's form, say).
pub fn publish_note(
    store: &Store,
    key: &Signer,
    config: &Config,
    note: markdown::Note,
    base: Option<u64>,
) -> Result<Published, AuthorError> {
    let written = Written { kind: Kind::Practice, slug: note.slug, body: Body::Practice(note.practice) };
    publish_written(store, key, config, written, base)
}

/// Signs a record of any written kind as the next revision of its key and stores it durably;
/// an unchanged record is not signed again.
pub fn publish_written(
    store: &Store,
    key: &Signer,
    config: &Config,
    mut written: Written,
    base: Option<u64>,
) -> Result<Published, AuthorError> {
    if let Body::Practice(practice) = &mut written.body {
        fill_defaults(practice, &config.publish);
    }
    if let Some(problem) = written.body.authoring_problems().into_iter().next() {
        return Err(AuthorError::Record(problem));
    }
    if let Body::Outcome(outcome) = &written.body {
        let engagement = Key { publisher: key.publisher(), kind: Kind::Engagement, slug: outcome.engagement.clone() };
        if crate::record::is_slug(&outcome.engagement)
            && store.head(&engagement)?.is_none_or(|head| head.is_tombstone())
        {
            return Err(AuthorError::NoEngagement(outcome.engagement.clone()));
        }
    }
    let Written { kind, slug, body } = written;
    let record_key = Key { publisher: key.publisher(), kind, slug: slug.clone() };
    let head = store.head(&record_key)?;
    let current = head.as_ref().map_or(0, Record::revision);
    if let Some(base) = base.filter(|base| *base != current) {
        return Err(AuthorError::Stale { slug, current, base });
    }
    let previous = match &head {
        None => Previous::None,
        Some(head) if head.is_tombstone() => Previous::Withdrawn,
        Some(head) if head.parse_body()? == body => {
            return Ok(Published { record: head.clone(), previous: Previous::Same });
        }
        Some(_) => Previous::Older,
    };
    let draft = Draft {
        kind,
        slug,
        revision: head.as_ref().map_or(1, |head| head.revision() + 1),
        timestamp_ms: now_ms(),
        body,
    };
    let record = key.sign(draft)?;
    store_signed(store, &record)?;
    Ok(Published { record, previous })
}

/// Signs a withdrawal of one of this publisher's notes and stores it durably.
pub fn withdraw(store: &Store, key: &Signer, slug: &str, reason: &str) -> Result<Record, AuthorError> {
    withdraw_kind(store, key, Kind::Practice, slug, reason)
}

/// Signs a withdrawal of one of this publisher's records of `kind` and stores it durably.
pub fn withdraw_kind(store: &Store, key: &Signer, kind: Kind, slug: &str, reason: &str) -> Result<Record, AuthorError> {
    let record_key = Key { publisher: key.publisher(), kind, slug: slug.to_owned() };
    let Some(head) = store.head(&record_key)? else {
        return Err(AuthorError::NoSuch { kind, slug: slug.to_owned() });
    };
    if head.is_tombstone() {
        return Err(AuthorError::AlreadyWithdrawn { slug: slug.to_owned(), revision: head.revision() });
    }
    let draft = Draft {
        kind,
        slug: slug.to_owned(),
        revision: head.revision() + 1,
        timestamp_ms: now_ms(),
        body: Body::Tombstone(Tombstone { reason: reason.trim().to_owned() }),
    };
    let record = key.sign(draft)?;
    store_signed(store, &record)?;
    Ok(record)
}

/// Signs the next revision of one of this publisher's requests, offers or events with its
/// status changed (`closed`, `cancelled` ...); the rules check the status.
pub fn set_status(
    store: &Store,
    key: &Signer,
    config: &Config,
    kind: Kind,
    slug: &str,
    status: &str,
) -> Result<Published, AuthorError> {
    let record_key = Key { publisher: key.publisher(), kind, slug: slug.to_owned() };
    let head = match store.head(&record_key)? {
        Some(head) if !head.is_tombstone() => head,
        _ => return Err(AuthorError::NoSuch { kind, slug: slug.to_owned() }),
    };
    let mut body = head.parse_body()?;
    match &mut body {
        Body::Request(request) => request.status = status.to_owned(),
        Body::Offer(offer) => offer.status = status.to_owned(),
        Body::Event(event) => event.status = status.to_owned(),
        _ => return Err(AuthorError::NoStatus(kind)),
    }
    let written = Written { kind, slug: slug.to_owned(), body };
    publish_written(store, key, config, written, Some(head.revision()))
}

/// Changes to a publisher's profile; fields left `None` keep their current value. An empty
/// text clears an optional field.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wikidata: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geonames: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlocode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Signs the next revision of this publisher's profile with `changes` applied and stores it
/// durably; returns it, or the current one when nothing changed. The record rules check every
/// field (the error names the field and what is allowed).
pub fn set_profile(store: &Store, key: &Signer, changes: ProfileChanges) -> Result<Published, AuthorError> {
    let record_key = Key { publisher: key.publisher(), kind: Kind::Profile, slug: record::PROFILE_SLUG.to_owned() };
    let head = store.head(&record_key)?;
    let mut profile = match head.as_ref().map(Record::parse_body).transpose()? {
        Some(Body::Profile(profile)) => profile,
        _ => crate::wire::Profile::default(),
    };
    let before = profile.clone();
    let set = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value.trim().to_owned();
        }
    };
    set(&mut profile.name, changes.name);
    set(&mut profile.organisation_type, changes.organisation_type);
    set(&mut profile.website, changes.website);
    set(&mut profile.description, changes.description);
    if let Some(languages) = changes.languages {
        profile.languages = languages.into_iter().map(|language| language.trim().to_owned()).collect();
    }
    let place_changes = [
        &changes.country,
        &changes.subdivision,
        &changes.place,
        &changes.wikidata,
        &changes.geonames,
        &changes.unlocode,
        &changes.latitude,
        &changes.longitude,
    ];
    if place_changes.iter().any(|change| change.is_some()) {
        let mut place = profile.place.take().unwrap_or_default();
        set(&mut place.country, changes.country.map(|country| country.to_ascii_uppercase()));
        set(&mut place.subdivision, changes.subdivision);
        set(&mut place.name, changes.place);
        set(&mut place.wikidata, changes.wikidata);
        set(&mut place.geonames, changes.geonames);
        set(&mut place.unlocode, changes.unlocode);
        set(&mut place.latitude, changes.latitude);
        set(&mut place.longitude, changes.longitude);
        profile.place = (place != crate::wire::Place::default()).then_some(place);
    }
    if changes.contact_role.is_some() || changes.contact_channel.is_some() || changes.contact_name.is_some() {
        let mut contact = profile.contact.take().unwrap_or_default();
        set(&mut contact.role, changes.contact_role);
        set(&mut contact.channel, changes.contact_channel);
        set(&mut contact.name, changes.contact_name);
        profile.contact = (contact != crate::wire::Contact::default()).then_some(contact);
    }
    if let Some(head) = head.as_ref().filter(|_| profile == before) {
        return Ok(Published { record: head.clone(), previous: Previous::Same });
    }
    if let Some(problem) = profile.authoring_problems().into_iter().next() {
        return Err(AuthorError::Record(problem));
    }
    let draft = Draft {
        kind: Kind::Profile,
        slug: record::PROFILE_SLUG.to_owned(),
        revision: head.as_ref().map_or(1, |head| head.revision() + 1),
        timestamp_ms: now_ms(),
        body: Body::Profile(profile),
    };
    let record = key.sign(draft)?;
    store_signed(store, &record)?;
    Ok(Published { record, previous: if head.is_some() { Previous::Older } else { Previous::None } })
}
