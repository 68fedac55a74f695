//! Keeping the index in step with the store: what arrived since the last catch-up is indexed
//! as its keys' current heads, and each commit follows a store flush.

use std::collections::{BTreeMap, HashSet};

use tantivy::{IndexWriter, TantivyDocument, Term};

use super::{COMMIT_EVERY, LAYOUT, PAGE, Payload, Progress, Search, SearchError, key_text};
use crate::fields;
use crate::record::{Key, Record};
use crate::store::Store;

impl Search {
    /// Indexes what the store received since the last catch-up: each practice note key touched
    /// gets its current head (or nothing, once withdrawn). Flushes the store before each
    /// commit, so the index never holds a note the store could lose. Returns the records read.
    pub fn catch_up(&self, store: &Store) -> Result<usize, SearchError> {
        let generation = store.generation();
        let mut progress = self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if progress.generation == Some(generation) {
            return Ok(0);
        }
        if progress.purges != store.purges() {
            // Records were removed (a compromised key's): index everything again.
            progress.writer.delete_all_documents()?;
            progress.after = None;
            progress.purges = store.purges();
        }
        let (mut read, mut uncommitted) = (0, 0);
        // Keys given a document since the last commit, which the reader does not see yet.
        let mut added = HashSet::new();
        loop {
            let page = store.records_page(progress.after, PAGE)?;
            let Some((last, _)) = page.last() else { break };
            let last = *last;
            // Each key touched, with its newest revision in the page: usually the head, which
            // then need not be read and decoded again.
            let mut keys: BTreeMap<Key, &Record> = BTreeMap::new();
            for (_, record) in page.iter().filter(|(_, record)| fields::WRITTEN_KINDS.contains(&record.kind())) {
                let newest = keys.entry(record.key()).or_insert(record);
                if record.version() > newest.version() {
                    *newest = record;
                }
            }
            let searcher = self.reader.searcher();
            for (key, newest) in keys {
                let term = Term::from_field_text(self.fields.key, &key_text(&key));
                // A delete is queued in the writer until every segment has seen it (about 450
                // bytes each, for every note of a rebuild): only where a document may exist.
                if added.contains(&term) || searcher.doc_freq(&term)? > 0 {
                    progress.writer.delete_term(term.clone());
                }
                if self.reindex(&progress.writer, store, &key, Some(newest))? {
                    added.insert(term);
                }
            }
            progress.after = Some(last);
            read += page.len();
            uncommitted += page.len();
            if uncommitted >= COMMIT_EVERY {
                self.commit(&mut progress, store)?;
                added.clear();
                uncommitted = 0;
                tracing::info!(records = read, "search index: catching up");
            }
        }
        if uncommitted > 0 {
            self.commit(&mut progress, store)?;
        }
        progress.generation = Some(generation);
        Ok(read)
    }

    /// Drops the index's contents and indexes the whole store again.
    pub fn rebuild(&self, store: &Store) -> Result<usize, SearchError> {
        {
            let mut progress = self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            progress.writer.delete_all_documents()?;
            progress.after = None;
            progress.generation = None;
        }
        self.catch_up(store)
    }

    /// Indexes a key's head (its older document, if any, already deleted); `read` is a
    /// revision of it already read, used if it is the head. Answers whether it added a document.
    fn reindex(
        &self,
        writer: &IndexWriter<TantivyDocument>,
        store: &Store,
        key: &Key,
        read: Option<&Record>,
    ) -> Result<bool, SearchError> {
        let head = match (store.head_version(key)?, read) {
            (None, _) => return Ok(false),
            (Some(head), Some(read)) if head.id == read.id() => read.clone(),
            (Some(_), _) => match store.head(key)? {
                Some(head) => head,
                None => return Ok(false),
            },
        };
        let Ok(body) = head.parse_body() else { return Ok(false) };
        let document = crate::with_described!(key.kind, T => T::from_body(body).map(|body| self.document(&head, &body)), else None);
        match document {
            Some(document) => {
                writer.add_document(document)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn commit(&self, progress: &mut Progress, store: &Store) -> Result<(), SearchError> {
        store.flush()?;
        let payload =
            serde_json::to_string(&Payload { layout: LAYOUT, after: progress.after, purges: progress.purges })
                .expect("a payload of plain numbers serialises");
        let mut commit = progress.writer.prepare_commit()?;
        commit.set_payload(&payload);
        commit.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// A record's document: its texts and facet values as its kind's field table says
    /// ([`crate::fields::Searched`], [`crate::fields::Field::facet`]), and its kind.
    fn document<T: fields::Described>(&self, record: &Record, note: &T) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::new();
        doc.add_text(f.key, key_text(&record.key()));
        doc.add_text(f.id, record.id().to_string());
        doc.add_text(f.kind, record.kind().as_str());
        doc.add_text(f.publisher, record.publisher().to_string());
        doc.add_text(f.slug, record.slug());
        let (title, summary, body, words) = fields::search_text(note);
        doc.add_text(f.title, &title);
        doc.add_text(f.summary, &summary);
        doc.add_text(f.body, &body);
        doc.add_i64(f.timestamp, record.timestamp_ms());
        // The title twice: its words weigh more than the same words elsewhere.
        let mut searched = vec![title.as_str(), &title, &summary, &body];
        searched.extend(words.iter().map(String::as_str));
        doc.add_text(f.text, searched.join("\n"));
        // `adapts` (the note named by `based_on`) is not shown to readers: it lets a note's
        // page list the notes adapting it.
        let publisher = record.publisher().to_string();
        let kind = ("kind", record.kind().as_str().to_owned());
        for (name, value) in fields::facets(note).iter().chain([&("publisher", publisher), &kind]) {
            doc.add_text(f.facets, format!("{name}={value}"));
        }
        doc
    }
}
