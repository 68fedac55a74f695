//! Routes for partners, the blocklist, invite codes and the profile.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, ApiError, authorise, blocking, gossip, parse_json};
use crate::author::{self, Previous, ProfileChanges};
use crate::invite::InviteCode;
use crate::node::Shared;
use crate::partners::{self, PartnerError};
use crate::view::Names;

impl From<PartnerError> for ApiError {
    fn from(error: PartnerError) -> Self {
        match error {
            PartnerError::NotPartner(_) | PartnerError::NotBlocked(_) | PartnerError::Unknown(_) => {
                Self::new(StatusCode::NOT_FOUND, "not-found", error)
            }
            PartnerError::Configured(_) | PartnerError::Blocked(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error)
            }
            PartnerError::Store(_) | PartnerError::Files(_) => Self::internal(error),
            PartnerError::Policy(_) => Self::new(StatusCode::BAD_REQUEST, "invalid", error),
            _ => Self::new(StatusCode::BAD_REQUEST, "invalid", error),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct InviteQuery {
    /// Addresses to name instead of the ones the node listens on, comma-separated.
    addresses: Option<String>,
}

/// This node's invite code.
pub(super) async fn invite(State(shared): State<Arc<Shared>>, Query(query): Query<InviteQuery>) -> Answer {
    let net = shared.net.status().await.map_err(ApiError::internal)?;
    let suffix = format!("/p2p/{}", net.peer_id);
    let addresses: Vec<String> = match query.addresses {
        Some(list) => list.split(',').map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned).collect(),
        None => net.listen_addrs,
    };
    let mut named = Vec::new();
    for address in addresses {
        crate::net::parse_addr(&address, "address")
            .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("{error:#}")))?;
        named.push(if address.ends_with(&suffix) { address } else { format!("{address}{suffix}") });
    }
    let publisher = shared.key.publisher();
    let name = blocking(&shared, move |shared| {
        let names = Names::load(&shared.store).map_err(ApiError::internal)?;
        Ok(names.known(&publisher).unwrap_or_default())
    })
    .await?;
    let code = InviteCode { publisher, peer_id: net.peer_id.clone(), addresses: named.clone(), name: name.clone() };
    Ok(Json(json!({
        "code": code.encode(),
        "publisher": publisher.to_string(),
        "peer_id": net.peer_id,
        "addresses": named,
        "name": name,
    }))
    .into_response())
}

pub(super) async fn partners(State(shared): State<Arc<Shared>>) -> Answer {
    let syncs = shared.syncs.lock().map(|syncs| syncs.clone()).unwrap_or_default();
    let list = blocking(&shared, |shared| {
        partners::list(&shared.data, &shared.config, &shared.store, shared.key.publisher()).map_err(ApiError::internal)
    })
    .await?;
    let rows: Vec<_> = list
        .into_iter()
        .map(|partner| {
            let last_sync = syncs.get(&partner.peer_id).map(|report| report.at_ms);
            let mut row = json!(partner);
            row["last_sync_ms"] = json!(last_sync);
            row
        })
        .collect();
    Ok(Json(json!({"policy": shared.policy().kind().to_string(), "partners": rows})).into_response())
}

/// The steps every change to partners, blocks or the policy takes: check the token, read the
/// request, then make the change (see [`apply_trust_change`]).
async fn change_trust<R, T>(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    body: &[u8],
    shape: &str,
    change: impl FnOnce(&Shared, R) -> Result<T, PartnerError> + Send + 'static,
) -> Result<T, ApiError>
where
    R: serde::de::DeserializeOwned + Send + 'static,
    T: Send + 'static,
{
    authorise(shared, headers)?;
    let request: R = parse_json(body, shape)?;
    apply_trust_change(shared, request, change).await
}

/// Makes a change to partners, blocks or the policy: one at a time and off the runtime, then
/// recomputes the policy from what it left.
async fn apply_trust_change<R, T>(
    shared: &Arc<Shared>,
    request: R,
    change: impl FnOnce(&Shared, R) -> Result<T, PartnerError> + Send + 'static,
) -> Result<T, ApiError>
where
    R: Send + 'static,
    T: Send + 'static,
{
    let _changing = shared.trust_changes.lock().await;
    blocking(shared, move |shared| {
        let changed = change(shared, request)?;
        shared.refresh_policy().map_err(ApiError::internal)?;
        Ok(changed)
    })
    .await
}

const PUBLISHER_SHAPE: &str = "{\"publisher\": \"<64 hex characters>\"}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyRequest {
    policy: String,
}

