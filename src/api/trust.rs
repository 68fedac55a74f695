//! Routes for partners, the blocklist, the trust policy, invite codes, peers and the profile.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::params::organisation;
use super::{Answer, ApiError, answer, ok, published, write_request};
use crate::author::ProfileChanges;
use crate::node::{NodeHandle, PeerView};
use crate::trust::BlockEntry;

#[derive(Deserialize)]
pub(super) struct InviteQuery {
    /// Addresses to name instead of the ones the node listens on, comma-separated.
    addresses: Option<String>,
}

/// This node's invite code.
pub(super) async fn invite(State(node): State<NodeHandle>, Query(query): Query<InviteQuery>) -> Answer {
    let addresses = query
        .addresses
        .map(|list| list.split(',').map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned).collect());
    ok(&node.invite(addresses).await?)
}

pub(super) async fn partners(State(node): State<NodeHandle>) -> Answer {
    ok(&node.partners().await?)
}

/// What `GET /api/v1/peers` answers.
#[derive(Serialize, Deserialize)]
pub struct Peers {
    pub peers: Vec<PeerView>,
}

/// Connected peers, each with its last sync, strikes and gossip score.
pub(super) async fn peers(State(node): State<NodeHandle>) -> Answer {
    ok(&Peers { peers: node.peers().await? })
}

/// What `GET /api/v1/blocks` answers.
#[derive(Serialize, Deserialize)]
pub struct Blocks {
    pub blocked: Vec<BlockEntry>,
}

pub(super) async fn blocks(State(node): State<NodeHandle>) -> Answer {
    ok(&Blocks { blocked: node.blocks().await? })
}

const PUBLISHER_SHAPE: &str = "{\"publisher\": \"<64 hex characters>\"}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherRequest {
    publisher: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyRequest {
    policy: String,
}

/// What changing the policy answers.
#[derive(Serialize, Deserialize)]
pub struct PolicySet {
    pub policy: String,
}

/// Changes the trust policy now; it is kept in partners.json and overrides trust.policy.
pub(super) async fn set_policy(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let shape = "{\"policy\": \"open | partners | partners+N\"}";
    let request: PolicyRequest = write_request(&node, &headers, &body, shape)?;
    ok(&PolicySet { policy: node.set_policy(request.policy).await?.to_string() })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddPartner {
    code: String,
    #[serde(default)]
    label: String,
}

/// Adds a partner from its invite code: keeps it, signs and gossips a partnership record,
/// dials the addresses and syncs.
pub(super) async fn add_partner(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: AddPartner =
        write_request(&node, &headers, &body, "{\"code\": \"citymesh1...\", \"label\": \"...\"}")?;
    answer(StatusCode::CREATED, &node.add_partner(request.code, request.label).await?)
}

/// What ending a partnership answers: the withdrawal of its partnership record, if one was signed.
#[derive(Serialize, Deserialize)]
pub struct PartnerRemoved {
    pub withdrawn: Option<String>,
}

pub(super) async fn remove_partner(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: PublisherRequest = write_request(&node, &headers, &body, PUBLISHER_SHAPE)?;
    let withdrawal = node.remove_partner(request.publisher).await?;
    ok(&PartnerRemoved { withdrawn: withdrawal.map(|record| record.id().to_string()) })
}

/// What blocking answers.
#[derive(Serialize, Deserialize)]
pub struct Blocked {
    pub blocked: String,
}

/// What unblocking answers.
#[derive(Serialize, Deserialize)]
pub struct Unblocked {
    pub unblocked: String,
}

pub(super) async fn block(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: PublisherRequest = write_request(&node, &headers, &body, PUBLISHER_SHAPE)?;
    ok(&Blocked { blocked: node.block(request.publisher).await? })
}

pub(super) async fn unblock(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: PublisherRequest = write_request(&node, &headers, &body, PUBLISHER_SHAPE)?;
    ok(&Unblocked { unblocked: node.unblock(request.publisher).await? })
}

/// Signs the next revision of the node's profile with the fields given.
pub(super) async fn set_profile(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let changes: ProfileChanges =
        write_request(&node, &headers, &body, "{\"name\": \"...\", \"website\": \"...\", ...}")?;
    published(&node.set_profile(changes).await?)
}

#[derive(Deserialize)]
pub(super) struct IdentityQuery {
    /// Another organisation's key, 64 hex characters; this node's own when absent.
    organisation: Option<String>,
}

/// An organisation's identity in words, with its partners' receipts: this node's own, or
/// `?organisation=KEY`'s.
pub(super) async fn identity(
    State(node): State<NodeHandle>,
    query: Result<Query<IdentityQuery>, QueryRejection>,
) -> Answer {
    let Query(query) =
        query.map_err(|rejection| ApiError::invalid(format!("{}; parameters: organisation", rejection.body_text())))?;
    ok(&node.identity(organisation(query.organisation)?).await?)
}

/// What `POST /api/v1/identity` answers: the revision signed, and, when it still needs other
/// officials' signatures, its envelope in hex with how many have signed and how many must.
#[derive(Serialize, Deserialize)]
pub struct IdentityChanged {
    pub id: String,
    pub revision: u64,
    pub stored: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsigned: Option<Unsigned>,
}

#[derive(Serialize, Deserialize)]
pub struct Unsigned {
    pub envelope_hex: String,
    pub signed: usize,
    pub needed: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EraseRequest {
    ids: Vec<String>,
    #[serde(default)]
    reason: String,
}

/// What `POST /api/v1/erasures` answers.
#[derive(Serialize, Deserialize)]
pub struct Erasure {
    pub id: String,
    /// How many revisions it lists.
    pub records: usize,
}

/// Signs and gossips an erasure of superseded revisions of this organisation's records.
pub(super) async fn erase(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let shape = "{\"ids\": [\"64 hex characters\", ...], \"reason\": \"...\"}";
    let request: EraseRequest = write_request(&node, &headers, &body, shape)?;
    let records = request.ids.len();
    let erasure = node.erase(request.ids, request.reason).await?;
    answer(StatusCode::CREATED, &Erasure { id: erasure.id().to_string(), records })
}

/// Signs the identity's next revision with the change asked for.
pub(super) async fn change_identity(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let shape = "{\"change\": \"add-operator\", \"key\": \"...\", \"label\": \"...\"}";
    let change: crate::organisation::Change = write_request(&node, &headers, &body, shape)?;
    let changed = node.change_identity(change).await?;
    let record = changed.record();
    let (status, unsigned) = match &changed {
        crate::organisation::Changed::Stored(_) => (StatusCode::CREATED, None),
        crate::organisation::Changed::Unsigned { record, signed, needed } => {
            let envelope_hex = crate::hex::to_hex(&record.envelope_bytes());
            (StatusCode::ACCEPTED, Some(Unsigned { envelope_hex, signed: *signed, needed: *needed }))
        }
    };
    let changed = IdentityChanged {
        id: record.id().to_string(),
        revision: record.revision(),
        stored: unsigned.is_none(),
        unsigned,
    };
    answer(status, &changed)
}
