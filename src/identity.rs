//! Organisation identities (DESIGN.md §9): the signed log that says which keys sign for an
//! organisation, as a pure state machine. A [`Chain`] takes revisions one at a time, each
//! already checked by its signatures (whose keys signed it, `Revision::signers`), and decides
//! whether it extends the log, forks it, or is refused; it then says whether a record signed by
//! a given key, of a given kind, at a given time is the organisation's ([`Chain::authorise`]).
//! A [`Book`] holds the chains of many organisations and gives the same answer for publishers
//! with no log, whose one key is themselves (every format 1 to 3 publisher).
//!
//! Revisions travel in header format 4 (`proto/README.md` §21). No I/O and no clock: revisions
//! carry the times they are judged by, and the node its clock (recovery, `recovery.rs`).

mod error;
mod recovery;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use crate::record::{Kind, PublisherId, RecordId};
use crate::wire::{Identity, Operator, Revocation};

pub use error::IdentityError;
pub use recovery::{Pending, RECOVERY_WINDOW_MS, recovery_commitment};

/// Longest an operator key may be valid from the revision that lists it: 13 months (396 days).
pub const MAX_OPERATOR_MS: i64 = 396 * 24 * 60 * 60 * 1000;
/// Governance keys at most.
pub const MAX_GOVERNANCE: usize = 16;
/// Operator keys at most, in one revision.
pub const MAX_OPERATORS: usize = 64;
/// Longest operator label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// Why a key was revoked: its later records are refused.
pub const RETIRED: &str = "retired";
/// Why a key was revoked: its later records are refused and purged where held.
pub const COMPROMISED: &str = "compromised";

/// One revision of an organisation's identity log, with the keys whose signatures on it were
/// found valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub id: RecordId,
    /// The organisation: its first revision's first governance key, for ever.
    pub organisation: PublisherId,
    pub revision: u64,
    pub timestamp_ms: i64,
    /// Keys whose signatures on this revision verified, each once.
    pub signers: Vec<PublisherId>,
    pub body: Identity,
}

impl Revision {
    /// The revision a verified identity record carries; `None` for any other record.
    pub fn of(record: &crate::record::Record) -> Option<Revision> {
        // Checked first: every record a node stores passes here, and most are no revision.
        (record.kind() == Kind::Identity).then_some(())?;
        Some(Revision {
            id: record.id(),
            organisation: record.publisher(),
            revision: record.revision(),
            timestamp_ms: record.timestamp_ms(),
            signers: record.signers(),
            body: record.identity()?,
        })
    }
}

/// What applying a revision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// It is the identity's new head.
    Head,
    /// It has the same predecessor as the head: the identity is now forked and frozen.
    Fork,
    /// It follows one side of a fork, which it settles: that side's line is the identity's.
    Settled,
    /// This node holds it already.
    Known,
    /// A recovery signed by the recovery key: it waits out the contest window
    /// ([`RECOVERY_WINDOW_MS`]) before it replaces the governance keys.
    Pending,
}

impl Applied {
    /// The word `proto/test-vectors.json` uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Head => "head",
            Applied::Fork => "fork",
            Applied::Settled => "settled",
            Applied::Known => "known",
            Applied::Pending => "pending",
        }
    }
}

/// One organisation's identity log: the line of accepted revisions, and a fork if one was seen.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Revision n at index n − 1.
    line: Vec<Revision>,
    fork: Option<Revision>,
    /// A recovery waiting out its contest window.
    pending: Option<Pending>,
}

impl Chain {
    /// Starts a chain from its first revision.
    pub fn start(first: Revision) -> Result<Chain, IdentityError> {
        check_first(&first)?;
        Ok(Chain { line: vec![first], fork: None, pending: None })
    }

    /// The newest accepted revision.
    pub fn head(&self) -> &Revision {
        self.line.last().expect("a chain always has its first revision")
    }

    /// Every accepted revision, oldest first.
    pub fn revisions(&self) -> &[Revision] {
        &self.line
    }

    /// The other side of a fork, while the identity is frozen.
    pub fn fork(&self) -> Option<&Revision> {
        self.fork.as_ref()
    }

