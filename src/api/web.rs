//! The node's web page: server-rendered HTML from the askama templates in `templates/`, one
//! stylesheet, no JavaScript. Reading needs nothing. Writing (publish, edit, withdraw, add a
//! partner) needs signing in once with the API token: the node then sets an HttpOnly,
//! SameSite=Strict session cookie derived from the token (not the token itself), and every form
//! carries a second value derived from it, which a POST must return (no cross-site forms).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::SearchParams;
use super::form::NoteForm;
use crate::author::{self, AuthorError, now_ms};
use crate::node::Shared;
use crate::record::{Body, Kind, Record};
use crate::search::{FACETS, SearchQuery};
use crate::view::{self, Names, format_time};
use crate::wire::Practice;

const SESSION_COOKIE: &str = "citymesh_session";
/// How long the browser keeps the session cookie.
const SESSION_DAYS: u32 = 30;
/// Notes on the home page, per list.
const HOME_NOTES: usize = 8;
/// Results per page of the browse page.
const BROWSE_PAGE: usize = 20;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(home))
        .route("/notes", get(browse))
        .route("/notes/{target}", get(note))
        .route("/notes/{target}/edit", get(edit_form))
        .route("/notes/{target}/withdraw", post(withdraw))
        .route("/publish", get(new_form).post(publish))
        .route("/partners", get(partners).post(add_partner))
        .route("/network", get(network))
        .route("/signin", get(signin_form).post(signin))
        .route("/signout", post(signout))
        .route("/static/style.css", get(style))
}

async fn style() -> Response {
    let css = include_str!("../../static/style.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], css).into_response()
}

fn digest(purpose: &str, token: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(purpose.as_bytes());
    hash.update(b"\n");
    hash.update(token.trim().as_bytes());
    crate::record::to_hex(&hash.finalize())
}

/// The session cookie's value: stands for the token without revealing it.
fn session_value(token: &str) -> String {
    digest("citymesh web session 1", token)
}

/// The value every form carries and every POST must return.
fn form_value(token: &str) -> String {
    digest("citymesh web form 1", token)[..32].to_owned()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn signed_in(shared: &Shared, headers: &HeaderMap) -> bool {
    let expected = session_value(&shared.token);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .any(|(name, value)| name == SESSION_COOKIE && same(value, &expected))
}

/// What every page shows around its content.
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
    fn new(shared: &Shared, names: &Names, section: &'static str, signed_in: bool) -> Chrome {
        Chrome {
            node_name: names.of(&shared.key.publisher()),
            section,
            signed_in,
            csrf: if signed_in { form_value(&shared.token) } else { String::new() },
            notice: None,
        }
    }

    pub fn links(&self) -> Vec<NavLink> {
        let sections = [
            ("/", "Home", "home"),
            ("/notes", "Browse", "notes"),
            ("/publish", "Publish", "publish"),
            ("/partners", "Partners", "partners"),
            ("/network", "Network", "network"),
        ];
        sections
            .into_iter()
            .map(|(href, label, section)| NavLink { href, label, current: section == self.section })
            .collect()
    }
}

fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; the node's log says why")
                .into_response()
        }
    }
}

