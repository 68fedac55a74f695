//! Whose records a node keeps. The policy is applied where records arrive (gossip validation
//! and sync) and decides what a sync asks a peer for, so records a node would refuse are never
//! offered to it.
//!
//! - `open`: any valid record.
//! - `partners`: the records of the node's partners and its own.
//! - `partners+N`: also the partners of its partners, found through signed `partnership`
//!   records, up to N hops.
//!
//! A blocked publisher is refused under every policy, partner or not. Partners come from
//! `trust.partners` in config.toml and from invite codes (`citymesh partner add`), which are
//! kept with the blocklist in `partners.json` in the data directory. Pure: the caller reads
//! the files and the store.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::record::{PublisherId, parse_hex32};

/// Hops `partners+N` may reach, at most.
pub const MAX_HOPS: u32 = 3;

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

/// The policy named by `trust.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Open,
    /// Partners, and partners of partners up to this many hops.
    Partners {
        hops: u32,
    },
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyKind::Open => f.write_str("open"),
            PolicyKind::Partners { hops: 0 } => f.write_str("partners"),
            PolicyKind::Partners { hops } => write!(f, "partners+{hops}"),
        }
    }
}

impl PolicyKind {
    pub fn parse(text: &str) -> Result<PolicyKind, String> {
        let invalid =
            || format!("trust.policy is {text:?}; allowed: open, partners, or partners+N with N from 1 to {MAX_HOPS}");
        match text {
            "open" => Ok(PolicyKind::Open),
            "partners" => Ok(PolicyKind::Partners { hops: 0 }),
            _ => {
                let hops = text.strip_prefix("partners+").and_then(|n| n.parse::<u32>().ok()).ok_or_else(invalid)?;
                if (1..=MAX_HOPS).contains(&hops) { Ok(PolicyKind::Partners { hops }) } else { Err(invalid()) }
            }
        }
    }
}

/// A partner added from an invite code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerEntry {
    /// The partner's publisher key, hex.
    pub publisher: String,
    /// The name the invite gave.
    pub name: String,
    /// This node's own label for it.
    #[serde(default)]
    pub label: String,
    pub peer_id: String,
    pub addresses: Vec<String>,
    pub added_ms: i64,
}

/// A blocked publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEntry {
    pub publisher: String,
    pub added_ms: i64,
}

/// `partners.json`: the partners added by invite code, the blocklist, and the policy when it
/// was changed on a running node (`citymesh policy`), which overrides `trust.policy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default)]
    pub partners: Vec<PartnerEntry>,
    #[serde(default)]
    pub blocked: Vec<BlockEntry>,
    /// Publishers whose partnership records name this node, and whose invitation was ignored
    /// (their records still arrive under the policy; the page just stops asking).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// Notes and publishers hidden from this node's pages: kept and shared, not shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<HiddenEntry>,
}

/// A note (a publisher's slug) or, with no slug, everything of a publisher, hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenEntry {
    pub publisher: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub slug: String,
    pub added_ms: i64,
}

impl TrustFile {
    /// The local names this node gave its partners, by publisher (partners it gave none are
    /// left out).
    pub fn petnames(&self) -> std::collections::HashMap<crate::record::PublisherId, String> {
        self.partners
            .iter()
            .filter(|entry| !entry.label.trim().is_empty())
            .filter_map(|entry| {
                let key = crate::record::parse_hex32(&entry.publisher).ok()?;
                Some((crate::record::PublisherId(key), entry.label.trim().to_owned()))
            })
            .collect()
    }

    /// Parses the file; the message names what is wrong.
    pub fn parse(text: &str) -> Result<TrustFile, String> {
        let file: TrustFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if let Some(policy) = &file.policy {
            PolicyKind::parse(policy).map_err(|error| error.replace("trust.policy", "policy"))?;
        }
        for (index, partner) in file.partners.iter().enumerate() {
            parse_hex32(&partner.publisher)
                .map_err(|_| format!("partners[{index}].publisher is not a publisher key (64 hex characters)"))?;
        }
        for (index, block) in file.blocked.iter().enumerate() {
            parse_hex32(&block.publisher)
                .map_err(|_| format!("blocked[{index}].publisher is not a publisher key (64 hex characters)"))?;
        }
        Ok(file)
    }

    pub fn partner(&self, publisher: &[u8; 32]) -> Option<&PartnerEntry> {
        self.partners.iter().find(|partner| parse_hex32(&partner.publisher).ok().as_ref() == Some(publisher))
    }

    pub fn is_blocked(&self, publisher: &[u8; 32]) -> bool {
        self.blocked.iter().any(|block| parse_hex32(&block.publisher).ok().as_ref() == Some(publisher))
    }
}

/// Everything a policy is computed from.
pub struct TrustInputs<'a> {
    pub kind: PolicyKind,
    pub own: PublisherId,
    /// Partners from config.toml.
    pub configured: &'a [String],
    pub file: &'a TrustFile,
}

/// A node's trust policy at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    kind: PolicyKind,
    scope: Scope,
    /// Direct partners (from config and invites), without the blocked ones.
    partners: BTreeSet<[u8; 32]>,
    blocked: BTreeSet<[u8; 32]>,
}

