//! Partners and the blocklist: adding a partner from an invite code, removing one, blocking
//! and unblocking publishers, and the signed `partnership` records that say so publicly. The
//! node's API comes here, and so does the CLI when no node runs; the caller then applies the
//! new policy, gossips the records returned and dials the partner's addresses.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::author::now_ms;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::invite::{InviteCode, InviteError};
use crate::record::{Body, Draft, Key, Kind, PublisherId, Record, RecordError, Signer, parse_hex32, to_hex};
use crate::store::{Store, StoreError};
use crate::trust::{BlockEntry, HiddenEntry, PartnerEntry, Policy, PolicyKind, TrustInputs};
use crate::wire::{Partnership, Tombstone};

/// Why a partner or block could not be changed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error(transparent)]
    Invite(#[from] InviteError),
    #[error("this is your own invite code; paste the code of the city you want to partner with")]
    Own,
    #[error(
        "{0:?} is not a publisher key: expected 64 hex characters (`citymesh partner list` and `citymesh list` show keys)"
    )]
    BadKey(String),
    #[error("{0} is not a partner added by invite code; `citymesh partner list` shows the partners")]
    NotPartner(String),
    #[error("{0} is a partner through trust.partners in config.toml; remove it there and restart the node")]
    Configured(String),
    #[error("{0} is blocked; unblock it first (`citymesh unblock {0}`)")]
    Blocked(String),
    #[error("you cannot block your own publisher key")]
    BlockOwn,
    #[error(
        "no record of publisher {0} is held and it is no partner: check the key (`citymesh list` shows publishers)"
    )]
    Unknown(String),
    #[error("{0} is not blocked; `citymesh status` lists the blocked publishers")]
    NotBlocked(String),
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:#}")]
    Files(#[from] anyhow::Error),
    #[error(transparent)]
    Signed(#[from] crate::author::AuthorError),
}

impl From<crate::author::NotInitialised> for PartnerError {
    fn from(error: crate::author::NotInitialised) -> Self {
        PartnerError::Files(error.into())
    }
}

fn publisher_key(text: &str) -> Result<[u8; 32], PartnerError> {
    parse_hex32(text.trim()).map_err(|_| PartnerError::BadKey(text.trim().to_owned()))
}

/// Who names whom: for every publisher, the partners its current partnership records name.
pub type Graph = HashMap<[u8; 32], Vec<[u8; 32]>>;

/// Who `publisher` names as partners in its current partnership records, for every publisher.
pub fn partnership_graph(store: &Store) -> Result<Graph, StoreError> {
    Ok(graph_of(&store.heads(Some(Kind::Partnership))?))
}

/// [`partnership_graph`] from the partnership heads (withdrawn ones name nobody).
pub fn graph_of(heads: &[Record]) -> Graph {
    let mut graph = Graph::new();
    for head in heads {
        if let Ok(Body::Partnership(partnership)) = head.parse_body()
            && let Ok(partner) = <[u8; 32]>::try_from(partnership.partner.as_slice())
        {
            graph.entry(head.publisher().0).or_default().push(partner);
        }
    }
    graph
}

/// The node's policy now, from its settings, `partners.json` and the partnership records held.
pub fn policy(data: &DataDir, config: &Config, store: &Store, own: PublisherId) -> anyhow::Result<Policy> {
    let file = data.trust_file()?;
    let kind = PolicyKind::parse(file.policy.as_deref().unwrap_or(&config.trust.policy)).map_err(anyhow::Error::msg)?;
    let inputs = TrustInputs { kind, own, configured: &config.trust.partners, file: &file };
    let graph = match kind {
        PolicyKind::Partners { hops } if hops > 0 => partnership_graph(store)?,
        _ => HashMap::new(),
    };
    Ok(Policy::build(&inputs, |publisher| graph.get(publisher).cloned().unwrap_or_default()))
}

/// A partner added.
#[derive(Debug)]
pub struct Added {
    pub entry: PartnerEntry,
    /// The partnership record signed now, unless an earlier one still stands.
    pub record: Option<Record>,
}

/// Signs the next revision of our partnership record for `partner` (a tombstone to end it).
fn sign_partnership(
    store: &Store,
    key: &Signer,
    partner: &[u8; 32],
    end: bool,
) -> Result<Option<Record>, PartnerError> {
    let slug = to_hex(partner);
    let head = store.head(&Key { publisher: key.publisher(), kind: Kind::Partnership, slug: slug.clone() })?;
    let standing = head.as_ref().is_some_and(|head| !head.is_tombstone());
    if standing != end {
        return Ok(None);
    }
    let body = if end {
        Body::Tombstone(Tombstone { reason: "partnership ended".to_owned() })
    } else {
        Body::Partnership(Partnership { partner: partner.to_vec() })
    };
    let revision = head.map_or(1, |head| head.revision() + 1);
    let draft = Draft { kind: Kind::Partnership, slug, revision, timestamp_ms: now_ms(), body };
    let record = key.sign(draft)?;
    crate::author::store_signed(store, &record)?;
    Ok(Some(record))
}

/// Makes the invite's publisher a partner (or updates its addresses and label) and signs a
/// partnership record naming it.
pub fn add(data: &DataDir, store: &Store, key: &Signer, code: &str, label: &str) -> Result<Added, PartnerError> {
    let invite = InviteCode::decode(code)?;
    if invite.publisher == key.publisher() {
        return Err(PartnerError::Own);
    }
    let mut file = data.trust_file()?;
    if file.is_blocked(&invite.publisher.0) {
        return Err(PartnerError::Blocked(invite.publisher_hex()));
    }
    let entry = PartnerEntry {
        publisher: invite.publisher_hex(),
        name: invite.name.clone(),
        label: label.trim().to_owned(),
        peer_id: invite.peer_id.clone(),
        addresses: invite.addresses.clone(),
        added_ms: now_ms(),
    };
    file.partners.retain(|partner| partner.publisher != entry.publisher);
    file.partners.push(entry.clone());
    let record = sign_partnership(store, key, &invite.publisher.0, false)?;
    data.write_trust_file(&file)?;
    Ok(Added { entry, record })
}

/// Makes a publisher whose partnership record names this one a partner in return, and signs a
/// partnership record naming it. There is no invite code, so no address: its node is met when
/// it connects, as it does, holding this node's address.
pub fn accept(data: &DataDir, store: &Store, key: &Signer, publisher: &str) -> Result<Added, PartnerError> {
    let partner = publisher_key(publisher)?;
    let hex = to_hex(&partner);
    if partner == key.publisher().0 {
        return Err(PartnerError::Own);
    }
    let mut file = data.trust_file()?;
    if file.is_blocked(&partner) {
        return Err(PartnerError::Blocked(hex));
    }
    if file.partner(&partner).is_none() && store.publisher_items(&partner)?.is_empty() {
        return Err(PartnerError::Unknown(hex));
    }
    let entry = PartnerEntry {
        publisher: hex.clone(),
        name: crate::view::Names::new(store).of(&PublisherId(partner)),
        label: String::new(),
        peer_id: String::new(),
        addresses: Vec::new(),
        added_ms: now_ms(),
    };
    if file.partner(&partner).is_none() {
        file.partners.push(entry.clone());
    }
    file.ignored.retain(|ignored| *ignored != hex);
    let record = sign_partnership(store, key, &partner, false)?;
    data.write_trust_file(&file)?;
    Ok(Added { entry, record })
}

/// Stops asking whether to partner with a publisher that named this one.
pub fn ignore(data: &DataDir, publisher: &str) -> Result<String, PartnerError> {
    let hex = to_hex(&publisher_key(publisher)?);
    let mut file = data.trust_file()?;
    if !file.ignored.contains(&hex) {
        file.ignored.push(hex.clone());
        data.write_trust_file(&file)?;
    }
    Ok(hex)
}

/// Publishers whose current partnership records name `own` and that are not partners here,
/// nor blocked, nor ignored: invitations to partner in return.
pub fn invitations(
    data: &DataDir,
    config: &Config,
    graph: &Graph,
    own: PublisherId,
) -> anyhow::Result<Vec<PublisherId>> {
    let file = data.trust_file()?;
    let configured = |publisher: &[u8; 32]| {
        config.trust.partners.iter().any(|text| parse_hex32(text).ok().as_ref() == Some(publisher))
    };
    let mut out: Vec<PublisherId> = graph
        .iter()
        .filter(|&(publisher, named)| {
            named.contains(&own.0)
                && file.partner(publisher).is_none()
                && !configured(publisher)
                && !file.is_blocked(publisher)
                && !file.ignored.contains(&to_hex(publisher))
        })
        .map(|(publisher, _)| PublisherId(*publisher))
        .collect();
    out.sort();
    Ok(out)
}

/// Hides a note (`slug`) or, with an empty slug, everything of a publisher from this node's
/// pages; its records are kept and still shared.
pub fn hide(data: &DataDir, store: &Store, publisher: &str, slug: &str) -> Result<String, PartnerError> {
    let key = publisher_key(publisher)?;
    let hex = to_hex(&key);
    if store.publisher_items(&key)?.is_empty() {
        return Err(PartnerError::Unknown(hex));
    }
    let mut file = data.trust_file()?;
    if !file.hidden.iter().any(|entry| entry.publisher == hex && entry.slug == slug) {
        file.hidden.push(HiddenEntry { publisher: hex.clone(), slug: slug.to_owned(), added_ms: now_ms() });
        data.write_trust_file(&file)?;
    }
    Ok(hex)
}

/// Shows again what [`hide`] hid.
pub fn unhide(data: &DataDir, publisher: &str, slug: &str) -> Result<String, PartnerError> {
    let hex = to_hex(&publisher_key(publisher)?);
    let mut file = data.trust_file()?;
    file.hidden.retain(|entry| !(entry.publisher == hex && entry.slug == slug));
    data.write_trust_file(&file)?;
    Ok(hex)
}

/// Ends a partnership made by invite code; returns the withdrawal of our partnership record.
pub fn remove(
    data: &DataDir,
    config: &Config,
    store: &Store,
    key: &Signer,
    publisher: &str,
) -> Result<Option<Record>, PartnerError> {
    let partner = publisher_key(publisher)?;
    let hex = to_hex(&partner);
    let mut file = data.trust_file()?;
    if file.partner(&partner).is_none() {
        if config.trust.partners.iter().any(|text| parse_hex32(text).ok() == Some(partner)) {
            return Err(PartnerError::Configured(hex));
        }
        return Err(PartnerError::NotPartner(hex));
    }
    file.partners.retain(|entry| entry.publisher != hex);
    let record = sign_partnership(store, key, &partner, true)?;
    data.write_trust_file(&file)?;
    Ok(record)
}

/// Refuses a publisher's records from now on, partner or not.
pub fn block(data: &DataDir, store: &Store, own: PublisherId, publisher: &str) -> Result<String, PartnerError> {
    let blocked = publisher_key(publisher)?;
    let hex = to_hex(&blocked);
    if blocked == own.0 {
        return Err(PartnerError::BlockOwn);
    }
    let mut file = data.trust_file()?;
    if file.is_blocked(&blocked) {
        return Ok(hex);
    }
    if file.partner(&blocked).is_none() && store.publisher_items(&blocked)?.is_empty() {
        return Err(PartnerError::Unknown(hex));
    }
    file.blocked.push(BlockEntry { publisher: hex.clone(), added_ms: now_ms() });
    data.write_trust_file(&file)?;
    Ok(hex)
}

/// Sets the trust policy (`open`, `partners` or `partners+N`), overriding `trust.policy`.
pub fn set_policy(data: &DataDir, policy: &str) -> Result<PolicyKind, PartnerError> {
    let kind = PolicyKind::parse(policy.trim())
        .map_err(|error| PartnerError::Policy(error.replace("trust.policy", "the policy")))?;
    let mut file = data.trust_file()?;
    file.policy = Some(kind.to_string());
    data.write_trust_file(&file)?;
    Ok(kind)
}

pub fn unblock(data: &DataDir, publisher: &str) -> Result<String, PartnerError> {
    let blocked = publisher_key(publisher)?;
    let hex = to_hex(&blocked);
    let mut file = data.trust_file()?;
    if !file.is_blocked(&blocked) {
        return Err(PartnerError::NotBlocked(hex));
    }
    file.blocked.retain(|block| block.publisher != hex);
    data.write_trust_file(&file)?;
    Ok(hex)
}

/// One partner, as `partner list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerView {
    pub publisher: String,
    pub name: String,
    pub label: String,
    /// `invite` or `config`.
    pub source: String,
    /// Whether the partner's own partnership record names us too.
    pub mutual: bool,
    pub blocked: bool,
    /// Records of the partner held here (every revision).
    pub records: usize,
    pub peer_id: String,
    pub addresses: Vec<String>,
}

