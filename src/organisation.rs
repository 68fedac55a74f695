//! This node's organisation identity as its officers see and change it (DESIGN.md §9): the
//! identity log shown in words (`view.rs`), operators added, renewed and removed, and the
//! node's own key kept valid. A data directory from before identities has no log: its key alone signs for it.
//! The first change starts the log with that key as its only governance key (threshold 1) and
//! as an operator for every kind, so nothing already signed changes meaning (the migration of
//! DESIGN.md §9). Each change is the log's next revision, signed by the node's key; the store
//! applies it through the same rules as a revision from a peer.
//!
//! A change that needs more governance signatures than this node's key gives (a threshold of 2
//! of 3 officials, say) is answered as a partly signed revision ([`Changed::Unsigned`]): the
//! officials add theirs (`Record::cosigned`, `citymesh identity sign`) and any node takes it
//! in once the threshold has signed.
//!
//! Recovery: `Change::SetRecovery` commits the identity to a recovery key kept offline, and
//! [`recovery`] makes the revision that key signs when the governance keys are lost.
//!
//! Witnesses: [`witness`] receipts the revisions of partners' logs (and their erasures) held
//! here, and the view shows the receipts partners made of this organisation's.
//!
//! Erasure: [`erase`] signs the organisation's request that nodes drop the bodies of some of
//! its superseded revisions; the view shows at how many partners' nodes each was done.
//!
//! Domain binding: `Change::SetDomain` names the city's website in the identity, and
//! [`DomainChecker`] looks for the organisation's key there.

mod domain;
mod erasure;
mod recovery;
mod view;
mod witness;

use serde::{Deserialize, Serialize};

pub use domain::{DomainCheck, DomainChecker, WELL_KNOWN_PATH, domain_name, domain_status};
pub use erasure::erase;
pub use recovery::{PHRASE_WORDS, recovery, recovery_key_from_words, recovery_words};
pub use view::{IdentityView, OperatorRow, PendingRecovery, RevisionRow, RevokedRow, others_warnings, view, warnings};
pub use witness::{ConflictRow, ErasureRow, MAX_RECEIPTS_PER_CALL, WitnessRow, witness};

use crate::author::{self, AuthorError};
use crate::identity::{COMPROMISED, Chain, MAX_OPERATOR_MS, RETIRED, founding, scopable};
use crate::record::{self, Body, Draft, IDENTITY_SLUG, Kind, PublisherId, Record, Signer, parse_hex32};
use crate::store::{Store, StoreError};
use crate::wire::{Identity, Operator, Revocation};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long an operator key is valid when no `days` are given: a year.
pub const DEFAULT_DAYS: u32 = 365;
/// Longest validity, in days (13 months, as the log allows).
pub const MAX_DAYS: u32 = (MAX_OPERATOR_MS / DAY_MS) as u32;
/// The node renews its own key when it expires within this many days.
pub const RENEW_WITHIN_DAYS: i64 = 30;
/// The label of the node's own key in a log this module starts.
const OWN_LABEL: &str = "this node";

/// A change to the organisation's identity, as the CLI and `POST /api/v1/identity` ask for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// A new operator key (a staff member's laptop, another node) that signs the kinds in
    /// `scopes` (every kind when empty) for `days` (default 365, at most 396).
    AddOperator {
        key: String,
        label: String,
        #[serde(default)]
        scopes: Vec<String>,
        #[serde(default)]
        days: Option<u32>,
    },
    /// The operator's validity extended to `days` from now.
    Renew {
        key: String,
        #[serde(default)]
        days: Option<u32>,
    },
    /// New governance keys and threshold: who signs the identity's later revisions.
    Rotate { governance: Vec<String>, threshold: u32 },
    /// A commitment to the recovery key with this public key, kept offline: it can replace
    /// lost governance keys after a contest window.
    SetRecovery { key: String },
    /// The city's website domain, where it serves its key at `/.well-known/citymesh`; empty
    /// removes it.
    SetDomain { domain: String },
    /// The operator taken out of service: `retired` (its records stay valid) or `compromised`
    /// (its records from `since_ms`, default now, are refused and purged everywhere).
    RemoveOperator {
        key: String,
        reason: String,
        #[serde(default)]
        since_ms: Option<i64>,
    },
}

