//! The index follows the store: new notes, new revisions and withdrawals show in results; facet
//! counts and filters agree with the notes; a missing, damaged or stale index is rebuilt.

use super::*;
use crate::record::{Body, Draft, PublisherKey, Record, sign};
use crate::store::{Store, StoreOptions};
use crate::wire::{Place, Practice, Tombstone};

const T0: i64 = 1_767_225_600_000;

fn note(title: &str, approach: &str, theme: &str, country: &str) -> Practice {
    Practice {
        summary: format!("{title}, in brief."),
        approach: approach.to_owned(),
        themes: vec![theme.to_owned()],
        location: Some(Place { country: country.to_owned(), name: "São Paulo".to_owned(), ..Place::default() }),
        ..crate::record::tests::practice(title)
    }
}

fn signed(seed: u8, slug: &str, revision: u64, body: Body) -> Record {
    let draft = Draft { kind: Kind::Practice, slug: slug.into(), revision, timestamp_ms: T0 + revision as i64, body };
    sign(&PublisherKey::from_seed([seed; 32]), draft).unwrap_or_else(|error| panic!("{slug}: {error}"))
}

fn query(text: &str, filters: &[(&'static str, &str)]) -> SearchQuery {
    SearchQuery {
        text: text.to_owned(),
        filters: filters.iter().map(|(name, value)| (*name, (*value).to_owned())).collect(),
        hidden: Vec::new(),
        limit: 10,
        offset: 0,
    }
}

fn slugs(results: &Results) -> Vec<&str> {
    results.hits.iter().map(|hit| hit.slug.as_str()).collect()
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("store"), &StoreOptions::default()).unwrap().0
}

#[test]
fn notes_are_found_by_words_facets_and_follow_revisions_and_withdrawals() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let search = Search::open(&dir.path().join("search"), false).unwrap();
    let compost = note("Composting hubs", "Kitchen waste goes to neighbourhood hubs.", "solid-waste", "ID");
    let buses = note("Bus lanes", "Painted lanes and signal priority for buses.", "transport", "BR");
    store.insert(&signed(1, "composting", 1, Body::Practice(compost.clone()))).unwrap();
    store.insert(&signed(2, "bus-lanes", 1, Body::Practice(buses))).unwrap();
    assert_eq!(search.catch_up(&store).unwrap(), 2);
    assert_eq!(search.catch_up(&store).unwrap(), 0, "nothing new: nothing read");

    let found = search.search(&query("kitchen", &[])).unwrap();
    assert_eq!(slugs(&found), ["composting"]);
    assert!(found.hits[0].snippet_html.contains("<mark>Kitchen</mark>"), "{}", found.hits[0].snippet_html);
    // Several words must all match; accents fold; the place is searched.
    assert_eq!(slugs(&search.search(&query("signal buses", &[])).unwrap()), ["bus-lanes"]);
    assert!(search.search(&query("signal kitchen", &[])).unwrap().hits.is_empty());
    assert_eq!(search.search(&query("sao paulo", &[])).unwrap().total, 2);

    let all = search.search(&query("", &[])).unwrap();
    assert_eq!(all.total, 2);
    let themes = &all.facets["theme"];
    assert!(themes.contains(&FacetCount { value: "transport".into(), count: 1 }), "{themes:?}");
    assert!(themes.contains(&FacetCount { value: "solid-waste".into(), count: 1 }), "{themes:?}");
    assert_eq!(all.facets["country"].len(), 2);
    assert_eq!(slugs(&search.search(&query("", &[("country", "BR")])).unwrap()), ["bus-lanes"]);
    assert_eq!(slugs(&search.search(&query("lanes", &[("theme", "solid-waste")])).unwrap()), Vec::<&str>::new());
    // What a page hides is left out: one note by its key, or a publisher by its key.
    let hiding = |hidden: Hidden| SearchQuery { hidden: vec![hidden], ..query("", &[]) };
    let publisher = PublisherKey::from_seed([2; 32]).publisher();
    let note = |slug: &str| Hidden::Note(Key { publisher, kind: Kind::Practice, slug: slug.to_owned() });
    assert_eq!(slugs(&search.search(&hiding(note("bus-lanes"))).unwrap()), ["composting"]);
    assert_eq!(slugs(&search.search(&hiding(Hidden::Publisher(publisher))).unwrap()), ["composting"]);
    assert_eq!(search.search(&hiding(note("other"))).unwrap().total, 2);

    // A new revision replaces the old one; a withdrawal removes the note.
    let revised = Practice { approach: "Hubs now take garden waste too.".into(), ..compost };
    store.insert(&signed(1, "composting", 2, Body::Practice(revised))).unwrap();
    search.catch_up(&store).unwrap();
    assert!(search.search(&query("kitchen", &[])).unwrap().hits.is_empty());
    assert_eq!(slugs(&search.search(&query("garden", &[])).unwrap()), ["composting"]);
    assert_eq!(search.len(), 2);
    let stone = Body::Tombstone(Tombstone { reason: "ended".into() });
    store.insert(&signed(1, "composting", 3, stone)).unwrap();
    search.catch_up(&store).unwrap();
    assert!(search.search(&query("garden", &[])).unwrap().hits.is_empty());
    assert_eq!(search.len(), 1);
}

