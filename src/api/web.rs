//! The node's web page: server-rendered HTML from the askama templates in `templates/`, one
//! stylesheet, and one small script (a copy button) that nothing needs. Reading needs nothing;
//! writing needs a session (`session.rs`). One file per page: the home page and browsing
//! (`browse.rs`), a note (`note.rs`), hiding, blocking and answering invitations (`hiding.rs`), the
//! publish and edit form (`publish.rs`), partners and the network (`network.rs`), the
//! needs-and-offers board, events and the pages of requests, offers, events, engagements,
//! outcomes and endorsements (`board.rs`, `events.rs`, `learning.rs`) with their forms
//! (`compose.rs`). Each page asks the [`NodeHandle`] for what it shows and renders it.

mod board;
mod browse;
mod compose;
mod events;
mod hiding;
mod identity;
mod learning;
mod map;
mod network;
mod note;
mod prose;
mod publish;
mod session;

use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::node::{NodeError, NodeHandle};
use crate::view::{FindError, HitView, format_time};

pub use session::Attempts;

pub(super) fn routes() -> Router<NodeHandle> {
    Router::new()
        .route("/", get(browse::home))
        .route("/notes", get(browse::browse))
        .route("/notes/{target}", get(note::note))
        .route("/notes/{target}/edit", get(publish::edit_form))
        .route("/notes/{target}/withdraw", post(publish::withdraw))
        .route("/publish", get(publish::new_form).post(publish::publish))
        .route("/partners", get(network::partners).post(network::add_partner))
        .route("/partners/accept", post(hiding::accept))
        .route("/partners/ignore", post(hiding::ignore))
        .route("/hidden", get(hiding::hidden))
        .route("/hide", post(hiding::hide))
        .route("/unhide", post(hiding::unhide))
        .route("/block", post(hiding::block))
        .route("/unblock", post(hiding::unblock))
        .route("/network", get(network::network))
        .route("/identity", get(identity::identity))
        .route("/map", get(map::map))
        .route("/board", get(board::board))
        .route("/events", get(events::events))
        .route("/requests/{target}", get(learning::request_page))
        .route("/offers/{target}", get(learning::offer_page))
        .route("/events/{target}", get(learning::event_page))
        .route("/engagements/{target}", get(learning::engagement_page))
        .route("/outcomes/{target}", get(learning::outcome_page))
        .route("/endorsements/{target}", get(learning::endorsement_page))
        .route("/r/{publisher}/{kind}/{slug}", get(learning::resolve))
        .route("/new/{kind}", get(compose::new_form).post(compose::publish))
        .route("/edit/{kind}/{slug}", get(compose::edit_form))
        .route("/set-status/{kind}/{slug}", post(learning::set_status))
        .route("/withdraw/{kind}/{slug}", post(learning::withdraw))
        .route("/signin", get(session::signin_form).post(session::signin))
        .route("/signout", post(session::signout))
        .route("/static/style.css", get(style))
        .route("/static/copy.js", get(copy_script))
}

pub(super) async fn style() -> Response {
    let css = include_str!("../../static/style.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], css).into_response()
}

/// The one script: a copy button beside the invite code. Pages work without it.
async fn copy_script() -> Response {
    let script = include_str!("../../static/copy.js");
    let headers = [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")];
    (headers, script).into_response()
}

/// What every page shows around its content.
#[derive(Clone)]
pub struct Chrome {
    pub node_name: String,
    pub section: &'static str,
    pub signed_in: bool,
    pub csrf: String,
    pub notice: Option<String>,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Chrome {
    async fn new(node: &NodeHandle, headers: &HeaderMap, section: &'static str) -> Chrome {
        let signed_in = session::signed_in(node, headers);
        Chrome {
            node_name: node.name().await,
            section,
            signed_in,
            csrf: if signed_in { session::form_value(node.token()) } else { String::new() },
            notice: None,
        }
    }

    pub fn links(&self) -> Vec<NavLink> {
        let sections = [
            ("/", "Home", "home"),
            ("/notes", "Browse", "notes"),
            ("/board", "Needs and offers", "board"),
            ("/events", "Events", "events"),
            ("/publish", "Publish", "publish"),
            ("/partners", "Partners", "partners"),
            ("/network", "Network", "network"),
            ("/map", "Map", "map"),
        ];
        sections
            .into_iter()
            .map(|(href, label, section)| NavLink { href, label, current: section == self.section })
            .collect()
    }
}

pub(super) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; the node's log says why")
                .into_response()
        }
    }
}

pub(super) fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    title: String,
    message: String,
}

/// A page saying what went wrong, with the status that fits.
struct WebError {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl WebError {
    fn internal(error: impl std::fmt::Display) -> WebError {
        tracing::error!(%error, "a page failed");
        WebError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Something went wrong",
            message: format!("{error}"),
        }
    }
}

impl From<NodeError> for WebError {
    fn from(error: NodeError) -> Self {
        match error {
            NodeError::Find(FindError::Store(error)) => WebError::internal(error),
            NodeError::Find(error @ FindError::Ambiguous { .. }) => {
                WebError { status: StatusCode::CONFLICT, title: "Several notes", message: error.to_string() }
            }
            NodeError::Find(error) => {
                WebError { status: StatusCode::NOT_FOUND, title: "No such note", message: error.to_string() }
            }
            other => WebError::internal(other),
        }
    }
}

/// The page for a path nothing is served at.
pub(super) async fn not_found(node: &NodeHandle, headers: &HeaderMap, path: &str) -> Response {
    let message = format!("There is no page at {path}. It may have been moved, or the address was mistyped.");
    let chrome = Chrome::new(node, headers, "").await;
    html(StatusCode::NOT_FOUND, &MessagePage { chrome, title: "Page not found".to_owned(), message })
}

/// Renders a page: `render` gets the node and what goes around the page; an error becomes a
/// message page.
async fn page<F, Fut>(node: &NodeHandle, headers: &HeaderMap, section: &'static str, render: F) -> Response
where
    F: FnOnce(NodeHandle, Chrome) -> Fut,
    Fut: Future<Output = Result<Response, WebError>>,
{
    let chrome = Chrome::new(node, headers, section).await;
    match render(node.clone(), chrome.clone()).await {
        Ok(response) => response,
        Err(error) => {
            html(error.status, &MessagePage { chrome, title: error.title.to_owned(), message: error.message })
        }
    }
}

/// One note in a list.
pub struct NoteRow {
    pub id: String,
    pub title: String,
    pub publisher_name: String,
    pub when: String,
    pub snippet_html: String,
}

impl NoteRow {
    fn of(hit: &HitView) -> NoteRow {
        NoteRow {
            id: hit.id.clone(),
            title: hit.title.clone(),
            publisher_name: hit.publisher_name.clone(),
            when: format_time(hit.timestamp_ms),
            snippet_html: hit.snippet_html.clone(),
        }
    }
}

fn rows(hits: &[HitView]) -> Vec<NoteRow> {
    hits.iter().map(NoteRow::of).collect()
}
