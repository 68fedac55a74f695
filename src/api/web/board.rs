//! The needs-and-offers board: open requests and offers, newest first, with facets in words
//! (needs or offers, theme, format, language, the publisher's country).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::compose::page_of;
use super::{Chrome, html, page};
use crate::node::NodeHandle;
use crate::record::{Body, Kind, PublisherId, Record};
use crate::view::format_time;
use crate::vocab::Words;

/// One request or offer on the board.
pub struct BoardItem {
    pub kind: &'static str,
    pub href: String,
    pub title: String,
    pub publisher_name: String,
    pub facts: String,
    pub status: String,
    pub when: String,
}

pub struct BoardFacet {
    pub label: &'static str,
    pub links: Vec<super::browse::FacetLink>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    title: String,
    items: Vec<BoardItem>,
    /// How many match the filters, on every page.
    total: usize,
    previous: Option<String>,
    next: Option<String>,
    facets: Vec<BoardFacet>,
    filtered: bool,
    closed_too: bool,
}

/// Needs and offers per page of the board.
const BOARD_PAGE: usize = 30;

/// The board's filters, by facet name: `kind`, `theme`, `format`, `language`, `country`.
const BOARD_FACETS: [(&str, &str); 5] = [
    ("kind", "Needs or offers"),
    ("theme", "Theme"),
    ("format", "Format"),
    ("language", "Language"),
    ("country", "Country"),
];

/// A request's or offer's facet values, with the publisher's country.
fn board_values(kind: Kind, body: &Body, country: Option<&str>) -> Vec<(&'static str, String)> {
    let mut values = vec![("kind", kind.as_str().to_owned())];
    let (themes, formats, languages) = match body {
        Body::Request(request) => (&request.themes, &request.formats, &request.languages),
        Body::Offer(offer) => (&offer.themes, &offer.formats, &offer.languages),
        _ => return values,
    };
    values.extend(themes.iter().map(|theme| ("theme", theme.clone())));
    values.extend(formats.iter().map(|format| ("format", format.clone())));
    values.extend(
        languages.iter().map(|language| ("language", language.split('-').next().unwrap_or(language).to_owned())),
    );
    values.extend(country.map(|country| ("country", country.to_owned())));
    values
}

fn facet_label(facet: &str, value: &str) -> String {
    match facet {
        "kind" if value == "request" => "Needs (requests)".to_owned(),
        "kind" => "Offers of expertise".to_owned(),
        "theme" => Words::Theme.label(value).into_owned(),
        "format" => Words::Format.label(value).into_owned(),
        "language" => Words::Language.label(value).into_owned(),
        _ => Words::Country.label(value).into_owned(),
    }
}

fn board_href(filters: &[(String, String)]) -> String {
    if filters.is_empty() {
        return "/board".to_owned();
    }
    format!("/board?{}", serde_urlencoded::to_string(filters).unwrap_or_default())
}