/// Why the identity could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    #[error("{0:?} is not a key: give the operator's public key as 64 hex characters")]
    BadKey(String),
    #[error("{0} is not an operator of this organisation; `citymesh identity show` lists them")]
    NoOperator(String),
    #[error("{0} is already an operator; renew it with `citymesh identity renew {0}`")]
    AlreadyOperator(String),
    #[error("{0} was revoked; a revoked key cannot sign again: make a new key for that person or machine")]
    Revoked(String),
    #[error("scope {0:?} is not a kind an operator signs; allowed: {1}")]
    BadScope(String, String),
    #[error("{0} days is not allowed: an operator key is valid for 1 to {MAX_DAYS} days (13 months)")]
    BadDays(u32),
    #[error(
        "{0:?} is not a reason; say retired (its earlier records stay valid) or compromised (its records from --since on are refused and purged)"
    )]
    BadReason(String),
    #[error("a label says who or what holds the key (\"Dewi's laptop\", \"backup server\"), 1 to 100 characters")]
    BadLabel,
    #[error("this node's key cannot remove itself; add another operator for the node first")]
    RemovingSelf,
    #[error("governance keys: {0}")]
    BadGovernance(String),
    #[error(
        "this organisation has no identity log with a recovery key; `citymesh identity recovery-key FILE` makes one"
    )]
    NoRecovery,
    #[error(
        "this is not the recovery key the identity committed to: check that the file is the one made by `identity recovery-key`"
    )]
    NotRecoveryKey,
    #[error("recovery phrase: {0}")]
    Phrase(String),
    #[error(
        "the identity is forked: two different revisions {0} were signed. Nothing changes until its governance keys settle it"
    )]
    Forked(u64),
    #[error("erasure: {0}")]
    Erase(String),
    #[error(
        "this node's key is an operator of the organisation, not one of its governance keys: change the identity (and renew this key) on the organisation's own node"
    )]
    OperatorOnly,
    #[error(
        "{0:?} is not a domain name: give the website's name, such as surabaya.go.id (letters, digits, '-' and dots)"
    )]
    BadDomain(String),
    #[error(transparent)]
    Author(#[from] AuthorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OrganisationError {
    /// Whether the fault is this node's (its store), not what was asked of it.
    pub fn is_internal(&self) -> bool {
        match self {
            OrganisationError::Store(_) => true,
            OrganisationError::Author(error) => error.is_internal(),
            _ => false,
        }
    }
}

/// What a change made.
#[derive(Debug, Clone)]
pub enum Changed {
    /// Signed by enough governance keys and stored.
    Stored(Record),
    /// Signed by `signed` of the `needed` governance keys: the officials must add theirs.
    Unsigned { record: Record, signed: usize, needed: u32 },
}

impl Changed {
    pub fn record(&self) -> &Record {
        match self {
            Changed::Stored(record) | Changed::Unsigned { record, .. } => record,
        }
    }
}

