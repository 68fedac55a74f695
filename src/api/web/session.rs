//! Signing in to the web page. Writing (publish, edit, withdraw, add a partner) needs signing in
//! once with the API token: the node then sets an HttpOnly, SameSite=Strict session cookie
//! derived from the token (not the token itself), and every form carries a second value derived
//! from it, which a POST must return (no cross-site forms).

use askama::Template;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Chrome, html, page, redirect};
use crate::node::NodeHandle;

const SESSION_COOKIE: &str = "citymesh_session";
/// How long the browser keeps the session cookie.
const SESSION_DAYS: u32 = 30;
/// Wrong sign-ins from one address before it must wait.
const FREE_ATTEMPTS: u32 = 4;
/// The longest wait; each wrong sign-in after the free ones doubles the wait, from a second.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Wrong sign-ins by client address: after [`FREE_ATTEMPTS`], an address waits 1 s, then 2 s,
/// 4 s and so on up to [`MAX_WAIT`] before it may try again. Signing in clears its count.
#[derive(Default)]
pub struct Attempts {
    by_address: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    wait_until: Option<Instant>,
}

impl Attempts {
    /// How long `address` must still wait before trying again, if it must.
    fn waiting(&self, address: IpAddr) -> Option<Duration> {
        let known = self.by_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let until = known.get(&address)?.wait_until?;
        until.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())
    }

    /// Counts a wrong sign-in; returns how many there were and how long the address now waits.
    fn failed(&self, address: IpAddr) -> (u32, Option<Duration>) {
        let mut known = self.by_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forgetting the oldest addresses keeps a flood of them from growing the map without bound.
        if known.len() >= 10_000 && !known.contains_key(&address) {
            known.clear();
        }
        let failures = known.entry(address).or_insert(Failures { count: 0, wait_until: None });
        failures.count += 1;
        let wait = failures.count.checked_sub(FREE_ATTEMPTS + 1).map(|doublings| {
            Duration::from_secs(1u64.checked_shl(doublings.min(20)).unwrap_or(u64::MAX)).min(MAX_WAIT)
        });
        failures.wait_until = wait.map(|wait| Instant::now() + wait);
        (failures.count, wait)
    }

    fn succeeded(&self, address: IpAddr) {
        self.by_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&address);
    }
}

/// A wait in words: "1 second", "4 minutes".
fn wait_words(wait: Duration) -> String {
    let seconds = wait.as_secs_f64().ceil() as u64;
    match seconds {
        0 | 1 => "1 second".to_owned(),
        2..=119 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

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
    local_path_or(next.unwrap_or_default(), "/")
}

/// `next` when it is a path on this site, else `fallback`.
pub(super) fn local_path_or(next: &str, fallback: &str) -> String {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local { next } else { fallback }.to_owned()
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

pub(super) async fn signin(
    State(node): State<NodeHandle>,
    Extension(attempts): Extension<Arc<Attempts>>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = local_path(Some(value(&pairs, "next")));
    let address = client_address(client);
    let refused = |status: StatusCode, error: String| {
        let next = next.clone();
        page(&node, &headers, "signin", move |_, chrome| async move {
            let title = "Sign in".to_owned();
            Ok(html(status, &SigninPage { chrome, title, error: Some(error), next }))
        })
    };
    if let Err(error) = try_token(&node, &attempts, address, value(&pairs, "token")) {
        let status = if error.starts_with(TOO_MANY) { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
        return refused(status, error).await;
    }
    tracing::info!(client = %address, "signed in to the web page");
    let mut response = redirect(&next);
    set_session(&mut response, node.token());
    response
}

const TOO_MANY: &str = "Too many wrong tokens";

/// Checks a token typed in to sign in, counting wrong ones from `address`; the error says
/// what to do.
fn try_token(node: &NodeHandle, attempts: &Attempts, address: IpAddr, token: &str) -> Result<(), String> {
    if let Some(wait) = attempts.waiting(address) {
        tracing::warn!(client = %address, "a sign-in was refused: too many wrong tokens from this address");
        return Err(format!(
            "{TOO_MANY} were tried from this computer. Wait {} before trying again.",
            wait_words(wait)
        ));
    }
    if !same(token.trim(), node.token().trim()) {
        let (count, wait) = attempts.failed(address);
        tracing::warn!(client = %address, failures = count, "a sign-in with a wrong token");
        let mut error = "That is not this node's token. Copy the whole content of api.token again.".to_owned();
        if let Some(wait) = wait {
            error.push_str(&format!(" After {count} wrong tokens, wait {} before trying again.", wait_words(wait)));
        }
        return Err(error);
    }
    attempts.succeeded(address);
    Ok(())
}

/// The client's address, as the server saw it; without it (the router served without it, as
/// tests do), all clients share one.
pub(super) fn client_address(client: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    client.map_or(IpAddr::from([0, 0, 0, 0]), |Extension(ConnectInfo(address))| address.ip())
}

/// Where a posted form stands with the session.
pub(super) enum Standing {
    /// Signed in, and the form is this session's.
    Fine,
    /// Not signed in, but the form carried the right token: sign in as it is answered.
    SignedInByForm,
    /// Not signed in: the form is shown again with this message and a token input.
    SignIn(String),
    /// Signed in, but the form's value is not this session's (an old page, or another site's).
    Stale,
}

/// Where a posted form stands: `pairs` are its fields (`csrf`, and `token` when the form asked
/// for one).
pub(super) fn standing(
    node: &NodeHandle,
    attempts: &Attempts,
    address: IpAddr,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Standing {
    if signed_in(node, headers) {
        return if same(value(pairs, "csrf"), &form_value(node.token())) { Standing::Fine } else { Standing::Stale };
    }
    let token = value(pairs, "token");
    if token.trim().is_empty() {
        return Standing::SignIn(
            "You are not signed in: the session ended or you signed out. Paste the API token below and send \
             the note again; what you typed is kept."
                .to_owned(),
        );
    }
    match try_token(node, attempts, address, token) {
        Ok(()) => {
            tracing::info!(client = %address, "signed in to the web page from a form");
            Standing::SignedInByForm
        }
        Err(error) => Standing::SignIn(error),
    }
}

/// Gives the browser the session cookie.
pub(super) fn set_session(response: &mut Response, token: &str) {
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        session_value(token),
        SESSION_DAYS * 86_400
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
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
