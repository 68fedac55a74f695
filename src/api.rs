//! The node's HTTP API: JSON under `/api/v1/`, on 127.0.0.1 by default. Reads are open; writes
//! need the bearer token kept in the data directory. The CLI uses this API while a node runs.
//!
//! Errors are JSON `{"error": code, "detail": text}` with a fitting status. Later versions add
//! routes and fields; existing ones keep their meaning.

mod form;
mod openapi;
mod trust;
mod web;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::author::{self, AuthorError, Previous, now_ms};
use crate::ingest::{self, Outcome};
use crate::node::Shared;
use crate::record::{Kind, RecordId};
use crate::search::SearchQuery;
use crate::view::{self, FindError};

/// Largest import request body.
const MAX_IMPORT_BODY: usize = 64 * 1024 * 1024;
/// Records per page of `GET /api/v1/envelopes`, at most.
const MAX_PAGE: usize = 1000;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, error: &'static str, detail: impl ToString) -> Self {
        Self { status, error, detail: detail.to_string() }
    }

    fn internal(detail: impl ToString) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.error, "detail": self.detail}))).into_response()
    }
}

impl From<AuthorError> for ApiError {
    fn from(error: AuthorError) -> Self {
        match error {
            AuthorError::Markdown(_) | AuthorError::Record(_) => Self::new(StatusCode::BAD_REQUEST, "invalid", error),
            AuthorError::NoSuchNote(_) => Self::new(StatusCode::NOT_FOUND, "not-found", error),
            AuthorError::AlreadyWithdrawn { .. } | AuthorError::Stale { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", error)
            }
            AuthorError::Store(error) => Self::internal(error),
        }
    }
}

impl From<FindError> for ApiError {
    fn from(error: FindError) -> Self {
        match error {
            FindError::NoSuchId(_) | FindError::NoSuchSlug(_) => Self::new(StatusCode::NOT_FOUND, "not-found", error),
            FindError::NotATarget(_) => Self::new(StatusCode::BAD_REQUEST, "invalid", error),
            FindError::Ambiguous { .. } => Self::new(StatusCode::CONFLICT, "ambiguous", error),
            FindError::Store(error) => Self::internal(error),
        }
    }
}

type Answer = Result<Response, ApiError>;

/// The API's routes.
pub fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/records", get(records))
        .route("/api/v1/search", get(search))
        .route("/api/v1/records/{target}", get(record))
        .route("/api/v1/records/{target}/raw", get(raw))
        .route("/api/v1/envelopes", get(envelopes))
        .route("/api/v1/publish", post(publish))
        .route("/api/v1/withdraw", post(withdraw))
        .route("/api/v1/import", post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)))
        .route("/api/v1/sync", post(sync))
        .route("/api/v1/invite", get(trust::invite))
        .route("/api/v1/partners", get(trust::partners).post(trust::add_partner))
        .route("/api/v1/partners/remove", post(trust::remove_partner))
        .route("/api/v1/peers", get(trust::peers))
        .route("/api/v1/blocks", get(trust::blocks).post(trust::block))
        .route("/api/v1/blocks/remove", post(trust::unblock))
        .route("/api/v1/profile", post(trust::set_profile))
        .route("/api/v1/policy", post(trust::set_policy))
        .route("/api/v1/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/metrics", get(metrics))
        .merge(web::routes())
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), timed))
        .layer(axum::middleware::map_response(json_too_large))
        .with_state(shared)
}

/// Runs store work off the async runtime.
async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    work: impl FnOnce(&Shared) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || work(&shared)).await.map_err(ApiError::internal)?
}

fn authorise(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if token.trim() == shared.token => Ok(()),
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorised", "the bearer token is wrong")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "writes need `Authorization: Bearer <token>`; the token is in the data directory's api.token",
        )),
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Answer {
    let net = shared.net.status().await.map_err(ApiError::internal)?;
    let records = blocking(&shared, |shared| Ok(shared.store.len())).await?;
    let last_received = shared.last_received.lock().map(|last| last.clone()).unwrap_or_default();
    let rejections: Vec<_> =
        shared.rejections.lock().map(|recent| recent.iter().cloned().collect()).unwrap_or_default();
    let syncs: Vec<_> = shared.syncs.lock().map(|syncs| syncs.values().cloned().collect()).unwrap_or_default();
    Ok(Json(json!({
        "peer_id": net.peer_id,
        "listen_addrs": net.listen_addrs,
        "publisher": shared.key.publisher().to_string(),
        "networks": net.networks,
        "records": records,
        "connected_peers": net.connected_peers,
        "gossip_peers": net.gossip_peers,
        "mesh_peers": net.mesh_peers,
        "last_received": last_received,
        "recent_rejections": rejections,
        "syncs": syncs,
        "trust_policy": shared.policy().kind().to_string(),
        "penalties": shared.guard.penalties(),
    }))
    .into_response())
}

