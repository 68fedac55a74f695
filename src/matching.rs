//! Matching needs to expertise, local and explained (DESIGN §8): for an open request, the
//! offers, practice notes and organisations that could help, ranked; for an offer, the open
//! requests it could answer. Each match says why, in words ("same themes: Solid waste; both
//! work in Portuguese; adopted by 2 cities with outcomes").
//!
//! A shared language is required: people who cannot talk to each other cannot transfer a
//! practice. Then the score adds theme and SDG overlap, formats, nearness (same country >
//! UN M49 sub-region > region), evidence (confirmed engagements that adopted the practice,
//! outcomes, endorsements) and recency. A candidate sharing neither a theme nor an SDG target
//! is not a match. Pure: [`Facts`] are what a record says, read once; ranking reads only them.

use std::collections::HashMap;

use crate::record::{Body, Key, Kind, PublisherId, Record};
use crate::transfers::{Evidence, Named};
use crate::vocab::{self, Words, transfer};
use crate::wire::Profile;

/// What matching knows of one request, offer or practice note, compactly.
#[derive(Debug, Clone)]
pub struct Facts {
    pub key: Key,
    pub title: String,
    pub timestamp_ms: i64,
    /// Open requests and offers, and every practice note.
    pub open: bool,
    themes: u16,
    sdgs: [u64; 3],
    formats: u8,
    /// Primary language subtags, lower case ("pt" for pt-BR).
    languages: Vec<String>,
    /// Where the note's practice happened (requests and offers: their publisher's place).
    country: Option<String>,
    /// Preferred regions of a request, regions served by an offer.
    regions: Vec<String>,
    /// The practice notes an offer rests on.
    practices: Vec<Named>,
}

fn bit_of(list: &[&str], value: &str) -> u32 {
    list.iter().position(|item| *item == value).map_or(0, |at| 1 << at)
}

fn sdg_bits(targets: &[String]) -> [u64; 3] {
    static ORDER: std::sync::LazyLock<HashMap<&'static str, usize>> = std::sync::LazyLock::new(|| {
        Words::Sdg.choices().into_iter().enumerate().map(|(at, (code, _))| (code, at)).collect()
    });
    let mut bits = [0u64; 3];
    for target in targets {
        if let Some(at) = ORDER.get(target.as_str()) {
            bits[at / 64] |= 1 << (at % 64);
        }
    }
    bits
}

fn primary(tag: &str) -> String {
    tag.split('-').next().unwrap_or(tag).to_ascii_lowercase()
}

fn themes_of(themes: &[String]) -> u16 {
    themes.iter().fold(0, |bits, theme| bits | bit_of(vocab::THEMES, theme) as u16)
}

fn formats_of(formats: &[String]) -> u8 {
    let codes: Vec<&str> = transfer::FORMATS.iter().map(|(code, _)| *code).collect();
    formats.iter().fold(0, |bits, format| bits | bit_of(&codes, format) as u8)
}

impl Facts {
    /// The facts of a current head (none for withdrawals and other kinds).
    pub fn of(record: &Record) -> Option<Facts> {
        if record.is_tombstone() {
            return None;
        }
        let body = record.parse_body().ok()?;
        let mut facts = Facts {
            key: record.key(),
            title: body.title(),
            timestamp_ms: record.timestamp_ms(),
            open: true,
            themes: 0,
            sdgs: [0; 3],
            formats: 0,
            languages: Vec::new(),
            country: None,
            regions: Vec::new(),
            practices: Vec::new(),
        };
        match body {
            Body::Request(request) => {
                facts.open = request.status == "open";
                facts.themes = themes_of(&request.themes);
                facts.sdgs = sdg_bits(&request.sdg_targets);
                facts.formats = formats_of(&request.formats);
                facts.languages = request.languages.iter().map(|tag| primary(tag)).collect();
                facts.regions = request.regions;
            }
            Body::Offer(offer) => {
                facts.open = offer.status == "open";
                facts.themes = themes_of(&offer.themes);
                facts.sdgs = sdg_bits(&offer.sdg_targets);
                facts.formats = formats_of(&offer.formats);
                facts.languages = offer.languages.iter().map(|tag| primary(tag)).collect();
                facts.regions = offer.regions;
                facts.practices = offer.practices.iter().filter_map(Named::of).collect();
            }
            Body::Practice(note) => {
                facts.themes = themes_of(&note.themes);
                facts.sdgs = sdg_bits(&note.sdg_targets);
                facts.languages = vec![primary(&note.language)];
                facts.country = note.location.map(|place| place.country);
            }
            _ => return None,
        }
        facts.languages.dedup();
        Some(facts)
    }

