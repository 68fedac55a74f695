//! The partners page (this node's invite code, adding a partner, the partners and how they
//! stand) and the network page (connected peers, their syncs, records refused lately).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::session::{posted, value};
use super::{Chrome, html, page, redirect};
use crate::author::now_ms;
use crate::node::{NodeHandle, PeerView};
use crate::trust::PolicyKind;
use crate::view::format_time;

pub struct PartnerRow {
    pub publisher: String,
    pub short_key: String,
    pub name: String,
    pub label: String,
    pub standing: String,
    pub records: usize,
    pub last_sync: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    chrome: Chrome,
    title: String,
    policy: String,
    invite: String,
    error: Option<String>,
    code: String,
    label: String,
    partners: Vec<PartnerRow>,
    invitations: Vec<super::hiding::Invitation>,
}

fn policy_text(kind: PolicyKind) -> String {
    match kind {
        PolicyKind::Open => "every valid record from anyone (policy: open)".to_owned(),
        PolicyKind::Partners { hops: 0 } => "its partners' records and its own (policy: partners)".to_owned(),
        other => format!("its partners' records, and those of their partners (policy: {other})"),
    }
}

/// A partner as the page lists it.
fn partner_row(row: crate::node::PartnerRow) -> PartnerRow {
    let partner = row.partner;
    PartnerRow {
        short_key: partner.publisher[..16].to_owned(),
        standing: match (partner.blocked, partner.mutual) {
            (true, _) => "blocked".to_owned(),
            (false, true) => "mutual".to_owned(),
            (false, false) => "one-way (they have not named you yet)".to_owned(),
        },
        last_sync: row.last_sync_ms.map_or("not yet".to_owned(), format_time),
        records: partner.records,
        name: partner.name,
        label: partner.label,
        publisher: partner.publisher,
    }
}

async fn partners_page(
    node: NodeHandle,
    headers: HeaderMap,
    error: Option<String>,
    (code, label): (String, String),
    notice: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    page(&node, &headers, "partners", |node, mut chrome| async move {
        chrome.notice = notice;
        // Without the network's addresses (it is stopping) the code names none.
        let invite = node.invite(None).await.map(|invite| invite.code).unwrap_or_default();
        let partners = node.partners().await?.partners.into_iter().map(partner_row).collect();
        let policy = policy_text(node.policy().kind());
        let invitations = super::hiding::invitations(&node).await;
        let title = "Partners".to_owned();
        let page = PartnersPage { chrome, title, policy, invite, error, code, label, partners, invitations };
        Ok(html(status, &page))
    })
    .await
}

pub(super) async fn partners(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let notice = super::hiding::done_notice(raw.as_deref());
    partners_page(node, headers, None, (String::new(), String::new()), notice).await
}

pub(super) async fn add_partner(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = match posted(&node, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let (code, label) = (value(&pairs, "code").to_owned(), value(&pairs, "label").trim().to_owned());
    match node.add_partner(code.clone(), label.clone()).await {
        Ok(_) => redirect("/partners"),
        Err(error) => partners_page(node, headers, Some(error.to_string()), (code, label), None).await,
    }
}

pub struct PeerRow {
    pub peer: String,
    pub name: Option<String>,
    pub last_sync: String,
    pub result: String,
    pub failed: bool,
    pub lag: String,
    pub score: String,
}

pub struct RejectionRow {
    pub when: String,
    pub from: String,
    pub from_name: Option<String>,
    pub rule: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage {
    chrome: Chrome,
    title: String,
    peer_id: String,
    policy: String,
    records: usize,
    peers: Vec<PeerRow>,
    rejections: Vec<RejectionRow>,
    graph: Vec<super::map::GraphNode>,
}

/// A connected peer as the page lists it; `now_ms` dates its last sync.
fn peer_row(peer: PeerView, now_ms: i64) -> PeerRow {
    let report = peer.last_sync.as_ref();
    let (result, failed) = match report.map(|report| (report, &report.error)) {
        None => ("no sync yet".to_owned(), false),
        Some((_, Some(error))) => (format!("failed: {error}"), true),
        Some((report, None)) => {
            let fetched =
                format!("fetched {} records in {} rounds, {} ms", report.fetched, report.rounds, report.duration_ms);
            (fetched, false)
        }
    };
    PeerRow {
        last_sync: report.map_or("never".to_owned(), |report| {
            format!("{} ({} s ago)", format_time(report.at_ms), (now_ms - report.at_ms).max(0) / 1000)
        }),
        lag: report.map_or("unknown".to_owned(), |report| match report.remaining {
            0 => "nothing: up to date".to_owned(),
            n => format!("{n} records (next sync)"),
        }),
        score: peer.gossip_score.map_or("–".to_owned(), |score| format!("{score:.1}")),
        name: peer.name,
        peer: peer.peer,
        result,
        failed,
    }
}

pub(super) async fn network(State(node): State<NodeHandle>, headers: HeaderMap) -> Response {
    page(&node, &headers, "network", |node, chrome| async move {
        let now = now_ms();
        let peer_id = node.net_status().await.map(|net| net.peer_id).unwrap_or_default();
        let peers = node.peers().await.unwrap_or_default().into_iter().map(|peer| peer_row(peer, now)).collect();
        let names = node.peer_names().await;
        let partners = node.partners().await?.partners;
        let graph = super::map::graph(
            partners
                .into_iter()
                .map(|row| {
                    let name = if row.partner.label.is_empty() { row.partner.name } else { row.partner.label };
                    (name, row.partner.mutual)
                })
                .collect(),
        );
        let rejections = node
            .rejections()
            .into_iter()
            .rev()
            .map(|rejection| RejectionRow {
                when: format_time(rejection.at_ms),
                from_name: names.get(&rejection.from).cloned(),
                from: rejection.from,
                rule: rejection.rule,
                detail: rejection.detail,
            })
            .collect();
        let page = NetworkPage {
            chrome,
            title: "Network".to_owned(),
            peer_id,
            policy: node.policy().kind().to_string(),
            records: node.records_held(),
            peers,
            rejections,
            graph,
        };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}
