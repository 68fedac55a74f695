//! The identity in words, as pages, the API and the CLI show it: the log's head, its
//! history with the partners that witnessed each revision, erasures, the domain, and what needs
//! someone's attention.

use serde::{Deserialize, Serialize};

use super::witness::{self, ConflictRow, ErasureRow, WitnessRow};
use super::{DAY_MS, DomainCheck, RENEW_WITHIN_DAYS};
use crate::identity::scopable;
use crate::record::{self, PublisherId};
use crate::store::{Store, StoreError};
use crate::view::Names;

/// The identity as pages and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    pub organisation: String,
    /// `none` (the key alone signs: no log yet), `active` or `forked`.
    pub state: String,
    pub revision: u64,
    pub threshold: u32,
    pub governance: Vec<String>,
    pub operators: Vec<OperatorRow>,
    pub revoked: Vec<RevokedRow>,
    /// Every revision held, oldest first.
    pub history: Vec<RevisionRow>,
    /// The other side of a fork, while there is one.
    pub fork: Option<RevisionRow>,
    /// Whether a recovery key was committed to.
    pub recovery: bool,
    /// The website domain the identity names, if any.
    #[serde(default)]
    pub domain: String,
    /// What this node found when it last checked the domain (a running node checks).
    #[serde(default)]
    pub domain_check: Option<DomainCheck>,
    /// A recovery waiting out its contest window.
    #[serde(default)]
    pub pending_recovery: Option<PendingRecovery>,
    /// Revisions partners saw that differ from the ones held here with the same numbers: a
    /// fork this node has not been sent.
    #[serde(default)]
    pub conflicts: Vec<ConflictRow>,
    /// The organisation's erasures, newest first, with the partners' nodes that did them.
    #[serde(default)]
    pub erasures: Vec<ErasureRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRecovery {
    pub id: String,
    pub revision: u64,
    pub received_ms: i64,
    /// When it replaces the governance keys unless they sign a revision first.
    pub applies_ms: i64,
    pub governance: Vec<String>,
    pub threshold: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub key: String,
    pub label: String,
    pub scopes: Vec<String>,
    pub expires_ms: i64,
}

