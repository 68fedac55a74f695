//! Search results as readers see them: each hit with its publisher's name, the facet counts
//! (publishers with their names), and the query they answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Names;
use crate::record::RecordId;
use crate::search::{Hit, Search, SearchError, SearchQuery};
use crate::store::Store;
use crate::vocab::Words;
use crate::wire::Practice;

/// One note found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitView {
    pub id: String,
    pub publisher: String,
    pub publisher_name: String,
    pub slug: String,
    pub title: String,
    pub timestamp_ms: i64,
    /// A passage of the note with the query's words in `<mark>`; HTML, escaped.
    pub snippet_html: String,
}

/// How many matching notes have one value of a facet (SDG targets in number order, others most
/// frequent first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
    /// The value in words: the publisher's name, a theme's label, a country's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A page of search results, with the total and facet counts over every match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub total: usize,
    pub hits: Vec<HitView>,
    /// By facet name (`theme`, `country`, ...), most frequent first.
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    pub query: String,
    /// The filters applied, by facet name.
    pub filters: BTreeMap<String, String>,
}

/// Runs a query: the index is brought up to date with the store first (so a note just
/// published is found).
pub fn search(store: &Store, names: &Names, index: &Search, query: &SearchQuery) -> Result<SearchPage, SearchError> {
    index.catch_up(store)?;
    let results = index.search(query)?;
    let hits = hit_views(results.hits, names);
    let facets = results
        .facets
        .into_iter()
        .map(|(facet, counts)| {
            let words = crate::fields::facet_words::<Practice>(facet);
            let mut values: Vec<FacetValue> = counts
                .into_iter()
                .map(|count| FacetValue {
                    name: match words {
                        _ if facet == "publisher" => Some(names.of_hex(&count.value)),
                        Some(words) => Some(words.label(&count.value).into_owned()),
                        None => None,
                    },
                    value: count.value,
                    count: count.count,
                })
                .collect();
            if words == Some(Words::Sdg) {
                values.sort_by_key(|value| crate::vocab::sdg_order(&value.value));
            }
            (facet.to_owned(), values)
        })
        .collect();
    let filters = query.filters.iter().map(|(name, value)| (name.to_string(), value.clone())).collect();
    Ok(SearchPage { total: results.total, hits, facets, query: query.text.clone(), filters })
}

/// The current notes that adapt any of these records (by `based_on`), newest first.
pub fn adaptations(
    store: &Store,
    names: &Names,
    index: &Search,
    ids: &[RecordId],
) -> Result<Vec<HitView>, SearchError> {
    index.catch_up(store)?;
    Ok(hit_views(index.adaptations(ids)?, names))
}

fn hit_views(hits: Vec<Hit>, names: &Names) -> Vec<HitView> {
    hits.into_iter()
        .map(|hit| HitView {
            publisher_name: names.of_hex(&hit.publisher),
            id: hit.id,
            publisher: hit.publisher,
            slug: hit.slug,
            title: hit.title,
            timestamp_ms: hit.timestamp_ms,
            snippet_html: hit.snippet_html,
        })
        .collect()
}
