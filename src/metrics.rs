//! The node's metrics, served at `/metrics` in the Prometheus text format. Every name starts
//! with `citymesh_`. Only this module names prometheus-client.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::sync::SyncReport;

type Labels = [(&'static str, String); 1];
type Counters = Family<Labels, Counter>;
type Gauges = Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>;

/// Peers with per-peer series, at most; beyond that the per-peer series start afresh.
const MAX_PEER_SERIES: usize = 1024;

fn label(name: &'static str, value: impl Into<String>) -> Labels {
    [(name, value.into())]
}

/// What is read from the node's state when metrics are scraped.
pub struct State {
    pub records: usize,
    pub peers: usize,
    pub notes: u64,
    pub keys: std::collections::BTreeMap<String, u64>,
}

pub struct Metrics {
    registry: Registry,
    records: Gauge,
    keys: Family<Labels, Gauge>,
    notes: Gauge,
    peers: Gauge,
    api_latency: Family<Labels, Histogram, fn() -> Histogram>,
    gossip_published: Counter,
    gossip_received: Counter,
    records_accepted: Counters,
    records_rejected: Counters,
    records_ignored: Counters,
    sync_sessions: Counters,
    sync_rounds: Counters,
    sync_bytes_sent: Counters,
    sync_bytes_received: Counters,
    sync_records_fetched: Counters,
    sync_last_timestamp: Gauges,
    sync_last_duration: Gauges,
    requests_served: Counters,
    requests_refused: Counters,
    peer_penalties: Counters,
    peers_with_series: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("citymesh");
        let mut counters = |name: &str, help: &str| {
            let family = Counters::default();
            registry.register(name, help, family.clone());
            family
        };
        let records_accepted =
            counters("records_accepted", "Records accepted from peers, by how they came (gossip, sync)");
        let records_rejected =
            counters("records_rejected", "Records refused from peers as invalid, by the rule they broke");
        let records_ignored = counters("records_ignored", "Valid records from peers not kept, by reason (policy)");
        let sync_sessions =
            counters("sync_sessions", "Sync sessions this node started, by outcome (ok, error, peer_fault)");
        let sync_rounds = counters("sync_rounds", "Reconciliation rounds this node asked for, by peer");
        let sync_bytes_sent = counters("sync_sent_bytes", "Bytes this node sent in syncs it started, by peer");
        let sync_bytes_received =
            counters("sync_received_bytes", "Bytes this node received in syncs it started, by peer");
        let sync_records_fetched = counters("sync_records_fetched", "Records stored from syncs, by peer");
        let requests_served = counters("sync_requests_served", "Peers' sync and fetch requests answered, by exchange");
        let requests_refused = counters("sync_requests_refused", "Peers' requests refused, by reason");
        let peer_penalties =
            counters("peer_penalties", "Protocol faults counted against peers, by where (serving, syncing)");
        let mut gauges = |name: &str, help: &str| {
            let family = Gauges::default();
            registry.register(name, help, family.clone());
            family
        };
        let sync_last_timestamp =
            gauges("sync_last_timestamp_seconds", "When the last sync with a peer started (Unix time)");
        let sync_last_duration = gauges("sync_last_duration_seconds", "How long the last sync with a peer took");
        let gossip_received = Counter::default();
        registry.register("gossip_received", "Gossip messages handed to validation", gossip_received.clone());
        let gossip_published = Counter::default();
        registry.register("gossip_published", "Records this node published by gossip", gossip_published.clone());
        let records = Gauge::default();
        registry.register("records", "Records held (every revision)", records.clone());
        let keys = Family::<Labels, Gauge>::default();
        registry.register("keys", "Keys with a current revision, by kind (withdrawn notes included)", keys.clone());
        let notes = Gauge::default();
        registry.register(
            "notes",
            "Current practice notes, not withdrawn (as the search index has them)",
            notes.clone(),
        );
        let peers = Gauge::default();
        registry.register("peers", "Connected peers", peers.clone());
        let api_latency: Family<Labels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 16)));
        registry.register("api_request_duration_seconds", "API request latency, by route", api_latency.clone());
        Self {
            registry,
            records,
            keys,
            notes,
            peers,
            api_latency,
            gossip_published,
            gossip_received,
            records_accepted,
            records_rejected,
            records_ignored,
            sync_sessions,
            sync_rounds,
            sync_bytes_sent,
            sync_bytes_received,
            sync_records_fetched,
            sync_last_timestamp,
            sync_last_duration,
            requests_served,
            requests_refused,
            peer_penalties,
            peers_with_series: Default::default(),
        }
    }
}

