//! Partners as witnesses (DESIGN.md §9, `proto/README.md` §21): this node receipts every
//! revision of its partners' identity logs it holds, and every erasure of theirs it applied, and
//! reads the receipts partners made of an organisation's records, so that its page shows who saw
//! each revision when, where each erasure was done, and any revision a partner saw that differs
//! from the one held here with the same number (a fork this node may not have been sent yet).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::OrganisationError;
use crate::author;
use crate::identity::Chain;
use crate::record::{Body, Draft, Key, Kind, PublisherId, Record, RecordId, Signer};
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

/// One of the organisation's erasures, with the nodes that did what it asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureRow {
    pub id: String,
    pub timestamp_ms: i64,
    pub reason: String,
    /// How many revisions it lists.
    pub records: usize,
    /// The partners' nodes that dropped those bodies, earliest first.
    pub erased_at: Vec<WitnessRow>,
    /// The partners' nodes known to witness the organisation (that receipted any of its
    /// records): "erased at 3 of 4".
    pub partner_nodes: usize,
}

/// A partner's receipt of a revision this node does not hold, numbered like one it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    pub revision: u64,
    /// The id of the revision the partner holds.
    pub id: String,
    pub witness: WitnessRow,
}

/// Signs and stores a receipt of each identity revision and each erasure of a partner held
/// here that this node has not receipted yet (at most [`MAX_RECEIPTS_PER_CALL`]); answers
/// them, for gossip. Only partners are witnessed, so that receipts grow with partnerships, not
/// with the square of the network. An erasure is applied when it is stored, so holding one is
/// having done what it asks.
pub fn witness(
    store: &Store,
    key: &Signer,
    is_partner: impl Fn(&PublisherId) -> bool,
    now_ms: i64,
) -> Result<Vec<Record>, OrganisationError> {
    let own = key.publisher();
    let witnessed = |organisation: &PublisherId| *organisation != own && is_partner(organisation);
    let mut owed: Vec<(PublisherId, Kind, u64, RecordId)> = Vec::new();
    for organisation in store.identities().into_iter().filter(witnessed) {
        let Some(chain) = store.identity(&organisation) else { continue };
        for revision in chain.revisions().iter().chain(chain.fork()) {
            owed.push((organisation, Kind::Identity, revision.revision, revision.id));
        }
    }
    for erasure in store.heads(Some(Kind::Erasure))?.into_iter().filter(|erasure| witnessed(&erasure.publisher())) {
        owed.push((erasure.publisher(), Kind::Erasure, erasure.revision(), erasure.id()));
    }
    let mut made = Vec::new();
    for (organisation, kind, revision, id) in owed {
        if made.len() >= MAX_RECEIPTS_PER_CALL {
            break;
        }
        let slug = id.to_string();
        if store.head(&Key { publisher: own, kind: Kind::Receipt, slug: slug.clone() })?.is_some() {
            continue;
        }
        let body = Receipt { organisation: organisation.0.to_vec(), subject_kind: kind.as_str().to_owned(), revision };
        let draft = Draft { slug, revision: 1, timestamp_ms: now_ms, kind: Kind::Receipt, body: Body::Receipt(body) };
        let receipt = key.sign(draft).map_err(author::AuthorError::from)?;
        author::store_signed(store, &receipt)?;
        made.push(receipt);
    }
    Ok(made)
}

/// The receipts held of an organisation's records.
pub(super) struct Receipts {
    /// By the id of the record receipted, earliest first.
    pub seen: HashMap<RecordId, Vec<WitnessRow>>,
    /// Receipts of identity revisions this node does not hold, numbered like ones it does.
    pub conflicts: Vec<ConflictRow>,
    /// The nodes that receipted any of the organisation's records: its partners' nodes known
    /// to witness it.
    pub witnesses: usize,
}