fn redirect(to: &str) -> Response {
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

impl From<crate::store::StoreError> for WebError {
    fn from(error: crate::store::StoreError) -> Self {
        WebError::internal(error)
    }
}

impl From<view::FindError> for WebError {
    fn from(error: view::FindError) -> Self {
        match error {
            view::FindError::Store(error) => WebError::internal(error),
            view::FindError::Ambiguous { .. } => {
                WebError { status: StatusCode::CONFLICT, title: "Several notes", message: error.to_string() }
            }
            other => WebError { status: StatusCode::NOT_FOUND, title: "No such note", message: other.to_string() },
        }
    }
}

/// Renders a page off the async runtime (pages read the store); errors become message pages.
async fn page(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    section: &'static str,
    render: impl FnOnce(&Shared, Chrome, &Names) -> Result<Response, WebError> + Send + 'static,
) -> Response {
    let shared = Arc::clone(shared);
    let signed_in = signed_in(&shared, headers);
    let rendered = tokio::task::spawn_blocking(move || {
        let names = match Names::load(&shared.store) {
            Ok(names) => names,
            Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        };
        let chrome = Chrome::new(&shared, &names, section, signed_in);
        match render(&shared, chrome, &names) {
            Ok(response) => response,
            Err(error) => {
                let chrome = Chrome::new(&shared, &names, section, signed_in);
                html(error.status, &MessagePage { chrome, title: error.title.to_owned(), message: error.message })
            }
        }
    })
    .await;
    rendered.unwrap_or_else(|error| (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response())
}

/// Reads a posted form (all pairs, in order) after checking the session and the form value.
fn posted(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, Box<Response>> {
    if !signed_in(shared, headers) {
        return Err(Box::new(redirect("/signin")));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|error| {
        Box::new((StatusCode::BAD_REQUEST, format!("the form could not be read: {error}")).into_response())
    })?;
    let returned = pairs.iter().find(|(name, _)| name == "csrf").map(|(_, value)| value.as_str()).unwrap_or("");
    if !same(returned, &form_value(&shared.token)) {
        let refusal = "this form is out of date or came from another site; reload the page and send it again";
        return Err(Box::new((StatusCode::FORBIDDEN, refusal).into_response()));
    }
    Ok(pairs)
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).unwrap_or("")
}

/// One note in a list.
pub struct NoteRow {
    pub id: String,
    pub title: String,
    pub publisher_name: String,
    pub when: String,
    pub snippet_html: String,
}

fn rows(hits: &[crate::search::Hit], names: &Names) -> Vec<NoteRow> {
    hits.iter()
        .map(|hit| NoteRow {
            id: hit.id.clone(),
            title: hit.title.clone(),
            publisher_name: names.of_hex(&hit.publisher),
            when: format_time(hit.timestamp_ms),
            snippet_html: hit.snippet_html.clone(),
        })
        .collect()
}

pub struct Health {
    pub class: &'static str,
    pub headline: String,
    pub peers: usize,
    pub partners: usize,
    pub records: usize,
    pub notes: u64,
    pub last_sync: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    title: String,
    health: Health,
    partner_notes: Vec<NoteRow>,
    newest: Vec<NoteRow>,
}

async fn home(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let peers = shared.net.status().await.map(|status| status.connected_peers.len()).unwrap_or_default();
    page(&shared, &headers, "home", move |shared, chrome, names| {
        shared.search.catch_up(&shared.store).map_err(WebError::internal)?;
        let policy = shared.policy();
        let partners: Vec<(&'static str, String)> =
            policy.partners().map(|key| ("publisher", crate::record::to_hex(key))).collect();
        let newest_query = SearchQuery { limit: HOME_NOTES, ..SearchQuery::default() };
        let newest = shared.search.search(&newest_query).map_err(WebError::internal)?;
        let partner_notes = if partners.is_empty() {
            Vec::new()
        } else {
            let query = SearchQuery { filters: partners.clone(), limit: HOME_NOTES, ..SearchQuery::default() };
            rows(&shared.search.search(&query).map_err(WebError::internal)?.hits, names)
        };
        let syncs = shared.syncs.lock().map(|syncs| syncs.values().cloned().collect::<Vec<_>>()).unwrap_or_default();
        let failed = syncs.iter().filter(|report| report.error.is_some()).count();
        let last = syncs.iter().map(|report| report.at_ms).max();
        let (class, headline) = match (peers, failed) {
            (0, _) => ("bad", "Not connected to any peer: new notes will not arrive until a peer connects.".to_owned()),
            (_, 0) => ("good", "Healthy: connected, and every last sync succeeded.".to_owned()),
            (_, failed) => ("bad", format!("{failed} of the last syncs failed; see Network.")),
        };
        let health = Health {
            class,
            headline,
            peers,
            partners: partners.len(),
            records: shared.store.len(),
            notes: shared.search.len(),
            last_sync: last.map_or("none yet".to_owned(), format_time),
        };
        let title = "Home".to_owned();
        let page = HomePage { chrome, title, health, partner_notes, newest: rows(&newest.hits, names) };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}

pub struct FacetLink {
    pub label: String,
    pub count: u64,
    pub href: String,
    pub active: bool,
}

pub struct FacetView {
    pub label: &'static str,
    pub links: Vec<FacetLink>,
}

#[derive(Template)]
#[template(path = "notes.html")]
struct BrowsePage {
    chrome: Chrome,
    title: String,
    q: String,
    /// Filters kept when the words change.
    hidden: Vec<(&'static str, String)>,
    error: Option<String>,
    summary: String,
    notes: Vec<NoteRow>,
    facets: Vec<FacetView>,
    /// Links that remove one filter each.
    active: Vec<FacetLink>,
    previous: Option<String>,
    next: Option<String>,
}

fn browse_href(q: &str, filters: &[(&'static str, String)], offset: usize) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if !q.is_empty() {
        pairs.push(("q", q));
    }
    pairs.extend(filters.iter().map(|(name, value)| (*name, value.as_str())));
    let offset = offset.to_string();
    if offset != "0" {
        pairs.push(("offset", &offset));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() { "/notes".to_owned() } else { format!("/notes?{query}") }
}

fn facet_label(name: &str) -> &'static str {
    match name {
        "theme" => "Theme",
        "sdg" => "SDG target",
        "country" => "Country",
        "language" => "Language",
        "publisher" => "Publisher",
        _ => "Status",
    }
}

async fn browse(State(shared): State<Arc<Shared>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&shared, &headers, "notes", move |shared, chrome, names| {
        let asked = SearchParams::parse(raw.as_deref().unwrap_or_default()).and_then(|params| {
            let limit = params.limit.unwrap_or(BROWSE_PAGE);
            params.query().map(|query| SearchQuery { limit, ..query })
        });
        let (query, error) = match asked {
            Ok(query) => (query, None),
            Err(error) => (SearchQuery { limit: BROWSE_PAGE, ..SearchQuery::default() }, Some(error.to_string())),
        };
        shared.search.catch_up(&shared.store).map_err(WebError::internal)?;
        let results = shared.search.search(&query).map_err(WebError::internal)?;
        let name_of = |name: &str, value: &str| match name {
            "publisher" => names.of_hex(value),
            _ => value.to_owned(),
        };
        let facets = FACETS
            .iter()
            .map(|name| {
                let links = results.facets[name]
                    .iter()
                    .map(|count| {
                        let chosen = (*name, count.value.clone());
                        let active = query.filters.contains(&chosen);
                        let filters: Vec<_> = if active {
                            query.filters.iter().filter(|filter| **filter != chosen).cloned().collect()
                        } else {
                            query.filters.iter().cloned().chain([chosen]).collect()
                        };
                        FacetLink {
                            label: name_of(name, &count.value),
                            count: count.count,
                            href: browse_href(&query.text, &filters, 0),
                            active,
                        }
                    })
                    .collect();
                FacetView { label: facet_label(name), links }
            })
            .collect();
        let active = query
            .filters
            .iter()
            .map(|filter| {
                let rest: Vec<_> = query.filters.iter().filter(|other| *other != filter).cloned().collect();
                FacetLink {
                    label: format!("{}: {}", facet_label(filter.0), name_of(filter.0, &filter.1)),
                    count: 0,
                    href: browse_href(&query.text, &rest, 0),
                    active: true,
                }
            })
            .collect();
        let shown_to = query.offset + results.hits.len();
        let first = query.offset + 1;
        let summary = match (results.total, query.text.is_empty()) {
            (0, _) => "No note matches; try fewer words or filters.".to_owned(),
            (1, true) => "1 note".to_owned(),
            (1, false) => "1 note matches".to_owned(),
            (total, true) => format!("{total} notes, newest first ({first}–{shown_to})"),
            (total, false) => format!("{total} notes match, best first ({first}–{shown_to})"),
        };
        let previous = (query.offset > 0)
            .then(|| browse_href(&query.text, &query.filters, query.offset.saturating_sub(query.limit)));
        let next = (shown_to < results.total && shown_to < crate::search::MAX_OFFSET)
            .then(|| browse_href(&query.text, &query.filters, shown_to));
        let title = if query.text.is_empty() { "Browse".to_owned() } else { format!("Search: {}", query.text) };
        let page = BrowsePage {
            chrome,
            title,
            q: query.text.clone(),
            hidden: query.filters.clone(),
            error,
            summary,
            notes: rows(&results.hits, names),
            facets,
            active,
            previous,
            next,
        };
        let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        Ok(html(status, &page))
    })
    .await
}

pub struct HistoryRow {
    pub revision: u64,
    pub id: String,
    pub when: String,
    pub changed: String,
    pub this: bool,
}

pub struct NoteView {
    pub id: String,
    pub title: String,
    pub revision: u64,
    pub publisher: String,
    pub publisher_name: String,
    pub signed_at: String,
    pub verified: bool,
    pub withdrawn: Option<String>,
    pub newer: Option<String>,
    pub can_edit: bool,
    pub facts: Vec<(&'static str, String)>,
    pub sections: Vec<(&'static str, String)>,
    pub lists: Vec<(&'static str, Vec<String>)>,
    pub indicators: Vec<crate::wire::Indicator>,
    pub partners: Vec<crate::wire::Partner>,
    pub contacts: Vec<crate::wire::Contact>,
    pub attachments: Vec<String>,
    pub profile: Option<Vec<(&'static str, String)>>,
    pub history: Vec<HistoryRow>,
    /// Notes that name a revision of this one as the practice they adapt.
    pub adaptations: Vec<NoteRow>,
}

#[derive(Template)]
#[template(path = "note.html")]
struct NotePage {
    chrome: Chrome,
    title: String,
    note: NoteView,
}

fn facts(note: &Practice) -> Vec<(&'static str, String)> {
    let mut facts = vec![("Themes", note.themes.join(", ")), ("SDG targets", note.sdg_targets.join(", "))];
    facts.push(("Status", note.status.clone()));
    let dates = match (note.start_date.as_str(), note.end_date.as_str()) {
        ("", "") => String::new(),
        (start, "") => format!("since {start}"),
        ("", end) => format!("until {end}"),
        (start, end) => format!("{start} to {end}"),
    };
    facts.push(("Dates", dates));
    if let Some(place) = &note.location {
        let mut parts: Vec<&str> = [&place.name, &place.subdivision, &place.country]
            .into_iter()
            .map(String::as_str)
            .filter(|part| !part.is_empty())
            .collect();
        parts.dedup();
        facts.push(("Place", parts.join(", ")));
        let ids: Vec<String> =
            [("Wikidata", &place.wikidata), ("GeoNames", &place.geonames), ("UN/LOCODE", &place.unlocode)]
                .into_iter()
                .filter(|(_, id)| !id.is_empty())
                .map(|(name, id)| format!("{name} {id}"))
                .collect();
        facts.push(("Place ids", ids.join(", ")));
    }
    facts.push(("Language", note.language.clone()));
    facts.push(("Licence", note.license.clone()));
    facts.push(("Keywords", note.keywords.join(", ")));
    if let Some(resources) = &note.resources {
        let budget = if resources.budget.is_empty() {
            String::new()
        } else {
            format!("{} {}", resources.budget, resources.currency)
        };
        facts.push(("Budget", budget));
        facts.push(("Funding", resources.funding_sources.join(", ")));
        facts.push(("Staff", resources.staff.clone()));
    }
    if !note.based_on.is_empty() {
        facts.push(("Adapted from", crate::record::to_hex(&note.based_on)));
    }
    facts.retain(|(_, value)| !value.is_empty());
    facts
}

fn profile_facts(profile: &crate::wire::Profile) -> Vec<(&'static str, String)> {
    let mut facts = vec![("Name", profile.name.clone()), ("Organisation", profile.organisation_type.clone())];
    if let Some(place) = &profile.place {
        let parts: Vec<&str> =
            [&place.name, &place.country].into_iter().map(String::as_str).filter(|p| !p.is_empty()).collect();
        facts.push(("Based in", parts.join(", ")));
    }
    facts.push(("Website", profile.website.clone()));
    facts.push(("Languages", profile.languages.join(", ")));
    if let Some(contact) = &profile.contact {
        facts.push(("Contact", contact.channel.clone()));
    }
    facts.push(("About", profile.description.clone()));
    facts.retain(|(_, value)| !value.is_empty());
    facts
}

fn note_view(shared: &Shared, names: &Names, record: &Record, signed_in: bool) -> Result<NoteView, WebError> {
    let store = &shared.store;
    let key = record.key();
    let head = store.head(&key)?;
    let history = store.history(&key)?;
    let revisions: Vec<crate::record::RecordId> = history.iter().map(Record::id).collect();
    let detail = view::detail(store, record, true, now_ms())?;
    // What to show: this revision's body, or for a withdrawal the last revision before it.
    let practice = match record.parse_body() {
        Ok(Body::Practice(note)) => Some(note),
        _ => history.iter().rev().find_map(|revision| match revision.parse_body() {
            Ok(Body::Practice(note)) if revision.revision() < record.revision() => Some(note),
            _ => None,
        }),
    };
    let withdrawn = match &head {
        Some(head) if head.is_tombstone() => {
            let reason = match head.parse_body() {
                Ok(Body::Tombstone(stone)) => stone.reason,
                _ => String::new(),
            };
            Some(format!(
                "The publisher withdrew this note on {} (revision {}): {reason}",
                format_time(head.timestamp_ms()),
                head.revision()
            ))
        }
        _ => None,
    };
    let newer = head
        .as_ref()
        .filter(|head| head.id() != record.id() && !head.is_tombstone())
        .map(|head| format!("/notes/{}", head.id()));
    let own = record.publisher() == shared.key.publisher();
    let current = head.as_ref().is_some_and(|head| head.id() == record.id());
    let changed = detail["history"].as_array().cloned().unwrap_or_default();
    let history = history
        .iter()
        .zip(changed.iter().chain(std::iter::repeat(&serde_json::Value::Null)))
        .map(|(revision, row)| {
            let changed: Vec<&str> = row["changed"]
                .as_array()
                .map(|all| all.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let changed = if revision.is_tombstone() {
                "withdrawn".to_owned()
            } else if revision.revision() == 1 {
                "first published".to_owned()
            } else if changed.is_empty() {
                "nothing".to_owned()
            } else {
                changed.join(", ").replace('_', " ")
            };
            HistoryRow {
                revision: revision.revision(),
                id: revision.id().to_string(),
                when: format_time(revision.timestamp_ms()),
                changed,
                this: revision.id() == record.id(),
            }
        })
        .collect();
    let profile = store
        .head(&crate::record::Key {
            publisher: record.publisher(),
            kind: Kind::Profile,
            slug: crate::record::PROFILE_SLUG.to_owned(),
        })?
        .and_then(|profile| match profile.parse_body() {
            Ok(Body::Profile(profile)) => Some(profile_facts(&profile)),
            _ => None,
        });
    shared.search.catch_up(store).map_err(WebError::internal)?;
    let adaptations = rows(&shared.search.adaptations(&revisions).map_err(WebError::internal)?, names);
    let practice = practice.unwrap_or_default();
    let transfer = practice.transferability.clone().unwrap_or_default();
    let sections: Vec<(&'static str, String)> = [
        ("Summary", practice.summary.clone()),
        ("Problem", practice.problem.clone()),
        ("Objectives", practice.objectives.clone()),
        ("Approach", practice.approach.clone()),
        ("Results", practice.results.clone()),
        ("Lessons learned", practice.lessons_learned.clone()),
        ("Transferability", transfer.summary.clone()),
    ]
    .into_iter()
    .filter(|(_, text)| !text.is_empty())
    .collect();
    let lists: Vec<(&'static str, Vec<String>)> = [
        ("Core elements", transfer.core_elements),
        ("Adaptable elements", transfer.adaptable_elements),
        ("Preconditions", transfer.preconditions),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .collect();
    Ok(NoteView {
        id: record.id().to_string(),
        title: if practice.title.is_empty() { record.slug().to_owned() } else { practice.title.clone() },
        revision: record.revision(),
        publisher: record.publisher().to_string(),
        publisher_name: names.of(&record.publisher()),
        signed_at: format_time(record.timestamp_ms()),
        verified: detail["signature_verified"] == true,
        withdrawn,
        newer,
        can_edit: own && signed_in && current && !record.is_tombstone(),
        facts: facts(&practice),
        sections,
        lists,
        indicators: practice.indicators.clone(),
        partners: practice.partners.clone(),
        contacts: practice.contacts.clone(),
        attachments: practice
            .attachments
            .iter()
            .map(|a| format!("{} ({} bytes, SHA-256 {})", a.name, a.size, crate::record::to_hex(&a.sha256)))
            .collect(),
        profile,
        history,
        adaptations,
    })
}

#[derive(Deserialize)]
struct NoteQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn note(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(target): Path<String>,
    Query(query): Query<NoteQuery>,
) -> Response {
    page(&shared, &headers, "notes", move |shared, mut chrome, names| {
        let record = view::find(&shared.store, Some(shared.key.publisher()), &target)?;
        if record.kind() != Kind::Practice {
            return Err(WebError {
                status: StatusCode::NOT_FOUND,
                title: "Not a practice note",
                message: format!("record {} is a {}; the page shows practice notes", record.id(), record.kind()),
            });
        }
        let note = note_view(shared, names, &record, chrome.signed_in)?;
        chrome.notice = match query.saved.as_deref() {
            Some("published") => {
                Some(format!("Saved and signed as revision {}; it is on its way to your partners.", note.revision))
            }
            Some("withdrawn") => Some("Withdrawn; partners will see the notice.".to_owned()),
            _ => None,
        };
        let title = note.title.clone();
        Ok(html(StatusCode::OK, &NotePage { chrome, title, note }))
    })
    .await
}

#[derive(Template)]
#[template(path = "publish.html")]
struct FormPage {
    chrome: Chrome,
    title: String,
    form: NoteForm,
}

fn form_page(chrome: Chrome, form: NoteForm, status: StatusCode) -> Response {
    let title = if form.editing { format!("Edit: {}", form.title) } else { "Publish a practice note".to_owned() };
    html(status, &FormPage { chrome, title, form })
}

async fn new_form(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !signed_in(&shared, &headers) {
        return redirect("/signin?next=/publish");
    }
    page(&shared, &headers, "publish", move |shared, chrome, _| {
        let publish = &shared.config.publish;
        Ok(form_page(chrome, NoteForm::new(&publish.default_language, &publish.default_license), StatusCode::OK))
    })
    .await
}

async fn edit_form(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(target): Path<String>) -> Response {
    if !signed_in(&shared, &headers) {
        return redirect(&format!("/signin?next=/notes/{target}/edit"));
    }
    page(&shared, &headers, "publish", move |shared, chrome, _| {
        let record = view::find(&shared.store, Some(shared.key.publisher()), &target)?;
        let head = shared.store.head(&record.key())?.unwrap_or(record);
        let note = match head.parse_body() {
            Ok(Body::Practice(note)) if head.publisher() == shared.key.publisher() => note,
            _ => {
                return Err(WebError {
                    status: StatusCode::FORBIDDEN,
                    title: "Cannot edit this note",
                    message: "only this node's own current notes can be edited here".to_owned(),
                });
            }
        };
        Ok(form_page(chrome, NoteForm::editing(head.slug(), head.revision(), &note), StatusCode::OK))
    })
    .await
}

async fn publish(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = match posted(&shared, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let response = page(&shared, &headers, "publish", move |shared, chrome, _| {
        let mut form = NoteForm::from_pairs(&pairs);
        let key = crate::record::Key { publisher: shared.key.publisher(), kind: Kind::Practice, slug: form.slug.clone() };
        let base = match shared.store.head(&key)? {
            Some(head) => match head.parse_body() {
                Ok(Body::Practice(note)) => Some(note),
                _ => None,
            },
            None => None,
        };
        let Some(note) = form.check_into_note(base.as_ref()) else {
            return Ok(form_page(chrome, form, StatusCode::BAD_REQUEST));
        };
        let base_revision = Some(form.base_revision);
        match author::publish_note(&shared.store, &shared.key, &shared.config, note, base_revision) {
            Ok(published) => {
                let id = published.record.id();
                if published.previous != author::Previous::Same {
                    let _ = tx.send(published.record.envelope_bytes());
                }
                Ok(redirect(&format!("/notes/{id}?saved=published")))
            }
            Err(AuthorError::Record(error)) => {
                form.refused(&error);
                Ok(form_page(chrome, form, StatusCode::BAD_REQUEST))
            }
            Err(AuthorError::Stale { current, .. }) => {
                form.general.push(format!(
                    "The note changed since this form was opened: it is now at revision {current}. Open it again and redo your change."
                ));
                Ok(form_page(chrome, form, StatusCode::CONFLICT))
            }
            Err(AuthorError::Store(error)) => Err(WebError::internal(error)),
            Err(other) => {
                form.general.push(other.to_string());
                Ok(form_page(chrome, form, StatusCode::BAD_REQUEST))
            }
        }
    })
    .await;
    if let Ok(envelope) = rx.await {
        super::gossip(&shared, envelope).await;
    }
    response
}

async fn withdraw(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(target): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = match posted(&shared, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let reason = value(&pairs, "reason").trim().to_owned();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let response = page(&shared, &headers, "notes", move |shared, _, _| {
        let record = view::find(&shared.store, Some(shared.key.publisher()), &target)?;
        if record.publisher() != shared.key.publisher() {
            return Err(WebError {
                status: StatusCode::FORBIDDEN,
                title: "Not your note",
                message: "only this node's own notes can be withdrawn here".to_owned(),
            });
        }
        match author::withdraw(&shared.store, &shared.key, record.slug(), &reason) {
            Ok(stone) => {
                let _ = tx.send(stone.envelope_bytes());
                Ok(redirect(&format!("/notes/{}?saved=withdrawn", stone.id())))
            }
            Err(AuthorError::Store(error)) => Err(WebError::internal(error)),
            Err(error) => {
                Err(WebError { status: StatusCode::BAD_REQUEST, title: "Not withdrawn", message: error.to_string() })
            }
        }
    })
    .await;
    if let Ok(envelope) = rx.await {
        super::gossip(&shared, envelope).await;
    }
    response
}

pub struct PartnerRow {
    pub publisher: String,
    pub short_key: String,
    pub name: String,
    pub label: String,
    pub standing: String,
    pub records: usize,
    pub last_sync: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    chrome: Chrome,
    title: String,
    policy: String,
    invite: String,
    error: Option<String>,
    code: String,
    label: String,
    partners: Vec<PartnerRow>,
}

fn policy_text(kind: crate::trust::PolicyKind) -> String {
    match kind {
        crate::trust::PolicyKind::Open => "every valid record from anyone (policy: open)".to_owned(),
        crate::trust::PolicyKind::Partners { hops: 0 } => {
            "its partners' records and its own (policy: partners)".to_owned()
        }
        other => format!("its partners' records, and those of their partners (policy: {other})"),
    }
}

async fn partners_page(
    shared: Arc<Shared>,
    headers: HeaderMap,
    error: Option<String>,
    code: String,
    label: String,
) -> Response {
    let net = shared.net.status().await.ok();
    let syncs = shared.syncs.lock().map(|syncs| syncs.clone()).unwrap_or_default();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(&shared, &headers, "partners", move |shared, chrome, names| {
        let own = shared.key.publisher();
        let addresses = net.as_ref().map(|net| {
            let suffix = format!("/p2p/{}", net.peer_id);
            net.listen_addrs.iter().map(|address| format!("{address}{suffix}")).collect::<Vec<_>>()
        });
        let invite = crate::invite::InviteCode {
            publisher: own,
            peer_id: net.as_ref().map(|net| net.peer_id.clone()).unwrap_or_default(),
            addresses: addresses.unwrap_or_default(),
            name: names.known(&own).unwrap_or_default(),
        }
        .encode();
        let list =
            crate::partners::list(&shared.data, &shared.config, &shared.store, own).map_err(WebError::internal)?;
        let partners = list
            .into_iter()
            .map(|partner| PartnerRow {
                short_key: partner.publisher[..16].to_owned(),
                standing: match (partner.blocked, partner.mutual) {
                    (true, _) => "blocked".to_owned(),
                    (false, true) => "mutual".to_owned(),
                    (false, false) => "one-way (they have not named you yet)".to_owned(),
                },
                last_sync: syncs.get(&partner.peer_id).map_or("not yet".to_owned(), |report| format_time(report.at_ms)),
                records: partner.records,
                name: partner.name,
                label: partner.label,
                publisher: partner.publisher,
            })
            .collect();
        let page = PartnersPage {
            chrome,
            title: "Partners".to_owned(),
            policy: policy_text(shared.policy().kind()),
            invite,
            error,
            code,
            label,
            partners,
        };
        Ok(html(status, &page))
    })
    .await
}

async fn partners(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    partners_page(shared, headers, None, String::new(), String::new()).await
}

async fn add_partner(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = match posted(&shared, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let (code, label) = (value(&pairs, "code").to_owned(), value(&pairs, "label").trim().to_owned());
    match super::trust::add_partner_now(&shared, code.clone(), label.clone()).await {
        Ok(_) => redirect("/partners"),
        Err(error) => partners_page(shared, headers, Some(error.to_string()), code, label).await,
    }
}

pub struct PeerRow {
    pub peer: String,
    pub last_sync: String,
    pub result: String,
    pub failed: bool,
    pub lag: String,
    pub score: String,
}

pub struct RejectionRow {
    pub when: String,
    pub from: String,
    pub rule: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage {
    chrome: Chrome,
    title: String,
    peer_id: String,
    policy: String,
    records: usize,
    peers: Vec<PeerRow>,
    rejections: Vec<RejectionRow>,
}

async fn network(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let net = shared.net.status().await.ok();
    let mut scores = Vec::new();
    for peer in net.iter().flat_map(|net| net.connected_peers.iter()) {
        let score = match peer.parse() {
            Ok(peer_id) => shared.net.peer_score(peer_id).await.ok().flatten(),
            Err(_) => None,
        };
        scores.push((peer.clone(), score));
    }
    let syncs = shared.syncs.lock().map(|syncs| syncs.clone()).unwrap_or_default();
    let rejections: Vec<_> =
        shared.rejections.lock().map(|recent| recent.iter().rev().cloned().collect()).unwrap_or_default();
    page(&shared, &headers, "network", move |shared, chrome, _| {
        let now = now_ms();
        let peers = scores
            .into_iter()
            .map(|(peer, score)| {
                let report = syncs.get(&peer);
                let (result, failed) = match report {
                    None => ("no sync yet".to_owned(), false),
                    Some(report) => match &report.error {
                        Some(error) => (format!("failed: {error}"), true),
                        None => (
                            format!(
                                "fetched {} records in {} rounds, {} ms",
                                report.fetched, report.rounds, report.duration_ms
                            ),
                            false,
                        ),
                    },
                };
                PeerRow {
                    last_sync: report.map_or("never".to_owned(), |report| {
                        format!("{} ({} s ago)", format_time(report.at_ms), (now - report.at_ms).max(0) / 1000)
                    }),
                    lag: report.map_or("unknown".to_owned(), |report| match report.remaining {
                        0 => "nothing: up to date".to_owned(),
                        n => format!("{n} records (next sync)"),
                    }),
                    score: score.map_or("–".to_owned(), |score| format!("{score:.1}")),
                    peer,
                    result,
                    failed,
                }
            })
            .collect();
        let rejections = rejections
            .into_iter()
            .map(|rejection| RejectionRow {
                when: format_time(rejection.at_ms),
                from: rejection.from,
                rule: rejection.rule.to_owned(),
                detail: rejection.detail,
            })
            .collect();
        let page = NetworkPage {
            chrome,
            title: "Network".to_owned(),
            peer_id: net.map(|net| net.peer_id).unwrap_or_default(),
            policy: shared.policy().kind().to_string(),
            records: shared.store.len(),
            peers,
            rejections,
        };
        Ok(html(StatusCode::OK, &page))
    })
    .await
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
struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: a path on this site only.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn signin_form(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    page(&shared, &headers, "signin", move |_, chrome, _| {
        Ok(html(StatusCode::OK, &SigninPage { chrome, title: "Sign in".to_owned(), error: None, next }))
    })
    .await
}

async fn signin(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = local_path(Some(value(&pairs, "next")));
    if !same(value(&pairs, "token").trim(), shared.token.trim()) {
        let response = page(&shared, &headers, "signin", move |_, chrome, _| {
            let error = Some("That is not this node's token. Copy the whole content of api.token again.".to_owned());
            Ok(html(StatusCode::UNAUTHORIZED, &SigninPage { chrome, title: "Sign in".to_owned(), error, next }))
        })
        .await;
        return response;
    }
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        session_value(&shared.token),
        SESSION_DAYS * 86_400
    );
    let mut response = redirect(&next);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn signout(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(response) = posted(&shared, &headers, &body) {
        return *response;
    }
    let mut response = redirect("/");
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
