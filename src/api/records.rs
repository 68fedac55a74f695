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

/// The files a record names: `{"attachments": [{sha256, size, name, media_type, here}]}`.
pub(super) async fn attachments(State(node): State<NodeHandle>, Path(target): Path<String>) -> Answer {
    ok(&serde_json::json!({ "attachments": node.attachments_of(target).await? }))
}

/// Media types served as what they are, shown in the browser: everything else is sent as
/// bytes to save (`application/octet-stream`), so that no attachment runs as a page or script
/// under this node's address.
const SHOWN_TYPES: &[&str] =
    &["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv"];

/// An attachment's bytes by SHA-256, while a held record names it: with the type and file
/// name that record gives, cached for good (the address names the bytes).
pub(super) async fn blob(State(node): State<NodeHandle>, Path(sha256): Path<String>) -> Answer {
    let hash = crate::hex::parse_hex32(&sha256).map_err(|_| {
        ApiError::invalid(format!("{sha256:?} is not a SHA-256; expected 64 hex characters (0-9, a-f)"))
    })?;
    let download = node.attachment(hash).await?;
    let media_type = download.media_type.to_ascii_lowercase();
    let shown = SHOWN_TYPES.contains(&media_type.as_str());
    let disposition = content_disposition(&download.name, shown);
    let headers = [
        (header::CONTENT_TYPE, if shown { media_type } else { "application/octet-stream".to_owned() }),
        (header::CONTENT_LENGTH, download.size.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, "public, max-age=31536000, immutable".to_owned()),
        (header::ETAG, format!("\"{sha256}\"")),
    ];
    let file = tokio::fs::File::from_std(download.file);
    Ok((headers, axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file))).into_response())
}

/// `inline` or `attachment`, with the file name as plain ASCII and in full (RFC 6266).
fn content_disposition(name: &str, inline: bool) -> String {
    let plain: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '/' | '%') || c == ' ' { c } else { '_' })
        .collect();
    let plain = if plain.trim().is_empty() { "attachment".to_owned() } else { plain };
    let encoded: String = name
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
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
