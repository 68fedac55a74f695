//! Following transfers between cities (DESIGN §8): which engagements are confirmed by both
//! sides and which only claimed by one, what came of them, and what that says about a practice
//! (taken up by how many cities, with what outcomes). Pure: it reads the current heads given.
//!
//! An engagement of A is **confirmed** when A names B as counterpart and B's own current
//! engagement names A for the same practice (spec §12.16); one side alone is *claimed by* A.

use std::collections::{HashMap, HashSet};

use crate::record::{Body, Key, Kind, PublisherId, Record};
use crate::vocab::transfer::FINAL_STAGES;
use crate::wire::{Endorsement, Engagement, Outcome, Ref};

/// A practice note (or any record) named across its revisions: publisher and slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Named {
    pub publisher: PublisherId,
    pub slug: String,
}

impl Named {
    pub fn of(target: &Ref) -> Option<Named> {
        let publisher: [u8; 32] = target.publisher.as_slice().try_into().ok()?;
        Some(Named { publisher: PublisherId(publisher), slug: target.slug.clone() })
    }

    pub fn of_key(key: &Key) -> Named {
        Named { publisher: key.publisher, slug: key.slug.clone() }
    }
}

/// One engagement as held, with what the other side says.
#[derive(Debug, Clone)]
pub struct Side {
    pub key: Key,
    pub timestamp_ms: i64,
    pub engagement: Engagement,
    pub counterpart: Option<PublisherId>,
    pub practice: Option<Named>,
    /// Whether the counterpart's own current engagement names this publisher for the same
    /// practice.
    pub confirmed: bool,
    /// The slugs of this publisher's outcomes of it.
    pub outcomes: Vec<(Key, Outcome)>,
}

impl Side {
    /// The stage it is at (its last).
    pub fn stage(&self) -> &str {
        crate::record::current_stage(&self.engagement).unwrap_or("exploring")
    }

    /// Whether the practice was taken up (adopted or adapted).
    pub fn took_up(&self) -> bool {
        matches!(self.stage(), "adopted" | "adapted")
    }

    pub fn is_final(&self) -> bool {
        FINAL_STAGES.contains(&self.stage())
    }
}

/// The transfer records held: every current engagement with its confirmation and outcomes, and
/// the endorsements.
#[derive(Debug, Clone, Default)]
pub struct Transfers {
    pub sides: Vec<Side>,
    pub endorsements: Vec<(Key, Endorsement)>,
}

/// What the records say of one practice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Distinct organisations whose confirmed engagement adopted or adapted it.
    pub adopted_by: usize,
    /// Confirmed transfers at any stage (each counted once, by its recipient's side).
    pub confirmed: usize,
    /// Outcomes recorded of its engagements.
    pub outcomes: usize,
    pub endorsements: usize,
}

/// The evidence of the practices some records speak of, by note; looked up for every
/// candidate while matching, so the publishers with any are kept apart to answer "none" fast.
#[derive(Debug, Clone, Default)]
pub struct EvidenceMap {
    by_note: crate::record::ByPublisher<Named, Evidence>,
    publishers: std::collections::HashSet<PublisherId, std::hash::BuildHasherDefault<crate::record::KeyHasher>>,
}

impl EvidenceMap {
    pub fn get(&self, note: &Named) -> Option<&Evidence> {
        if !self.publishers.contains(&note.publisher) {
            return None;
        }
        self.by_note.get(note)
    }

    pub fn is_empty(&self) -> bool {
        self.by_note.is_empty()
    }
}

/// The counts of the home page's funnel.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Funnel {
    pub open_requests: usize,
    pub engagements: usize,
    pub adopted: usize,
    pub outcomes: usize,
}

