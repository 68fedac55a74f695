//! Search results as readers see them: each hit with its publisher's name, the facet counts
//! (publishers with their names), and the query they answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Names;
use crate::record::RecordId;
use crate::search::{Hit, Search, SearchError, SearchQuery};
use crate::store::Store;
use crate::vocab::Words;

/// One note found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitView {
    pub id: String,
    /// The record's kind (`practice` unless the query asked for others).
    #[serde(default = "practice")]
    pub kind: String,
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
            let words = facet_words(facet);
            let mut values: Vec<FacetValue> = counts
                .into_iter()
                .map(|count| FacetValue {
                    name: match words.as_slice() {
                        _ if facet == "publisher" => Some(names.of_hex(&count.value)),
                        [] => None,
                        // Statuses of several kinds: the first vocabulary that has words for it.
                        all => Some(
                            all.iter()
                                .map(|words| words.label(&count.value).into_owned())
                                .find(|label| *label != count.value)
                                .unwrap_or_else(|| count.value.clone()),
                        ),
                    },
                    value: count.value,
                    count: count.count,
                })
                .collect();
            if words.first() == Some(&Words::Sdg) {
                values.sort_by_key(|value| crate::vocab::sdg_order(&value.value));
            }
            (facet.to_owned(), values)
        })
        .collect();
    let filters = query.filters.iter().map(|(name, value)| (name.to_string(), value.clone())).collect();
    Ok(SearchPage { total: results.total, hits, facets, query: query.text.clone(), filters })
}

fn practice() -> String {
    "practice".to_owned()
}

/// The vocabularies of a facet's values, as the kinds' tables name them (several for
/// `status`, whose values differ by kind).
fn facet_words(facet: &str) -> Vec<Words> {
    let mut all = Vec::new();
    for kind in crate::fields::WRITTEN_KINDS {
        if let Some(words) = crate::with_described!(*kind, T => crate::fields::facet_words::<T>(facet), else None)
            && !all.contains(&words)
        {
            all.push(words);
        }
    }
    all
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
            kind: hit.kind,
            publisher: hit.publisher,
            slug: hit.slug,
            title: hit.title,
            timestamp_ms: hit.timestamp_ms,
            snippet_html: hit.snippet_html,
        })
        .collect()
}