    pub fn kind(&self) -> Kind {
        self.key.kind
    }
}

/// What matching knows of a publisher: where it is and the languages it works in.
#[derive(Debug, Clone, Default)]
pub struct Organisation {
    pub name: String,
    pub country: Option<String>,
    pub languages: Vec<String>,
}

impl Organisation {
    pub fn of(profile: &Profile) -> Organisation {
        Organisation {
            name: profile.name.clone(),
            country: profile.place.as_ref().map(|place| place.country.clone()).filter(|country| !country.is_empty()),
            languages: profile.languages.iter().map(|tag| primary(tag)).collect(),
        }
    }
}

/// Everything a ranking reads: the facts of every request, offer and note held, who the
/// publishers are, and the evidence of each practice.
#[derive(Debug, Default)]
pub struct Holdings<'a> {
    pub facts: &'a [Facts],
    pub organisations: HashMap<PublisherId, Organisation>,
    pub evidence: HashMap<Named, Evidence>,
    /// The time recency is measured from.
    pub now_ms: i64,
}

/// One ranked candidate, with its score and its reasons in words.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    #[serde(serialize_with = "as_text")]
    pub kind: Kind,
    #[serde(serialize_with = "as_text")]
    pub publisher: PublisherId,
    pub slug: String,
    pub title: String,
    pub score: u32,
    pub reasons: Vec<String>,
}

/// The matches of a request: offers, practice notes and organisations, best first.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Matches {
    pub offers: Vec<Match>,
    pub practices: Vec<Match>,
    pub organisations: Vec<Match>,
}

/// One side's terms, as ranking compares them.
struct Side<'a> {
    facts: &'a Facts,
    country: Option<&'a str>,
    languages: Vec<&'a str>,
}