/// Request bodies over a route's limit are refused by axum before the handler runs; the answer
/// is made the API's JSON error like every other.
async fn json_too_large(response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let detail = format!(
        "the request body is over this route's limit (2 MiB; {} MiB for /api/v1/import)",
        MAX_IMPORT_BODY >> 20
    );
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail).into_response()
}

/// Times every request for `citymesh_api_request_duration_seconds`, by route pattern.
async fn timed(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    shared.metrics.api_request(&route, started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics (text format); read-only, no token.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let peers = shared.net.status().await.map(|status| status.connected_peers.len()).unwrap_or_default();
    let keys = blocking(&shared, |shared| {
        // The notes count is the index's: bring it up to date first (cheap when it is).
        shared.search.catch_up(&shared.store).map_err(ApiError::internal)?;
        shared.store.head_counts().map_err(ApiError::internal)
    })
    .await;
    let state = crate::metrics::State {
        records: shared.store.len(),
        peers,
        notes: shared.search.len(),
        keys: keys.unwrap_or_default(),
    };
    shared.metrics.set_state(&state);
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(axum::http::header::CONTENT_TYPE, content_type)], shared.metrics.render()).into_response()
}

/// Records per page of `GET /api/v1/records` unless `limit` says otherwise.
const DEFAULT_RECORDS_PAGE: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    kind: Option<String>,
    publisher: Option<String>,
    theme: Option<String>,
    sdg: Option<String>,
    country: Option<String>,
    language: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn bad_parameter(detail: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", detail)
}

/// Checks a filter parameter (`None` stays `None`), normalising its value.
fn filter_value(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value.map(|value| view::check_filter(name, &value)).transpose().map_err(bad_parameter)
}

impl ListQuery {
    fn filter(self) -> Result<(view::Filter, Option<view::Cursor>, usize), ApiError> {
        let kind = match self.kind.as_deref() {
            None => None,
            Some(text) => Some(text.parse::<Kind>().map_err(|_| {
                bad_parameter(format!("kind {text:?} is unknown; kinds are profile, practice, partnership"))
            })?),
        };
        let publisher = filter_value("publisher", self.publisher)?
            .map(|hex| crate::record::parse_hex32(&hex).map(crate::record::PublisherId))
            .transpose()
            .map_err(ApiError::internal)?;
        let filter = view::Filter {
            kind,
            publisher,
            theme: filter_value("theme", self.theme)?,
            sdg_target: filter_value("sdg", self.sdg)?,
            country: filter_value("country", self.country)?,
            language: filter_value("language", self.language)?,
            status: filter_value("status", self.status)?,
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|error: String| bad_parameter(format!("cursor: {error}")))?;
        let limit = self.limit.unwrap_or(DEFAULT_RECORDS_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(bad_parameter(format!("limit {limit} is not allowed; 1 to {MAX_PAGE}")));
        }
        Ok((filter, cursor, limit))
    }
}

/// The heads, newest first, filtered, a page at a time.
async fn records(State(shared): State<Arc<Shared>>, query: Result<Query<ListQuery>, QueryRejection>) -> Answer {
    let Query(query) = query.map_err(|rejection| {
        bad_parameter(format!(
            "{}; parameters: kind, publisher, theme, sdg, country, language, status, limit, cursor",
            rejection.body_text()
        ))
    })?;
    let (filter, cursor, limit) = query.filter()?;
    let (rows, next) =
        blocking(&shared, move |shared| view::page(&shared.store, &filter, cursor, limit).map_err(ApiError::internal))
            .await?;
    Ok(Json(json!({"records": rows, "next_cursor": next.map(|cursor| cursor.to_string())})).into_response())
}

/// Hits per page of `GET /api/v1/search` unless `limit` says otherwise.
const DEFAULT_SEARCH_PAGE: usize = 20;

