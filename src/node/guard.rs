//! What a node remembers of each peer's behaviour on the sync protocols: a budget of requests
//! it will answer, and strikes for protocol faults. A peer with [`STRIKES_TO_BAN`] strikes is
//! banned for [`BAN`]: its requests are refused and no sync is started with it. Bounded: at
//! most [`MAX_PEERS`] peers are remembered.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::net::PeerId;

/// Requests a peer may send at once before it has to wait.
pub const REQUEST_BURST: f64 = 512.0;
/// Requests a peer may send per second, sustained. A cold join of 100,000 records takes about
/// 200 fetches and a few rounds.
pub const REQUESTS_PER_SECOND: f64 = 64.0;
/// Faults before a peer is banned.
pub const STRIKES_TO_BAN: u32 = 3;
/// How long a ban lasts.
pub const BAN: Duration = Duration::from_secs(10 * 60);
/// Peers remembered, at most.
const MAX_PEERS: usize = 4096;

struct Standing {
    tokens: f64,
    refilled: Instant,
    strikes: u32,
    banned_until: Option<Instant>,
    last_fault: Option<String>,
}

impl Standing {
    fn new(now: Instant) -> Self {
        Self { tokens: REQUEST_BURST, refilled: now, strikes: 0, banned_until: None, last_fault: None }
    }

    fn banned(&self, now: Instant) -> bool {
        self.banned_until.is_some_and(|until| now < until)
    }
}

/// Why a request was refused without being read, and how long until one would be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Banned(Duration),
    OverBudget(Duration),
}

impl Refusal {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Banned(_) => "banned",
            Refusal::OverBudget(_) => "over its request budget",
        }
    }

    /// What the peer is told (in version 2 of the exchanges).
    pub fn to_peer(self) -> crate::net::Refusal {
        let (reason, retry_after) = match self {
            Refusal::Banned(left) => ("this node has banned yours for a while for breaking the sync protocol", left),
            Refusal::OverBudget(wait) => ("your node sent more requests than this node answers in a second", wait),
        };
        crate::net::Refusal { reason: reason.to_owned(), retry_after }
    }
}

/// A peer's faults, as `status` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub peer: String,
    pub strikes: u32,
    pub banned: bool,
    pub last_fault: Option<String>,
}

#[derive(Default)]
pub(super) struct PeerGuard {
    peers: Mutex<HashMap<PeerId, Standing>>,
}

impl PeerGuard {
    fn with<T>(&self, peer: PeerId, change: impl FnOnce(&mut Standing, Instant) -> T) -> T {
        let now = Instant::now();
        let mut peers = self.peers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
            // Forget well-behaved peers first; they lose nothing but a partly used budget.
            peers.retain(|_, standing| standing.strikes > 0);
            if peers.len() >= MAX_PEERS {
                peers.clear();
            }
        }
        change(peers.entry(peer).or_insert_with(|| Standing::new(now)), now)
    }

    /// Takes one request from the peer's budget, unless it is banned or has none left.
    pub fn admit(&self, peer: PeerId) -> Result<(), Refusal> {
        self.with(peer, |standing, now| {
            if let Some(until) = standing.banned_until.filter(|until| now < *until) {
                return Err(Refusal::Banned(until - now));
            }
            let elapsed = now.duration_since(standing.refilled).as_secs_f64();
            standing.tokens = (standing.tokens + elapsed * REQUESTS_PER_SECOND).min(REQUEST_BURST);
            standing.refilled = now;
            if standing.tokens < 1.0 {
                return Err(Refusal::OverBudget(Duration::from_secs_f64(
                    (1.0 - standing.tokens) / REQUESTS_PER_SECOND,
                )));
            }
            standing.tokens -= 1.0;
            Ok(())
        })
    }

    pub fn is_banned(&self, peer: PeerId) -> bool {
        self.with(peer, |standing, now| standing.banned(now))
    }

    /// Counts a fault; returns the peer's strikes. The ban starts at the strike that reaches
    /// [`STRIKES_TO_BAN`] and every strike after that restarts it.
    pub fn strike(&self, peer: PeerId, reason: &str) -> u32 {
        self.with(peer, |standing, now| {
            standing.strikes = standing.strikes.saturating_add(1);
            standing.last_fault = Some(reason.to_owned());
            if standing.strikes >= STRIKES_TO_BAN {
                standing.banned_until = Some(now + BAN);
            }
            standing.strikes
        })
    }

    /// Every peer with at least one strike.
    pub fn penalties(&self) -> Vec<Penalty> {
        let now = Instant::now();
        let peers = self.peers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out: Vec<Penalty> = peers
            .iter()
            .filter(|(_, standing)| standing.strikes > 0)
            .map(|(peer, standing)| Penalty {
                peer: peer.to_string(),
                strikes: standing.strikes,
                banned: standing.banned(now),
                last_fault: standing.last_fault.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.peer.cmp(&b.peer));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_over_its_budget_is_refused_and_three_faults_ban_it() {
        let guard = PeerGuard::default();
        let (greedy, faulty) = (PeerId::random(), PeerId::random());
        let admitted = (0..REQUEST_BURST as usize + 100).filter(|_| guard.admit(greedy).is_ok()).count();
        // The budget refills while the loop runs, by a request or so at most.
        assert!((REQUEST_BURST as usize..REQUEST_BURST as usize + 5).contains(&admitted), "{admitted}");
        let Err(Refusal::OverBudget(wait)) = guard.admit(greedy) else { panic!("admitted past its budget") };
        assert!(wait <= Duration::from_secs_f64(1.0 / REQUESTS_PER_SECOND), "told to wait {wait:?} for one request");
        for strike in 1..STRIKES_TO_BAN {
            assert_eq!(guard.strike(faulty, "garbage"), strike);
            assert!(!guard.is_banned(faulty));
        }
        guard.strike(faulty, "more garbage");
        assert!(guard.is_banned(faulty));
        let Err(Refusal::Banned(left)) = guard.admit(faulty) else { panic!("a banned peer was admitted") };
        assert!(left <= BAN && left > BAN - Duration::from_secs(60), "told the ban lasts {left:?}");
        let penalties = guard.penalties();
        assert_eq!(penalties.len(), 1);
        assert_eq!(penalties[0].last_fault.as_deref(), Some("more garbage"));
        assert!(guard.admit(PeerId::random()).is_ok(), "other peers are served");
    }
}
