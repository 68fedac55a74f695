//! Erasing superseded revisions (DESIGN.md §9): the officer names revisions of the
//! organisation's own records whose bodies should go (personal data in an old contact, say);
//! this signs the erasure that asks every node to drop them. The store applies it here as it
//! does one from a peer (`store/erasures.rs`).

use super::OrganisationError;
use crate::author;
use crate::record::{Body, Draft, Kind, MAX_ERASED, MAX_ERASURE_REASON_CHARS, Record, RecordId, Signer};
use crate::store::{Store, erasable};
use crate::wire::Erasure;

/// Signs and stores an erasure of these revisions (ids in hex), each checked first: held
/// here, the organisation's own, of a kind that can be erased, and superseded by a later
/// revision. Answers the erasure, for gossip.
pub fn erase(
    store: &Store,
    key: &Signer,
    ids: &[String],
    reason: &str,
    now_ms: i64,
) -> Result<Record, OrganisationError> {
    let bad = |problem: String| Err(OrganisationError::Erase(problem));
    if ids.is_empty() || ids.len() > MAX_ERASED {
        return bad(format!("name 1 to {MAX_ERASED} revisions to erase, by their ids; {} given", ids.len()));
    }
    let reason = reason.trim();
    if reason.chars().count() > MAX_ERASURE_REASON_CHARS {
        return bad(format!("the reason is at most {MAX_ERASURE_REASON_CHARS} characters"));
    }
    let own = key.publisher();
    if let Some(chain) = store.identity(&own)
        && let Err(crate::identity::IdentityError::OutOfScope { .. }) = chain.authorise(&own, Kind::Erasure, now_ms)
    {
        return bad(format!(
            "this node's key may not sign erasures yet (its scopes predate them): `citymesh identity renew {own}` \
             extends a key that signs every kind to the kinds added since; then erase again"
        ));
    }
    let mut listed: Vec<Vec<u8>> = Vec::with_capacity(ids.len());
    for text in ids {
        let Ok(id) = text.trim().parse::<RecordId>() else {
            return bad(format!("{text:?} is not a record id: give the revision's id, 64 hex characters"));
        };
        if store.erased(&id)?.is_some() {
            return bad(format!("{id} is erased already"));
        }
        let Some(record) = store.get(&id)? else {
            return bad(format!("this node holds no record {id}; `citymesh show SLUG --history` lists the revisions"));
        };
        if record.publisher() != own {
            return bad(format!("{id} is another organisation's record; an organisation erases only its own"));
        }
        if !erasable(record.kind()) {
            return bad(format!("{id} is a {} record, which cannot be erased", record.kind()));
        }
        if store.head(&record.key())?.is_some_and(|head| head.id() == id) {
            return bad(format!(
                "{id} is the current revision of {} {:?}: publish a new revision without the data first, then erase this one",
                record.kind(),
                record.slug()
            ));
        }
        if listed.contains(&id.0.to_vec()) {
            return bad(format!("{id} is named twice"));
        }
        listed.push(id.0.to_vec());
    }
    let body = Erasure { ids: listed, reason: reason.to_owned() };
    let draft = Draft {
        slug: format!("erasure-{now_ms}"),
        revision: 1,
        timestamp_ms: now_ms,
        kind: Kind::Erasure,
        body: Body::Erasure(body),
    };
    let erasure = key.sign(draft).map_err(author::AuthorError::from)?;
    author::store_signed(store, &erasure)?;
    Ok(erasure)
}
