//! Recovery (DESIGN.md §9, `proto/README.md` §21): when the governance keys are lost, the
//! recovery key, whose SHA-256 the identity committed to, signs a revision that replaces them.
//! A node applies it only after a contest window (7 days by its own clock from when it first
//! received it); during the window a revision signed by the old threshold cancels it, so a
//! thief of the recovery key cannot take over an organisation whose officials are still there.

use sha2::{Digest, Sha256};

use super::{Applied, Book, Chain, IdentityError, Revision, check_follows_unsigned};
use crate::record::PublisherId;

/// How long a recovery waits before it replaces the governance keys, by the receiving node's
/// clock: 7 days.
pub const RECOVERY_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A recovery waiting out its contest window.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub revision: Revision,
    /// When this node first received it.
    pub received_ms: i64,
}

impl Pending {
    /// When it takes effect unless cancelled.
    pub fn applies_ms(&self) -> i64 {
        self.received_ms.saturating_add(RECOVERY_WINDOW_MS)
    }
}

/// The commitment an identity names for a recovery key: SHA-256 of its public key.
pub fn recovery_commitment(key: &PublisherId) -> Vec<u8> {
    Sha256::digest(key.0).to_vec()
}

/// Whether `next` is signed by the recovery key `head` committed to.
pub(super) fn is_recovery(head: &Revision, next: &Revision) -> bool {
    let commitment = &head.body.recovery_commitment;
    commitment.len() == 32 && next.signers.iter().any(|signer| recovery_commitment(signer) == *commitment)
}

impl Chain {
    /// The recovery waiting out its window, if any.
    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// Holds a recovery revision: it must follow the head by every rule but the threshold.
    pub(super) fn hold(&mut self, next: Revision, received_ms: i64) -> Result<Applied, IdentityError> {
        if self.pending.is_some() {
            return Err(IdentityError::RecoveryPending);
        }
        check_follows_unsigned(self.head(), &next)?;
        self.pending = Some(Pending { revision: next, received_ms });
        Ok(Applied::Pending)
    }

    /// Makes a pending recovery the head once its window has passed at `now_ms`; answers
    /// whether it did.
    pub fn settle(&mut self, now_ms: i64) -> bool {
        match &self.pending {
            Some(pending) if now_ms >= pending.applies_ms() => {
                let pending = self.pending.take().expect("matched above");
                self.line.push(pending.revision);
                true
            }
            _ => false,
        }
    }
}

impl Book {
    /// Applies every recovery whose window has passed at `now_ms`; answers the organisations
    /// whose governance keys it replaced.
    pub fn settle(&mut self, now_ms: i64) -> Vec<PublisherId> {
        let mut settled = Vec::new();
        for (organisation, chain) in &mut self.chains {
            if chain.settle(now_ms) {
                settled.push(*organisation);
            }
        }
        settled
    }
}