    /// [`Chain::apply_received`] for a revision received at its own time (tests, vectors).
    pub fn apply(&mut self, next: Revision) -> Result<Applied, IdentityError> {
        let received_ms = next.timestamp_ms;
        self.apply_received(next, received_ms)
    }

    /// Applies a revision: it extends the line when it follows the head and has the threshold
    /// of the head's governance keys; it forks the identity when it has the head's predecessor
    /// and that predecessor's threshold; it settles a fork when it follows either side with
    /// that side's threshold.
    ///
    /// A revision that follows the head signed by the recovery key instead of the threshold is
    /// held as pending from `received_ms`, this node's clock when it first received it (see
    /// [`Chain::settle`]); a revision with the threshold cancels a pending recovery.
    pub fn apply_received(&mut self, next: Revision, received_ms: i64) -> Result<Applied, IdentityError> {
        let head = self.head().revision;
        let pending = self.pending.as_ref().map(|pending| &pending.revision);
        if self.line.iter().chain(&self.fork).chain(pending).any(|held| held.id == next.id) {
            return Ok(Applied::Known);
        }
        if next.revision == head + 1 {
            let forked = self.fork.is_some();
            let settles = self.fork.as_ref().is_some_and(|fork| fork.id.0[..] == next.body.previous[..]);
            let signed = check_threshold(&self.head().body, &next.signers).is_ok();
            if !forked && !signed && recovery::is_recovery(self.head(), &next) {
                return self.hold(next, received_ms);
            }
            let before = if settles { self.fork.as_ref() } else { self.line.last() };
            let before = before.expect("a chain always has its first revision");
            check_follows(before, &next)?;
            if settles {
                let fork = self.fork.take().expect("checked above");
                *self.line.last_mut().expect("a chain always has its first revision") = fork;
            }
            self.fork = None;
            // The governance keys signed: a pending recovery is cancelled.
            self.pending = None;
            self.line.push(next);
            return Ok(if forked { Applied::Settled } else { Applied::Head });
        }
        if next.revision == head && self.fork.is_none() {
            let n = self.line.len();
            if n >= 2
                && recovery::is_recovery(&self.line[n - 2], &next)
                && check_threshold(&self.line[n - 2].body, &next.signers).is_err()
            {
                return Err(IdentityError::RecoveryCancelled { revision: next.revision });
            }
            match self.line.len() {
                1 => check_first(&next)?,
                n => check_follows(&self.line[n - 2], &next)?,
            }
            self.fork = Some(next);
            return Ok(Applied::Fork);
        }
        if next.revision > head {
            return Err(IdentityError::Unknown { revision: next.revision, head });
        }
        Err(IdentityError::Stale { revision: next.revision, head })
    }

    /// Whether a record of `kind` signed by `signer` at `timestamp_ms` is the organisation's:
    /// the signer must be an operator, with the kind in its scopes (any operator signs a
    /// receipt) and not expired, in the revision in force at that time (the newest dated at or
    /// before it; the first for anything older), and not revoked from that time on in the head.
    pub fn authorise(&self, signer: &PublisherId, kind: Kind, timestamp_ms: i64) -> Result<(), IdentityError> {
        if self.fork.is_some() {
            return Err(IdentityError::Frozen { revision: self.head().revision });
        }
        if let Some(revoked) = self.head().body.revoked.iter().find(|revoked| is_key(revoked_key(revoked), signer))
            && timestamp_ms >= revoked.since_ms
        {
            return Err(IdentityError::Revoked {
                key: signer.to_string(),
                reason: revoked.reason.clone(),
                since_ms: revoked.since_ms,
            });
        }
        let in_force =
            self.line.iter().rev().find(|revision| revision.timestamp_ms <= timestamp_ms).unwrap_or(&self.line[0]);
        let body = &in_force.body;
        let operator = body
            .operators
            .iter()
            .find(|operator| is_key(&operator.key, signer))
            .or_else(|| {
                body.revoked.iter().filter_map(|revoked| revoked.operator.as_ref()).find(|o| is_key(&o.key, signer))
            })
            .ok_or_else(|| IdentityError::NotOperator { key: signer.to_string() })?;
        if kind != Kind::Receipt && !operator.scopes.iter().any(|scope| scope == kind.as_str()) {
            let scopes = operator.scopes.join(", ");
            return Err(IdentityError::OutOfScope { key: signer.to_string(), kind: kind.as_str(), scopes });
        }
        if timestamp_ms > operator.expires_ms {
            return Err(IdentityError::Expired { key: signer.to_string(), expires_ms: operator.expires_ms });
        }
        Ok(())
    }
}