/// Every partner, from invites first, then from config.toml.
pub fn list(
    data: &DataDir,
    config: &Config,
    store: &Store,
    graph: &Graph,
    own: PublisherId,
) -> anyhow::Result<Vec<PartnerView>> {
    let file = data.trust_file()?;
    let names = crate::view::Names::new(store);
    let mut out = Vec::new();
    let view = |publisher: [u8; 32], source: &str, entry: Option<&PartnerEntry>| -> anyhow::Result<PartnerView> {
        let name = match (names.known(&PublisherId(publisher)), entry) {
            (Some(name), _) => name.to_owned(),
            (None, Some(entry)) if !entry.name.is_empty() => entry.name.clone(),
            (None, _) => names.of(&PublisherId(publisher)),
        };
        Ok(PartnerView {
            publisher: to_hex(&publisher),
            name,
            label: entry.map(|entry| entry.label.clone()).unwrap_or_default(),
            source: source.to_owned(),
            mutual: graph.get(&publisher).is_some_and(|named| named.contains(&own.0)),
            blocked: file.is_blocked(&publisher),
            records: store.publisher_items(&publisher)?.len(),
            peer_id: entry.map(|entry| entry.peer_id.clone()).unwrap_or_default(),
            addresses: entry.map(|entry| entry.addresses.clone()).unwrap_or_default(),
        })
    };
    for entry in &file.partners {
        out.push(view(publisher_key(&entry.publisher)?, "invite", Some(entry))?);
    }
    for text in &config.trust.partners {
        let publisher = publisher_key(text)?;
        if file.partner(&publisher).is_none() {
            out.push(view(publisher, "config", None)?);
        }
    }
    Ok(out)
}
