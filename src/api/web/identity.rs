//! The identity page: who signs for this node's organisation, or another's
//! (`?organisation=KEY`): governance keys, operators and what each may sign until when, revoked
//! keys, the history with the partners that witnessed each revision, and anything that needs
//! attention (a fork, a pending recovery, this node's key about to expire) said first.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Chrome, WebError, html, page};
use crate::author::now_ms;
use crate::node::NodeHandle;
use crate::organisation::{IdentityView, others_warnings, warnings};
use crate::view::format_time;

struct OperatorRow {
    key: String,
    label: String,
    scopes: String,
    until: String,
}

struct RevokedRow {
    key: String,
    label: String,
    reason: String,
    since: String,
}

struct HistoryRow {
    revision: u64,
    when: String,
    signers: usize,
    /// "Surabaya on 3 Dec 2026 10:00, …", or empty.
    witnessed: String,
}

struct ErasureRow {
    when: String,
    records: usize,
    reason: String,
    /// "erased at 2 of 3 partner nodes (Surabaya, Kota Tua)".
    done: String,
}

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    chrome: Chrome,
    title: String,
    /// The organisation's name when it is another's; empty for this node's own.
    other: String,
    /// What is known of the identity's domain, in words.
    domain_status: String,
    view: IdentityView,
    warnings: Vec<String>,
    operators: Vec<OperatorRow>,
    revoked: Vec<RevokedRow>,
    history: Vec<HistoryRow>,
    erasures: Vec<ErasureRow>,
}

pub(super) async fn identity(State(node): State<NodeHandle>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    page(&node, &headers, "network", |node, chrome| async move {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
        let asked = pairs.into_iter().find(|(name, _)| name == "organisation").map(|(_, value)| value);
        let organisation = crate::api::params::organisation(asked).map_err(|error| WebError {
            status: StatusCode::BAD_REQUEST,
            title: "Not an organisation's key",
            message: error.to_string(),
        })?;
        let organisation = organisation.filter(|organisation| *organisation != node.publisher());
        let view = node.identity(organisation).await?;
        let operators = view
            .operators
            .iter()
            .map(|operator| OperatorRow {
                key: operator.key.clone(),
                label: operator.label.clone(),
                scopes: operator.scopes_in_words(),
                until: format_time(operator.expires_ms),
            })
            .collect();
        let revoked = view
            .revoked
            .iter()
            .map(|row| RevokedRow {
                key: row.key.clone(),
                label: row.label.clone(),
                reason: match row.reason.as_str() {
                    crate::identity::COMPROMISED => "compromised: what it signed from then on was removed".to_owned(),
                    _ => "retired: what it signed before stays valid".to_owned(),
                },
                since: format_time(row.since_ms),
            })
            .collect();
        let history = view
            .history
            .iter()
            .map(|row| HistoryRow {
                revision: row.revision,
                when: format_time(row.timestamp_ms),
                signers: row.signers.len(),
                witnessed: row
                    .witnesses
                    .iter()
                    .map(|witness| format!("{} on {}", witness.name, format_time(witness.seen_ms)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        let erasures = view
            .erasures
            .iter()
            .map(|row| {
                let names: Vec<&str> = row.erased_at.iter().map(|witness| witness.name.as_str()).collect();
                let partners = row.partner_nodes.max(row.erased_at.len());
                let node_word = if partners == 1 { "node" } else { "nodes" };
                let mut done = format!("erased at {} of {partners} partner {node_word}", row.erased_at.len());
                if !names.is_empty() {
                    done.push_str(&format!(" ({})", names.join(", ")));
                }
                ErasureRow {
                    when: format_time(row.timestamp_ms),
                    records: row.records,
                    reason: row.reason.clone(),
                    done,
                }
            })
            .collect();
        let (title, other, warnings) = match organisation {
            None => ("Identity".to_owned(), String::new(), warnings(&view, &node.publisher(), now_ms())),
            Some(organisation) => {
                let name = node.name_of(organisation).await;
                (format!("{name}'s identity"), name, others_warnings(&view))
            }
        };
        let domain_status = crate::organisation::domain_status(&view);
        let page =
            IdentityPage { chrome, title, other, domain_status, view, warnings, operators, revoked, history, erasures };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}
