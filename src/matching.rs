//! Matching needs to expertise, local and explained (DESIGN §8): for an open request, the
//! offers, practice notes and organisations that could help, ranked; for an offer, the open
//! requests it could answer. Each match says why, in words ("same themes: Solid waste; both
//! work in Portuguese; adopted by 2 cities with outcomes").
//!
//! A shared language is required: people who cannot talk to each other cannot transfer a
//! practice. Then the score adds theme and SDG overlap, formats, nearness (same country >
//! UN M49 sub-region > region), evidence (confirmed engagements that adopted the practice,
//! outcomes, endorsements) and recency. A candidate sharing neither a theme nor an SDG target
//! is not a match. Pure: [`Facts`] are what a record says, read once into bit sets and codes;
//! ranking scores every candidate without allocating, then words the reasons of the winners
//! only.

mod facts;
mod rank;

pub use facts::{Facts, Organisation};
use facts::{LANGUAGE_BITS, Languages, Region, Where, nearness, overlap};
use rank::{Best, Ranked, Ranking};

pub use crate::record::{ByPublisher, KeyHasher};
use crate::record::{Key, Kind, PublisherId};
use crate::transfers::{Evidence, EvidenceMap, Named};
use crate::vocab::{self, Words, transfer};

/// Everything a ranking reads: the facts of every request, offer and note held, who the
/// publishers are, and the evidence of each practice.
#[derive(Debug)]
pub struct Holdings<'a> {
    pub facts: &'a [Facts],
    pub organisations: &'a ByPublisher<PublisherId, Organisation>,
    pub evidence: &'a EvidenceMap,
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

/// One side as scoring compares it: its facts, with its publisher's place and languages.
struct Side<'a> {
    facts: &'a Facts,
    place: Option<Where>,
    languages: Languages,
    other_languages: &'a [String],
    organisation_languages: &'a [String],
}

/// Why a candidate scored what it did, without words yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Assessment {
    score: u32,
    themes: u16,
    sdgs: u32,
    formats: u8,
    near: Option<(u8, Option<Region>)>,
    evidence: Evidence,
}