/// Changes the trust policy now; it is kept in partners.json and overrides trust.policy.
pub(super) async fn set_policy(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    let shape = "{\"policy\": \"open | partners | partners+N\"}";
    let kind = change_trust(&shared, &headers, &body, shape, |shared, request: PolicyRequest| {
        partners::set_policy(&shared.data, &request.policy)
    })
    .await?;
    shared.sync_soon(None);
    Ok(Json(json!({"policy": kind.to_string()})).into_response())
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
pub(super) async fn add_partner(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let request: AddPartner = parse_json(&body, "{\"code\": \"citymesh1...\", \"label\": \"...\"}")?;
    let answer = add_partner_now(&shared, request.code, request.label).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Adds a partner (for the API and the web page, which have checked who asks).
pub(super) async fn add_partner_now(shared: &Arc<Shared>, code: String, label: String) -> Result<Value, ApiError> {
    let added = apply_trust_change(shared, (code, label), |shared, (code, label): (String, String)| {
        let added = partners::add(&shared.data, &shared.store, &shared.key, &code, &label)?;
        for address in &added.entry.addresses {
            if let Err(error) = shared.data.remember_peer(address) {
                tracing::warn!(error = format!("{error:#}"), "cannot remember a partner's address");
            }
        }
        Ok(added)
    })
    .await?;
    if let Some(record) = &added.record {
        gossip(shared, record.envelope_bytes()).await;
    }
    let mut dialled = Vec::new();
    for address in &added.entry.addresses {
        let dialling = match address.parse::<crate::net::Multiaddr>() {
            Ok(multiaddr) => shared.net.dial(multiaddr).await.is_ok(),
            Err(_) => false,
        };
        if dialling {
            dialled.push(address.clone());
        } else {
            tracing::warn!(%address, "cannot dial a partner's address");
        }
    }
    // The scope grew: catch up with everyone connected, the partner included once it is.
    shared.sync_soon(None);
    let entry = &added.entry;
    Ok(json!({"publisher": entry.publisher, "name": entry.name, "label": entry.label, "dialled": dialled}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherRequest {
    publisher: String,
}

pub(super) async fn remove_partner(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    let withdrawal = change_trust(&shared, &headers, &body, PUBLISHER_SHAPE, |shared, request: PublisherRequest| {
        partners::remove(&shared.data, &shared.config, &shared.store, &shared.key, &request.publisher)
    })
    .await?;
    if let Some(record) = &withdrawal {
        gossip(&shared, record.envelope_bytes()).await;
    }
    Ok(Json(json!({"withdrawn": withdrawal.map(|record| record.id().to_string())})).into_response())
}

/// Connected peers, each with its last sync, strikes and gossip score.
pub(super) async fn peers(State(shared): State<Arc<Shared>>) -> Answer {
    let net = shared.net.status().await.map_err(ApiError::internal)?;
    let syncs = shared.syncs.lock().map(|syncs| syncs.clone()).unwrap_or_default();
    let penalties = shared.guard.penalties();
    let mut rows = Vec::new();
    for peer in &net.connected_peers {
        let score = match peer.parse() {
            Ok(peer_id) => shared.net.peer_score(peer_id).await.ok().flatten(),
            Err(_) => None,
        };
        rows.push(json!({
            "peer": peer,
            "last_sync": syncs.get(peer),
            "penalty": penalties.iter().find(|penalty| &penalty.peer == peer),
            "gossip_score": score,
        }));
    }
    Ok(Json(json!({"peers": rows})).into_response())
}

pub(super) async fn blocks(State(shared): State<Arc<Shared>>) -> Answer {
    let file = blocking(&shared, |shared| shared.data.trust_file().map_err(ApiError::internal)).await?;
    Ok(Json(json!({"blocked": file.blocked})).into_response())
}

pub(super) async fn block(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    let blocked = change_trust(&shared, &headers, &body, PUBLISHER_SHAPE, |shared, request: PublisherRequest| {
        partners::block(&shared.data, &shared.store, shared.key.publisher(), &request.publisher)
    })
    .await?;
    Ok(Json(json!({"blocked": blocked})).into_response())
}

pub(super) async fn unblock(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    let unblocked = change_trust(&shared, &headers, &body, PUBLISHER_SHAPE, |shared, request: PublisherRequest| {
        partners::unblock(&shared.data, &request.publisher)
    })
    .await?;
    shared.sync_soon(None);
    Ok(Json(json!({"unblocked": unblocked})).into_response())
}

/// Signs the next revision of the node's profile with the fields given.
pub(super) async fn set_profile(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let changes: ProfileChanges = parse_json(&body, "{\"name\": \"...\", \"website\": \"...\", ...}")?;
    let published =
        blocking(&shared, move |shared| Ok(author::set_profile(&shared.store, &shared.key, changes)?)).await?;
    if published.previous != Previous::Same {
        gossip(&shared, published.record.envelope_bytes()).await;
    }
    let record = &published.record;
    let status = if published.previous == Previous::Same { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({"id": record.id().to_string(), "revision": record.revision()}))).into_response())
}
