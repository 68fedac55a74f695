//! Whose records a node keeps. The policy is applied where records arrive (gossip validation
//! and sync) and decides what a sync asks a peer for, so records a node would refuse are never
//! offered to it. Pure: no I/O.

use std::collections::BTreeSet;

use crate::config::TrustConfig;
use crate::record::{PublisherId, parse_hex32};

/// The policies `trust.policy` may name.
pub const POLICIES: [&str; 2] = ["open", "partners"];

/// Which publishers' records are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Any publisher's.
    All,
    /// Only these publishers'.
    Publishers(BTreeSet<[u8; 32]>),
}

impl Scope {
    pub fn contains(&self, publisher: &[u8; 32]) -> bool {
        match self {
            Scope::All => true,
            Scope::Publishers(publishers) => publishers.contains(publisher),
        }
    }
}

/// A node's trust policy: `open` keeps any valid record, `partners` only its partners' and
/// its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    scope: Scope,
}

impl Policy {
    /// Keeps every valid record.
    pub fn open() -> Policy {
        Policy { scope: Scope::All }
    }

    /// Reads `[trust]`; the message names the setting and what it allows.
    pub fn from_config(config: &TrustConfig) -> Result<Policy, String> {
        let mut partners = BTreeSet::new();
        for text in &config.partners {
            let key = parse_hex32(text).map_err(|_| {
                format!("trust.partners: {text:?} is not a publisher key; expected 64 hex characters (0-9, a-f)")
            })?;
            partners.insert(key);
        }
        match config.policy.as_str() {
            "open" => Ok(Policy::open()),
            "partners" => Ok(Policy { scope: Scope::Publishers(partners) }),
            other => Err(format!("trust.policy is {other:?}; allowed: {}", POLICIES.join(", "))),
        }
    }

    /// The same policy, also keeping `own`'s records (a node always keeps its own).
    pub fn keeping(mut self, own: PublisherId) -> Policy {
        if let Scope::Publishers(publishers) = &mut self.scope {
            publishers.insert(own.0);
        }
        self
    }

    pub fn accepts(&self, publisher: &[u8; 32]) -> bool {
        self.scope.contains(publisher)
    }

    /// What a sync asks peers for.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partners_policy_keeps_partners_and_its_own_only() {
        let config = TrustConfig { policy: "partners".to_owned(), partners: vec!["ab".repeat(32)] };
        let policy = Policy::from_config(&config).unwrap().keeping(PublisherId([7; 32]));
        assert!(policy.accepts(&[0xab; 32]) && policy.accepts(&[7; 32]));
        assert!(!policy.accepts(&[8; 32]));
        assert!(Policy::open().keeping(PublisherId([7; 32])).accepts(&[8; 32]));
    }
}