impl<'a> Holdings<'a> {
    fn side(&'a self, facts: &'a Facts) -> Side<'a> {
        let organisation = self.organisations.get(&facts.key.publisher);
        let place = facts.place.or_else(|| organisation.and_then(|org| org.place));
        let mut languages = facts.languages;
        let mut organisation_languages: &[String] = &[];
        // A note is written in one language; its publisher may work in more.
        if facts.kind() == Kind::Practice
            && let Some(organisation) = organisation
        {
            for (at, bits) in organisation.languages.iter().enumerate() {
                languages[at] |= bits;
            }
            organisation_languages = &organisation.other_languages;
        }
        Side { facts, place, languages, other_languages: &facts.other_languages, organisation_languages }
    }

    fn find(&self, key: &Key) -> Option<&'a Facts> {
        self.facts.iter().find(|facts| facts.key == *key)
    }

    /// Ranks offers, practice notes and organisations for the request `request`; at most
    /// `limit` of each. `None` when the request is not held. The candidates are scored on as
    /// many threads as there are cores (two at most).
    pub fn for_request(&self, request: &Key, limit: usize) -> Option<Matches> {
        let asked = self.side(self.find(request).filter(|facts| facts.kind() == Kind::Request)?);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
        let chunk = self.facts.len().div_ceil(threads).max(1);
        let mut parts: Vec<Ranking> = if threads == 1 {
            vec![self.rank_part(&asked, self.facts, limit)]
        } else {
            std::thread::scope(|scope| {
                let asked = &asked;
                let running: Vec<_> = self
                    .facts
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || self.rank_part(asked, part, limit)))
                    .collect();
                running
                    .into_iter()
                    .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect()
            })
        };
        let mut ranking = parts.pop().unwrap_or_else(|| Ranking::new(limit));
        for part in parts {
            ranking.merge(part);
        }
        let word = |ranked: Ranked| self.worded(&asked, &self.side(ranked.facts), &ranked);
        let mut organisations = Best::new(limit);
        for (best, count) in ranking.by_publisher.values() {
            let score = best.score + 2 * (count.saturating_sub(1)).min(5) as u32;
            organisations.offer(Ranked { score, ..*best });
        }
        let organisations = organisations
            .into_sorted()
            .into_iter()
            .map(|ranked| {
                let found = word(ranked);
                let count = ranking.by_publisher[&found.publisher].1;
                let mut reasons = found.reasons;
                reasons.push(format!("{count} matching note{} and offer{}", plural(count), plural(count)));
                let name = self
                    .organisations
                    .get(&found.publisher)
                    .map(|org| org.name.clone())
                    .filter(|name| !name.is_empty());
                Match {
                    kind: Kind::Profile,
                    publisher: found.publisher,
                    slug: crate::record::PROFILE_SLUG.to_owned(),
                    title: name.unwrap_or_else(|| crate::view::fingerprint(&found.publisher)),
                    score: ranked.score,
                    reasons,
                }
            })
            .collect();
        Some(Matches {
            offers: ranking.offers.into_sorted().into_iter().map(word).collect(),
            practices: ranking.practices.into_sorted().into_iter().map(word).collect(),
            organisations,
        })
    }

    /// Scores the candidates among `part` for `asked`.
    fn rank_part<'b>(&'b self, asked: &Side, part: &'b [Facts], limit: usize) -> Ranking<'b> {
        let mut ranking = Ranking::new(limit);
        for facts in part {
            let kind = facts.kind();
            if facts.key.publisher == asked.facts.key.publisher
                || !facts.open
                || !matches!(kind, Kind::Offer | Kind::Practice)
            {
                continue;
            }
            // The cheap refusals first: nothing in common, or (an offer, whose languages are
            // its own) no language in common.
            if asked.facts.themes & facts.themes == 0 && overlap(&asked.facts.sdgs, &facts.sdgs) == 0 {
                continue;
            }
            if kind == Kind::Offer
                && overlap(&asked.languages, &facts.languages) == 0
                && facts.other_languages.is_empty()
            {
                continue;
            }
            // A note in a language the request names needs nothing of its publisher's profile.
            let side = if kind == Kind::Practice && overlap(&asked.languages, &facts.languages) > 0 {
                Side {
                    facts,
                    place: facts.place,
                    languages: facts.languages,
                    other_languages: &facts.other_languages,
                    organisation_languages: &[],
                }
            } else {
                self.side(facts)
            };
            let Some(assessment) = self.assess(asked, &side, facts) else { continue };
            let ranked = Ranked { score: assessment.score, facts, assessment };
            match ranking.by_publisher.get_mut(&facts.key.publisher) {
                Some((best, count)) => {
                    *count += 1;
                    if ranked > *best {
                        *best = ranked;
                    }
                }
                None => drop(ranking.by_publisher.insert(facts.key.publisher, (ranked, 1))),
            }
            match kind {
                Kind::Offer => ranking.offers.offer(ranked),
                _ => ranking.practices.offer(ranked),
            }
        }
        ranking
    }

    /// Ranks the open requests the offer `offer` could answer; at most `limit`.
    pub fn for_offer(&self, offer: &Key, limit: usize) -> Option<Vec<Match>> {
        let offered = self.side(self.find(offer).filter(|facts| facts.kind() == Kind::Offer)?);
        let mut best = Best::new(limit);
        for facts in self.facts {
            if facts.kind() != Kind::Request || !facts.open || facts.key.publisher == offer.publisher {
                continue;
            }
            let Some(assessment) = self.assess(&self.side(facts), &offered, facts) else { continue };
            best.offer(Ranked { score: assessment.score, facts, assessment });
        }
        let word = |ranked: Ranked| self.worded(&self.side(ranked.facts), &offered, &ranked);
        Some(best.into_sorted().into_iter().map(word).collect())
    }

    /// How well `candidate` (an offer or a practice note) answers `request`, scored as a match
    /// of `shown` (the candidate, or the request when ranking requests for an offer); `None`
    /// when it does not answer it: no shared language, neither theme nor SDG target in common,
    /// or an offer that does not serve the requester's place.
    fn assess(&self, request: &Side, candidate: &Side, shown: &Facts) -> Option<Assessment> {
        if overlap(&request.languages, &candidate.languages) == 0 && !shares_other_language(request, candidate) {
            return None;
        }
        let themes = request.facts.themes & candidate.facts.themes;
        let sdgs = overlap(&request.facts.sdgs, &candidate.facts.sdgs);
        if themes == 0 && sdgs == 0 {
            return None;
        }
        if candidate.facts.kind() == Kind::Offer
            && !candidate.facts.regions.is_empty()
            && let Some(place) = &request.place
            && nearness(place, &candidate.facts.regions).is_none()
        {
            return None;
        }
        let formats = request.facts.formats & candidate.facts.formats;
        let near = candidate.place.and_then(|there| match &request.facts.regions[..] {
            [] => {
                let here = request.place?;
                let level = if here.country == there.country {
                    3
                } else if here.sub != 0 && here.sub == there.sub {
                    2
                } else if here.region != 0 && here.region == there.region {
                    1
                } else {
                    return None;
                };
                Some((level, None))
            }
            preferred => nearness(&there, preferred).map(|(level, region)| (level, Some(region))),
        });
        let evidence = self.evidence_of(candidate.facts);
        let mut score = 10 * themes.count_ones().min(3) + 5 * sdgs.min(3) + 8 + 5 * formats.count_ones().min(3);
        score += near.map_or(0, |(level, _)| [0, 5, 10, 15][level as usize]);
        score += if evidence.adopted_by > 0 {
            6 * evidence.adopted_by.min(4) as u32
        } else if evidence.confirmed > 0 {
            3
        } else {
            0
        };
        score += 2 * evidence.outcomes.min(4) as u32 + 2 * evidence.endorsements.min(3) as u32;
        let age_days = (self.now_ms - shown.timestamp_ms).max(0) as f64 / 86_400_000.0;
        score += (10.0 * (-age_days / 365.0).exp2()).round() as u32;
        Some(Assessment { score, themes, sdgs, formats, near, evidence })
    }

    /// The match of `ranked` (the answering side's record, or the request's when ranking
    /// requests for an offer) with its reasons in words.
    fn worded(&self, asking: &Side, answering: &Side, ranked: &Ranked) -> Match {
        let (facts, assessment) = (ranked.facts, &ranked.assessment);
        let mut reasons = Vec::new();
        if assessment.themes != 0 {
            let names: Vec<String> = (0..vocab::THEMES.len())
                .filter(|at| assessment.themes & (1 << at) != 0)
                .map(|at| Words::Theme.label(vocab::THEMES[at]).into_owned())
                .collect();
            reasons.push(format!("same themes: {}", names.join(", ")));
        }
        if assessment.sdgs > 0 {
            reasons.push(format!("{} SDG target{} in common", assessment.sdgs, plural(assessment.sdgs as usize)));
        }
        if let Some(language) = shared_language(asking, answering) {
            reasons.push(format!("both work in {}", Words::Language.label(&language)));
        }
        if assessment.formats != 0 {
            let names: Vec<String> = (0..transfer::FORMATS.len())
                .filter(|at| assessment.formats & (1 << at) != 0)
                .map(|at| transfer::FORMATS[at].1.to_lowercase())
                .collect();
            reasons.push(format!("formats: {}", names.join(", ")));
        }
        if let Some((level, region)) = assessment.near {
            reasons.push(match (level, region, answering.place) {
                (_, Some(region), _) => format!("in a preferred region: {}", Words::Region.label(&region.code())),
                (3, None, Some(there)) => format!("in the same country: {}", Words::Country.label(there.country())),
                (2, None, Some(there)) => {
                    format!("in the same region: {}", Words::Region.label(&format!("{:03}", there.sub)))
                }
                (_, None, Some(there)) => {
                    format!("on the same continent: {}", Words::Region.label(&format!("{:03}", there.region)))
                }
                _ => "nearby".to_owned(),
            });
        }
        let evidence = assessment.evidence;
        if evidence.adopted_by > 0 {
            let with = if evidence.outcomes > 0 { " with outcomes" } else { "" };
            let n = evidence.adopted_by;
            reasons.push(format!("adopted by {n} {}{with}", if n == 1 { "city" } else { "cities" }));
        } else if evidence.confirmed > 0 {
            let n = evidence.confirmed;
            reasons.push(format!(
                "being taken up by {n} {} (confirmed by both sides)",
                if n == 1 { "city" } else { "cities" }
            ));
        }
        if evidence.endorsements > 0 {
            reasons.push(format!("endorsed {} time{}", evidence.endorsements, plural(evidence.endorsements)));
        }
        Match {
            kind: facts.kind(),
            publisher: facts.key.publisher,
            slug: facts.key.slug.clone(),
            title: facts.title.clone(),
            score: ranked.score,
            reasons,
        }
    }

    /// The evidence of a practice note, or of the notes an offer rests on.
    fn evidence_of(&self, facts: &Facts) -> Evidence {
        if self.evidence.is_empty() {
            return Evidence::default();
        }
        let mut total = Evidence::default();
        let mut add = |note: &Named| {
            if let Some(evidence) = self.evidence.get(note) {
                total.adopted_by += evidence.adopted_by;
                total.confirmed += evidence.confirmed;
                total.outcomes += evidence.outcomes;
                total.endorsements += evidence.endorsements;
            }
        };
        if facts.kind() == Kind::Practice {
            add(&Named::of_key(&facts.key));
        } else {
            facts.practices.iter().for_each(add);
        }
        total
    }
}

/// The first of the asking side's languages the answering side works in.
fn shared_language(asking: &Side, answering: &Side) -> Option<String> {
    let spoken = |language: &&String| match LANGUAGE_BITS.get(language.as_str()) {
        Some(at) => answering.languages[at / 64] & (1 << (at % 64)) != 0,
        None => answering.other_languages.contains(language) || answering.organisation_languages.contains(language),
    };
    asking.facts.language_order.iter().find(spoken).cloned()
}

/// Whether two sides share a language outside ISO 639-1 (by primary subtag).
fn shares_other_language(a: &Side, b: &Side) -> bool {
    let theirs =
        |language: &String| b.other_languages.contains(language) || b.organisation_languages.contains(language);
    a.other_languages.iter().chain(a.organisation_languages).any(theirs)
}

fn as_text<T: std::fmt::Display, S: serde::Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