impl Policy {
    /// Keeps every valid record.
    pub fn open() -> Policy {
        Policy { kind: PolicyKind::Open, scope: Scope::All, partners: BTreeSet::new(), blocked: BTreeSet::new() }
    }

    /// Computes the policy. `partners_of` gives the publishers a publisher names in its current
    /// (not withdrawn) partnership records; it is asked only under `partners+N`.
    pub fn build(inputs: &TrustInputs, partners_of: impl Fn(&[u8; 32]) -> Vec<[u8; 32]>) -> Policy {
        let blocked: BTreeSet<[u8; 32]> =
            inputs.file.blocked.iter().filter_map(|block| parse_hex32(&block.publisher).ok()).collect();
        let partners: BTreeSet<[u8; 32]> = inputs
            .configured
            .iter()
            .map(String::as_str)
            .chain(inputs.file.partners.iter().map(|partner| partner.publisher.as_str()))
            .filter_map(|text| parse_hex32(text).ok())
            .filter(|key| !blocked.contains(key) && *key != inputs.own.0)
            .collect();
        let scope = match inputs.kind {
            PolicyKind::Open => Scope::All,
            PolicyKind::Partners { hops } => {
                let mut kept = partners.clone();
                let mut frontier: Vec<[u8; 32]> = partners.iter().copied().collect();
                for _ in 0..hops {
                    let mut next = Vec::new();
                    for publisher in &frontier {
                        for named in partners_of(publisher) {
                            if !blocked.contains(&named) && kept.insert(named) {
                                next.push(named);
                            }
                        }
                    }
                    frontier = next;
                }
                kept.insert(inputs.own.0);
                Scope::Publishers(kept)
            }
        };
        Policy { kind: inputs.kind, scope, partners, blocked }
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    pub fn accepts(&self, publisher: &[u8; 32]) -> bool {
        !self.blocked.contains(publisher) && self.scope.contains(publisher)
    }

    /// What a sync asks peers for. Under `open` that is every publisher, blocked ones
    /// included (the scope cannot name exceptions); their records are dropped on arrival.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The partners (by invite or configuration), blocked ones included.
    pub fn partners(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.partners.iter()
    }

    pub fn is_partner(&self, publisher: &[u8; 32]) -> bool {
        self.partners.contains(publisher)
    }

    pub fn is_blocked(&self, publisher: &[u8; 32]) -> bool {
        self.blocked.contains(publisher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> String {
        crate::record::to_hex(&[n; 32])
    }

    fn file(partners: &[u8], blocked: &[u8]) -> TrustFile {
        let entry = |n: &u8| PartnerEntry {
            publisher: key(*n),
            name: format!("City {n}"),
            label: String::new(),
            peer_id: String::new(),
            addresses: Vec::new(),
            added_ms: 0,
        };
        TrustFile {
            policy: None,
            partners: partners.iter().map(entry).collect(),
            blocked: blocked.iter().map(|n| BlockEntry { publisher: key(*n), added_ms: 0 }).collect(),
            ..TrustFile::default()
        }
    }

    /// 1 names 2, 2 names 3, 3 names 4.
    fn chain(publisher: &[u8; 32]) -> Vec<[u8; 32]> {
        if (1..4).contains(&publisher[0]) { vec![[publisher[0] + 1; 32]] } else { Vec::new() }
    }

    fn policy(kind: &str, configured: &[String], file: &TrustFile) -> Policy {
        let inputs =
            TrustInputs { kind: PolicyKind::parse(kind).unwrap(), own: PublisherId([9; 32]), configured, file };
        Policy::build(&inputs, chain)
    }

    #[test]
    fn each_policy_keeps_exactly_its_publishers_and_the_blocklist_always_wins() {
        let file = file(&[1], &[]);
        let kept = |policy: &Policy| (1..=9).filter(|n| policy.accepts(&[*n; 32])).collect::<Vec<u8>>();
        assert_eq!(kept(&policy("open", &[], &file)), vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(kept(&policy("partners", &[], &file)), vec![1, 9]);
        assert_eq!(kept(&policy("partners+1", &[], &file)), vec![1, 2, 9]);
        assert_eq!(kept(&policy("partners+2", &[key(6)], &file)), vec![1, 2, 3, 6, 9]);
        // Blocking 2 cuts it and what lies beyond it, even though 1 names it.
        let blocked = self::file(&[1], &[2]);
        assert_eq!(kept(&policy("partners+3", &[], &blocked)), vec![1, 9]);
        assert_eq!(kept(&policy("open", &[], &blocked)), vec![1, 3, 4, 5, 6, 7, 8, 9]);
        // A blocked partner is no partner.
        let both = self::file(&[1], &[1]);
        assert_eq!(kept(&policy("partners", &[], &both)), vec![9]);
    }

    #[test]
    fn bad_settings_name_what_is_allowed() {
        for bad in ["friends", "partners+0", "partners+4", "partners+x", "partners+"] {
            let error = PolicyKind::parse(bad).unwrap_err();
            assert!(error.contains("open, partners, or partners+N"), "{error}");
        }
        let error = TrustFile::parse(r#"{"blocked": [{"publisher": "abc", "added_ms": 0}]}"#).unwrap_err();
        assert!(error.contains("blocked[0].publisher"), "{error}");
    }
}
