//! Partners as witnesses (DESIGN.md §9, `proto/README.md` §21): this node receipts every
//! revision of another organisation's identity log it holds, and reads the receipts partners
//! made of an identity, so that its page shows who saw each revision when, and any revision a
//! partner saw that differs from the one held here with the same number (a fork this node may
//! not have been sent yet).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::OrganisationError;
use crate::author;
use crate::identity::Chain;
use crate::record::{self, Body, Draft, Key, Kind, PublisherKey, Record, RecordId};
use crate::store::{Store, StoreError};
use crate::view::Names;
use crate::wire::Receipt;

/// Receipts made in one call at most: a node that just took in many logs catches up over a few
/// ticks rather than in one long write.
pub const MAX_RECEIPTS_PER_CALL: usize = 256;

/// One partner's receipt of one revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessRow {
    pub publisher: String,
    pub name: String,
    /// When it received the revision, by its clock.
    pub seen_ms: i64,
}

/// A partner's receipt of a revision this node does not hold, numbered like one it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub revision: u64,
    /// The id of the revision the partner holds.
    pub id: String,
    pub witness: WitnessRow,
}

/// Signs and stores a receipt of each identity revision of another organisation held here that
/// this node has not receipted yet (at most [`MAX_RECEIPTS_PER_CALL`]); answers them, for
/// gossip.
pub fn witness(store: &Store, key: &PublisherKey, now_ms: i64) -> Result<Vec<Record>, OrganisationError> {
    let own = key.publisher();
    let mut made = Vec::new();
    for organisation in store.identities() {
        let Some(chain) = store.identity(&organisation).filter(|_| organisation != own) else { continue };
        for revision in chain.revisions().iter().chain(chain.fork()) {
            if made.len() >= MAX_RECEIPTS_PER_CALL {
                return Ok(made);
            }
            let slug = revision.id.to_string();
            if store.head(&Key { publisher: own, kind: Kind::Receipt, slug: slug.clone() })?.is_some() {
                continue;
            }
            let body = Receipt {
                organisation: organisation.0.to_vec(),
                subject_kind: Kind::Identity.as_str().to_owned(),
                revision: revision.revision,
            };
            let draft =
                Draft { slug, revision: 1, timestamp_ms: now_ms, kind: Kind::Receipt, body: Body::Receipt(body) };
            let receipt = record::sign(key, draft).map_err(author::AuthorError::from)?;
            author::store_signed(store, &receipt)?;
            made.push(receipt);
        }
    }
    Ok(made)
}

/// The partners' receipts of an organisation's identity revisions: who saw each revision held
/// here, and the revisions seen elsewhere that conflict with one held here.
pub(super) fn witnesses(
    store: &Store,
    names: &Names,
    chain: &Chain,
) -> Result<(HashMap<RecordId, Vec<WitnessRow>>, Vec<ConflictRow>), StoreError> {
    let organisation = chain.head().organisation;
    let held: HashSet<RecordId> = chain.revisions().iter().chain(chain.fork()).map(|revision| revision.id).collect();
    let numbers: HashSet<u64> = chain.revisions().iter().map(|revision| revision.revision).collect();
    let (mut seen, mut conflicts): (HashMap<RecordId, Vec<WitnessRow>>, Vec<ConflictRow>) = Default::default();
    for receipt in store.heads(Some(Kind::Receipt))? {
        let Ok(Body::Receipt(body)) = receipt.parse_body() else { continue };
        let Some(subject) = Receipt::subject(receipt.slug()) else { continue };
        if body.organisation != organisation.0 || body.subject_kind != Kind::Identity.as_str() {
            continue;
        }
        let publisher = receipt.publisher();
        let witness = WitnessRow {
            publisher: publisher.to_string(),
            name: names.of(&publisher),
            seen_ms: receipt.timestamp_ms(),
        };
        if held.contains(&subject) {
            seen.entry(subject).or_default().push(witness);
        } else if numbers.contains(&body.revision) {
            conflicts.push(ConflictRow { revision: body.revision, id: subject.to_string(), witness });
        }
    }
    for rows in seen.values_mut() {
        rows.sort_by_key(|row| row.seen_ms);
    }
    conflicts.sort_by_key(|conflict| (conflict.revision, conflict.witness.seen_ms));
    Ok((seen, conflicts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::founding;
    use crate::record::{IDENTITY_SLUG, sign};
    use crate::store::StoreOptions;

    const T0: i64 = 1_767_225_600_000;

    fn revision_of(key: &PublisherKey) -> Record {
        let body = Body::Identity(founding(key.publisher(), T0, "their node"));
        let draft = Draft { kind: Kind::Identity, slug: IDENTITY_SLUG.into(), revision: 1, timestamp_ms: T0, body };
        sign(key, draft).unwrap()
    }

    #[test]
    fn a_node_receipts_each_revision_of_another_organisation_once_and_reads_the_receipts_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), &StoreOptions::default()).unwrap();
        let (own, other) = (PublisherKey::from_seed([1; 32]), PublisherKey::from_seed([2; 32]));
        for key in [&own, &other] {
            author::store_signed(&store, &revision_of(key)).unwrap();
        }
        let made = witness(&store, &own, T0 + 1000).unwrap();
        assert_eq!(made.len(), 1, "only the other organisation's revision is receipted");
        assert_eq!(made[0].slug(), revision_of(&other).id().to_string());
        assert!(witness(&store, &own, T0 + 2000).unwrap().is_empty(), "and only once");

        let chain = store.identity(&other.publisher()).unwrap();
        let (seen, conflicts) = witnesses(&store, &Names::new(&store), &chain).unwrap();
        let rows = &seen[&revision_of(&other).id()];
        assert_eq!(
            (rows.len(), rows[0].publisher.as_str(), rows[0].seen_ms),
            (1, &*own.publisher().to_string(), T0 + 1000)
        );
        assert!(conflicts.is_empty());
    }
}
