//! Publishing through the web page: the form for a new note or an edit, its post (every
//! problem shown beside its input, what was typed kept), and withdrawing a note.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::{Attempts, Standing, client_address, form_value, posted, set_session, signed_in, standing, value};
use super::{Chrome, WebError, html, page, redirect};
use crate::api::form::{Form, Widget};
use crate::author::{self, AuthorError};
use crate::markdown::Note;
use crate::node::{NodeError, NodeHandle};
use crate::record::Kind;
use crate::wire::Practice;

/// The form for a practice note.
type NoteForm = Form<Practice>;

/// The form for a record of any written kind.
#[derive(Template)]
#[template(path = "publish.html")]
pub(super) struct FormPage<T: crate::fields::Described> {
    pub chrome: Chrome,
    pub title: String,
    pub form: Form<T>,
    /// Where it is posted.
    pub action: String,
    /// What it makes, in words: "note", "request" ...
    pub noun: &'static str,
    /// Why the form asks for the token (the session ended); `None` when signed in.
    pub sign_in: Option<String>,
}

fn form_page(chrome: Chrome, form: NoteForm, status: StatusCode) -> Response {
    signed_out_form_page(chrome, form, status, None)
}

fn signed_out_form_page(chrome: Chrome, form: NoteForm, status: StatusCode, sign_in: Option<String>) -> Response {
    let title =
        if form.editing { format!("Edit: {}", form.value("title")) } else { "Publish a practice note".to_owned() };
    html(status, &FormPage { chrome, title, form, action: "/publish".to_owned(), noun: "note", sign_in })
}

pub(super) async fn new_form(State(node): State<NodeHandle>, headers: HeaderMap) -> Response {
    if !signed_in(&node, &headers) {
        return redirect("/signin?next=/publish");
    }
    page(&node, &headers, "publish", |node, chrome| async move {
        let publish = &node.config().publish;
        let defaults = [("language", publish.default_language.as_str()), ("license", publish.default_license.as_str())];
        Ok(form_page(chrome, NoteForm::new(&defaults), StatusCode::OK))
    })
    .await
}

pub(super) async fn edit_form(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path(target): Path<String>,
) -> Response {
    if !signed_in(&node, &headers) {
        return redirect(&format!("/signin?next=/notes/{target}/edit"));
    }
    page(&node, &headers, "publish", |node, chrome| async move {
        // Any revision of the note names it; the form edits its current one.
        let record = node.find(target).await?;
        let own = record.publisher() == node.publisher() && record.kind() == Kind::Practice;
        let current = if own { node.own_note(record.slug().to_owned()).await? } else { None };
        let Some((revision, note)) = current else {
            return Err(WebError {
                status: StatusCode::FORBIDDEN,
                title: "Cannot edit this note",
                message: "only this node's own current notes can be edited here".to_owned(),
            });
        };
        Ok(form_page(chrome, NoteForm::editing(record.slug(), revision, &note), StatusCode::OK))
    })
    .await
}

/// A posted note. What was typed is never lost: when the session has ended, or the form is an
/// old page's, it comes back filled in, with a token input or a word on what to do.
pub(super) async fn publish(
    State(node): State<NodeHandle>,
    Extension(attempts): Extension<Arc<Attempts>>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return (StatusCode::BAD_REQUEST, "the form could not be read; reload the page and send it again")
            .into_response();
    };
    let standing = standing(&node, &attempts, client_address(client), &headers, &pairs);
    let signs_in = matches!(standing, Standing::SignedInByForm);
    let mut response = page(&node, &headers, "publish", |node, mut chrome| async move {
        let mut form = NoteForm::from_pairs(&pairs);
        match standing {
            Standing::SignIn(message) => {
                return Ok(signed_out_form_page(chrome, form, StatusCode::UNAUTHORIZED, Some(message)));
            }
            Standing::Stale => {
                form.general.push(
                    "This form came from an earlier session or another page, so it was not saved. Check what is \
                     below and send it again."
                        .to_owned(),
                );
                return Ok(form_page(chrome, form, StatusCode::FORBIDDEN));
            }
            Standing::SignedInByForm => {
                chrome.signed_in = true;
                chrome.csrf = form_value(node.token());
            }
            Standing::Fine => {}
        }
        let held = node.own_note(form.slug.clone()).await?;
        let mut base = held.as_ref().map(|(_, note)| note);
        if !form.editing && let Some((revision, _)) = &held {
            form.refuse(
                "slug",
                format!(
                    "is already the short name of your note at /notes/{} (revision {revision}); choose another, or edit that note",
                    form.slug
                ),
            );
            base = None;
        }
        let defaults = &node.config().publish;
        let checked = form.check_into_body(base, node.publisher(), |note| author::fill_defaults(note, defaults));
        let Some((slug, practice)) = checked else {
            return Ok(form_page(chrome, form, StatusCode::BAD_REQUEST));
        };
        let note = Note { slug, practice };
        match node.publish_note(note, Some(form.base_revision)).await {
            Ok(published) => Ok(redirect(&format!("/notes/{}?saved=published", published.record.id()))),
            Err(NodeError::Author(AuthorError::Record(error))) => {
                form.refused(&error);
                Ok(form_page(chrome, form, StatusCode::BAD_REQUEST))
            }
            Err(NodeError::Author(AuthorError::Stale { current, .. })) => {
                form.general.push(format!(
                    "The note changed since this form was opened: it is now at revision {current}. Open it again and redo your change."
                ));
                Ok(form_page(chrome, form, StatusCode::CONFLICT))
            }
            Err(NodeError::Author(error)) if !error.is_internal() => {
                form.general.push(error.to_string());
                Ok(form_page(chrome, form, StatusCode::BAD_REQUEST))
            }
            Err(other) => Err(other.into()),
        }
    })
    .await;
    if signs_in {
        set_session(&mut response, node.token());
    }
    response
}

pub(super) async fn withdraw(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path(target): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = match posted(&node, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let reason = value(&pairs, "reason").trim().to_owned();
    page(&node, &headers, "notes", |node, _| async move {
        let record = node.find(target).await?;
        if record.publisher() != node.publisher() {
            return Err(WebError {
                status: StatusCode::FORBIDDEN,
                title: "Not your note",
                message: "only this node's own notes can be withdrawn here".to_owned(),
            });
        }
        match node.withdraw(record.slug().to_owned(), reason).await {
            Ok(stone) => Ok(redirect(&format!("/notes/{}?saved=withdrawn", stone.id()))),
            Err(NodeError::Author(error)) if error.is_internal() => Err(WebError::internal(error)),
            Err(NodeError::Author(error)) => {
                Err(WebError { status: StatusCode::BAD_REQUEST, title: "Not withdrawn", message: error.to_string() })
            }
            Err(other) => Err(other.into()),
        }
    })
    .await
}
