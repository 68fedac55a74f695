//! The node's HTTP API: JSON under `/api/v1/`, on 127.0.0.1 by default, and the web page. Reads
//! are open; writes need the bearer token kept in the data directory. The CLI uses this API
//! while a node runs. Every handler reads its request, calls one use case of the
//! [`NodeHandle`] and formats the answer; only this module names axum.
//!
//! Errors are JSON `{"error": code, "detail": text}` with a fitting status. Later versions add
//! routes and fields; existing ones keep their meaning.

mod form;
mod learning;
mod openapi;
mod params;
mod records;
mod setup;
mod trust;
mod web;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::archive::AttachmentError;
use crate::author::{AuthorError, Published};
use crate::node::{NodeError, NodeHandle};
use crate::partners::PartnerError;
use crate::view::FindError;

pub use params::SearchParams;
pub use records::{Imported, Synced, Withdrawal};
pub use setup::first_run;
pub use trust::{Blocked, Blocks, Erasure, IdentityChanged, PartnerRemoved, Peers, PolicySet, Unblocked};

/// Largest import request body.
const MAX_IMPORT_BODY: usize = 64 * 1024 * 1024;

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

    fn invalid(detail: impl ToString) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", detail)
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

impl From<NodeError> for ApiError {
    fn from(error: NodeError) -> Self {
        match error {
            NodeError::Author(error) => error.into(),
            NodeError::Partner(error) => error.into(),
            NodeError::Identity(error) if error.is_internal() => Self::internal(error),
            NodeError::Identity(crate::organisation::OrganisationError::Author(error)) => error.into(),
            NodeError::Identity(
                error @ (crate::organisation::OrganisationError::NoOperator(_)
                | crate::organisation::OrganisationError::Forked(_)),
            ) => Self::new(StatusCode::CONFLICT, "conflict", error),
            NodeError::Identity(error) => Self::invalid(error),
            NodeError::Find(error) => error.into(),
            NodeError::Match(crate::archive::MatchError::Find(error)) => error.into(),
            NodeError::Match(crate::archive::MatchError::NotMatched(..)) => Self::invalid(error),
            NodeError::Match(crate::archive::MatchError::Store(_)) => Self::internal(error),
            NodeError::NotConnected(_) => Self::new(StatusCode::NOT_FOUND, "not-found", error),
            NodeError::Attachment(AttachmentError::NotNamed(_) | AttachmentError::NotHere(_)) => {
                Self::new(StatusCode::NOT_FOUND, "not-found", error)
            }
            NodeError::Attachment(_) => Self::internal(error),
            NodeError::BadAddress(_) => Self::invalid(error),
            NodeError::Search(_) | NodeError::Store(_) | NodeError::Failed(_) => Self::internal(error),
        }
    }
}

impl From<AuthorError> for ApiError {
    fn from(error: AuthorError) -> Self {
        match error {
            AuthorError::Markdown(_)
            | AuthorError::Record(_)
            | AuthorError::Field { .. }
            | AuthorError::NoEngagement(_)
            | AuthorError::NoStatus(_) => Self::invalid(error),
            AuthorError::NoSuch { .. } => Self::new(StatusCode::NOT_FOUND, "not-found", error),
            AuthorError::AlreadyWithdrawn { .. } | AuthorError::Stale { .. } | AuthorError::Identity(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error)
            }
            AuthorError::Store(_) | AuthorError::NotInitialised(_) => Self::internal(error),
        }
    }
}

impl From<FindError> for ApiError {
    fn from(error: FindError) -> Self {
        match error {
            FindError::NoSuchId(_) | FindError::NoSuchSlug(_) => Self::new(StatusCode::NOT_FOUND, "not-found", error),
            FindError::NotATarget(_) => Self::invalid(error),
            FindError::Erased { .. } => Self::new(StatusCode::GONE, "erased", error),
            FindError::Ambiguous { .. } => Self::new(StatusCode::CONFLICT, "ambiguous", error),
            FindError::Store(error) => Self::internal(error),
        }
    }
}

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
            PartnerError::Signed(error) => error.into(),
            _ => Self::invalid(error),
        }
    }
}

type Answer = Result<Response, ApiError>;

/// A view as the JSON answer (keys in alphabetical order, as the API has always written them).
fn answer(status: StatusCode, view: &impl Serialize) -> Answer {
    Ok((status, Json(crate::view::to_json(view))).into_response())
}

fn ok(view: &impl Serialize) -> Answer {
    answer(StatusCode::OK, view)
}

/// What a publish answers: 201 when a revision was signed, 200 when nothing changed.
fn published(published: &Published) -> Answer {
    let status = if published.is_new() { StatusCode::CREATED } else { StatusCode::OK };
    answer(status, &published.answer())
}

