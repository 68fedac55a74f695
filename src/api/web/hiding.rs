//! What a node leaves off its pages and whom it answers: hiding a note or a publisher (kept
//! and shared, not shown) and the page that lists what is hidden with an undo for each;
//! blocking a publisher from its note's page; and answering a city that added this one as a
//! partner (accept or ignore).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::session::{local_path_or, posted, value};
use super::{Chrome, WebError, html, page, redirect};
use crate::node::{NodeError, NodeHandle};
use crate::record::{Key, Kind, PublisherId, parse_hex32};
use crate::search::Hidden;
use crate::view::{self, format_time};

pub struct HiddenRow {
    pub publisher: String,
    pub slug: String,
    /// "All notes of Recife", "Recife's note street-lights".
    pub what: String,
    pub when: String,
}

pub struct BlockedRow {
    pub publisher: String,
    pub name: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "hidden.html")]
struct HiddenPage {
    chrome: Chrome,
    title: String,
    hidden: Vec<HiddenRow>,
    blocked: Vec<BlockedRow>,
}

async fn name_of_hex(node: &NodeHandle, hex: &str) -> String {
    match parse_hex32(hex) {
        Ok(key) => node.name_of(PublisherId(key)).await,
        Err(_) => hex.to_owned(),
    }
}

pub(super) async fn hidden(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&node, &headers, "hidden", |node, mut chrome| async move {
        chrome.notice = done_notice(raw.as_deref());
        let mut hidden = Vec::new();
        for entry in node.hidden().await? {
            let name = name_of_hex(&node, &entry.publisher).await;
            let what = if entry.slug.is_empty() {
                format!("Everything from {name}")
            } else {
                format!("{name}'s note {}", entry.slug)
            };
            hidden.push(HiddenRow {
                what,
                when: format_time(entry.added_ms),
                publisher: entry.publisher,
                slug: entry.slug,
            });
        }
        let mut blocked = Vec::new();
        for entry in node.blocks().await? {
            blocked.push(BlockedRow {
                name: name_of_hex(&node, &entry.publisher).await,
                when: format_time(entry.added_ms),
                publisher: entry.publisher,
            });
        }
        let page = HiddenPage { chrome, title: "Hidden and blocked".to_owned(), hidden, blocked };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}

/// A change a posted form asks for: `change` gets the node and the form's fields and answers
/// the `done` word of the page it goes back to.
async fn change<F, Fut>(node: NodeHandle, headers: HeaderMap, body: Bytes, fallback: &str, change: F) -> Response
where
    F: FnOnce(NodeHandle, Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<&'static str, NodeError>>,
{
    let pairs = match posted(&node, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    // Back to the page the form named (on this site), or `fallback`.
    let next = local_path_or(value(&pairs, "next"), fallback);
    match change(node.clone(), pairs).await {
        Ok(done) => {
            let separator = if next.contains('?') { '&' } else { '?' };
            redirect(&format!("{next}{separator}done={done}"))
        }
        Err(error) => {
            let message = error.to_string();
            page(&node, &headers, "hidden", |_, _| async move {
                Err::<Response, _>(WebError { status: StatusCode::BAD_REQUEST, title: "Not changed", message })
            })
            .await
        }
    }
}

pub(super) async fn hide(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/hidden", |node, pairs| async move {
        node.hide(value(&pairs, "publisher").to_owned(), value(&pairs, "slug").to_owned()).await?;
        Ok("hidden")
    })
    .await
}

pub(super) async fn unhide(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/hidden", |node, pairs| async move {
        node.unhide(value(&pairs, "publisher").to_owned(), value(&pairs, "slug").to_owned()).await?;
        Ok("shown")
    })
    .await
}

pub(super) async fn block(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/hidden", |node, pairs| async move {
        node.block(value(&pairs, "publisher").to_owned()).await?;
        Ok("blocked")
    })
    .await
}

pub(super) async fn unblock(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/hidden", |node, pairs| async move {
        node.unblock(value(&pairs, "publisher").to_owned()).await?;
        Ok("unblocked")
    })
    .await
}

pub(super) async fn accept(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/partners", |node, pairs| async move {
        node.accept_partner(value(&pairs, "publisher").to_owned()).await?;
        Ok("accepted")
    })
    .await
}

pub(super) async fn ignore(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    change(node, headers, body, "/partners", |node, pairs| async move {
        node.ignore_partner(value(&pairs, "publisher").to_owned()).await?;
        Ok("ignored")
    })
    .await
}

/// What a page says after one of these changes, by the `done` of its address's query. Fixed
/// words: an address cannot make a page say anything else.
pub(super) fn done_notice(raw_query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw_query.unwrap_or_default()).unwrap_or_default();
    notice_for(value(&pairs, "done"))
}

/// [`done_notice`] for the `done` word itself.
pub(super) fn notice_for(done: &str) -> Option<String> {
    let notice = match done {
        "hidden" => "Hidden from these pages: it is kept and shared still. Hidden and blocked lists it, with an undo.",
        "shown" => "Shown again.",
        "blocked" => "Blocked: its records are refused from now on. Hidden and blocked lists it, with an undo.",
        "unblocked" => "No longer blocked; what was refused is fetched again.",
        "accepted" => "You are partners now: your partnership record is on its way to them.",
        "ignored" => "You will not be asked again; its notes still arrive as your trust policy allows.",
        _ => return None,
    };
    Some(notice.to_owned())
}

/// What the pages leave out of search results: what was hidden.
pub(super) async fn left_out(node: &NodeHandle) -> Result<Vec<Hidden>, NodeError> {
    let hidden = node.hidden().await?.into_iter().filter_map(|entry| {
        let publisher = PublisherId(parse_hex32(&entry.publisher).ok()?);
        Some(match entry.slug.is_empty() {
            true => Hidden::Publisher(publisher),
            false => Hidden::Note(Key { publisher, kind: Kind::Practice, slug: entry.slug }),
        })
    });
    Ok(hidden.collect())
}

/// A publisher that added this node as a partner, as the home and partners pages ask about it.
pub struct Invitation {
    pub publisher: String,
    pub name: String,
    pub fingerprint: String,
}

/// The publishers waiting for this node to partner in return.
pub(super) async fn invitations(node: &NodeHandle) -> Vec<Invitation> {
    let mut out = Vec::new();
    for publisher in node.invitations().await.unwrap_or_default() {
        out.push(Invitation {
            name: node.name_of(publisher).await,
            fingerprint: view::fingerprint(&publisher),
            publisher: publisher.to_string(),
        });
    }
    out
}
