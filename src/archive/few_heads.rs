//! The heads of the kinds that few records have (profiles, partnerships and the transfer kinds:
//! requests, offers, events, engagements, outcomes, endorsements), which pages read on every
//! request (names, the partner graph, the board), and what matching knows of every request,
//! offer and practice note ([`Facts`]): kept in memory and brought up to date from the records
//! that arrived since they were last asked for, so a page costs what changed, not a scan of
//! every head the store holds. The first ask reads every record once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::matching::{Facts, Holdings, Organisation};
use crate::record::ByPublisher;
use crate::record::{Body, Key, Kind, PublisherId, Record};
use crate::store::{Store, StoreError};
use crate::transfers::{EvidenceMap, Transfers};

/// The transfers held and the evidence they give each practice, made once per change.
pub(super) struct TransferState {
    pub transfers: Transfers,
    pub evidence: EvidenceMap,
}

/// Records read from the store at a time while catching up.
const PAGE: usize = 2048;

#[derive(Default)]
pub(super) struct FewHeads {
    state: Mutex<State>,
}

/// Who claims each name (lower case).
type Claims = Arc<HashMap<String, Vec<PublisherId>>>;

#[derive(Default)]
struct State {
    /// The last arrival read (`None`: none yet).
    after: Option<u64>,
    /// The store's generation when it was last brought up to date.
    generation: Option<u64>,
    heads: HashMap<Key, Record>,
    /// Matching's facts of current requests, offers and practice notes, and where each is.
    facts: Vec<Facts>,
    at: HashMap<Key, usize>,
    /// Where each publisher is and the languages it works in, from its current profile.
    organisations: ByPublisher<PublisherId, Organisation>,
    /// Who claims each name (lower case), from the current profiles, and the store's
    /// generation it was made at.
    claims: Option<(u64, Claims)>,
    /// Made again after an engagement, outcome or endorsement changes.
    transfers: Option<Arc<TransferState>>,
}

fn kept(kind: Kind) -> bool {
    !matches!(kind, Kind::Practice)
}

fn matched(kind: Kind) -> bool {
    matches!(kind, Kind::Practice | Kind::Request | Kind::Offer)
}

impl State {
    fn set_facts(&mut self, key: Key, facts: Option<Facts>) {
        match (self.at.get(&key).copied(), facts) {
            (Some(at), Some(facts)) => self.facts[at] = facts,
            (None, Some(facts)) => {
                self.at.insert(key, self.facts.len());
                self.facts.push(facts);
            }
            (Some(at), None) => {
                self.at.remove(&key);
                self.facts.swap_remove(at);
                if let Some(moved) = self.facts.get(at) {
                    self.at.insert(moved.key.clone(), at);
                }
            }
            (None, None) => {}
        }
    }
}

impl FewHeads {
    /// Brings the state up to date with the store and runs `read` on it.
    fn read<T>(&self, store: &Store, read: impl FnOnce(&State) -> T) -> Result<T, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = store.generation();
        if state.generation != Some(generation) {
            loop {
                let page = store.records_page(state.after, PAGE)?;
                for (sequence, record) in &page {
                    state.after = Some(*sequence);
                    let kind = record.kind();
                    if !kept(kind) && !matched(kind) {
                        continue;
                    }
                    // The store's head rule decides, whatever order records arrived in.
                    let key = record.key();
                    let head = match store.head_version(&key)? {
                        None => None,
                        // Usually the record just read: no need to read and decode it again.
                        Some(head) if head.id == record.id() => Some(record.clone()),
                        Some(_) => store.head(&key)?,
                    };
                    if matched(kind) {
                        state.set_facts(key.clone(), head.as_ref().and_then(Facts::of));
                    }
                    match kind {
                        Kind::Profile => match head.as_ref().map(Record::parse_body) {
                            Some(Ok(Body::Profile(profile))) => {
                                state.organisations.insert(key.publisher, Organisation::of(&profile));
                            }
                            _ => drop(state.organisations.remove(&key.publisher)),
                        },
                        Kind::Engagement | Kind::Outcome | Kind::Endorsement => state.transfers = None,
                        _ => {}
                    }
                    if kept(kind) {
                        match head {
                            Some(head) => drop(state.heads.insert(key, head)),
                            None => drop(state.heads.remove(&key)),
                        }
                    }
                }
                if page.len() < PAGE {
                    break;
                }
            }
            state.generation = Some(generation);
        }
        Ok(read(&state))
    }

    /// The current heads of `kind` (any kind but practice notes, which are not kept).
    pub(super) fn of_kind(&self, store: &Store, kind: Kind) -> Result<Vec<Record>, StoreError> {
        debug_assert!(kept(kind), "{kind:?} heads are not kept");
        self.read(store, |state| state.heads.values().filter(|head| head.kind() == kind).cloned().collect())
    }

    /// The current heads of several kinds.
    pub(super) fn of_kinds(&self, store: &Store, kinds: &[Kind]) -> Result<Vec<Record>, StoreError> {
        self.read(store, |state| state.heads.values().filter(|head| kinds.contains(&head.kind())).cloned().collect())
    }

    /// Each publisher's country, from its current profile.
    pub(super) fn countries(&self, store: &Store) -> Result<HashMap<PublisherId, String>, StoreError> {
        self.read(store, |state| {
            state
                .organisations
                .iter()
                .filter_map(|(publisher, organisation)| Some((*publisher, organisation.country()?.to_owned())))
                .collect()
        })
    }

    /// The transfers held, with the evidence they give each practice.
    pub(super) fn transfers(&self, store: &Store) -> Result<Arc<TransferState>, StoreError> {
        if let Some(cached) = self.read(store, |state| state.transfers.clone())? {
            return Ok(cached);
        }
        let heads = self.of_kinds(store, &[Kind::Engagement, Kind::Outcome, Kind::Endorsement])?;
        let transfers = Transfers::of(&heads);
        let made = Arc::new(TransferState { evidence: transfers.evidence(), transfers });
        // Kept unless a record arrived meanwhile (then the next ask makes it again).
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.generation == Some(store.generation()) {
            state.transfers = Some(made.clone());
        }
        Ok(made)
    }

    /// Who claims each name in the current profiles (lower case). Made from the profile heads
    /// alone, without bringing the rest up to date, so that naming a peer (which every new
    /// connection does) never waits for a restarted node to read every record it holds.
    pub(super) fn claims(&self, store: &Store) -> Result<Claims, StoreError> {
        let generation = store.generation();
        let cached = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).claims.clone();
        if let Some((_, claims)) = cached.filter(|(at, _)| *at == generation) {
            return Ok(claims);
        }
        let made = Arc::new(crate::view::claims(store.heads(Some(Kind::Profile))?));
        // Labelled with the generation read before the profiles: a record stored meanwhile
        // makes the next ask make it again.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).claims = Some((generation, made.clone()));
        Ok(made)
    }

    /// Runs `rank` over what matching reads: the facts of every current request, offer and
    /// practice note, who the publishers are, and the evidence of each practice.
    pub(super) fn with_holdings<T>(
        &self,
        store: &Store,
        now_ms: i64,
        rank: impl FnOnce(&Holdings) -> T,
    ) -> Result<T, StoreError> {
        let transfers = self.transfers(store)?;
        self.read(store, |state| {
            rank(&Holdings {
                facts: &state.facts,
                organisations: &state.organisations,
                evidence: &transfers.evidence,
                now_ms,
            })
        })
    }
}
