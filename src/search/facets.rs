//! Counting facet values over the notes a query matches: each segment's values are read once
//! from the fast field and kept while the segment lives (segments never change), so a count is
//! a tight loop over plain arrays.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentReader};

use super::FACETS_FIELD;

/// The facet values of every note of one segment, read once from the fast field and kept
/// while the segment lives (segments never change): value numbers per note, flattened, and
/// each number's text. Counting is then a tight loop over plain arrays.
pub(super) struct SegmentFacets {
    /// Note `d`'s values are `values[offsets[d]..offsets[d + 1]]`.
    offsets: Vec<u32>,
    values: Values,
    /// `name=value` by value number.
    texts: Vec<String>,
}

/// Value numbers in two bytes each while a segment has at most 65,536 values (it always has,
/// short of that many publishers or places in one segment): about 2 bytes a value and note.
enum Values {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Values {
    fn count(&self, range: std::ops::Range<usize>, counts: &mut [u64]) {
        match self {
            Values::Narrow(values) => values[range].iter().for_each(|value| counts[usize::from(*value)] += 1),
            Values::Wide(values) => values[range].iter().for_each(|value| counts[*value as usize] += 1),
        }
    }
}

impl SegmentFacets {
    pub(super) fn read(segment: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let Some(column) = segment.fast_fields().str(FACETS_FIELD)? else {
            return Ok(SegmentFacets {
                offsets: vec![0; segment.max_doc() as usize + 1],
                values: Values::Narrow(Vec::new()),
                texts: Vec::new(),
            });
        };
        let mut offsets = Vec::with_capacity(segment.max_doc() as usize + 1);
        offsets.push(0);
        let values = if column.num_terms() <= usize::from(u16::MAX) + 1 {
            Values::Narrow(ords(&column, segment.max_doc(), &mut offsets, |ord| ord as u16))
        } else {
            Values::Wide(ords(&column, segment.max_doc(), &mut offsets, |ord| ord as u32))
        };
        let mut texts = Vec::with_capacity(column.num_terms());
        for ord in 0..column.num_terms() as u64 {
            let mut text = String::new();
            column.ord_to_str(ord, &mut text)?;
            texts.push(text);
        }
        Ok(SegmentFacets { offsets, values, texts })
    }
}

/// Every note's value numbers, narrowed, one note after another; `offsets` gets where each
/// note's end.
fn ords<T>(column: &StrColumn, notes: DocId, offsets: &mut Vec<u32>, narrow: impl Fn(u64) -> T) -> Vec<T> {
    let mut values = Vec::new();
    for doc in 0..notes {
        values.extend(column.term_ords(doc).map(&narrow));
        offsets.push(values.len() as u32);
    }
    values.shrink_to_fit();
    values
}

/// Counts the matching notes and their facet values (`name=value`), from the facet values of
/// each segment read beforehand. Needs no scores.
pub(super) struct FacetCounts {
    pub(super) segments: HashMap<SegmentId, Arc<SegmentFacets>>,
}

/// Matches, and how many of them have each facet value.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) total: usize,
    pub(super) values: BTreeMap<String, u64>,
}

pub(super) struct SegmentFacetCounts {
    facets: Arc<SegmentFacets>,
    total: usize,
    counts: Vec<u64>,
}

impl Collector for FacetCounts {
    type Fruit = Tally;
    type Child = SegmentFacetCounts;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentFacetCounts> {
        let facets = match self.segments.get(&segment.segment_id()) {
            Some(facets) => Arc::clone(facets),
            None => Arc::new(SegmentFacets::read(segment)?),
        };
        let counts = vec![0; facets.texts.len()];
        Ok(SegmentFacetCounts { facets, total: 0, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Tally>) -> tantivy::Result<Tally> {
        let mut merged = Tally::default();
        for fruit in fruits {
            merged.total += fruit.total;
            for (value, count) in fruit.values {
                *merged.values.entry(value).or_insert(0) += count;
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = Tally;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.total += 1;
        let facets = &*self.facets;
        let (start, end) = (facets.offsets[doc as usize] as usize, facets.offsets[doc as usize + 1] as usize);
        facets.values.count(start..end, &mut self.counts);
    }

    fn harvest(self) -> Tally {
        let values = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(value, count)| (self.facets.texts[value].clone(), *count))
            .collect();
        Tally { total: self.total, values }
    }
}