impl Metrics {
    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// Sets what is read from the node's state when metrics are scraped.
    pub fn set_state(&self, state: &State) {
        self.records.set(state.records as i64);
        self.peers.set(state.peers as i64);
        self.notes.set(state.notes as i64);
        for (kind, count) in &state.keys {
            self.keys.get_or_create(&label("kind", kind.clone())).set(*count as i64);
        }
    }

    /// Times one API request; `route` is the route's pattern, so the series stay few.
    pub fn api_request(&self, route: &str, seconds: f64) {
        self.api_latency.get_or_create(&label("route", route)).observe(seconds);
    }

    pub fn gossip_published(&self) {
        self.gossip_published.inc();
    }

    pub fn gossip_received(&self, count: u64) {
        self.gossip_received.inc_by(count);
    }

    pub fn accepted(&self, via: &'static str) {
        self.records_accepted.get_or_create(&label("via", via)).inc();
    }

    pub fn rejected(&self, rule: &'static str) {
        self.records_rejected.get_or_create(&label("rule", rule)).inc();
    }

    pub fn ignored(&self, reason: &'static str) {
        self.records_ignored.get_or_create(&label("reason", reason)).inc();
    }

    pub fn served(&self, exchange: &'static str) {
        self.requests_served.get_or_create(&label("exchange", exchange)).inc();
    }

    pub fn refused(&self, reason: &'static str) {
        self.requests_refused.get_or_create(&label("reason", reason)).inc();
    }

    pub fn penalised(&self, r#where: &'static str) {
        self.peer_penalties.get_or_create(&label("where", r#where)).inc();
    }

    /// Counts a finished sync session.
    pub fn synced(&self, report: &SyncReport) {
        let outcome = match (&report.error, report.peer_fault) {
            (None, _) => "ok",
            (Some(_), true) => "peer_fault",
            (Some(_), false) => "error",
        };
        self.sync_sessions.get_or_create(&label("outcome", outcome)).inc();
        if let Ok(mut peers) = self.peers_with_series.lock()
            && peers.insert(report.peer.clone())
            && peers.len() > MAX_PEER_SERIES
        {
            peers.clear();
            peers.insert(report.peer.clone());
            for family in
                [&self.sync_rounds, &self.sync_bytes_sent, &self.sync_bytes_received, &self.sync_records_fetched]
            {
                family.clear();
            }
            self.sync_last_timestamp.clear();
            self.sync_last_duration.clear();
        }
        let peer = label("peer", report.peer.clone());
        self.sync_rounds.get_or_create(&peer).inc_by(report.rounds as u64);
        self.sync_bytes_sent.get_or_create(&peer).inc_by(report.bytes_sent as u64);
        self.sync_bytes_received.get_or_create(&peer).inc_by(report.bytes_received as u64);
        self.sync_records_fetched.get_or_create(&peer).inc_by(report.fetched as u64);
        self.sync_last_timestamp.get_or_create(&peer).set(report.at_ms as f64 / 1000.0);
        self.sync_last_duration.get_or_create(&peer).set(report.duration_ms as f64 / 1000.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_reports_show_as_per_peer_series() {
        let metrics = Metrics::default();
        metrics.synced(&SyncReport { peer: "12D3KooWpeer".to_owned(), rounds: 3, fetched: 7, ..SyncReport::default() });
        metrics.rejected("signature");
        let text = metrics.render();
        for line in [
            "citymesh_sync_sessions_total{outcome=\"ok\"} 1",
            "citymesh_sync_rounds_total{peer=\"12D3KooWpeer\"} 3",
            "citymesh_sync_records_fetched_total{peer=\"12D3KooWpeer\"} 7",
            "citymesh_records_rejected_total{rule=\"signature\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
