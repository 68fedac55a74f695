//! Full-text search over the current practice notes (tantivy), with facet counts and
//! highlighted snippets. The index is a cache of the store: it follows the records tree in
//! arrival order, remembers in each commit how far it got, and is rebuilt from the store when it
//! is missing, damaged, of another layout, or the store was repaired after a crash.
//!
//! One document per practice note key (publisher + slug), holding its current head; a withdrawn
//! note has none. Text is split on non-alphanumerics, lower-cased and folded to ASCII
//! ("São" finds "sao"), with no stemming, so that every language is treated alike.

mod facets;
mod indexing;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::index::SegmentId;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy, SegmentReader, TantivyDocument,
    Term,
};

use facets::{FacetCounts, SegmentFacets, Tally};

use crate::fields;
use crate::record::{Key, Kind, PublisherId};
use crate::store::StoreError;

/// The index's layout; an index written with another is rebuilt. (8: the stored fields
/// compressed with Zstandard in blocks of [`DOCSTORE_BLOCK`], not LZ4 in blocks of 16 KiB.)
const LAYOUT: u32 = 8;
/// The stored fields (for results and snippets) are compressed in blocks of this many bytes:
/// a result read decompresses its block (the reader caches recent blocks).
const DOCSTORE_BLOCK: usize = 64 * 1024;
/// The analyser every text field uses.
const TOKENIZER: &str = "citymesh";
/// Memory the writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 50 * 1024 * 1024;
/// Records read from the store at a time while catching up.
const PAGE: usize = 2_000;
/// While catching up on many records, a commit (and a progress line) every this many.
const COMMIT_EVERY: usize = 20_000;
/// Threads one query may use, at most.
const SEARCH_THREADS: usize = 4;
/// Longest query text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most hits per page, and the furthest a page may start.
pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;
/// Facet values returned per facet, most frequent first.
const FACET_VALUES: usize = 30;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 220;

/// The facets, as the API and the page name them, and their paths in the index.
pub const FACETS: [&str; 7] = ["theme", "sdg", "country", "language", "publisher", "status", "kind"];

/// The kind searched when a query names none: practice notes, as before other kinds were
/// indexed.
pub const DEFAULT_KIND: Kind = Kind::Practice;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search index at {path}: {error}")]
    Index { path: PathBuf, error: tantivy::TantivyError },
    #[error("the search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot remove the damaged search index at {path}: {error}")]
    Remove { path: PathBuf, error: std::io::Error },
}

/// What to look for. Empty text matches every note (newest first); otherwise by relevance.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// `(facet, value)` pairs, e.g. `("theme", "solid-waste")`: a hit has one of the values
    /// given for each facet named.
    pub filters: Vec<(&'static str, String)>,
    /// Left out: publishers, and single notes.
    pub hidden: Vec<Hidden>,
    pub limit: usize,
    pub offset: usize,
}

/// What a query leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hidden {
    /// Every note of a publisher.
    Publisher(PublisherId),
    /// One note, by its key.
    Note(Key),
}

/// One note (or request, offer ...) found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub publisher: String,
    pub slug: String,
    pub title: String,
    pub timestamp_ms: i64,
    /// A passage of the note with the query's words in `<mark>`; HTML, escaped.
    pub snippet_html: String,
}

/// How many matching notes have one facet value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// A page of results, with the total and facet counts over every match.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: BTreeMap<&'static str, Vec<FacetCount>>,
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    id: Field,
    kind: Field,
    publisher: Field,
    slug: Field,
    title: Field,
    summary: Field,
    body: Field,
    /// Everything searched: title, summary, every section, keywords and place, in one field,
    /// so that a word costs one posting list, not five.
    text: Field,
    /// Facet values as `name=value` (`theme=solid-waste`): indexed to filter on, and a fast
    /// (columnar) field to count over matches.
    facets: Field,
    timestamp: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let text = TextOptions::default().set_indexing_options(indexing);
        let fields = Fields {
            key: builder.add_text_field("key", STRING),
            id: builder.add_text_field("id", STORED),
            kind: builder.add_text_field("kind", STORED),
            publisher: builder.add_text_field("publisher", STORED),
            slug: builder.add_text_field("slug", STORED),
            title: builder.add_text_field("title", STORED),
            summary: builder.add_text_field("summary", STORED),
            body: builder.add_text_field("body", STORED),
            text: builder.add_text_field("text", text),
            facets: builder.add_text_field(FACETS_FIELD, STRING | FAST),
            timestamp: builder.add_i64_field("timestamp", FAST | STORED),
        };
        (builder.build(), fields)
    }
}

