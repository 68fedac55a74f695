//! Why the identity log (or an erasure its organisation signed) refuses a revision or a record.

/// Why a revision or a record was refused by the identity log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("rule identity-field: {field}: {problem}")]
    Field { field: String, problem: String },
    #[error(
        "rule identity-founder: an identity's first revision must list the organisation's key first among its governance keys"
    )]
    Founder,
    #[error("rule identity-threshold: {signed} of the governance keys signed; {needed} must")]
    Threshold { signed: usize, needed: usize },
    #[error(
        "rule identity-previous: revision {revision} names {named} as the revision before it, but that is not revision {before} of this identity"
    )]
    Previous { revision: u64, named: String, before: u64 },
    #[error(
        "rule identity-recovery-pending: a recovery of this identity is already waiting out its contest window; a second one is not taken"
    )]
    RecoveryPending,
    #[error(
        "rule identity-recovery-cancelled: this recovery of revision {revision} was cancelled by a revision its governance keys signed"
    )]
    RecoveryCancelled { revision: u64 },
    #[error("rule identity-time: the revision is dated before the revision it follows")]
    Time,
    #[error(
        "rule identity-revoked-kept: revision {revision} drops the revocation of key {key}; revocations are carried forward for ever"
    )]
    RevocationDropped { revision: u64, key: String },
    #[error(
        "rule identity-removed: operator {key} is missing from the new revision; remove an operator by revoking it (retired or compromised)"
    )]
    RemovedSilently { key: String },
    #[error(
        "rule identity-stale: identity revision {revision} is older than the revision {head} this node holds, and is not part of its history"
    )]
    Stale { revision: u64, head: u64 },
    #[error(
        "rule identity-unknown: identity revision {revision} follows revisions this node does not hold yet (it holds up to {head})"
    )]
    Unknown { revision: u64, head: u64 },
    #[error(
        "rule identity-frozen: the identity is forked (two revisions {revision} were signed); nothing new is accepted until the governance keys sign a revision that settles it"
    )]
    Frozen { revision: u64 },
    #[error("rule operator: key {key} does not sign for this organisation")]
    NotOperator { key: String },
    #[error("rule operator-scope: key {key} may sign {scopes}, not {kind}")]
    OutOfScope { key: String, kind: &'static str, scopes: String },
    #[error("rule operator-expiry: key {key} expired at {expires_ms} ms, before this record was signed")]
    Expired { key: String, expires_ms: i64 },
    #[error("rule operator-revoked: key {key} was revoked ({reason}) from {since_ms} ms on")]
    Revoked { key: String, reason: String, since_ms: i64 },
    #[error(
        "rule identity-missing: the record is signed by {key} for an organisation whose identity this node does not hold yet"
    )]
    NoIdentity { key: String },
    #[error("rule erased: its publisher erased this revision (erasure {erasure}); its body is not taken in again")]
    Erased { erasure: String },
}

impl IdentityError {
    /// The rule's name, as `proto/README.md` §21 gives it.
    pub fn rule(&self) -> &'static str {
        match self {
            IdentityError::Field { .. } => "identity-field",
            IdentityError::Founder => "identity-founder",
            IdentityError::Threshold { .. } => "identity-threshold",
            IdentityError::Previous { .. } => "identity-previous",
            IdentityError::Time => "identity-time",
            IdentityError::RecoveryPending => "identity-recovery-pending",
            IdentityError::RecoveryCancelled { .. } => "identity-recovery-cancelled",
            IdentityError::RevocationDropped { .. } => "identity-revoked-kept",
            IdentityError::RemovedSilently { .. } => "identity-removed",
            IdentityError::Stale { .. } => "identity-stale",
            IdentityError::Unknown { .. } => "identity-unknown",
            IdentityError::Frozen { .. } => "identity-frozen",
            IdentityError::NotOperator { .. } => "operator",
            IdentityError::OutOfScope { .. } => "operator-scope",
            IdentityError::Expired { .. } => "operator-expiry",
            IdentityError::Revoked { .. } => "operator-revoked",
            IdentityError::NoIdentity { .. } => "identity-missing",
            IdentityError::Erased { .. } => "erased",
        }
    }

    /// Whether the node may take the record once it holds more of the identity's revisions.
    pub fn awaits_revisions(&self) -> bool {
        matches!(self, IdentityError::Unknown { .. } | IdentityError::NoIdentity { .. })
    }

    /// Whether whoever sent the revision or record is to blame. Not when this node is missing
    /// something (revisions it has not received yet) or the organisation forked itself.
    pub fn is_senders_fault(&self) -> bool {
        !matches!(
            self,
            IdentityError::Stale { .. }
                | IdentityError::Unknown { .. }
                | IdentityError::Frozen { .. }
                | IdentityError::NoIdentity { .. }
                | IdentityError::RecoveryPending
                | IdentityError::RecoveryCancelled { .. }
                | IdentityError::Erased { .. }
        )
    }
}
