//! Signing in to the web page. Writing (publish, edit, withdraw, add a partner) needs signing in
//! once with the API token: the node then sets an HttpOnly, SameSite=Strict session cookie
//! derived from the token (not the token itself), and every form carries a second value derived
//! from it, which a POST must return (no cross-site forms).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Chrome, html, page, redirect};
use crate::node::NodeHandle;

const SESSION_COOKIE: &str = "citymesh_session";
/// How long the browser keeps the session cookie.
const SESSION_DAYS: u32 = 30;

fn digest(purpose: &str, token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(purpose.as_bytes());
    hash.update(b"\n");
    hash.update(token.trim().as_bytes());
    crate::hex::to_hex(&hash.finalize())
}

/// The session cookie's value: stands for the token without revealing it.
fn session_value(token: &str) -> String {
    digest("citymesh web session 1", token)
}

/// The value every form carries and every POST must return.
pub(super) fn form_value(token: &str) -> String {
    digest("citymesh web form 1", token)[..32].to_owned()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn signed_in(node: &NodeHandle, headers: &HeaderMap) -> bool {
    let expected = session_value(node.token());
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .any(|(name, value)| name == SESSION_COOKIE && same(value, &expected))
}

/// Reads a posted form (all pairs, in order) after checking the session and the form value.
pub(super) fn posted(
    node: &NodeHandle,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, Box<Response>> {
    if !signed_in(node, headers) {
        return Err(Box::new(redirect("/signin")));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|error| {
        Box::new((StatusCode::BAD_REQUEST, format!("the form could not be read: {error}")).into_response())
    })?;
    if !same(value(&pairs, "csrf"), &form_value(node.token())) {
        let refusal = "this form is out of date or came from another site; reload the page and send it again";
        return Err(Box::new((StatusCode::FORBIDDEN, refusal).into_response()));
    }
    Ok(pairs)
}

/// The value of a posted field (empty when it is missing).
pub(super) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or("")
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    chrome: Chrome,
    title: String,
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: a path on this site only.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(super) async fn signin_form(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    page(&node, &headers, "signin", |_, chrome| async move {
        Ok(html(StatusCode::OK, &SigninPage { chrome, title: "Sign in".to_owned(), error: None, next }))
    })
    .await
}

pub(super) async fn signin(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = local_path(Some(value(&pairs, "next")));
    if !same(value(&pairs, "token").trim(), node.token().trim()) {
        return page(&node, &headers, "signin", |_, chrome| async move {
            let error = Some("That is not this node's token. Copy the whole content of api.token again.".to_owned());
            Ok(html(StatusCode::UNAUTHORIZED, &SigninPage { chrome, title: "Sign in".to_owned(), error, next }))
        })
        .await;
    }
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        session_value(node.token()),
        SESSION_DAYS * 86_400
    );
    let mut response = redirect(&next);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(super) async fn signout(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = posted(&node, &headers, &body) {
        return *response;
    }
    let mut response = redirect("/");
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
