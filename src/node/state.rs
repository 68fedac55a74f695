//! What a node remembers of its recent activity, for `status` and the web page: the last record
//! accepted from a peer, the records refused lately and why, and the last sync with each peer.
//! Bounded: [`MAX_REJECTIONS`] refusals and [`MAX_SYNC_REPORTS`] peers' reports.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::sync::SyncReport;

/// Rejections remembered, most recent last.
const MAX_REJECTIONS: usize = 64;
/// Peers whose last sync is remembered; beyond that the reports start afresh.
const MAX_SYNC_REPORTS: usize = 1024;

/// A record accepted from a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub id: String,
    pub publisher: String,
    pub kind: String,
    pub slug: String,
    pub revision: u64,
    pub from: String,
    pub at_ms: i64,
}

/// A record refused from a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The rule it broke, as `proto/README.md` names it.
    pub rule: String,
    pub detail: String,
    pub from: String,
    pub at_ms: i64,
}

#[derive(Default)]
pub(super) struct State {
    last_received: Mutex<Option<Received>>,
    rejections: Mutex<VecDeque<Rejection>>,
    syncs: Mutex<HashMap<String, SyncReport>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    pub(super) fn received(&self, received: Received) {
        *lock(&self.last_received) = Some(received);
    }

    pub(super) fn last_received(&self) -> Option<Received> {
        lock(&self.last_received).clone()
    }

    pub(super) fn rejected(&self, rejection: Rejection) {
        let mut rejections = lock(&self.rejections);
        if rejections.len() == MAX_REJECTIONS {
            rejections.pop_front();
        }
        rejections.push_back(rejection);
    }

    /// The records refused lately, oldest first.
    pub(super) fn rejections(&self) -> Vec<Rejection> {
        lock(&self.rejections).iter().cloned().collect()
    }

    pub(super) fn synced(&self, report: SyncReport) {
        let mut syncs = lock(&self.syncs);
        if syncs.len() >= MAX_SYNC_REPORTS && !syncs.contains_key(&report.peer) {
            syncs.clear();
        }
        syncs.insert(report.peer.clone(), report);
    }

    /// The last sync with each peer, by peer id.
    pub(super) fn syncs(&self) -> HashMap<String, SyncReport> {
        lock(&self.syncs).clone()
    }

    pub(super) fn last_sync(&self, peer: &str) -> Option<SyncReport> {
        lock(&self.syncs).get(peer).cloned()
    }
}