/// The identity logs this node holds, by organisation.
#[derive(Debug, Default)]
pub struct Book {
    chains: HashMap<PublisherId, Chain>,
}

impl Book {
    /// The organisation's chain, if its log is held.
    pub fn chain(&self, organisation: &PublisherId) -> Option<&Chain> {
        self.chains.get(organisation)
    }

    /// The organisations whose logs are held.
    pub fn organisations(&self) -> impl Iterator<Item = &PublisherId> {
        self.chains.keys()
    }

    /// A book holding copies of these organisations' chains only: what a batch of records is
    /// judged against before it is stored, and merged back ([`Book::merge`]) once it is.
    pub fn overlay<'a>(&self, organisations: impl IntoIterator<Item = &'a PublisherId>) -> Book {
        let chains = organisations
            .into_iter()
            .filter_map(|organisation| Some((*organisation, self.chains.get(organisation)?.clone())))
            .collect();
        Book { chains }
    }

    /// Takes the chains of `other` in place of its own.
    pub fn merge(&mut self, other: Book) {
        self.chains.extend(other.chains);
    }

    /// [`Book::apply_received`] for a revision received at its own time (tests, vectors).
    pub fn apply(&mut self, revision: Revision) -> Result<Applied, IdentityError> {
        let received_ms = revision.timestamp_ms;
        self.apply_received(revision, received_ms)
    }

    /// Applies a revision received at `received_ms` (by this node's clock) to its
    /// organisation's chain, starting the chain with a first one.
    pub fn apply_received(&mut self, revision: Revision, received_ms: i64) -> Result<Applied, IdentityError> {
        match self.chains.get_mut(&revision.organisation) {
            Some(chain) => chain.apply_received(revision, received_ms),
            None if revision.revision == 1 => {
                let organisation = revision.organisation;
                self.chains.insert(organisation, Chain::start(revision)?);
                Ok(Applied::Head)
            }
            None => Err(IdentityError::Unknown { revision: revision.revision, head: 0 }),
        }
    }

    /// Whether a record is the organisation's (see [`Chain::authorise`]). A publisher with no
    /// log is an identity whose one key is itself: its own key signs everything, nothing else.
    pub fn authorise(
        &self,
        organisation: &PublisherId,
        signer: &PublisherId,
        kind: Kind,
        timestamp_ms: i64,
    ) -> Result<(), IdentityError> {
        match self.chains.get(organisation) {
            Some(chain) => chain.authorise(signer, kind, timestamp_ms),
            None if signer == organisation => Ok(()),
            None => Err(IdentityError::NoIdentity { key: signer.to_string() }),
        }
    }

    /// Of the records held for an organisation (id, signer, kind, timestamp), those its log
    /// now refuses for good: what a node purges after a revision revokes a key. A record is
    /// kept while the identity is frozen; the fork's settlement decides.
    pub fn refused<'a>(
        &'a self,
        organisation: &'a PublisherId,
        held: impl IntoIterator<Item = (RecordId, PublisherId, Kind, i64)> + 'a,
    ) -> impl Iterator<Item = RecordId> + 'a {
        held.into_iter().filter_map(move |(id, signer, kind, timestamp_ms)| {
            match self.authorise(organisation, &signer, kind, timestamp_ms) {
                Err(error) if error.is_senders_fault() => Some(id),
                _ => None,
            }
        })
    }
}

