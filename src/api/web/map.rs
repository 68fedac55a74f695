//! Pictures where people would rather look: a map of where the notes held come from and where
//! the partners are (`/map`), and the partner graph (on `/network`). Both are drawn here as SVG, from country outlines
//! shipped in `data/` (Natural Earth 1:110m, public domain): no tile server, no network.

use std::collections::HashMap;
use std::sync::LazyLock;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Chrome, html, page};
use crate::node::NodeHandle;
use crate::search::SearchQuery;
use crate::vocab::Words;

/// Each country's outline as an SVG path, by ISO 3166-1 alpha-2 code.
static OUTLINES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    include_str!("../../../data/world-110m.tsv")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .collect()
});

/// One country on the map.
pub struct MapCountry {
    pub name: String,
    pub path: &'static str,
    pub notes: u64,
    /// How dark it is drawn: 0 (no notes) to 4 (the most).
    pub shade: u8,
    pub partner: bool,
}

/// A row of the table beside the map (countries that hold notes or partners).
pub struct CountryRow {
    pub code: String,
    pub name: String,
    pub notes: u64,
    pub partners: Vec<String>,
}

/// A partner city with coordinates in its profile, as a dot on the map.
pub struct City {
    pub name: String,
    pub x: f64,
    pub y: f64,
}

/// Where a place with coordinates sits on the map (the outlines' projection), if it has them.
fn on_map(place: &crate::wire::Place) -> Option<(f64, f64)> {
    // A pair that breaks the rules (a record from elsewhere) counts as no coordinates.
    if !crate::vocab::is_latitude(&place.latitude) || !crate::vocab::is_longitude(&place.longitude) {
        return None;
    }
    let latitude: f64 = place.latitude.parse().ok()?;
    let longitude: f64 = place.longitude.parse().ok()?;
    Some(((longitude + 180.0) * 2.0, (90.0 - latitude) * 2.0))
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    chrome: Chrome,
    title: String,
    countries: Vec<MapCountry>,
    cities: Vec<City>,
    rows: Vec<CountryRow>,
    total: usize,
}

/// Shades by the share of the busiest country, so that one large country does not leave the
/// rest blank: 1 up to a tenth, then a quarter, a half, and above.
fn shade(notes: u64, most: u64) -> u8 {
    match (notes, most) {
        (0, _) | (_, 0) => 0,
        _ if notes * 10 <= most => 1,
        _ if notes * 4 <= most => 2,
        _ if notes * 2 <= most => 3,
        _ => 4,
    }
}

pub(super) async fn map(State(node): State<NodeHandle>, headers: HeaderMap) -> Response {
    page(&node, &headers, "map", |node, chrome| async move {
        let hidden = super::hiding::left_out(&node).await?;
        let results = node.search(SearchQuery { hidden, limit: 1, ..SearchQuery::default() }).await?;
        let notes: HashMap<String, u64> = results
            .facets
            .get("country")
            .into_iter()
            .flatten()
            .map(|count| (count.value.clone(), count.count))
            .collect();
        let mut partners: HashMap<String, Vec<String>> = HashMap::new();
        let mut cities = Vec::new();
        for row in node.partners().await?.partners {
            let Ok(key) = crate::hex::parse_hex32(&row.partner.publisher) else { continue };
            let profile = node.profile_of(crate::record::PublisherId(key)).await?;
            if let Some(place) = profile.and_then(|profile| profile.place) {
                let name = if row.partner.label.is_empty() { row.partner.name } else { row.partner.label };
                if let Some((x, y)) = on_map(&place) {
                    cities.push(City { name: name.clone(), x, y });
                }
                partners.entry(place.country).or_default().push(name);
            }
        }
        let most = notes.values().copied().max().unwrap_or(0);
        let countries = OUTLINES
            .iter()
            .map(|(code, path)| {
                let count = notes.get(*code).copied().unwrap_or(0);
                MapCountry {
                    name: Words::Country.label(code).into_owned(),
                    path,
                    notes: count,
                    shade: shade(count, most),
                    partner: partners.contains_key(*code),
                }
            })
            .collect();
        let mut codes: Vec<&String> = notes.keys().chain(partners.keys()).collect();
        codes.sort_by_key(|code| (std::cmp::Reverse(notes.get(*code).copied().unwrap_or(0)), (*code).clone()));
        codes.dedup();
        let rows = codes
            .into_iter()
            .map(|code| CountryRow {
                name: Words::Country.label(code).into_owned(),
                notes: notes.get(code).copied().unwrap_or(0),
                partners: partners.get(code).cloned().unwrap_or_default(),
                code: code.clone(),
            })
            .collect();
        let title = "Where the notes come from".to_owned();
        Ok(html(StatusCode::OK, &MapPage { chrome, title, countries, cities, rows, total: results.total }))
    })
    .await
}

/// A partner in the picture of the partner graph.
pub struct GraphNode {
    pub name: String,
    pub x: f64,
    pub y: f64,
    /// Where its label sits: left of the dot on the picture's left half.
    pub anchor: &'static str,
    /// Whether they named this node as a partner too.
    pub mutual: bool,
}

/// The partner graph as a picture: this node in the middle of a 600 by 320 box, its partners
/// on a circle around it, each with a line to it (dashed while the partnership is one-way).
pub fn graph(partners: Vec<(String, bool)>) -> Vec<GraphNode> {
    let count = partners.len().max(1) as f64;
    partners
        .into_iter()
        .enumerate()
        .map(|(index, (name, mutual))| {
            let angle = std::f64::consts::TAU * index as f64 / count - std::f64::consts::FRAC_PI_2;
            let (x, y) = (300.0 + 200.0 * angle.cos(), 160.0 + 120.0 * angle.sin());
            GraphNode { name, x, y, anchor: if x < 299.0 { "end" } else { "start" }, mutual }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_outline_is_a_country_and_shades_grow_with_notes() {
        assert!(super::OUTLINES.len() > 170);
        for (code, path) in super::OUTLINES.iter() {
            assert!(crate::vocab::is_country(code), "{code}");
            assert!(path.starts_with('M') && path.ends_with('Z'), "{code}");
        }
        assert_eq!([0, 1, 10, 20, 40, 60].map(|notes| super::shade(notes, 100)), [0, 1, 1, 2, 3, 4]);
    }
}