/// The API's routes and the web page's.
pub fn app(node: NodeHandle) -> Router {
    let routes = Router::new()
        .route("/api/v1/status", get(records::status))
        .route("/api/v1/records", get(records::list))
        .route("/api/v1/search", get(records::search))
        .route("/api/v1/records/{target}", get(records::show))
        .route("/api/v1/records/{target}/raw", get(records::raw))
        .route("/api/v1/records/{target}/attachments", get(records::attachments))
        .route("/api/v1/envelopes", get(records::envelopes))
        .route("/api/v1/blobs/{sha256}", get(records::blob))
        .route("/api/v1/publish", post(records::publish))
        .route("/api/v1/withdraw", post(records::withdraw))
        .route("/api/v1/match", get(learning::matches))
        .route("/api/v1/set-status", post(learning::set_status))
        .route("/api/v1/engagements", get(learning::engagements))
        .route("/api/v1/funnel", get(learning::funnel))
        .route("/api/v1/events.ics", get(learning::calendar))
        .route("/api/v1/events/{file}", get(learning::event_file))
        .route("/api/v1/events/{publisher}/{file}", get(learning::publisher_event_file))
        .route("/api/v1/import", post(records::import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)))
        .route("/api/v1/sync", post(records::sync))
        .route("/api/v1/invite", get(trust::invite))
        .route("/api/v1/partners", get(trust::partners).post(trust::add_partner))
        .route("/api/v1/partners/remove", post(trust::remove_partner))
        .route("/api/v1/peers", get(trust::peers))
        .route("/api/v1/blocks", get(trust::blocks).post(trust::block))
        .route("/api/v1/blocks/remove", post(trust::unblock))
        .route("/api/v1/profile", post(trust::set_profile))
        .route("/api/v1/identity", get(trust::identity).post(trust::change_identity))
        .route("/api/v1/erasures", post(trust::erase))
        .route("/api/v1/policy", post(trust::set_policy))
        .route("/api/v1/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/metrics", get(metrics))
        .merge(web::routes())
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(node.clone(), timed))
        .layer(axum::Extension(std::sync::Arc::new(web::Attempts::default())))
        .with_state(node);
    // Around the whole router, so that `finish` sees answers as axum completes them (the
    // `Allow` header of a 405 is added after each route's own layers).
    Router::new().fallback_service(routes).layer(axum::middleware::from_fn(finish))
}

/// Serves [`app`] on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: tokio::net::TcpListener, node: NodeHandle, shutdown: CancellationToken) {
    // Clients' addresses reach the handlers: sign-in attempts are limited per address.
    let service = app(node).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(shutdown.cancelled_owned()).await;
    if let Err(error) = served {
        tracing::error!(%error, "the API stopped");
    }
}

fn authorise(node: &NodeHandle, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if token.trim() == node.token() => Ok(()),
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorised", "the bearer token is wrong")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "writes need `Authorization: Bearer <token>`; the token is in the data directory's api.token",
        )),
    }
}

/// Checks the token, then reads the JSON body of a write; `shape` shows what is expected.
fn write_request<T: serde::de::DeserializeOwned>(
    node: &NodeHandle,
    headers: &HeaderMap,
    body: &[u8],
    shape: &str,
) -> Result<T, ApiError> {
    authorise(node, headers)?;
    serde_json::from_slice(body).map_err(|error| ApiError::invalid(format!("the body must be JSON {shape}: {error}")))
}

/// What every answer carries: headers that keep pages from being framed, sniffed or loaded
/// with scripts from elsewhere, and the API's JSON error body where axum answers on its own
/// (a body over a route's limit, a method a route does not take).
async fn finish(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let detail = format!(
            "the request body is over this route's limit (2 MiB; {} MiB for /api/v1/import)",
            MAX_IMPORT_BODY >> 20
        );
        response = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", detail).into_response();
    } else if api && response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let allow = response.headers().get(header::ALLOW).cloned();
        let methods = allow.as_ref().and_then(|value| value.to_str().ok()).unwrap_or("other methods").to_owned();
        let detail = format!("this route does not take that method; it takes {methods}");
        response = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail).into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name.clone(), header::HeaderValue::from_static(value));
    }
    response
}

/// Sent with every answer. Pages use only this node's stylesheet, images and script.
const SECURITY_HEADERS: &[(header::HeaderName, &str)] = &[
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// A path nothing is served at: the API's JSON error under `/api/`, a page elsewhere.
async fn not_found(State(node): State<NodeHandle>, uri: axum::http::Uri, headers: HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        let detail = format!("nothing is served at {}; /api/v1/openapi.json lists the routes", uri.path());
        return ApiError::new(StatusCode::NOT_FOUND, "not-found", detail).into_response();
    }
    web::not_found(&node, &headers, uri.path()).await
}

/// Times every request for `citymesh_api_request_duration_seconds`, by route pattern.
async fn timed(
    State(node): State<NodeHandle>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    node.time_api_request(&route, started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics (text format); read-only, no token.
async fn metrics(State(node): State<NodeHandle>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], node.metrics().await).into_response()
}