/// The first revision of a key's identity when a data directory from before identities is
/// migrated: the key is its only governance key (threshold 1) and its only operator, for
/// every kind, for [`MAX_OPERATOR_MS`]. Nothing already signed changes meaning.
pub fn founding(key: PublisherId, timestamp_ms: i64, label: &str) -> Identity {
    Identity {
        previous: Vec::new(),
        governance: vec![key.0.to_vec()],
        threshold: 1,
        operators: vec![Operator {
            key: key.0.to_vec(),
            scopes: scopable().map(|kind| kind.as_str().to_owned()).collect(),
            expires_ms: timestamp_ms.saturating_add(MAX_OPERATOR_MS),
            label: label.to_owned(),
        }],
        recovery_commitment: Vec::new(),
        revoked: Vec::new(),
        domain: String::new(),
    }
}

/// Checks a first revision: no predecessor, the organisation's key first among the
/// governance keys, and the threshold of its own governance keys.
fn check_first(first: &Revision) -> Result<(), IdentityError> {
    if !first.body.previous.is_empty() {
        return Err(field("previous", "a first revision names no revision before it"));
    }
    check_body(first)?;
    if !is_key(&first.body.governance[0], &first.organisation) {
        return Err(IdentityError::Founder);
    }
    check_threshold(&first.body, &first.signers)
}

/// Checks a revision against the one it follows.
fn check_follows(before: &Revision, next: &Revision) -> Result<(), IdentityError> {
    check_follows_unsigned(before, next)?;
    check_threshold(&before.body, &next.signers)
}

/// Checks a revision against the one it follows by every rule but who signed it.
fn check_follows_unsigned(before: &Revision, next: &Revision) -> Result<(), IdentityError> {
    if before.id.0[..] != next.body.previous[..] {
        let named = crate::hex::to_hex(&next.body.previous);
        return Err(IdentityError::Previous { revision: next.revision, named, before: before.revision });
    }
    check_body(next)?;
    if next.timestamp_ms < before.timestamp_ms {
        return Err(IdentityError::Time);
    }
    let now_revoked: HashSet<&[u8]> = next.body.revoked.iter().map(revoked_key).collect();
    if let Some(dropped) = before.body.revoked.iter().map(revoked_key).find(|key| !now_revoked.contains(key)) {
        return Err(IdentityError::RevocationDropped { revision: next.revision, key: crate::hex::to_hex(dropped) });
    }
    let now_operators: HashSet<&[u8]> = next.body.operators.iter().map(|operator| &operator.key[..]).collect();
    if let Some(removed) = before
        .body
        .operators
        .iter()
        .map(|operator| &operator.key[..])
        .find(|key| !now_operators.contains(key) && !now_revoked.contains(key))
    {
        return Err(IdentityError::RemovedSilently { key: crate::hex::to_hex(removed) });
    }
    Ok(())
}

/// Whether enough of `body`'s governance keys are among the signers.
fn check_threshold(body: &Identity, signers: &[PublisherId]) -> Result<(), IdentityError> {
    let signed = body.governance.iter().filter(|key| signers.iter().any(|signer| is_key(key, signer))).count();
    let needed = body.threshold as usize;
    if signed < needed {
        return Err(IdentityError::Threshold { signed, needed });
    }
    Ok(())
}

