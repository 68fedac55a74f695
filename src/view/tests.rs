//! Times in words, and listings: a page read newest first from the time index is the page
//! made by sorting every head.

use super::*;
use crate::record::{Body, Draft, PublisherKey, sign};
use crate::store::StoreOptions;

#[test]
fn times_are_shown_as_utc_dates() {
    assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(format_time(1_767_225_600_000), "2026-01-01 00:00:00 UTC");
    assert_eq!(format_time(951_782_400_000 + 86_399_000), "2000-02-29 23:59:59 UTC");
}

/// Every page of a listing, following the cursors.
fn pages(
    store: &Store,
    names: &Names,
    filter: &Filter,
    limit: usize,
    page: impl Fn(&Store, &Names, &Filter, Option<Cursor>, usize) -> Result<Page, StoreError>,
) -> Vec<Vec<String>> {
    let (mut out, mut after) = (Vec::new(), None);
    loop {
        let found = page(store, names, filter, after, limit).unwrap();
        out.push(found.records.iter().map(|row| row.id.clone()).collect());
        match found.next_cursor {
            Some(cursor) => after = Some(cursor.parse().unwrap()),
            None => return out,
        }
    }
}

#[test]
fn a_page_read_newest_first_is_the_page_made_from_every_head() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
    let keys: Vec<PublisherKey> = (1..=3).map(|seed| PublisherKey::from_seed([seed; 32])).collect();
    // Three publishers, notes with later revisions (older ones are not listed), many sharing a
    // millisecond (listed by id), and a profile among them.
    for n in 0..40u64 {
        let key = &keys[(n % 17) as usize % 3];
        let slug = format!("note-{}", n % 17);
        let revision = 1 + n / 17;
        let timestamp_ms = 1_000 + (n / 4) as i64;
        let body = Body::Practice(crate::record::tests::practice(&format!("Note {n}")));
        let draft = Draft { kind: Kind::Practice, slug, revision, timestamp_ms, body };
        store.insert(&sign(key, draft).unwrap()).unwrap();
    }
    let profile = crate::wire::Profile {
        name: "City".to_owned(),
        organisation_type: "local-government".to_owned(),
        ..Default::default()
    };
    let (slug, body) = (crate::record::PROFILE_SLUG.to_owned(), Body::Profile(profile));
    let draft = Draft { kind: Kind::Profile, slug, revision: 1, timestamp_ms: 1_003, body };
    store.insert(&sign(&keys[0], draft).unwrap()).unwrap();
    let names = Names::new(&store);
    let filters = [
        Filter::default(),
        Filter { kind: Some(Kind::Practice), ..Filter::default() },
        Filter { kind: Some(Kind::Profile), ..Filter::default() },
        Filter { publisher: Some(keys[1].publisher()), ..Filter::default() },
    ];
    for filter in &filters {
        for limit in [1, 3, 50] {
            let newest_first = pages(&store, &names, filter, limit, |store, names, filter, after, limit| {
                Ok(page_newest_first(store, names, filter, after, limit)?.expect("the page fills within the scan"))
            });
            let every_head = pages(&store, &names, filter, limit, page_of_every_head);
            assert_eq!(newest_first, every_head, "{filter:?}, {limit} a page");
        }
    }
    let all: usize = pages(&store, &names, &Filter::default(), 50, page).iter().map(Vec::len).sum();
    assert_eq!(all, 17 + 1, "one row per key: the heads");
}
