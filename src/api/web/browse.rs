//! The home page (search and themes, partners' notes apart from the wider network's, cities
//! that added this one, sync health) and the browse page (search with facets, results before
//! filters so phones see them first). Both leave out what was hidden.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::hiding::{Invitation, done_notice, invitations, left_out};
use super::{Chrome, NoteRow, WebError, html, page, rows};
use crate::api::SearchParams;
use crate::node::NodeHandle;
use crate::record::PublisherId;
use crate::search::{FACETS, Hidden, SearchQuery};
use crate::view::{SearchPage, format_time};

/// Notes on the home page, per list.
const HOME_NOTES: usize = 8;
/// Results per page of the browse page.
const BROWSE_PAGE: usize = 20;

pub struct Health {
    pub class: &'static str,
    pub headline: String,
    pub peers: usize,
    pub partners: usize,
    pub records: usize,
    pub notes: u64,
    pub last_sync: String,
}

/// A theme on the home page, with how many notes have it.
pub struct ThemeTile {
    pub slug: &'static str,
    pub label: String,
    pub count: u64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    title: String,
    health: Health,
    themes: Vec<ThemeTile>,
    invitations: Vec<Invitation>,
    has_partners: bool,
    partner_notes: Vec<NoteRow>,
    /// Notes of publishers that are neither partners nor this node.
    wider: Vec<NoteRow>,
    hidden: usize,
    /// Open requests, engagements, adopted, outcomes recorded.
    funnel: crate::transfers::Funnel,
}

pub(super) async fn home(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&node, &headers, "home", |node, mut chrome| async move {
        chrome.notice = done_notice(raw.as_deref());
        let peers = node.net_status().await.map(|status| status.connected_peers.len()).unwrap_or_default();
        let policy = node.policy();
        let partner_keys: Vec<String> = policy.partners().map(|key| crate::hex::to_hex(key)).collect();
        let hidden = left_out(&node).await?;
        let partner_notes = if partner_keys.is_empty() {
            Vec::new()
        } else {
            let filters = partner_keys.iter().map(|key| ("publisher", key.clone())).collect();
            let query = SearchQuery { filters, hidden: hidden.clone(), limit: HOME_NOTES, ..SearchQuery::default() };
            rows(&node.search(query).await?.hits)
        };
        let mut not_wider = hidden.clone();
        not_wider.extend(policy.partners().map(|key| Hidden::Publisher(PublisherId(*key))));
        not_wider.push(Hidden::Publisher(node.publisher()));
        let wider = node.search(SearchQuery { hidden: not_wider, limit: HOME_NOTES, ..SearchQuery::default() }).await?;
        let everything =
            node.search(SearchQuery { hidden: hidden.clone(), limit: 1, ..SearchQuery::default() }).await?;
        let counts = everything.facets.get("theme").cloned().unwrap_or_default();
        let themes = crate::vocab::Words::Theme
            .choices()
            .into_iter()
            .map(|(slug, label)| ThemeTile {
                slug,
                label: label.into_owned(),
                count: counts.iter().find(|count| count.value == slug).map_or(0, |count| count.count),
            })
            .collect();
        let syncs = node.syncs();
        let failed = syncs.values().filter(|report| report.error.is_some()).count();
        let last = syncs.values().map(|report| report.at_ms).max();
        let (class, headline) = match (peers, failed) {
            (0, _) => ("bad", "Not connected to any peer: new notes will not arrive until a peer connects.".to_owned()),
            (_, 0) => ("good", "Healthy: connected, and every last sync succeeded.".to_owned()),
            (_, failed) => ("bad", format!("{failed} of the last syncs failed; see Network.")),
        };
        let health = Health {
            class,
            headline,
            peers,
            partners: partner_keys.len(),
            records: node.records_held(),
            notes: node.notes().await?,
            last_sync: last.map_or("none yet".to_owned(), format_time),
        };
        let page = HomePage {
            chrome,
            title: "Home".to_owned(),
            health,
            themes,
            invitations: invitations(&node).await,
            has_partners: !partner_keys.is_empty(),
            partner_notes,
            wider: rows(&wider.hits),
            hidden: hidden.len(),
            funnel: node.funnel().await?,
        };
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
    /// Notes and publishers hidden from the results.
    hidden_count: usize,
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

fn facet_views(query: &SearchQuery, results: &SearchPage) -> Vec<FacetView> {
    // The notes page shows practice notes only; the board has the other kinds.
    FACETS
        .iter()
        .filter(|name| **name != "kind")
        .map(|name| {
            let links = results
                .facets
                .get(*name)
                .into_iter()
                .flatten()
                .map(|count| {
                    let chosen = (*name, count.value.clone());
                    let active = query.filters.contains(&chosen);
                    let filters: Vec<_> = if active {
                        query.filters.iter().filter(|filter| **filter != chosen).cloned().collect()
                    } else {
                        query.filters.iter().cloned().chain([chosen]).collect()
                    };
                    FacetLink {
                        label: count.name.clone().unwrap_or_else(|| count.value.clone()),
                        count: count.count,
                        href: browse_href(&query.text, &filters, 0),
                        active,
                    }
                })
                .collect();
            FacetView { label: facet_label(name), links }
        })
        .collect()
}

pub(super) async fn browse(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&node, &headers, "notes", |node, chrome| async move {
        let asked = SearchParams::parse(raw.as_deref().unwrap_or_default()).and_then(|params| {
            let limit = params.limit.unwrap_or(BROWSE_PAGE);
            params.query().map(|query| SearchQuery { limit, ..query })
        });
        let (query, error) = match asked {
            Ok(query) => (query, None),
            Err(error) => (SearchQuery { limit: BROWSE_PAGE, ..SearchQuery::default() }, Some(error.to_string())),
        };
        let hidden = left_out(&node).await?;
        let hidden_count = hidden.len();
        let results = node.search(SearchQuery { hidden, ..query.clone() }).await?;
        let mut active = Vec::new();
        for filter in &query.filters {
            let rest: Vec<_> = query.filters.iter().filter(|other| *other != filter).cloned().collect();
            let value = match crate::hex::parse_hex32(&filter.1) {
                Ok(key) if filter.0 == "publisher" => node.name_of(crate::record::PublisherId(key)).await,
                _ => match crate::fields::facet_words::<crate::wire::Practice>(filter.0) {
                    Some(words) => words.label(&filter.1).into_owned(),
                    None => filter.1.clone(),
                },
            };
            active.push(FacetLink {
                label: format!("{}: {value}", facet_label(filter.0)),
                count: 0,
                href: browse_href(&query.text, &rest, 0),
                active: true,
            });
        }
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
        let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        let page = BrowsePage {
            chrome,
            title,
            q: query.text.clone(),
            hidden: query.filters.clone(),
            error,
            summary,
            notes: rows(&results.hits),
            facets: facet_views(&query, &results),
            active,
            previous,
            next,
            hidden_count,
        };
        Ok::<_, WebError>(html(status, &page))
    })
    .await
}