/// The field rules of an `Identity` body.
fn check_body(revision: &Revision) -> Result<(), IdentityError> {
    let body = &revision.body;
    if revision.revision > 1 && body.previous.len() != 32 {
        return Err(field("previous", "a later revision names the id (32 bytes) of the revision before it"));
    }
    if body.governance.is_empty() || body.governance.len() > MAX_GOVERNANCE {
        return Err(field(
            "governance",
            &format!("1 to {MAX_GOVERNANCE} keys are allowed, not {}", body.governance.len()),
        ));
    }
    distinct_keys("governance", body.governance.iter().map(Vec::as_slice))?;
    if body.threshold == 0 || body.threshold as usize > body.governance.len() {
        let allowed = format!(
            "it must be 1 to {} (the number of governance keys), not {}",
            body.governance.len(),
            body.threshold
        );
        return Err(field("threshold", &allowed));
    }
    if body.operators.len() > MAX_OPERATORS {
        return Err(field("operators", &format!("at most {MAX_OPERATORS} operators, not {}", body.operators.len())));
    }
    let revoked = body.revoked.iter().map(revoked_key);
    distinct_keys("operators", body.operators.iter().map(|operator| &operator.key[..]).chain(revoked))?;
    for (index, operator) in body.operators.iter().enumerate() {
        check_operator(&format!("operators[{index}]"), operator, revision.timestamp_ms)?;
    }
    if !body.recovery_commitment.is_empty() && body.recovery_commitment.len() != 32 {
        return Err(field("recovery_commitment", "it is the SHA-256 (32 bytes) of the recovery key, or empty"));
    }
    for (index, revoked) in body.revoked.iter().enumerate() {
        let path = format!("revoked[{index}]");
        let Some(operator) = &revoked.operator else {
            return Err(field(&format!("{path}.operator"), "a revocation names the operator it revokes"));
        };
        check_key(&format!("{path}.operator.key"), &operator.key)?;
        if revoked.reason != RETIRED && revoked.reason != COMPROMISED {
            let problem = format!("{:?} is not a reason; allowed: {RETIRED}, {COMPROMISED}", revoked.reason);
            return Err(field(&format!("{path}.reason"), &problem));
        }
        if revoked.since_ms < 0 {
            return Err(field(&format!("{path}.since_ms"), "a time in milliseconds since 1970, not negative"));
        }
    }
    Ok(())
}

fn check_operator(path: &str, operator: &Operator, timestamp_ms: i64) -> Result<(), IdentityError> {
    check_key(&format!("{path}.key"), &operator.key)?;
    let allowed = scopable().map(Kind::as_str).collect::<Vec<_>>().join(", ");
    if operator.scopes.is_empty() {
        return Err(field(&format!("{path}.scopes"), &format!("name at least one kind; allowed: {allowed}")));
    }
    for (index, scope) in operator.scopes.iter().enumerate() {
        let known = scope.parse::<Kind>().is_ok_and(|kind| kind != Kind::Identity);
        if !known || operator.scopes[..index].contains(scope) {
            let problem = format!("{scope:?} is not a kind an operator signs, or is named twice; allowed: {allowed}");
            return Err(field(&format!("{path}.scopes[{index}]"), &problem));
        }
    }
    if operator.expires_ms <= timestamp_ms || operator.expires_ms > timestamp_ms.saturating_add(MAX_OPERATOR_MS) {
        let problem =
            "it must be after the revision's time and at most 396 days (13 months) after it; renew keys yearly";
        return Err(field(&format!("{path}.expires_ms"), problem));
    }
    if operator.label.chars().count() > MAX_LABEL_CHARS {
        return Err(field(&format!("{path}.label"), &format!("at most {MAX_LABEL_CHARS} characters")));
    }
    Ok(())
}

/// The kinds an operator may be given: every kind but identity, which only governance keys
/// sign, and receipt, which every operator signs (what its node saw, not what it says).
pub fn scopable() -> impl Iterator<Item = Kind> {
    Kind::ALL.iter().copied().filter(|kind| !matches!(kind, Kind::Identity | Kind::Receipt))
}

fn check_key(path: &str, key: &[u8]) -> Result<(), IdentityError> {
    if key.len() != 32 {
        return Err(field(path, &format!("a key is 32 bytes, not {}", key.len())));
    }
    Ok(())
}

fn distinct_keys<'a>(name: &str, keys: impl Iterator<Item = &'a [u8]>) -> Result<(), IdentityError> {
    let mut seen = HashSet::new();
    for (index, key) in keys.enumerate() {
        check_key(&format!("{name}[{index}]"), key)?;
        if !seen.insert(key) {
            return Err(field(
                &format!("{name}[{index}]"),
                "this key is listed twice (or is both an operator and revoked)",
            ));
        }
    }
    Ok(())
}

fn revoked_key(revoked: &Revocation) -> &[u8] {
    revoked.operator.as_ref().map_or(&[][..], |operator| &operator.key[..])
}

fn is_key(bytes: &[u8], key: &PublisherId) -> bool {
    bytes == key.0
}

fn field(field: &str, problem: &str) -> IdentityError {
    IdentityError::Field { field: field.to_owned(), problem: problem.to_owned() }
}
