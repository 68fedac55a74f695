//! The forms for requests, offers, events, engagements, outcomes and endorsements: one form per
//! kind, made from its field table, with the practice note form's manners (every problem
//! beside its input, what was typed kept, a token box when the session ended). A new form can
//! come filled in from its address (`/new/engagement?request=...&counterpart=...`: "offer
//! help" drafts an engagement).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::publish::FormPage;
use super::session::{Attempts, Standing, client_address, form_value, set_session, signed_in, standing};
use super::{Chrome, WebError, html, page, redirect};
use crate::api::form::Form;
use crate::author::AuthorError;
use crate::fields::{Described, WRITTEN_KINDS};
use crate::markdown::Written;
use crate::node::{NodeError, NodeHandle};
use crate::record::{Kind, KindBody};

/// The kinds these forms make, by the name their addresses use.
pub(super) fn composed_kind(name: &str) -> Result<Kind, WebError> {
    name.parse::<Kind>().ok().filter(|kind| WRITTEN_KINDS.contains(kind) && *kind != Kind::Practice).ok_or_else(|| {
        WebError {
            status: StatusCode::NOT_FOUND,
            title: "No such form",
            message: format!(
                "there is no form for {name:?}; there are forms for requests, offers, events, engagements, outcomes and endorsements"
            ),
        }
    })
}

/// What a page calls a kind's records.
pub(super) fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Request => "request",
        Kind::Offer => "offer",
        Kind::Event => "event",
        Kind::Engagement => "engagement",
        Kind::Outcome => "outcome",
        Kind::Endorsement => "endorsement",
        _ => "note",
    }
}

/// The address of a record's page.
pub(super) fn page_of(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Practice => format!("/notes/{id}"),
        other => format!("/{}s/{id}", noun(other)),
    }
}

fn new_title(kind: Kind) -> &'static str {
    match kind {
        Kind::Request => "Ask for expertise",
        Kind::Offer => "Offer your expertise",
        Kind::Event => "Announce an event",
        Kind::Engagement => "Record a transfer you take part in",
        Kind::Outcome => "Record what came of a transfer",
        Kind::Endorsement => "Vouch for a practice or an outcome",
        _ => "Publish",
    }
}

fn form_page<T: Described>(
    chrome: Chrome,
    kind: Kind,
    form: Form<T>,
    status: StatusCode,
    sign_in: Option<String>,
) -> Response {
    let title =
        if form.editing { format!("Edit your {}: {}", noun(kind), form.slug) } else { new_title(kind).to_owned() };
    let action = format!("/new/{}", kind.as_str());
    html(status, &FormPage { chrome, title, form, action, noun: noun(kind), sign_in })
}

/// `GET /new/{kind}`: an empty form, or one filled in from the address's query.
pub(super) async fn new_form(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if !signed_in(&node, &headers) {
        return redirect(&format!("/signin?next=/new/{kind}"));
    }
    page(&node, &headers, "board", |node, chrome| async move {
        let kind = composed_kind(&kind)?;
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(name, _)| name != "base_revision");
        let language = node.config().publish.default_language.clone();
        if matches!(kind, Kind::Request | Kind::Offer | Kind::Event)
            && !pairs.iter().any(|(name, _)| name == "languages")
        {
            pairs.push(("languages".to_owned(), language));
        }
        Ok(crate::with_described!(kind, T => {
            form_page(chrome, kind, Form::<T>::from_pairs(&pairs), StatusCode::OK, None)
        }, else unreachable_form()))
    })
    .await
}

/// `GET /edit/{kind}/{slug}`: one of this node's own current records, to revise.
pub(super) async fn edit_form(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path((kind, slug)): Path<(String, String)>,
) -> Response {
    if !signed_in(&node, &headers) {
        return redirect(&format!("/signin?next=/edit/{kind}/{slug}"));
    }
    page(&node, &headers, "board", |node, chrome| async move {
        let kind = composed_kind(&kind)?;
        let Some((revision, body)) = node.own_record(kind, slug.clone()).await? else {
            return Err(WebError {
                status: StatusCode::NOT_FOUND,
                title: "Nothing to edit",
                message: format!("this node has no current {} {slug:?} of its own to edit", noun(kind)),
            });
        };
        Ok(crate::with_described!(kind, T => match T::from_body(body) {
            Some(body) => form_page(chrome, kind, Form::<T>::editing(&slug, revision, &body), StatusCode::OK, None),
            None => unreachable_form(),
        }, else unreachable_form()))
    })
    .await
}