/// The partners' receipts of an organisation's identity revisions and erasures: who saw each
/// when, and the revisions seen elsewhere that conflict with one held here.
pub(super) fn receipts(
    store: &Store,
    names: &Names,
    organisation: PublisherId,
    chain: Option<&Chain>,
) -> Result<Receipts, StoreError> {
    let revisions = chain.map(|chain| chain.revisions().iter().chain(chain.fork())).into_iter().flatten();
    let held: HashSet<RecordId> = revisions.clone().map(|revision| revision.id).collect();
    let numbers: HashSet<u64> = revisions.map(|revision| revision.revision).collect();
    let mut out = Receipts { seen: HashMap::new(), conflicts: Vec::new(), witnesses: 0 };
    let mut witnesses = HashSet::new();
    for receipt in store.heads(Some(Kind::Receipt))? {
        let Ok(Body::Receipt(body)) = receipt.parse_body() else { continue };
        let Some(subject) = Receipt::subject(receipt.slug()) else { continue };
        if body.organisation != organisation.0 {
            continue;
        }
        let publisher = receipt.publisher();
        witnesses.insert(publisher);
        let witness = WitnessRow {
            publisher: publisher.to_string(),
            name: names.of(&publisher),
            seen_ms: receipt.timestamp_ms(),
        };
        let is_revision = body.subject_kind == Kind::Identity.as_str();
        if is_revision && !held.contains(&subject) && numbers.contains(&body.revision) {
            out.conflicts.push(ConflictRow { revision: body.revision, id: subject.to_string(), witness });
        } else {
            out.seen.entry(subject).or_default().push(witness);
        }
    }
    for rows in out.seen.values_mut() {
        rows.sort_by_key(|row| row.seen_ms);
    }
    out.conflicts.sort_by_key(|conflict| (conflict.revision, conflict.witness.seen_ms));
    out.witnesses = witnesses.len();
    Ok(out)
}

/// The organisation's erasures held here, newest first, with their receipts.
pub(super) fn erasures(
    store: &Store,
    organisation: PublisherId,
    receipts: &mut Receipts,
) -> Result<Vec<ErasureRow>, StoreError> {
    let mut out = Vec::new();
    for erasure in store.heads(Some(Kind::Erasure))?.into_iter().filter(|erasure| erasure.publisher() == organisation) {
        let Ok(Body::Erasure(body)) = erasure.parse_body() else { continue };
        out.push(ErasureRow {
            id: erasure.id().to_string(),
            timestamp_ms: erasure.timestamp_ms(),
            reason: body.reason,
            records: body.ids.len(),
            erased_at: receipts.seen.remove(&erasure.id()).unwrap_or_default(),
            partner_nodes: receipts.witnesses,
        });
    }
    out.sort_by_key(|row| std::cmp::Reverse(row.timestamp_ms));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::founding;
    use crate::record::{IDENTITY_SLUG, PublisherKey, sign};
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
        assert!(
            witness(&store, &Signer::own(PublisherKey::from_seed([1; 32])), |_| false, T0 + 1000).unwrap().is_empty(),
            "only partners are witnessed"
        );
        let made = witness(&store, &Signer::own(PublisherKey::from_seed([1; 32])), |_| true, T0 + 1000).unwrap();
        assert_eq!(made.len(), 1, "only the other organisation's revision is receipted");
        assert_eq!(made[0].slug(), revision_of(&other).id().to_string());
        assert!(
            witness(&store, &Signer::own(PublisherKey::from_seed([1; 32])), |_| true, T0 + 2000).unwrap().is_empty(),
            "and only once"
        );

        let chain = store.identity(&other.publisher()).unwrap();
        let receipts = receipts(&store, &Names::new(&store), other.publisher(), Some(&chain)).unwrap();
        let rows = &receipts.seen[&revision_of(&other).id()];
        let own_key = own.publisher().to_string();
        assert_eq!((rows.len(), rows[0].publisher.as_str(), rows[0].seen_ms), (1, own_key.as_str(), T0 + 1000));
        assert_eq!((receipts.conflicts.len(), receipts.witnesses), (0, 1));
    }
}