impl<'a> Holdings<'a> {
    fn side(&'a self, facts: &'a Facts) -> Side<'a> {
        let organisation = self.organisations.get(&facts.key.publisher);
        let country = facts.country.as_deref().or_else(|| organisation.and_then(|org| org.country.as_deref()));
        let mut languages: Vec<&str> = facts.languages.iter().map(String::as_str).collect();
        // A note is written in one language; its publisher may work in more.
        if facts.kind() == Kind::Practice
            && let Some(organisation) = organisation
        {
            languages.extend(organisation.languages.iter().map(String::as_str));
        }
        languages.sort_unstable();
        languages.dedup();
        Side { facts, country, languages }
    }

    fn find(&self, key: &Key) -> Option<&Facts> {
        self.facts.iter().find(|facts| facts.key == *key)
    }

    /// Ranks offers, practice notes and organisations for the request `request`; at most
    /// `limit` of each. `None` when the request is not held.
    pub fn for_request(&self, request: &Key, limit: usize) -> Option<Matches> {
        let asked = self.side(self.find(request).filter(|facts| facts.kind() == Kind::Request)?);
        let mut offers = Vec::new();
        let mut practices = Vec::new();
        for facts in self.facts {
            if facts.key.publisher == request.publisher || !facts.open {
                continue;
            }
            let kind = facts.kind();
            if kind != Kind::Offer && kind != Kind::Practice {
                continue;
            }
            let Some(scored) = self.score(&asked, &self.side(facts), facts) else { continue };
            match kind {
                Kind::Offer => offers.push(scored),
                _ => practices.push(scored),
            }
        }
        let organisations = organisations(&offers, &practices, &self.organisations, limit);
        Some(Matches { offers: best(offers, limit), practices: best(practices, limit), organisations })
    }

    /// Ranks the open requests the offer `offer` could answer; at most `limit`.
    pub fn for_offer(&self, offer: &Key, limit: usize) -> Option<Vec<Match>> {
        let offered = self.side(self.find(offer).filter(|facts| facts.kind() == Kind::Offer)?);
        let requests = self
            .facts
            .iter()
            .filter(|facts| facts.kind() == Kind::Request && facts.open && facts.key.publisher != offer.publisher)
            .filter_map(|facts| self.score(&self.side(facts), &offered, facts))
            .collect();
        Some(best(requests, limit))
    }

    /// How well `candidate` (an offer or a practice note) answers `request`, with the reasons,
    /// as a match of `shown` (the candidate, or the request when ranking requests for an
    /// offer); `None` when it does not answer it (no shared language, or neither theme nor SDG
    /// target in common, or an offer that does not serve the requester's place).
    fn score(&self, request: &Side, candidate: &Side, shown: &Facts) -> Option<Match> {
        let asked = request;
        let language = asked.languages.iter().find(|language| candidate.languages.binary_search(language).is_ok())?;
        let themes = asked.facts.themes & candidate.facts.themes;
        let sdgs: [u64; 3] = std::array::from_fn(|at| asked.facts.sdgs[at] & candidate.facts.sdgs[at]);
        let shared_sdgs: u32 = sdgs.iter().map(|bits| bits.count_ones()).sum();
        if themes == 0 && shared_sdgs == 0 {
            return None;
        }
        if candidate.facts.kind() == Kind::Offer
            && !candidate.facts.regions.is_empty()
            && let Some(country) = request.country
            && nearness(country, &candidate.facts.regions).is_none()
        {
            return None;
        }
        let mut score = 0;
        let mut reasons = Vec::new();
        if themes != 0 {
            let names: Vec<String> = (0..vocab::THEMES.len())
                .filter(|at| themes & (1 << at) != 0)
                .map(|at| Words::Theme.label(vocab::THEMES[at]).into_owned())
                .collect();
            score += 10 * names.len().min(3) as u32;
            reasons.push(format!("same themes: {}", names.join(", ")));
        }
        if shared_sdgs > 0 {
            score += 5 * shared_sdgs.min(3);
            reasons.push(format!("{shared_sdgs} SDG target{} in common", plural(shared_sdgs as usize)));
        }
        score += 8;
        reasons.push(format!("both work in {}", Words::Language.label(language)));
        let formats = asked.facts.formats & candidate.facts.formats;
        if formats != 0 {
            let names: Vec<String> = (0..transfer::FORMATS.len())
                .filter(|at| formats & (1 << at) != 0)
                .map(|at| transfer::FORMATS[at].1.to_lowercase())
                .collect();
            score += 5 * names.len().min(3) as u32;
            reasons.push(format!("formats: {}", names.join(", ")));
        }
        if let Some((points, reason)) = near(request, candidate) {
            score += points;
            reasons.push(reason);
        }
        let evidence = self.evidence_of(candidate.facts);
        if evidence.adopted_by > 0 {
            score += 6 * evidence.adopted_by.min(4) as u32;
            let with = if evidence.outcomes > 0 { " with outcomes" } else { "" };
            let n = evidence.adopted_by;
            reasons.push(format!("adopted by {n} {}{with}", if n == 1 { "city" } else { "cities" }));
        } else if evidence.confirmed > 0 {
            score += 3;
            let n = evidence.confirmed;
            reasons.push(format!("being taken up by {n} {} (confirmed by both sides)", if n == 1 { "city" } else { "cities" }));
        }
        if evidence.outcomes > 0 {
            score += 2 * evidence.outcomes.min(4) as u32;
        }
        if evidence.endorsements > 0 {
            score += 2 * evidence.endorsements.min(3) as u32;
            reasons.push(format!("endorsed {} time{}", evidence.endorsements, plural(evidence.endorsements)));
        }
        let age_days = (self.now_ms - shown.timestamp_ms).max(0) as f64 / 86_400_000.0;
        score += (10.0 * 0.5f64.powf(age_days / 365.0)).round() as u32;
        Some(Match {
            kind: shown.kind(),
            publisher: shown.key.publisher,
            slug: shown.key.slug.clone(),
            title: shown.title.clone(),
            score,
            reasons,
        })
    }

    /// The evidence of a practice note, or of the notes an offer rests on.
    fn evidence_of(&self, facts: &Facts) -> Evidence {
        if self.evidence.is_empty() {
            return Evidence::default();
        }
        let own = [Named::of_key(&facts.key)];
        let notes = if facts.kind() == Kind::Practice { &own[..] } else { &facts.practices[..] };
        let mut total = Evidence::default();
        for note in notes {
            if let Some(evidence) = self.evidence.get(note) {
                total.adopted_by += evidence.adopted_by;
                total.confirmed += evidence.confirmed;
                total.outcomes += evidence.outcomes;
                total.endorsements += evidence.endorsements;
            }
        }
        total
    }
}

