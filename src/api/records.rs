//! Routes for records: status, listings, search, one record (and its bytes), every envelope,
//! and the writes (publish, withdraw, import, sync now).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::params::{LIST_PARAMETERS, ListQuery, MAX_PAGE, SearchParams};
use super::{Answer, ApiError, answer, ok, published, write_request};
use crate::archive::ImportResult;
use crate::node::{NodeHandle, SyncAnswer};

pub(super) async fn status(State(node): State<NodeHandle>) -> Answer {
    ok(&node.status().await?)
}

/// The heads, newest first, filtered, a page at a time.
pub(super) async fn list(State(node): State<NodeHandle>, query: Result<Query<ListQuery>, QueryRejection>) -> Answer {
    let Query(query) =
        query.map_err(|rejection| ApiError::invalid(format!("{}; {LIST_PARAMETERS}", rejection.body_text())))?;
    let (filter, cursor, limit) = query.filter()?;
    ok(&node.list(filter, cursor, limit).await?)
}

/// Full-text search over current practice notes, with facet counts and snippets.
pub(super) async fn search(State(node): State<NodeHandle>, RawQuery(query): RawQuery) -> Answer {
    let query = SearchParams::parse(query.as_deref().unwrap_or_default())?.query()?;
    ok(&node.search(query).await?)
}

#[derive(Deserialize)]
pub(super) struct ShowQuery {
    #[serde(default)]
    history: bool,
}

pub(super) async fn show(
    State(node): State<NodeHandle>,
    Path(target): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Answer {
    ok(&node.show(target, query.history).await?)
}

pub(super) async fn raw(State(node): State<NodeHandle>, Path(target): Path<String>) -> Answer {
    let bytes = node.raw(target).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// Every record held, in arrival order, a page at a time: `{"envelopes": [{"id", "hex"}], "next"}`;
/// pass `next` as `after` for the following page (`next` is null at the end).
pub(super) async fn envelopes(State(node): State<NodeHandle>, Query(query): Query<PageQuery>) -> Answer {
    let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    ok(&node.envelopes(query.after, limit).await?)
}

#[derive(Deserialize)]
struct PublishRequest {
    markdown: String,
    /// For an edit: the revision it was based on (0 for a new note); a 409 if that is stale.
    #[serde(default)]
    base_revision: Option<u64>,
}

pub(super) async fn publish(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: PublishRequest = write_request(&node, &headers, &body, "{\"markdown\": \"...\"}")?;
    published(&node.publish(request.markdown, request.base_revision).await?)
}

#[derive(Deserialize)]
struct WithdrawRequest {
    slug: String,
    reason: String,
    /// The kind of the record withdrawn; a practice note when left out.
    #[serde(default)]
    kind: Option<String>,
}

/// What a withdrawal answers.
#[derive(Serialize, Deserialize)]
pub struct Withdrawal {
    pub id: String,
    pub slug: String,
    pub revision: u64,
}

impl Withdrawal {
    pub fn of(record: &crate::record::Record) -> Withdrawal {
        Withdrawal { id: record.id().to_string(), slug: record.slug().to_owned(), revision: record.revision() }
    }
}

pub(super) async fn withdraw(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: WithdrawRequest =
        write_request(&node, &headers, &body, "{\"slug\": \"...\", \"reason\": \"...\", \"kind\": \"practice\"}")?;
    let kind = match request.kind.as_deref() {
        None => crate::record::Kind::Practice,
        Some(kind) => super::learning::written_kind(kind)?,
    };
    let record = node.withdraw_kind(kind, request.slug, request.reason).await?;
    answer(StatusCode::CREATED, &Withdrawal::of(&record))
}

#[derive(Deserialize)]
struct ImportRequest {
    /// Envelopes in hex.
    envelopes: Vec<String>,
}

/// What an import answers: one result per envelope, in order.
#[derive(Serialize, Deserialize)]
pub struct Imported {
    pub results: Vec<ImportResult>,
}

/// Verifies and stores envelopes as `import` does.
pub(super) async fn import(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: ImportRequest = write_request(&node, &headers, &body, "{\"envelopes\": [\"<hex>\", ...]}")?;
    ok(&Imported { results: node.import(request.envelopes).await? })
}

#[derive(Deserialize, Default)]
struct SyncRequest {
    peer: Option<String>,
}

/// What a sync now answers: one report per peer.
#[derive(Serialize, Deserialize)]
pub struct Synced {
    pub reports: Vec<SyncAnswer>,
}

/// Syncs now with one peer, or with every connected peer; answers the reports.
pub(super) async fn sync(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: SyncRequest = if body.is_empty() {
        super::authorise(&node, &headers)?;
        SyncRequest::default()
    } else {
        write_request(&node, &headers, &body, "{\"peer\": \"<peer id>\"}")?
    };
    ok(&Synced { reports: node.sync_now(request.peer).await? })
}