/// What the writer side keeps: the writer and how far into the store it has indexed.
struct Progress {
    writer: IndexWriter<TantivyDocument>,
    /// The last store sequence number indexed (`None`: nothing yet).
    after: Option<u64>,
    /// The store generation when the index last caught up: unchanged means nothing to do.
    generation: Option<u64>,
    /// The store's purge count the index reflects: after a purge the index is rebuilt.
    purges: u64,
}

/// The search index of one data directory.
pub struct Search {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    progress: Mutex<Progress>,
    /// Facet values per segment (about 4 bytes per value and note: ~30 MB at 1,000,000 notes).
    facet_cache: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    layout: u32,
    after: Option<u64>,
    #[serde(default)]
    purges: u64,
}

fn analyser() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The name of the field holding facet values.
const FACETS_FIELD: &str = "facets";

fn facet_term(fields: &Fields, name: &str, value: &str) -> Term {
    Term::from_field_text(fields.facets, &format!("{name}={value}"))
}

impl Search {
    /// Opens the index in `path`, or builds a new one there when it is missing, unreadable or
    /// of another layout (`rebuild` forces that). Call [`Search::catch_up`] to bring it up to
    /// date with the store.
    pub fn open(path: &Path, rebuild: bool) -> Result<Search, SearchError> {
        if !rebuild {
            match Self::open_existing(path) {
                Ok(Some(search)) => return Ok(search),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "the search index is damaged; rebuilding it from the store"),
            }
        }
        if path.exists() {
            std::fs::remove_dir_all(path).map_err(|error| SearchError::Remove { path: path.to_owned(), error })?;
        }
        let wrap = |error| SearchError::Index { path: path.to_owned(), error };
        std::fs::create_dir_all(path).map_err(|error| wrap(error.into()))?;
        let (schema, _) = Fields::schema();
        let settings = IndexSettings {
            docstore_compression: Compressor::Zstd(ZstdCompressor { compression_level: Some(crate::compress::LEVEL) }),
            docstore_blocksize: DOCSTORE_BLOCK,
            ..IndexSettings::default()
        };
        let index = Index::builder().schema(schema).settings(settings).create_in_dir(path).map_err(wrap)?;
        Self::with_index(path, index, None, 0)
    }

    /// The existing index, if there is one of this layout.
    fn open_existing(path: &Path) -> Result<Option<Search>, SearchError> {
        if !path.join("meta.json").exists() {
            return Ok(None);
        }
        let wrap = |error| SearchError::Index { path: path.to_owned(), error };
        let index = Index::open_in_dir(path).map_err(wrap)?;
        if index.schema() != Fields::schema().0 {
            return Ok(None);
        }
        let payload = index.load_metas().map_err(wrap)?.payload;
        let payload: Option<Payload> = payload.as_deref().and_then(|text| serde_json::from_str(text).ok());
        match payload {
            Some(payload) if payload.layout == LAYOUT => {
                Self::with_index(path, index, payload.after, payload.purges).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn with_index(path: &Path, mut index: Index, after: Option<u64>, purges: u64) -> Result<Search, SearchError> {
        index.tokenizers().register(TOKENIZER, analyser());
        let (_, fields) = Fields::schema();
        let wrap = |error| SearchError::Index { path: path.to_owned(), error };
        // A query searches the index's segments in parallel, one thread per core (up to 4).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(SEARCH_THREADS);
        index.set_multithread_executor(threads).map_err(wrap)?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).map_err(wrap)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(wrap)?;
        Ok(Search {
            path: path.to_owned(),
            index,
            reader,
            fields,
            progress: Mutex::new(Progress { writer, after, generation: None, purges }),
            facet_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The facet values of every segment the searcher reads, from the cache or read now; the
    /// cache forgets segments no longer searched (merged away).
    fn segment_facets(&self, searcher: &tantivy::Searcher) -> tantivy::Result<HashMap<SegmentId, Arc<SegmentFacets>>> {
        let mut cache = self.facet_cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let live: Vec<SegmentId> = searcher.segment_readers().iter().map(SegmentReader::segment_id).collect();
        cache.retain(|id, _| live.contains(id));
        for segment in searcher.segment_readers() {
            if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(segment.segment_id()) {
                entry.insert(Arc::new(SegmentFacets::read(segment)?));
            }
        }
        Ok(cache.clone())
    }

    /// The record id of every record indexed (for checks: it should be every current record of
    /// a written kind the store holds).
    pub fn ids(&self) -> Result<BTreeSet<String>, SearchError> {
        let searcher = self.reader.searcher();
        let addresses = searcher.search(&AllQuery, &tantivy::collector::DocSetCollector)?;
        let mut ids = BTreeSet::new();
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|value| value.as_str()) {
                ids.insert(id.to_owned());
            }
        }
        Ok(ids)
    }

    /// The current notes that adapt any of these records (by `based_on`), newest first.
    pub fn adaptations(&self, ids: &[crate::record::RecordId]) -> Result<Vec<Hit>, SearchError> {
        let filters = ids.iter().map(|id| (fields::ADAPTS, id.to_string())).collect();
        Ok(self.search(&SearchQuery { filters, limit: MAX_LIMIT, ..SearchQuery::default() })?.hits)
    }

    /// Closes the index after its background merges finish (dropping it abandons them, which
    /// is safe but leaves more segments to search).
    pub fn close(self) -> Result<(), SearchError> {
        let progress = self.progress.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        progress.writer.wait_merging_threads()?;
        Ok(())
    }

    /// Segments searched (fewer is faster; merges reduce them).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Records indexed (of every written kind), as the index has them now.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Current records of `kind` indexed (practice notes: the notes held).
    pub fn count_of(&self, kind: Kind) -> Result<u64, SearchError> {
        let term = facet_term(&self.fields, "kind", kind.as_str());
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        Ok(self.reader.searcher().search(&query, &tantivy::collector::Count)? as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a query. Query syntax is tantivy's (words, "phrases", -exclusions, field:word);
    /// anything it cannot parse is searched for as plain words, so no text is an error.
    pub fn search(&self, query: &SearchQuery) -> Result<Results, SearchError> {
        let f = &self.fields;
        let searcher = self.reader.searcher();
        let text: Option<Box<dyn Query>> = if query.text.trim().is_empty() {
            None
        } else {
            let mut parser = QueryParser::for_index(&self.index, vec![f.text]);
            parser.set_conjunction_by_default();
            Some(parser.parse_query_lenient(&query.text).0)
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        clauses
            .push((Occur::Must, text.as_ref().map_or_else(|| Box::new(AllQuery) as Box<dyn Query>, |q| q.box_clone())));
        // Values of one facet are alternatives; different facets must all match. A query that
        // names no kind searches practice notes.
        let mut by_facet: BTreeMap<&str, Vec<Box<dyn Query>>> = BTreeMap::new();
        let default_kind = [("kind", DEFAULT_KIND.as_str().to_owned())];
        let named_kind = query.filters.iter().any(|(name, _)| *name == "kind");
        let implied = if named_kind { &[][..] } else { &default_kind[..] };
        for (name, value) in query
            .filters
            .iter()
            .map(|(name, value)| (*name, value))
            .chain(implied.iter().map(|(name, value)| (*name, value)))
        {
            let term = facet_term(f, name, value);
            by_facet.entry(name).or_default().push(Box::new(TermQuery::new(term, IndexRecordOption::Basic)));
        }
        for (_, alternatives) in by_facet {
            let any = alternatives.into_iter().map(|query| (Occur::Should, query)).collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        for hidden in &query.hidden {
            let term = match hidden {
                Hidden::Note(key) => Term::from_field_text(f.key, &key_text(key)),
                Hidden::Publisher(publisher) => facet_term(f, "publisher", &publisher.to_string()),
            };
            clauses.push((Occur::MustNot, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }
        let combined = BooleanQuery::new(clauses);
        let facets = FacetCounts { segments: self.segment_facets(&searcher)? };
        let top = TopDocs::with_limit(query.limit.max(1)).and_offset(query.offset);
        // Two passes: the page (scored, where the top hits can skip most documents), then the
        // count and facet values over every match without scoring, which is cheaper than one
        // scored pass over everything.
        let addresses: Vec<DocAddress> = if text.is_some() {
            searcher.search(&combined, &top)?.into_iter().map(|(_, address)| address).collect()
        } else {
            let newest = top.order_by_fast_field::<i64>("timestamp", Order::Desc);
            searcher.search(&combined, &newest)?.into_iter().map(|(_, address)| address).collect()
        };
        let Tally { total, values: facet_counts } = searcher.search(&combined, &facets)?;
        let snippets = match &text {
            Some(text) => Some(self.snippet_generator(&searcher, text.as_ref())?),
            None => None,
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let field = |field: Field| doc.get_first(field).and_then(|value| value.as_str()).unwrap_or("").to_owned();
            let snippet_html = match &snippets {
                Some(generator) => {
                    let mut snippet = generator.snippet(&field(f.summary));
                    if snippet.highlighted().is_empty() {
                        let in_body = generator.snippet(&field(f.body));
                        if !in_body.highlighted().is_empty() {
                            snippet = in_body;
                        }
                    }
                    snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                    if snippet.is_empty() { escape(&shorten(&field(f.summary))) } else { snippet.to_html() }
                }
                None => escape(&shorten(&field(f.summary))),
            };
            hits.push(Hit {
                id: field(f.id),
                kind: field(f.kind),
                publisher: field(f.publisher),
                slug: field(f.slug),
                title: field(f.title),
                timestamp_ms: doc.get_first(f.timestamp).and_then(|value| value.as_i64()).unwrap_or_default(),
                snippet_html,
            });
        }
        let facets = FACETS
            .iter()
            .map(|name| {
                let mut counts: Vec<FacetCount> = facet_counts
                    .iter()
                    .filter_map(|(text, count)| {
                        let (facet, value) = text.split_once('=')?;
                        (facet == *name).then(|| FacetCount { value: value.to_owned(), count: *count })
                    })
                    .collect();
                counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                counts.truncate(FACET_VALUES);
                (*name, counts)
            })
            .collect();
        Ok(Results { total, hits, facets })
    }
}

impl Search {
    /// Highlights the query's words in any text (the summary, the sections), weighting rarer
    /// words higher, as tantivy's own generator does for one field.
    fn snippet_generator(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
    ) -> Result<SnippetGenerator, SearchError> {
        let mut terms = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == self.fields.text {
                terms.insert(term.clone());
            }
        });
        let mut weights = BTreeMap::new();
        for term in terms {
            let frequency = searcher.doc_freq(&term)?;
            if let (Some(word), true) = (term.value().as_str(), frequency > 0) {
                weights.insert(word.to_owned(), 1.0 / (1.0 + frequency as f32));
            }
        }
        Ok(SnippetGenerator::new(weights, analyser(), self.fields.body, SNIPPET_CHARS))
    }
}

fn key_text(key: &Key) -> String {
    format!("{}/{}/{}", key.publisher, key.kind, key.slug)
}

/// The first words of a text, up to a snippet's length.
fn shorten(text: &str) -> String {
    if text.chars().count() <= SNIPPET_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(SNIPPET_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut} …")
}

/// Minimal HTML escaping for text placed in an element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests;