impl Transfers {
    /// Reads the current heads (withdrawn ones are skipped) of engagements, outcomes and
    /// endorsements.
    pub fn of(heads: &[Record]) -> Transfers {
        let mut sides = Vec::new();
        let mut outcomes: HashMap<(PublisherId, String), Vec<(Key, Outcome)>> = HashMap::new();
        let mut endorsements = Vec::new();
        for record in heads.iter().filter(|record| !record.is_tombstone()) {
            match record.parse_body() {
                Ok(Body::Engagement(engagement)) => sides.push(Side {
                    key: record.key(),
                    timestamp_ms: record.timestamp_ms(),
                    counterpart: engagement.counterpart.as_slice().try_into().ok().map(PublisherId),
                    practice: engagement.practice.as_ref().and_then(Named::of),
                    engagement,
                    confirmed: false,
                    outcomes: Vec::new(),
                }),
                Ok(Body::Outcome(outcome)) => outcomes
                    .entry((record.publisher(), outcome.engagement.clone()))
                    .or_default()
                    .push((record.key(), outcome)),
                Ok(Body::Endorsement(endorsement)) => endorsements.push((record.key(), endorsement)),
                _ => {}
            }
        }
        // (publisher, counterpart, practice) of every engagement, to find each one's mirror.
        let claims: HashSet<(PublisherId, PublisherId, Named)> = sides
            .iter()
            .filter_map(|side| Some((side.key.publisher, side.counterpart?, side.practice.clone()?)))
            .collect();
        for side in &mut sides {
            if let (Some(counterpart), Some(practice)) = (side.counterpart, side.practice.clone()) {
                side.confirmed = claims.contains(&(counterpart, side.key.publisher, practice));
            }
            side.outcomes = outcomes.remove(&(side.key.publisher, side.key.slug.clone())).unwrap_or_default();
            side.outcomes.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));
        }
        sides.sort_by(|a, b| b.timestamp_ms.cmp(&a.timestamp_ms).then_with(|| a.key.cmp(&b.key)));
        Transfers { sides, endorsements }
    }

    /// The engagements naming `practice`, most recent first.
    pub fn of_practice<'a>(&'a self, practice: &'a Named) -> impl Iterator<Item = &'a Side> + 'a {
        self.sides.iter().filter(move |side| side.practice.as_ref() == Some(practice))
    }

    /// The engagement of `key`, if held.
    pub fn side(&self, key: &Key) -> Option<&Side> {
        self.sides.iter().find(|side| side.key == *key)
    }

    /// The other side's engagement of `side`, if held and confirming it.
    pub fn mirror(&self, side: &Side) -> Option<&Side> {
        let counterpart = side.counterpart?;
        self.sides.iter().find(|other| {
            other.key.publisher == counterpart
                && other.counterpart == Some(side.key.publisher)
                && other.practice == side.practice
        })
    }

    /// The endorsements of a record of `kind`.
    pub fn endorsements_of<'a>(
        &'a self,
        kind: Kind,
        target: &'a Named,
    ) -> impl Iterator<Item = &'a (Key, Endorsement)> + 'a {
        self.endorsements.iter().filter(move |(_, endorsement)| {
            endorsement.subject_kind == kind.as_str()
                && endorsement.subject.as_ref().and_then(Named::of).as_ref() == Some(target)
        })
    }

    /// The evidence of every practice some engagement or endorsement names.
    pub fn evidence(&self) -> EvidenceMap {
        let mut evidence = crate::record::ByPublisher::<Named, Evidence>::default();
        let mut adopters: HashMap<Named, HashSet<PublisherId>> = HashMap::new();
        for side in &self.sides {
            let Some(practice) = &side.practice else { continue };
            let entry = evidence.entry(practice.clone()).or_default();
            entry.outcomes += side.outcomes.len();
            if side.confirmed && side.engagement.role == "recipient" {
                entry.confirmed += 1;
                if side.took_up() {
                    adopters.entry(practice.clone()).or_default().insert(side.key.publisher);
                }
            }
        }
        for (_, endorsement) in &self.endorsements {
            if endorsement.subject_kind == "practice"
                && let Some(practice) = endorsement.subject.as_ref().and_then(Named::of)
            {
                evidence.entry(practice).or_default().endorsements += 1;
            }
        }
        for (practice, publishers) in adopters {
            evidence.entry(practice).or_default().adopted_by = publishers.len();
        }
        let publishers = evidence.keys().map(|note| note.publisher).collect();
        EvidenceMap { by_note: evidence, publishers }
    }

    /// The funnel's counts, given the number of open requests: engagements (each transfer once,
    /// however many sides hold it), those that adopted or adapted, and outcomes recorded.
    pub fn funnel(&self, open_requests: usize) -> Funnel {
        let mut transfers: HashSet<(PublisherId, PublisherId, Option<Named>)> = HashSet::new();
        let mut adopted: HashSet<(PublisherId, PublisherId, Option<Named>)> = HashSet::new();
        let mut outcomes = 0;
        for side in &self.sides {
            let Some(counterpart) = side.counterpart else { continue };
            let pair = if side.key.publisher < counterpart {
                (side.key.publisher, counterpart, side.practice.clone())
            } else {
                (counterpart, side.key.publisher, side.practice.clone())
            };
            if side.took_up() {
                adopted.insert(pair.clone());
            }
            transfers.insert(pair);
            outcomes += side.outcomes.len();
        }
        Funnel { open_requests, engagements: transfers.len(), adopted: adopted.len(), outcomes }
    }
}

#[cfg(test)]
mod tests;