/// Signs the identity's next revision with `change` made, and stores it when this node's key
/// is enough to meet the threshold.
pub fn change(store: &Store, key: &Signer, change: Change, now_ms: i64) -> Result<Changed, OrganisationError> {
    if key.is_operator() {
        return Err(OrganisationError::OperatorOnly);
    }
    let own = key.key().publisher();
    let chain = store.identity(&key.publisher());
    let (number, mut body) = next_revision(chain.as_ref(), key, now_ms)?;
    match change {
        Change::AddOperator { key: operator, label, scopes, days } => {
            let operator = parse_key(&operator)?;
            if body.operators.iter().any(|held| held.key == operator) {
                return Err(OrganisationError::AlreadyOperator(record::to_hex(&operator)));
            }
            if revoked(&body, &operator) {
                return Err(OrganisationError::Revoked(record::to_hex(&operator)));
            }
            let label = label.trim().to_owned();
            if label.is_empty() || label.chars().count() > 100 {
                return Err(OrganisationError::BadLabel);
            }
            let scopes = scopes_of(scopes)?;
            body.operators.push(Operator { key: operator.to_vec(), scopes, expires_ms: expiry(now_ms, days)?, label });
        }
        Change::Renew { key: operator, days } => {
            let operator = parse_key(&operator)?;
            let expires_ms = expiry(now_ms, days)?;
            let held = body.operators.iter_mut().find(|held| held.key == operator);
            let held = held.ok_or_else(|| OrganisationError::NoOperator(record::to_hex(&operator)))?;
            held.expires_ms = expires_ms;
            // A key that signed every kind of its time signs the kinds added since (erasure).
            let mut every_older = scopable().filter(|kind| kind.format() <= crate::record::SIGNER_FORMAT);
            if every_older.all(|kind| held.scopes.iter().any(|scope| scope == kind.as_str())) {
                held.scopes = scopable().map(|kind| kind.as_str().to_owned()).collect();
            }
        }
        Change::SetDomain { domain } => body.domain = domain_name(&domain)?,
        Change::SetRecovery { key: recovery } => {
            let recovery = PublisherId(parse_key(&recovery)?);
            body.recovery_commitment = crate::identity::recovery_commitment(&recovery);
        }
        Change::Rotate { governance, threshold } => {
            let keys = governance_keys(&governance, threshold)?;
            if number == 1 && keys[0] != key.publisher().0 {
                let own = key.publisher();
                return Err(OrganisationError::BadGovernance(format!(
                    "the identity's first revision lists the organisation's own key first: start the list with {own}"
                )));
            }
            body.governance = keys;
            body.threshold = threshold;
        }
        Change::RemoveOperator { key: operator, reason, since_ms } => {
            let operator = parse_key(&operator)?;
            if operator == own.0 {
                return Err(OrganisationError::RemovingSelf);
            }
            if reason != RETIRED && reason != COMPROMISED {
                return Err(OrganisationError::BadReason(reason));
            }
            let index = body.operators.iter().position(|held| held.key == operator);
            let index = index.ok_or_else(|| OrganisationError::NoOperator(record::to_hex(&operator)))?;
            let removed = body.operators.remove(index);
            let since_ms = since_ms.unwrap_or(now_ms).max(0);
            body.revoked.push(Revocation { operator: Some(removed), reason, since_ms });
        }
    }
    // Every operator carried forward must be valid at the new revision's time: the node's own
    // key is renewed when it is due, and a key that has expired is retired from its expiry.
    for operator in &mut body.operators {
        if operator.key == own.0 && operator.expires_ms - now_ms < RENEW_WITHIN_DAYS * DAY_MS {
            operator.expires_ms = now_ms + i64::from(DEFAULT_DAYS) * DAY_MS;
        }
    }
    let (expired, valid): (Vec<Operator>, Vec<Operator>) =
        body.operators.drain(..).partition(|operator| operator.expires_ms <= now_ms);
    body.operators = valid;
    for operator in expired {
        let since_ms = operator.expires_ms.max(0);
        body.revoked.push(Revocation { operator: Some(operator), reason: RETIRED.to_owned(), since_ms });
    }
    sign_revision(store, key, number, body, now_ms)
}

/// Renews this node's own key when the identity has a log and the key expires within
/// [`RENEW_WITHIN_DAYS`]; returns the revision, stored or (when the officials must sign it)
/// not, if one was signed.
pub fn renew_if_due(store: &Store, key: &Signer, now_ms: i64) -> Result<Option<Changed>, OrganisationError> {
    let Some(chain) = store.identity(&key.publisher()) else { return Ok(None) };
    let signing = key.key().publisher();
    let own = chain.head().body.operators.iter().find(|operator| operator.key == signing.0);
    let due = own.is_some_and(|own| own.expires_ms - now_ms < RENEW_WITHIN_DAYS * DAY_MS);
    if !due || chain.fork().is_some() {
        return Ok(None);
    }
    if key.is_operator() {
        return Err(OrganisationError::OperatorOnly);
    }
    let renew = Change::Renew { key: signing.to_string(), days: Some(DEFAULT_DAYS) };
    change(store, key, renew, now_ms).map(Some)
}

