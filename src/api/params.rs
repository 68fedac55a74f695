//! The query parameters of the listing and search routes, read and checked: a bad or unknown
//! parameter is a 400 that names it and what is allowed.

use serde::Deserialize;

use super::ApiError;
use crate::record::Kind;
use crate::search::SearchQuery;
use crate::view;

/// Records per page of `GET /api/v1/records` unless `limit` says otherwise.
const DEFAULT_RECORDS_PAGE: usize = 100;
/// Records per page of `GET /api/v1/records` and `GET /api/v1/envelopes`, at most.
pub(super) const MAX_PAGE: usize = 1000;
/// Hits per page of `GET /api/v1/search` unless `limit` says otherwise.
const DEFAULT_SEARCH_PAGE: usize = 20;

/// `GET /api/v1/records` parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    kind: Option<String>,
    publisher: Option<String>,
    theme: Option<String>,
    sdg: Option<String>,
    country: Option<String>,
    language: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

pub(super) const LIST_PARAMETERS: &str =
    "parameters: kind, publisher, theme, sdg, country, language, status, limit, cursor";

/// Checks a filter parameter (`None` stays `None`), normalising its value.
fn filter_value(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value.map(|value| view::check_filter(name, &value)).transpose().map_err(ApiError::invalid)
}

impl ListQuery {
    /// The filter, the page's start and its length.
    pub(super) fn filter(self) -> Result<(view::Filter, Option<view::Cursor>, usize), ApiError> {
        let kind = match self.kind.as_deref() {
            None => None,
            Some(text) => Some(
                text.parse::<Kind>()
                    .map_err(|_| ApiError::invalid(format!("kind {text:?} is unknown; kinds are {}", Kind::names())))?,
            ),
        };
        let publisher = filter_value("publisher", self.publisher)?
            .map(|hex| crate::hex::parse_hex32(&hex).map(crate::record::PublisherId))
            .transpose()
            .map_err(ApiError::internal)?;
        let filter = view::Filter {
            kind,
            publisher,
            theme: filter_value("theme", self.theme)?,
            sdg_target: filter_value("sdg", self.sdg)?,
            country: filter_value("country", self.country)?,
            language: filter_value("language", self.language)?,
            status: filter_value("status", self.status)?,
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|error: String| ApiError::invalid(format!("cursor: {error}")))?;
        let limit = self.limit.unwrap_or(DEFAULT_RECORDS_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::invalid(format!("limit {limit} is not allowed; 1 to {MAX_PAGE}")));
        }
        Ok((filter, cursor, limit))
    }
}

/// `GET /api/v1/search` parameters: the words, the facet filters (a facet may be given more
/// than once: any of its values matches), a page.
#[derive(Debug, Default)]
pub struct SearchParams {
    pub q: String,
    /// `(facet, value)`: theme, sdg, country, language, publisher or status.
    pub filters: Vec<(&'static str, String)>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

const SEARCH_PARAMETERS: &str = "parameters: q, theme, sdg, country, language, publisher, status, limit, offset";

impl SearchParams {
    /// Reads a query string (`q=...&theme=...`).
    pub fn parse(query: &str) -> Result<SearchParams, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|error| {
            ApiError::invalid(format!("the query string cannot be read ({error}); {SEARCH_PARAMETERS}"))
        })?;
        let mut params = SearchParams::default();
        let number = |name: &str, value: &str| {
            value.parse::<usize>().map_err(|_| ApiError::invalid(format!("{name} {value:?} is not a whole number")))
        };
        for (name, value) in pairs {
            match name.as_str() {
                "q" => params.q = value,
                "limit" => params.limit = Some(number("limit", &value)?),
                "offset" => params.offset = Some(number("offset", &value)?),
                other => match crate::search::FACETS.iter().find(|facet| **facet == other) {
                    Some(facet) => params.filters.push((facet, value)),
                    None => {
                        return Err(ApiError::invalid(format!("{other:?} is not a parameter; {SEARCH_PARAMETERS}")));
                    }
                },
            }
        }
        Ok(params)
    }

    /// The query these parameters ask for; a bad one is a 400 naming the parameter.
    pub fn query(self) -> Result<SearchQuery, ApiError> {
        use crate::search::{MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS};
        let length = self.q.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(ApiError::invalid(format!("q is {length} characters; at most {MAX_QUERY_CHARS} are allowed")));
        }
        let mut filters = Vec::new();
        for (name, value) in self.filters {
            // An empty value (a form's "any") filters nothing.
            if let Some(value) = filter_value(name, Some(value).filter(|value| !value.is_empty()))? {
                filters.push((name, value));
            }
        }
        let limit = self.limit.unwrap_or(DEFAULT_SEARCH_PAGE);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(format!("limit {limit} is not allowed; 1 to {MAX_LIMIT}")));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(ApiError::invalid(format!("offset {offset} is not allowed; 0 to {MAX_OFFSET}")));
        }
        Ok(SearchQuery { text: self.q, filters, hidden: Vec::new(), limit, offset })
    }
}

/// The organisation a page or route asks about, if any.
pub(super) fn organisation(hex: Option<String>) -> Result<Option<crate::record::PublisherId>, ApiError> {
    let parse = |hex: String| {
        hex.trim().parse().map_err(|_| {
            ApiError::invalid(format!(
                "organisation {hex:?} is not a key; give the organisation's key as 64 hex characters"
            ))
        })
    };
    hex.filter(|hex| !hex.trim().is_empty()).map(parse).transpose()
}