/// `GET /board`: open requests and offers, newest first, with facets; `?closed=yes` shows closed
/// ones too.
pub(super) async fn board(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&node, &headers, "board", |node, chrome| async move {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
        let closed_too = pairs.iter().any(|(name, value)| name == "closed" && value == "yes");
        let filters: Vec<(String, String)> = pairs
            .iter()
            .filter(|(name, value)| !value.is_empty() && BOARD_FACETS.iter().any(|(facet, _)| facet == name))
            .cloned()
            .collect();
        let mut heads = node.heads_of(Kind::Request).await?;
        heads.extend(node.heads_of(Kind::Offer).await?);
        heads.retain(|record| !record.is_tombstone());
        heads.sort_by(|a, b| b.timestamp_ms().cmp(&a.timestamp_ms()).then_with(|| a.key().cmp(&b.key())));
        let countries = node.countries().await?;
        let page_number: usize = pairs
            .iter()
            .find(|(name, _)| name == "page")
            .and_then(|(_, value)| value.parse().ok())
            .filter(|number| *number >= 1)
            .unwrap_or(1);
        let mut shown: Vec<(&Record, Body, String)> = Vec::new();
        let mut counts: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
        for record in &heads {
            let Ok(body) = record.parse_body() else { continue };
            let status = match &body {
                Body::Request(request) => request.status.clone(),
                Body::Offer(offer) => offer.status.clone(),
                _ => continue,
            };
            if status == "closed" && !closed_too {
                continue;
            }
            let country = countries.get(&record.publisher()).map(String::as_str);
            let values = board_values(record.kind(), &body, country);
            // Values of one facet are alternatives; different facets must all match.
            let matches = BOARD_FACETS.iter().all(|(facet, _)| {
                let wanted: Vec<&str> =
                    filters.iter().filter(|(name, _)| name == facet).map(|(_, value)| value.as_str()).collect();
                wanted.is_empty()
                    || values.iter().any(|(name, value)| name == facet && wanted.contains(&value.as_str()))
            });
            if !matches {
                continue;
            }
            for value in values {
                *counts.entry(value).or_default() += 1;
            }
            shown.push((record, body, status));
        }
        let total = shown.len();
        let on_page: Vec<&(&Record, Body, String)> =
            shown.iter().skip((page_number - 1) * BOARD_PAGE).take(BOARD_PAGE).collect();
        let names = node.names_of(on_page.iter().map(|(record, _, _)| record.publisher()).collect()).await;
        let items =
            on_page.into_iter().map(|(record, body, status)| board_item(&names, record, body, status)).collect();
        let mut kept: Vec<(String, String)> = filters.clone();
        if closed_too {
            kept.push(("closed".to_owned(), "yes".to_owned()));
        }
        let page_href = |number: usize| {
            let mut pairs = kept.clone();
            pairs.push(("page".to_owned(), number.to_string()));
            board_href(&pairs)
        };
        let previous = (page_number > 1).then(|| page_href(page_number - 1));
        let next = (page_number * BOARD_PAGE < total).then(|| page_href(page_number + 1));
        let facets = BOARD_FACETS
            .iter()
            .map(|(facet, label)| BoardFacet {
                label,
                links: counts
                    .iter()
                    .filter(|((name, _), _)| name == facet)
                    .map(|((name, value), count)| {
                        let chosen = (name.to_string(), value.clone());
                        let active = filters.contains(&chosen);
                        let mut next: Vec<(String, String)> =
                            filters.iter().filter(|filter| **filter != chosen).cloned().collect();
                        if !active {
                            next.push(chosen);
                        }
                        if closed_too {
                            next.push(("closed".to_owned(), "yes".to_owned()));
                        }
                        super::browse::FacetLink {
                            label: facet_label(name, value),
                            count: *count,
                            href: board_href(&next),
                            active,
                        }
                    })
                    .collect(),
            })
            .filter(|facet| !facet.links.is_empty())
            .collect();
        let page = BoardPage {
            chrome,
            title: "Needs and offers".to_owned(),
            items,
            total,
            previous,
            next,
            facets,
            filtered: !filters.is_empty(),
            closed_too,
        };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}

fn board_item(names: &HashMap<PublisherId, String>, record: &Record, body: &Body, status: &str) -> BoardItem {
    let (themes, formats, languages, words) = match body {
        Body::Request(request) => (&request.themes, &request.formats, &request.languages, Words::RequestStatus),
        Body::Offer(offer) => (&offer.themes, &offer.formats, &offer.languages, Words::OfferStatus),
        _ => unreachable!("the board lists requests and offers"),
    };
    let words_of = |words: Words, codes: &[String]| {
        codes.iter().map(|code| words.label(code).into_owned()).collect::<Vec<_>>().join(", ")
    };
    let facts =
        [words_of(Words::Theme, themes), words_of(Words::Format, formats), words_of(Words::Language, languages)]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
    BoardItem {
        kind: if record.kind() == Kind::Request { "Need" } else { "Offer" },
        href: page_of(record.kind(), &record.id().to_string()),
        title: body.title(),
        publisher_name: names.get(&record.publisher()).cloned().unwrap_or_default(),
        facts,
        status: words.label(status).into_owned(),
        when: format_time(record.timestamp_ms()),
    }
}