/// `GET /api/v1/search` parameters: the words, the facet filters (a facet may be given more
/// than once: any of its values matches), a page.
#[derive(Debug, Default)]
pub struct SearchParams {
    pub q: String,
    /// `(facet, value)`: theme, sdg, country, language, publisher or status.
    pub filters: Vec<(String, String)>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const SEARCH_PARAMETERS: &str = "parameters: q, theme, sdg, country, language, publisher, status, limit, offset";

impl SearchParams {
    /// Reads a query string (`q=...&theme=...`).
    pub fn parse(query: &str) -> Result<SearchParams, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|error| {
            bad_parameter(format!("the query string cannot be read ({error}); {SEARCH_PARAMETERS}"))
        })?;
        let mut params = SearchParams::default();
        let number = |name: &str, value: &str| {
            value.parse::<usize>().map_err(|_| bad_parameter(format!("{name} {value:?} is not a whole number")))
        };
        for (name, value) in pairs {
            match name.as_str() {
                "q" => params.q = value,
                "limit" => params.limit = Some(number("limit", &value)?),
                "offset" => params.offset = Some(number("offset", &value)?),
                facet if crate::search::FACETS.contains(&facet) => params.filters.push((name, value)),
                other => return Err(bad_parameter(format!("{other:?} is not a parameter; {SEARCH_PARAMETERS}"))),
            }
        }
        Ok(params)
    }

    /// The query these parameters ask for; a bad one is a 400 naming the parameter.
    pub fn query(self) -> Result<SearchQuery, ApiError> {
        use crate::search::{FACETS, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS};
        let length = self.q.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(bad_parameter(format!("q is {length} characters; at most {MAX_QUERY_CHARS} are allowed")));
        }
        let mut filters = Vec::new();
        for (name, value) in self.filters {
            let Some(name) = FACETS.iter().copied().find(|facet| *facet == name) else {
                return Err(bad_parameter(format!("{name:?} is not a parameter; {SEARCH_PARAMETERS}")));
            };
            // An empty value (a form's "any") filters nothing.
            if let Some(value) = filter_value(name, Some(value).filter(|value| !value.is_empty()))? {
                filters.push((name, value));
            }
        }
        let limit = self.limit.unwrap_or(DEFAULT_SEARCH_PAGE);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad_parameter(format!("limit {limit} is not allowed; 1 to {MAX_LIMIT}")));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(bad_parameter(format!("offset {offset} is not allowed; 0 to {MAX_OFFSET}")));
        }
        Ok(SearchQuery { text: self.q, filters, limit, offset })
    }
}

