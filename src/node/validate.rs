//! The gossip validator: one thread that verifies received messages a batch at a time, stores
//! what is valid and wanted in one transaction, flushes, and only then gives gossipsub its
//! verdicts, so nothing is forwarded before it is durable here. Also what happens to every
//! record accepted or refused from a peer, by gossip or by sync.

use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::{Received, Rejection, Shared, budget};
use crate::author::now_ms;
use crate::net::{Inbound, Verdict};
use crate::record::{Kind, Record, RecordError, Verifier};
use crate::store::Inserted;
use crate::trust::PolicyKind;

/// Messages validated, stored and flushed together, at most.
const VALIDATION_BATCH: usize = 256;

/// The validator thread: verify, store, flush, then give gossipsub its verdicts.
pub(super) fn validate_gossip(shared: &Shared, mut inbox: mpsc::Receiver<Inbound>) {
    let mut verifier = Verifier::default();
    while let Some(first) = inbox.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < VALIDATION_BATCH
            && let Ok(inbound) = inbox.try_recv()
        {
            batch.push(inbound);
        }
        let verdicts = judge(shared, &mut verifier, &batch);
        for (inbound, verdict) in batch.iter().zip(verdicts) {
            shared.net.validated(inbound, verdict);
        }
    }
}

fn judge(shared: &Shared, verifier: &mut Verifier, batch: &[Inbound]) -> Vec<Verdict> {
    shared.gossip_received.fetch_add(batch.len() as u64, Ordering::Relaxed);
    shared.metrics.gossip_received(batch.len() as u64);
    let now = now_ms();
    let policy = shared.policy();
    let mut verdicts = vec![Verdict::Ignore; batch.len()];
    let mut valid: Vec<(usize, Record)> = Vec::new();
    let mut pending = budget::Pending::new();
    for (index, inbound) in batch.iter().enumerate() {
        match verifier.verify(&inbound.data, now) {
            Ok(record) if !policy.accepts(&record.publisher().0) => {
                tracing::debug!(peer = %inbound.source, publisher = %record.publisher(), "ignored a record the trust policy does not keep");
                shared.metrics.ignored("policy");
            }
            Ok(record) => match budget::within_budget(shared, &policy, &record, inbound, &mut pending) {
                Ok(()) => valid.push((index, record)),
                Err(over) => {
                    tracing::debug!(peer = %inbound.source, publisher = %record.publisher(), reason = over.as_str(), "ignored a record over budget");
                    shared.metrics.ignored(over.as_str());
                }
            },
            // Not the sender's fault, or not yet ours to judge: a kind or format from a newer
            // version, or a clock that differs from ours.
            Err(error) if !error.is_senders_fault() => {
                tracing::info!(peer = %inbound.source, %error, "ignored a record");
            }
            Err(error) => {
                verdicts[index] = Verdict::Reject;
                rejected(shared, &error, &inbound.source.to_string());
            }
        }
    }
    if valid.is_empty() {
        return verdicts;
    }
    let (indexes, records): (Vec<usize>, Vec<Record>) = valid.into_iter().unzip();
    let stored = shared.store().insert_batch(&records).and_then(|outcomes| shared.store().flush().map(|()| outcomes));
    let outcomes = match stored {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::error!(%error, "cannot store received records");
            return verdicts;
        }
    };
    for ((index, record), outcome) in indexes.into_iter().zip(&records).zip(outcomes) {
        let source = batch[index].source;
        match outcome {
            Inserted::New { head: true } => {
                verdicts[index] = Verdict::Accept;
                accepted(shared, record, &source.to_string(), "gossip");
            }
            Inserted::New { head: false } => {
                tracing::debug!(id = %record.id(), "stored an older revision; not forwarding it");
            }
            Inserted::AlreadyHeld => {}
            // Not the sender's fault: this node lacks revisions, or the identity is forked.
            Inserted::Refused(error) if !error.is_senders_fault() => {
                tracing::info!(peer = %source, %error, "ignored a record");
            }
            Inserted::Refused(error) => {
                verdicts[index] = Verdict::Reject;
                rejected(shared, &error, &source.to_string());
            }
        }
    }
    verdicts
}

/// What a record was refused for: a record rule or an identity rule.
pub(super) trait Refusal: std::fmt::Display {
    fn rule(&self) -> &'static str;
}

impl Refusal for RecordError {
    fn rule(&self) -> &'static str {
        RecordError::rule(self)
    }
}

impl Refusal for crate::identity::IdentityError {
    fn rule(&self) -> &'static str {
        crate::identity::IdentityError::rule(self)
    }
}

/// Logs and remembers a record refused from a peer.
pub(super) fn rejected(shared: &Shared, error: &impl Refusal, from: &str) {
    tracing::warn!(peer = from, rule = error.rule(), %error, "rejected a record");
    shared.metrics.rejected(error.rule());
    shared.state.rejected(Rejection {
        rule: error.rule().to_owned(),
        detail: error.to_string(),
        from: from.to_owned(),
        at_ms: now_ms(),
    });
}

/// Logs and announces a record accepted from a peer (`via` gossip or sync).
pub(super) fn accepted(shared: &Shared, record: &Record, from: &str, via: &'static str) {
    shared.metrics.accepted(via);
    // Under partners+N a partnership record can widen what the node keeps: fetch what that
    // brings into scope.
    let before = shared.policy();
    if record.kind() == Kind::Partnership && matches!(before.kind(), PolicyKind::Partners { hops } if hops > 0) {
        match shared.refresh_policy() {
            Ok(()) if shared.policy().scope() != before.scope() => shared.sync_soon(None),
            Ok(()) => {}
            Err(error) => tracing::error!(error = format!("{error:#}"), "cannot recompute the trust policy"),
        }
    }
    // A sync can bring thousands at once; it logs one line for them all.
    if via == "sync" {
        tracing::debug!(id = %record.id(), from, "accepted a record by sync");
    } else {
        tracing::info!(
            id = %record.id(),
            publisher = %record.publisher(),
            kind = %record.kind(),
            slug = record.slug(),
            revision = record.revision(),
            from,
            "accepted a record"
        );
    }
    let received = Received {
        id: record.id().to_string(),
        publisher: record.publisher().to_string(),
        kind: record.kind().to_string(),
        slug: record.slug().to_owned(),
        revision: record.revision(),
        from: from.to_owned(),
        at_ms: now_ms(),
    };
    shared.state.received(received.clone());
    let _ = shared.accepted.send(received);
}
