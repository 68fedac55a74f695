//! The identity page: who signs for this node's organisation (governance keys, operators and
//! what each may sign until when, revoked keys, the history), with anything that needs
//! attention (a fork, this node's key about to expire) said first.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Chrome, html, page};
use crate::author::now_ms;
use crate::node::NodeHandle;
use crate::organisation::{IdentityView, warnings};
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
}

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    chrome: Chrome,
    title: String,
    view: IdentityView,
    warnings: Vec<String>,
    operators: Vec<OperatorRow>,
    revoked: Vec<RevokedRow>,
    history: Vec<HistoryRow>,
}

pub(super) async fn identity(State(node): State<NodeHandle>, headers: HeaderMap) -> Response {
    page(&node, &headers, "network", |node, chrome| async move {
        let view = node.identity().await?;
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
            })
            .collect();
        let warnings = warnings(&view, &node.publisher(), now_ms());
        let title = "Identity".to_owned();
        let page = IdentityPage { chrome, title, view, warnings, operators, revoked, history };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}
