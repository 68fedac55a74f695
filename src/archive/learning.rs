//! The use cases of city-to-city learning on a data directory: requests, offers and events
//! held, engagements with their confirmation and outcomes, matching, and changing a record's
//! status (DESIGN §8).

use serde::{Deserialize, Serialize};

use super::Archive;
use crate::author::{self, AuthorError, Published};
use crate::matching::Match;
use crate::record::{Body, Kind, Record};
use crate::store::StoreError;
use crate::transfers::{Funnel, Transfers};
use crate::view::FindError;

/// Matches to show when no number is asked for.
pub const DEFAULT_MATCHES: usize = 20;

/// One match as the API, the CLI and the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchView {
    pub kind: String,
    pub publisher: String,
    /// The publisher's name as this node shows it.
    pub name: String,
    pub slug: String,
    pub title: String,
    pub score: u32,
    pub reasons: Vec<String>,
}

/// What a request or an offer matches, best first: for a request, offers, practice notes and
/// organisations; for an offer, open requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchAnswer {
    /// `request` or `offer`: what was matched.
    pub kind: String,
    pub publisher: String,
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub offers: Vec<MatchView>,
    #[serde(default)]
    pub practices: Vec<MatchView>,
    #[serde(default)]
    pub organisations: Vec<MatchView>,
    #[serde(default)]
    pub requests: Vec<MatchView>,
}

/// Why matching could not answer.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Find(#[from] FindError),
    #[error("{0} is a {1}; only requests and offers are matched (`citymesh request list`, `citymesh offer list`)")]
    NotMatched(String, Kind),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Archive {
    /// The current heads of one of the kinds of few records (requests, offers, events,
    /// engagements, outcomes, endorsements, profiles, partnerships), withdrawn ones included.
    pub fn heads_of(&self, kind: Kind) -> Result<Vec<Record>, StoreError> {
        self.few_heads.of_kind(&self.store, kind)
    }

    /// Every engagement held, with whether the other side confirms it and its outcomes, and
    /// every endorsement.
    pub fn transfers(&self) -> Result<Transfers, StoreError> {
        Ok(self.few_heads.transfers(&self.store)?.transfers.clone())
    }

    /// Each publisher's country, as its current profile says (those that state one).
    pub fn countries(&self) -> Result<std::collections::HashMap<crate::record::PublisherId, String>, StoreError> {
        self.few_heads.countries(&self.store)
    }

    /// The home page's funnel: open requests, engagements, adopted, outcomes recorded.
    pub fn funnel(&self) -> Result<Funnel, StoreError> {
        let open = self
            .heads_of(Kind::Request)?
            .iter()
            .filter(|record| matches!(record.parse_body(), Ok(Body::Request(request)) if request.status == "open"))
            .count();
        Ok(self.few_heads.transfers(&self.store)?.transfers.funnel(open))
    }

    /// Ranks what answers a request (offers, practice notes, organisations) or what an offer
    /// answers (open requests): `target` is a record id, a slug or `publisher/slug`.
    pub fn matches(&self, target: &str, limit: usize) -> Result<MatchAnswer, MatchError> {
        let record = crate::view::find_kind(&self.store, self.publisher(), &[Kind::Request, Kind::Offer], target)
            .map_err(|error| match self.find(target) {
                Ok(other) => MatchError::NotMatched(target.to_owned(), other.kind()),
                Err(_) => MatchError::Find(error),
            })?;
        if record.is_tombstone() {
            return Err(MatchError::Find(FindError::NoSuchSlug(target.to_owned())));
        }
        let names = self.names();
        let view = |found: Match| MatchView {
            kind: found.kind.to_string(),
            publisher: found.publisher.to_string(),
            name: names.of(&found.publisher),
            slug: found.slug,
            title: found.title,
            score: found.score,
            reasons: found.reasons,
        };
        let key = record.key();
        let now_ms = author::now_ms();
        let mut answer = MatchAnswer {
            kind: record.kind().to_string(),
            publisher: record.publisher().to_string(),
            slug: record.slug().to_owned(),
            title: record.parse_body().map(|body| body.title()).unwrap_or_default(),
            offers: Vec::new(),
            practices: Vec::new(),
            organisations: Vec::new(),
            requests: Vec::new(),
        };
        let found = self.few_heads.with_holdings(&self.store, now_ms, |holdings| {
            if record.kind() == Kind::Request {
                holdings.for_request(&key, limit).map(|found| (found, Vec::new()))
            } else {
                holdings.for_offer(&key, limit).map(|requests| (Default::default(), requests))
            }
        })?;
        if let Some((found, requests)) = found {
            let found: crate::matching::Matches = found;
            answer.offers = found.offers.into_iter().map(view).collect();
            answer.practices = found.practices.into_iter().map(view).collect();
            answer.organisations = found.organisations.into_iter().map(view).collect();
            answer.requests = requests.into_iter().map(view).collect();
        }
        Ok(answer)
    }

    /// Changes the status of one of this publisher's requests, offers or events (a request
    /// `closed`, an event `cancelled` ...) by signing its next revision.
    pub fn set_status(&self, kind: Kind, slug: &str, status: &str) -> Result<Published, AuthorError> {
        author::set_status(&self.store, self.key()?, &self.config, kind, slug, status)
    }

    /// Signs a record of any written kind (read from a form) as the next revision of its key.
    pub fn publish_written(
        &self,
        written: crate::markdown::Written,
        base: Option<u64>,
    ) -> Result<Published, AuthorError> {
        author::publish_written(&self.store, self.key()?, &self.config, written, base)
    }

    /// This publisher's current record of `kind` with `slug`, and its revision (none when it
    /// has none, or withdrew it).
    pub fn own_record(&self, kind: Kind, slug: &str) -> Result<Option<(u64, Body)>, StoreError> {
        let Some(publisher) = self.publisher() else { return Ok(None) };
        let key = crate::record::Key { publisher, kind, slug: slug.to_owned() };
        Ok(self.store.head(&key)?.filter(|head| !head.is_tombstone()).and_then(|head| {
            let revision = head.revision();
            head.parse_body().ok().map(|body| (revision, body))
        }))
    }

    /// Withdraws one of this publisher's records of `kind`.
    pub fn withdraw_kind(&self, kind: Kind, slug: &str, reason: &str) -> Result<Record, AuthorError> {
        author::withdraw_kind(&self.store, self.key()?, kind, slug, reason)
    }
}
