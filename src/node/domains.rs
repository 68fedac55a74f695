//! The node's checks of identities' domains (`organisation::DomainChecker`): its own
//! organisation's and its partners', each when its domain or revision changes, then daily (hourly
//! while it fails), a few at a time, off the async runtime.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Shared;
use crate::author::now_ms;
use crate::organisation::{DomainCheck, DomainChecker};
use crate::record::PublisherId;

/// Checks made in one tick at most (each may take its 10-second timeout).
const CHECKS_PER_TICK: usize = 4;
const HOUR_MS: i64 = 60 * 60 * 1000;

pub(super) struct Domains {
    checker: DomainChecker,
    checks: Mutex<HashMap<PublisherId, DomainCheck>>,
}

impl Domains {
    pub(super) fn new(checker: DomainChecker) -> Domains {
        Domains { checker, checks: Mutex::new(HashMap::new()) }
    }

    /// The last check of an organisation's domain, if it names this one.
    pub(super) fn last(&self, organisation: &PublisherId, domain: &str) -> Option<DomainCheck> {
        let checks = self.checks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        checks.get(organisation).filter(|check| check.domain == domain).cloned()
    }

    fn due(&self, organisation: &PublisherId, domain: &str, revision: u64, now_ms: i64) -> bool {
        let checks = self.checks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match checks.get(organisation) {
            None => true,
            Some(check) if check.domain != domain || check.revision != revision => true,
            Some(check) => now_ms - check.checked_ms >= if check.verified { 24 * HOUR_MS } else { HOUR_MS },
        }
    }
}

/// Checks the domains that are due (blocking: run off the async runtime).
pub(super) fn check_due(shared: &Shared) {
    let policy = shared.policy();
    let own = shared.own();
    let store = shared.store();
    let organisations = store
        .identities()
        .into_iter()
        .filter(|organisation| *organisation == own || policy.is_partner(&organisation.0));
    let mut checked = 0;
    for organisation in organisations {
        let Some(chain) = store.identity(&organisation) else { continue };
        let (domain, revision) = (&chain.head().body.domain, chain.head().revision);
        let now = now_ms();
        if domain.is_empty() || !shared.domains.due(&organisation, domain, revision, now) {
            continue;
        }
        if checked == CHECKS_PER_TICK {
            return;
        }
        checked += 1;
        let check = shared.domains.checker.check(&organisation, domain, revision, now);
        match check.verified {
            true => tracing::info!(%organisation, domain, "the identity's domain serves its key: domain verified"),
            false => {
                tracing::info!(%organisation, domain, problem = check.problem, "the identity's domain is not verified")
            }
        }
        shared.domains.checks.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(organisation, check);
    }
}