/// Full-text search over current practice notes, with facet counts and snippets.
async fn search(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Answer {
    let query = SearchParams::parse(query.as_deref().unwrap_or_default())?.query()?;
    let results = blocking(&shared, move |shared| {
        view::search(&shared.store, &shared.search, &query).map_err(ApiError::internal)
    })
    .await?;
    Ok(Json(results).into_response())
}

#[derive(Deserialize)]
struct ShowQuery {
    #[serde(default)]
    history: bool,
}

async fn record(
    State(shared): State<Arc<Shared>>,
    Path(target): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Answer {
    let detail = blocking(&shared, move |shared| {
        let record = view::find(&shared.store, Some(shared.key.publisher()), &target)?;
        view::detail(&shared.store, &record, query.history, now_ms()).map_err(ApiError::internal)
    })
    .await?;
    Ok(Json(detail).into_response())
}

async fn raw(State(shared): State<Arc<Shared>>, Path(target): Path<String>) -> Answer {
    let bytes = blocking(&shared, move |shared| {
        let record = view::find(&shared.store, Some(shared.key.publisher()), &target)?;
        Ok(record.envelope_bytes())
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// Every record held, in arrival order, a page at a time: `{"envelopes": [{"id", "hex"}], "next"}`;
/// pass `next` as `after` for the following page (`next` is null at the end).
async fn envelopes(State(shared): State<Arc<Shared>>, Query(query): Query<PageQuery>) -> Answer {
    let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let page =
        blocking(&shared, move |shared| shared.store.records_page(query.after, limit).map_err(ApiError::internal))
            .await?;
    let next = if page.len() == limit { page.last().map(|(sequence, _)| *sequence) } else { None };
    let envelopes: Vec<Value> = page
        .iter()
        .map(|(_, record)| json!({"id": record.id().to_string(), "hex": crate::record::to_hex(&record.envelope_bytes())}))
        .collect();
    Ok(Json(json!({"envelopes": envelopes, "next": next})).into_response())
}

#[derive(Deserialize)]
struct PublishRequest {
    markdown: String,
    /// For an edit: the revision it was based on (0 for a new note); a 409 if that is stale.
    #[serde(default)]
    base_revision: Option<u64>,
}

async fn publish(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let request: PublishRequest = parse_json(&body, "{\"markdown\": \"...\"}")?;
    let published = blocking(&shared, move |shared| {
        let (text, base) = (&request.markdown, request.base_revision);
        Ok(author::publish_over(&shared.store, &shared.key, &shared.config, text, base)?)
    })
    .await?;
    let record = &published.record;
    if published.previous != Previous::Same {
        gossip(&shared, record.envelope_bytes()).await;
    }
    let previous = match published.previous {
        Previous::None => "none",
        Previous::Older => "older",
        Previous::Withdrawn => "withdrawn",
        Previous::Same => "same",
    };
    let status = if published.previous == Previous::Same { StatusCode::OK } else { StatusCode::CREATED };
    let answer = json!({"id": record.id().to_string(), "slug": record.slug(), "revision": record.revision(), "previous": previous});
    Ok((status, Json(answer)).into_response())
}

#[derive(Deserialize)]
struct WithdrawRequest {
    slug: String,
    reason: String,
}

async fn withdraw(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let request: WithdrawRequest = parse_json(&body, "{\"slug\": \"...\", \"reason\": \"...\"}")?;
    let record = blocking(&shared, move |shared| {
        Ok(author::withdraw(&shared.store, &shared.key, &request.slug, &request.reason)?)
    })
    .await?;
    gossip(&shared, record.envelope_bytes()).await;
    let answer = json!({"id": record.id().to_string(), "slug": record.slug(), "revision": record.revision()});
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Deserialize)]
struct ImportRequest {
    /// Envelopes in hex.
    envelopes: Vec<String>,
}

/// Verifies and stores envelopes as `import` does; answers one result per envelope, in order.
async fn import(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let request: ImportRequest = parse_json(&body, "{\"envelopes\": [\"<hex>\", ...]}")?;
    let (results, new_heads) = blocking(&shared, move |shared| {
        let count = request.envelopes.len();
        let items =
            request.envelopes.into_iter().enumerate().map(|(index, hex)| (index, crate::record::parse_hex(&hex)));
        let mut results = vec![Value::Null; count];
        let mut new_heads = Vec::new();
        ingest::ingest(&shared.store, items, now_ms(), |index, outcome| {
            results[index] = match outcome {
                Outcome::Stored { id, head, .. } => {
                    if head {
                        new_heads.push(id);
                    }
                    json!({"outcome": "stored", "id": id.to_string()})
                }
                Outcome::AlreadyHeld { id } => json!({"outcome": "held", "id": id.to_string()}),
                Outcome::Invalid(error) => {
                    json!({"outcome": "rejected", "rule": error.rule(), "detail": error.to_string()})
                }
                Outcome::Unreadable(detail) => json!({"outcome": "rejected", "rule": "hex", "detail": detail}),
            }
        })
        .map_err(ApiError::internal)?;
        let envelopes: Vec<Vec<u8>> = new_heads
            .iter()
            .filter_map(|id: &RecordId| shared.store.get(id).ok().flatten())
            .map(|record| record.envelope_bytes())
            .collect();
        Ok((results, envelopes))
    })
    .await?;
    for envelope in new_heads {
        gossip(&shared, envelope).await;
    }
    Ok(Json(json!({ "results": results })).into_response())
}

#[derive(Deserialize, Default)]
struct SyncRequest {
    peer: Option<String>,
}

/// Syncs now with one peer, or with every connected peer; answers the reports.
async fn sync(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Answer {
    authorise(&shared, &headers)?;
    let request: SyncRequest =
        if body.is_empty() { SyncRequest::default() } else { parse_json(&body, "{\"peer\": \"<peer id>\"}")? };
    let connected = shared.net.status().await.map_err(ApiError::internal)?.connected_peers;
    let peers: Vec<String> = match request.peer {
        Some(peer) if connected.contains(&peer) => vec![peer],
        Some(peer) => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "not-found", format!("peer {peer} is not connected")));
        }
        None => connected,
    };
    let mut reports = Vec::new();
    for peer in peers {
        let Ok(peer_id) = peer.parse() else { continue };
        match crate::node::sync(Arc::clone(&shared), peer_id).await {
            Some(report) => reports.push(json!(report)),
            None => reports.push(json!({"peer": peer, "error": "a sync with this peer is already running"})),
        }
    }
    Ok(Json(json!({ "reports": reports })).into_response())
}

/// Pushes a record to the peers; having none is fine (sync will carry it later).
async fn gossip(shared: &Shared, envelope: Vec<u8>) {
    shared.metrics.gossip_published();
    if let Err(error) = shared.net.publish(envelope).await {
        tracing::warn!(%error, "cannot gossip a record");
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("the body must be JSON {shape}: {error}"))
    })
}
