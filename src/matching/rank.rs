//! Keeping the best candidates while scoring: a bounded heap per list, and each
//! organisation's best candidate with how many of its candidates match; parts scored on
//! different threads merge.

use std::collections::BinaryHeap;

use super::{Assessment, Facts};
use crate::record::{ByPublisher, PublisherId};

/// A candidate's place in a ranking: higher score first, then title and slug (stable).
#[derive(Clone, Copy)]
pub(super) struct Ranked<'a> {
    pub(super) score: u32,
    pub(super) facts: &'a Facts,
    pub(super) assessment: Assessment,
}

impl Ord for Ranked<'_> {
    /// Greater is better: the heap keeps the worst of the best on top.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .cmp(&other.score)
            .then_with(|| other.facts.title.cmp(&self.facts.title))
            .then_with(|| other.facts.key.slug.cmp(&self.facts.key.slug))
            .then_with(|| other.facts.key.publisher.cmp(&self.facts.key.publisher))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What scoring a part of the candidates found: the best offers and notes, and each
/// organisation's best candidate with how many of its candidates match.
pub(super) struct Ranking<'a> {
    pub(super) offers: Best<'a>,
    pub(super) practices: Best<'a>,
    pub(super) by_publisher: ByPublisher<PublisherId, (Ranked<'a>, usize)>,
}

impl<'a> Ranking<'a> {
    pub(super) fn new(limit: usize) -> Ranking<'a> {
        Ranking { offers: Best::new(limit), practices: Best::new(limit), by_publisher: ByPublisher::default() }
    }

    /// Takes in what another part found.
    pub(super) fn merge(&mut self, other: Ranking<'a>) {
        for std::cmp::Reverse(ranked) in other.offers.heap {
            self.offers.offer(ranked);
        }
        for std::cmp::Reverse(ranked) in other.practices.heap {
            self.practices.offer(ranked);
        }
        for (publisher, (ranked, count)) in other.by_publisher {
            match self.by_publisher.get_mut(&publisher) {
                Some((best, total)) => {
                    *total += count;
                    if ranked > *best {
                        *best = ranked;
                    }
                }
                None => drop(self.by_publisher.insert(publisher, (ranked, count))),
            }
        }
    }
}

/// The `limit` best candidates seen, kept as they are offered.
pub(super) struct Best<'a> {
    limit: usize,
    pub(super) heap: BinaryHeap<std::cmp::Reverse<Ranked<'a>>>,
}

impl<'a> Best<'a> {
    pub(super) fn new(limit: usize) -> Best<'a> {
        Best { limit, heap: BinaryHeap::with_capacity(limit + 1) }
    }

    pub(super) fn offer(&mut self, ranked: Ranked<'a>) {
        if self.heap.len() < self.limit {
            self.heap.push(std::cmp::Reverse(ranked));
        } else if self.heap.peek().is_some_and(|worst| ranked > worst.0) {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(ranked));
        }
    }

    /// Best first.
    pub(super) fn into_sorted(self) -> Vec<Ranked<'a>> {
        self.heap.into_sorted_vec().into_iter().map(|std::cmp::Reverse(ranked)| ranked).collect()
    }
}