impl OperatorRow {
    /// What the key may sign, in words: "every kind", or the kinds listed.
    pub fn scopes_in_words(&self) -> String {
        match self.scopes.len() >= scopable().count() {
            true => "every kind".to_owned(),
            false => self.scopes.join(", "),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokedRow {
    pub key: String,
    pub label: String,
    pub reason: String,
    pub since_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionRow {
    pub id: String,
    pub revision: u64,
    pub timestamp_ms: i64,
    pub signers: Vec<String>,
    /// The partners' receipts of it, earliest first.
    #[serde(default)]
    pub witnesses: Vec<WitnessRow>,
}

/// The organisation's identity in words, with its partners' receipts.
pub fn view(store: &Store, names: &Names, organisation: PublisherId) -> Result<IdentityView, StoreError> {
    let chain = store.identity(&organisation);
    let mut receipts = witness::receipts(store, names, organisation, chain.as_ref())?;
    let erasures = witness::erasures(store, organisation, &mut receipts)?;
    let Some(chain) = chain else {
        return Ok(IdentityView {
            organisation: organisation.to_string(),
            state: "none".to_owned(),
            revision: 0,
            threshold: 1,
            governance: vec![organisation.to_string()],
            operators: Vec::new(),
            revoked: Vec::new(),
            history: Vec::new(),
            fork: None,
            recovery: false,
            domain: String::new(),
            domain_check: None,
            pending_recovery: None,
            conflicts: Vec::new(),
            erasures,
        });
    };
    let head = &chain.head().body;
    let mut row = |revision: &crate::identity::Revision| RevisionRow {
        id: revision.id.to_string(),
        revision: revision.revision,
        timestamp_ms: revision.timestamp_ms,
        signers: revision.signers.iter().map(ToString::to_string).collect(),
        witnesses: receipts.seen.remove(&revision.id).unwrap_or_default(),
    };
    Ok(IdentityView {
        organisation: organisation.to_string(),
        state: if chain.fork().is_some() { "forked" } else { "active" }.to_owned(),
        revision: chain.head().revision,
        threshold: head.threshold,
        governance: head.governance.iter().map(|key| record::to_hex(key)).collect(),
        operators: head
            .operators
            .iter()
            .map(|operator| OperatorRow {
                key: record::to_hex(&operator.key),
                label: operator.label.clone(),
                scopes: operator.scopes.clone(),
                expires_ms: operator.expires_ms,
            })
            .collect(),
        revoked: head
            .revoked
            .iter()
            .map(|revoked| {
                let operator = revoked.operator.clone().unwrap_or_default();
                RevokedRow {
                    key: record::to_hex(&operator.key),
                    label: operator.label,
                    reason: revoked.reason.clone(),
                    since_ms: revoked.since_ms,
                }
            })
            .collect(),
        history: chain.revisions().iter().map(&mut row).collect(),
        fork: chain.fork().map(&mut row),
        recovery: !head.recovery_commitment.is_empty(),
        domain: head.domain.clone(),
        domain_check: None,
        pending_recovery: chain.pending().map(|pending| PendingRecovery {
            id: pending.revision.id.to_string(),
            revision: pending.revision.revision,
            received_ms: pending.received_ms,
            applies_ms: pending.applies_ms(),
            governance: pending.revision.body.governance.iter().map(|key| record::to_hex(key)).collect(),
            threshold: pending.revision.body.threshold,
        }),
        conflicts: receipts.conflicts,
        erasures,
    })
}

/// What needs someone's attention in the identity, in plain words, most urgent first: a fork,
/// this node's key not signing for the organisation or about to expire, operators that expired.
pub fn warnings(view: &IdentityView, node_key: &PublisherId, now_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    if view.state == "none" {
        return out;
    }
    if let Some(pending) = &view.pending_recovery {
        out.push(format!(
            "A RECOVERY IS PENDING: revision {}, signed with the recovery key, replaces the governance keys with {} \
             new ones ({} to sign) on {}. If your officials did not ask for it, have {} of them sign any change \
             before then (for example `citymesh identity renew {}`): that cancels it.",
            pending.revision,
            pending.governance.len(),
            pending.threshold,
            crate::view::format_time(pending.applies_ms),
            view.threshold,
            node_key
        ));
    }
    out.extend(fork_warnings(view, "Partners accept nothing new"));
    let own = node_key.to_string();
    match view.operators.iter().find(|operator| operator.key == own) {
        None => out.push(
            "This node's key is not an operator of the organisation: partners refuse what it signs. Add it with \
             `citymesh identity add-operator`."
                .to_owned(),
        ),
        Some(operator) if operator.expires_ms - now_ms < RENEW_WITHIN_DAYS * DAY_MS => out.push(format!(
            "This node's key expires on {}; after that partners refuse what it signs. Renew it: `citymesh identity renew {own}`.",
            crate::view::format_time(operator.expires_ms)
        )),
        Some(_) => {}
    }
    for operator in view.operators.iter().filter(|operator| operator.expires_ms <= now_ms && operator.key != own) {
        out.push(format!(
            "{} ({}) expired on {}: renew it or remove it.",
            operator.label,
            &operator.key[..16],
            crate::view::format_time(operator.expires_ms)
        ));
    }
    out
}

/// What needs a reader's attention in another organisation's identity: a fork, seen here or by
/// a partner, and a pending recovery.
pub fn others_warnings(view: &IdentityView) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(pending) = &view.pending_recovery {
        out.push(format!(
            "A recovery is pending: revision {}, signed with the organisation's recovery key, replaces its governance \
             keys on {} unless they sign a revision before then. Check with the organisation that it asked for it.",
            pending.revision,
            crate::view::format_time(pending.applies_ms)
        ));
    }
    out.extend(fork_warnings(view, "Nothing new is accepted"));
    out
}

/// A fork held here (`refusing` says who refuses what follows), then each revision a partner
/// witnessed that differs from the one held here.
fn fork_warnings(view: &IdentityView, refusing: &str) -> Vec<String> {
    let held = view.fork.iter().map(|fork| {
        format!(
            "The identity is forked: two different revisions {} were signed. {refusing} from this organisation until \
             {} of its governance keys sign a revision that settles it.",
            fork.revision, view.threshold
        )
    });
    held.chain(view.conflicts.iter().map(conflict_warning)).collect()
}

fn conflict_warning(conflict: &ConflictRow) -> String {
    format!(
        "{}'s node holds a different revision {} of this identity ({}…) than this node does: two revisions with one \
         number were signed, a fork. This node freezes the identity when it receives the other revision.",
        conflict.witness.name,
        conflict.revision,
        &conflict.id[..16]
    )
}