#[test]
fn a_note_revised_a_page_later_in_one_catch_up_is_found_once_as_revised() {
    // The key comes again a page (of the store, 2,000 records) later, before any commit: its
    // head was indexed when the key was first met, and the writer must delete the document it
    // added itself, which no reader has seen yet.
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let search = Search::open(&dir.path().join("search"), false).unwrap();
    let first = note("Composting hubs", "Kitchen waste only.", "solid-waste", "ID");
    let revised = note("Composting hubs", "Garden waste too.", "solid-waste", "ID");
    let mut batch = vec![signed(1, "composting", 1, Body::Practice(first))];
    let other = note("Bus lanes", "Painted lanes.", "transport", "BR");
    batch.extend((0..super::PAGE).map(|n| signed(2, &format!("lanes-{n}"), 1, Body::Practice(other.clone()))));
    batch.push(signed(1, "composting", 2, Body::Practice(revised)));
    store.insert_batch(&batch).unwrap();
    search.catch_up(&store).unwrap();
    assert!(search.search(&query("kitchen", &[])).unwrap().hits.is_empty());
    assert_eq!(search.search(&query("garden", &[])).unwrap().total, 1);
    assert_eq!(search.len(), super::PAGE as u64 + 1);
}

#[test]
fn an_older_revision_arriving_late_does_not_replace_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let search = Search::open(&dir.path().join("search"), false).unwrap();
    let newer = note("Composting hubs", "Garden waste too.", "solid-waste", "ID");
    let older = note("Composting hubs", "Kitchen waste only.", "solid-waste", "ID");
    store.insert(&signed(1, "composting", 2, Body::Practice(newer))).unwrap();
    search.catch_up(&store).unwrap();
    store.insert(&signed(1, "composting", 1, Body::Practice(older))).unwrap();
    search.catch_up(&store).unwrap();
    assert!(search.search(&query("kitchen", &[])).unwrap().hits.is_empty());
    assert_eq!(search.search(&query("garden", &[])).unwrap().total, 1);
}

#[test]
fn the_index_resumes_where_it_stopped_and_is_rebuilt_when_damaged_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    let store = store(dir.path());
    store.insert(&signed(1, "a", 1, Body::Practice(note("First", "one", "transport", "ID")))).unwrap();
    {
        let search = Search::open(&path, false).unwrap();
        search.catch_up(&store).unwrap();
    }
    store.insert(&signed(1, "b", 1, Body::Practice(note("Second", "two", "transport", "ID")))).unwrap();
    {
        let search = Search::open(&path, false).unwrap();
        assert_eq!(search.len(), 1);
        assert_eq!(search.catch_up(&store).unwrap(), 1, "only the record added since is read");
        assert_eq!(search.len(), 2);
    }
    // Damage: the index's metadata is garbage. Opening rebuilds, catching up restores it.
    std::fs::write(path.join("meta.json"), b"{not json").unwrap();
    let search = Search::open(&path, false).unwrap();
    assert_eq!(search.len(), 0);
    assert_eq!(search.catch_up(&store).unwrap(), 2);
    assert_eq!(search.len(), 2);
    drop(search);
    // Missing altogether.
    std::fs::remove_dir_all(&path).unwrap();
    let search = Search::open(&path, false).unwrap();
    search.catch_up(&store).unwrap();
    assert_eq!(search.search(&query("second", &[])).unwrap().total, 1);
    assert_eq!(search.rebuild(&store).unwrap(), 2);
    assert_eq!(search.len(), 2);
}

#[test]
fn any_query_text_is_searched_without_error_and_pages_do_not_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let search = Search::open(&dir.path().join("search"), false).unwrap();
    for n in 0..25u8 {
        let body = Body::Practice(note(&format!("Note {n}"), "shared words here", "transport", "ID"));
        store.insert(&signed(1, &format!("note-{n}"), 1, body)).unwrap();
    }
    search.catch_up(&store).unwrap();
    for text in ["title:", "\"unclosed", "a AND OR", "((", "*", "-", "nosuchfield:x", "<script>"] {
        search.search(&query(text, &[])).unwrap_or_else(|error| panic!("{text:?}: {error}"));
    }
    let escaped = search.search(&query("<b>shared</b>", &[])).unwrap();
    assert!(escaped.hits.iter().all(|hit| !hit.snippet_html.contains("<b>")));
    let mut seen = BTreeSet::new();
    for offset in [0, 10, 20] {
        let page = search.search(&SearchQuery { offset, ..query("shared", &[]) }).unwrap();
        assert_eq!(page.total, 25);
        for hit in page.hits {
            assert!(seen.insert(hit.slug), "a note on two pages");
        }
    }
    assert_eq!(seen.len(), 25);
}