fn as_text<T: std::fmt::Display, S: serde::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How near a place is to a list of regions: 3 the same country, 2 the same M49 sub-region, 1
/// the same region.
fn nearness(country: &str, regions: &[String]) -> Option<(u32, String)> {
    let (region, sub) = transfer::m49_of(country).unwrap_or(("", ""));
    regions
        .iter()
        .filter_map(|listed| {
            let level = if listed == country {
                3
            } else if !sub.is_empty() && listed == sub {
                2
            } else if !region.is_empty() && listed == region {
                1
            } else {
                return None;
            };
            Some((level, listed.clone()))
        })
        .max_by_key(|(level, _)| *level)
}

/// Nearness points and reason between the request's side and the other: against the
/// request's preferred regions when it names some, else against the requester's own country.
fn near(request: &Side, other: &Side) -> Option<(u32, String)> {
    let there = other.country?;
    let points = |level: u32| [0, 5, 10, 15][level as usize];
    if !request.facts.regions.is_empty() {
        let (level, region) = nearness(there, &request.facts.regions)?;
        return Some((points(level), format!("in a preferred region: {}", Words::Region.label(&region))));
    }
    let here = request.country?;
    let (level, words) = if here == there {
        (3, format!("in the same country: {}", Words::Country.label(here)))
    } else {
        let (region, sub) = transfer::m49_of(here)?;
        let (other_region, other_sub) = transfer::m49_of(there)?;
        if sub == other_sub {
            (2, format!("in the same region: {}", Words::Region.label(sub)))
        } else if region == other_region {
            (1, format!("on the same continent: {}", Words::Region.label(region)))
        } else {
            return None;
        }
    };
    Some((points(level), words))
}

/// The `limit` best, by score, then newest title order for ties (stable across runs).
fn best(mut matches: Vec<Match>, limit: usize) -> Vec<Match> {
    let order = |a: &Match, b: &Match| {
        b.score.cmp(&a.score).then_with(|| a.title.cmp(&b.title)).then_with(|| a.slug.cmp(&b.slug))
    };
    if matches.len() > limit {
        matches.select_nth_unstable_by(limit, order);
        matches.truncate(limit);
    }
    matches.sort_by(order);
    matches
}

/// The organisations behind the matches: each scored by its best match, plus 2 for every other
/// match of it (at most 10 more).
fn organisations(
    offers: &[Match],
    practices: &[Match],
    known: &HashMap<PublisherId, Organisation>,
    limit: usize,
) -> Vec<Match> {
    let mut by_publisher: HashMap<PublisherId, (Match, usize)> = HashMap::new();
    for candidate in offers.iter().chain(practices) {
        let entry = by_publisher.entry(candidate.publisher).or_insert_with(|| (candidate.clone(), 0));
        entry.1 += 1;
        if candidate.score > entry.0.score {
            entry.0 = candidate.clone();
        }
    }
    let ranked = by_publisher
        .into_iter()
        .map(|(publisher, (top, count))| {
            let mut reasons = top.reasons.clone();
            reasons.push(format!("{count} matching note{} and offer{}", plural(count), plural(count)));
            let name = known.get(&publisher).map(|org| org.name.clone()).filter(|name| !name.is_empty());
            Match {
                kind: Kind::Profile,
                publisher,
                slug: crate::record::PROFILE_SLUG.to_owned(),
                title: name.unwrap_or_else(|| crate::view::fingerprint(&publisher)),
                score: top.score + 2 * (count.saturating_sub(1)).min(5) as u32,
                reasons,
            }
        })
        .collect();
    best(ranked, limit)
}

#[cfg(test)]
mod tests;