/// The number and body of the next revision: the head's body naming the head as previous, or,
/// with no log yet, the founding revision of the node's key.
fn next_revision(chain: Option<&Chain>, key: &Signer, now_ms: i64) -> Result<(u64, Identity), OrganisationError> {
    let Some(chain) = chain else {
        return Ok((1, founding(key.publisher(), now_ms, OWN_LABEL)));
    };
    if chain.fork().is_some() {
        return Err(OrganisationError::Forked(chain.head().revision));
    }
    let head = chain.head();
    let mut body = head.body.clone();
    body.previous = head.id.0.to_vec();
    Ok((head.revision + 1, body))
}

/// Signs the revision with this node's key and stores it if that meets the threshold of the
/// revision before it (of its own governance keys, for a first revision).
fn sign_revision(
    store: &Store,
    key: &Signer,
    revision: u64,
    body: Identity,
    now_ms: i64,
) -> Result<Changed, OrganisationError> {
    let organisation = key.publisher();
    let before = store.identity(&organisation).map(|chain| chain.head().body.clone());
    let governing = before.as_ref().unwrap_or(&body);
    let signed = usize::from(governing.governance.iter().any(|held| held[..] == organisation.0));
    let needed = governing.threshold;
    let draft = Draft {
        kind: Kind::Identity,
        slug: IDENTITY_SLUG.to_owned(),
        revision,
        timestamp_ms: now_ms,
        body: Body::Identity(body),
    };
    let record = key.sign(draft).map_err(AuthorError::from)?;
    if signed < needed as usize {
        return Ok(Changed::Unsigned { record, signed, needed });
    }
    author::store_signed(store, &record)?;
    Ok(Changed::Stored(record))
}

/// Governance keys as given (comma-separated or several), checked with their threshold.
fn governance_keys(governance: &[String], threshold: u32) -> Result<Vec<Vec<u8>>, OrganisationError> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for text in governance.iter().flat_map(|text| text.split(',')).map(str::trim).filter(|t| !t.is_empty()) {
        let parsed = parse_key(text)?.to_vec();
        if keys.contains(&parsed) {
            return Err(OrganisationError::BadGovernance(format!("{text} is listed twice")));
        }
        keys.push(parsed);
    }
    if keys.is_empty() || keys.len() > crate::identity::MAX_GOVERNANCE {
        let allowed = crate::identity::MAX_GOVERNANCE;
        return Err(OrganisationError::BadGovernance(format!("give 1 to {allowed} keys, not {}", keys.len())));
    }
    if threshold == 0 || threshold as usize > keys.len() {
        let problem = format!("the threshold must be 1 to {} (the number of keys), not {threshold}", keys.len());
        return Err(OrganisationError::BadGovernance(problem));
    }
    Ok(keys)
}

fn parse_key(text: &str) -> Result<[u8; 32], OrganisationError> {
    parse_hex32(text.trim()).map_err(|_| OrganisationError::BadKey(text.to_owned()))
}

fn revoked(body: &Identity, key: &[u8; 32]) -> bool {
    body.revoked.iter().any(|revoked| revoked.operator.as_ref().is_some_and(|operator| operator.key == key))
}

fn scopes_of(scopes: Vec<String>) -> Result<Vec<String>, OrganisationError> {
    let allowed = || scopable().map(Kind::as_str).collect::<Vec<_>>().join(", ");
    if scopes.is_empty() {
        return Ok(scopable().map(|kind| kind.as_str().to_owned()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for scope in scopes.iter().flat_map(|scope| scope.split(',')).map(str::trim).filter(|scope| !scope.is_empty()) {
        let kind = scope.parse::<Kind>().ok().filter(|kind| *kind != Kind::Identity);
        let Some(kind) = kind else { return Err(OrganisationError::BadScope(scope.to_owned(), allowed())) };
        if !out.iter().any(|held| held == kind.as_str()) {
            out.push(kind.as_str().to_owned());
        }
    }
    Ok(out)
}

fn expiry(now_ms: i64, days: Option<u32>) -> Result<i64, OrganisationError> {
    let days = days.unwrap_or(DEFAULT_DAYS);
    if days == 0 || days > MAX_DAYS {
        return Err(OrganisationError::BadDays(days));
    }
    Ok(now_ms + i64::from(days) * DAY_MS)
}
