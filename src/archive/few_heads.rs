//! The heads of the kinds that few records have (profiles, partnerships), which pages read on
//! every request (names, the partner graph): kept in memory and brought up to date from the
//! records that arrived since they were last asked for, so a page costs what changed, not a
//! scan of every head the store holds. The first ask reads every record once.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::record::{Key, Kind, Record};
use crate::store::{Store, StoreError};

/// Records read from the store at a time while catching up.
const PAGE: usize = 2048;

#[derive(Default)]
pub(super) struct FewHeads {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The last arrival read (`None`: none yet).
    after: Option<u64>,
    /// The store's generation when it was last brought up to date.
    generation: Option<u64>,
    heads: HashMap<Key, Record>,
}

fn kept(kind: Kind) -> bool {
    matches!(kind, Kind::Profile | Kind::Partnership)
}

impl FewHeads {
    /// The current heads of `kind` (a profile or partnership: other kinds are not kept).
    pub(super) fn of_kind(&self, store: &Store, kind: Kind) -> Result<Vec<Record>, StoreError> {
        debug_assert!(kept(kind), "{kind:?} heads are not kept");
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let generation = store.generation();
        if state.generation != Some(generation) {
            loop {
                let page = store.records_page(state.after, PAGE)?;
                for (sequence, record) in &page {
                    state.after = Some(*sequence);
                    if kept(record.kind()) {
                        // The store's head rule decides, whatever order records arrived in.
                        let key = record.key();
                        match store.head(&key)? {
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
        Ok(state.heads.values().filter(|head| head.kind() == kind).cloned().collect())
    }
}