fn unreachable_form() -> Response {
    (StatusCode::NOT_FOUND, "there is no form for this kind of record").into_response()
}

/// `POST /new/{kind}`: a new record or the next revision of one (`base_revision`).
pub(super) async fn publish(
    State(node): State<NodeHandle>,
    Extension(attempts): Extension<Arc<Attempts>>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return (StatusCode::BAD_REQUEST, "the form could not be read; reload the page and send it again")
            .into_response();
    };
    let standing = standing(&node, &attempts, client_address(client), &headers, &pairs);
    let signs_in = matches!(standing, Standing::SignedInByForm);
    let mut response = page(&node, &headers, "board", |node, chrome| async move {
        let kind = composed_kind(&kind)?;
        crate::with_described!(kind, T => post::<T>(node, chrome, kind, standing, &pairs).await, else Ok(unreachable_form()))
    })
    .await;
    if signs_in {
        set_session(&mut response, node.token());
    }
    response
}

async fn post<T: Described + KindBody>(
    node: NodeHandle,
    mut chrome: Chrome,
    kind: Kind,
    standing: Standing,
    pairs: &[(String, String)],
) -> Result<Response, WebError> {
    let mut form = Form::<T>::from_pairs(pairs);
    match standing {
        Standing::SignIn(message) => return Ok(form_page(chrome, kind, form, StatusCode::UNAUTHORIZED, Some(message))),
        Standing::Stale => {
            form.general.push(
                "This form came from an earlier session or another page, so it was not saved. Check what is below and \
                 send it again."
                    .to_owned(),
            );
            return Ok(form_page(chrome, kind, form, StatusCode::FORBIDDEN, None));
        }
        Standing::SignedInByForm => {
            chrome.signed_in = true;
            chrome.csrf = form_value(node.token());
        }
        Standing::Fine => {}
    }
    let held = node.own_record(kind, form.slug.clone()).await?;
    let held = held.and_then(|(revision, body)| T::from_body(body).map(|body| (revision, body)));
    let mut base = held.as_ref().map(|(_, body)| body);
    if !form.editing
        && let Some((revision, _)) = &held
    {
        form.refuse(
            "slug",
            format!(
                "is already the short name of your {} {} (revision {revision}); choose another, or edit that one",
                noun(kind),
                form.slug
            ),
        );
        base = None;
    }
    let Some((slug, body)) = form.check_into_body(base, node.publisher(), |_| {}) else {
        return Ok(form_page(chrome, kind, form, StatusCode::BAD_REQUEST, None));
    };
    let written = Written { kind, slug, body: body.into_body() };
    match node.publish_written(written, Some(form.base_revision)).await {
        Ok(published) => {
            Ok(redirect(&format!("{}?saved=published", page_of(kind, &published.record.id().to_string()))))
        }
        Err(NodeError::Author(AuthorError::Record(error))) => {
            form.refused(&error);
            Ok(form_page(chrome, kind, form, StatusCode::BAD_REQUEST, None))
        }
        Err(NodeError::Author(AuthorError::NoEngagement(slug))) => {
            form.refuse(
                "engagement",
                format!("is not one of your engagements: you have published none with slug {slug:?}"),
            );
            Ok(form_page(chrome, kind, form, StatusCode::BAD_REQUEST, None))
        }
        Err(NodeError::Author(AuthorError::Stale { current, .. })) => {
            form.general.push(format!(
                "It changed since this form was opened: it is now at revision {current}. Open it again and redo your change."
            ));
            Ok(form_page(chrome, kind, form, StatusCode::CONFLICT, None))
        }
        Err(NodeError::Author(error)) if !error.is_internal() => {
            form.general.push(error.to_string());
            Ok(form_page(chrome, kind, form, StatusCode::BAD_REQUEST, None))
        }
        Err(other) => Err(other.into()),
    }
}
