//! `list`, `show`, `search` and `status`: print what the node holds, as a table, text or JSON.
//! The values are the typed views a running node's API serves, read through the backend.

use anyhow::Result;
use serde::Serialize;

use super::backend::{Backend, NodeStatus};
use crate::datadir::DataDir;
use crate::record::{self, Body, Kind, RecordId};
use crate::view::{self, BodyView, Detail, SearchPage, Summary, format_time};

/// Prints a view as JSON, keys in alphabetical order (as the API writes them).
pub(super) fn print_json(view: &impl Serialize) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(&view::to_json(view))?)?;
    Ok(())
}

pub(super) fn list(data: &DataDir, kind: Option<Kind>, as_json: bool) -> Result<()> {
    let rows = Backend::open(data)?.list(kind)?;
    if as_json {
        return print_json(&rows);
    }
    print_rows(&rows)
}

/// At most `width` characters of `text`, cut with an ellipsis.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Rows as aligned columns, a block per kind (practice notes, then the transfer kinds, then
/// profiles, then partnerships), each column as wide as its widest cell up to a limit.
fn print_rows(rows: &[Summary]) -> Result<()> {
    if rows.is_empty() {
        eprintln!("no records held yet; publish one with `citymesh publish NOTE.md`");
        return Ok(());
    }
    let kinds =
        ["practice", "request", "offer", "event", "engagement", "outcome", "endorsement", "profile", "partnership"];
    let rank = |kind: &str| kinds.iter().position(|known| *known == kind).unwrap_or(kinds.len());
    let mut rows: Vec<&Summary> = rows.iter().collect();
    rows.sort_by_key(|row| rank(&row.kind));
    let cells = |row: &Summary| {
        // A partnership's slug is the partner's key: its start names it well enough.
        let slug = if row.kind == "partnership" { cut(&row.slug, 13) } else { cut(&row.slug, 40) };
        (slug, cut(&row.publisher_name, 28))
    };
    let slug_width = rows.iter().map(|row| cells(row).0.chars().count()).max().unwrap_or(0).max(4);
    let publisher_width = rows.iter().map(|row| cells(row).1.chars().count()).max().unwrap_or(0).max(9);
    let mut kind = None;
    for row in rows {
        if kind != Some(row.kind.as_str()) {
            if kind.is_some() {
                out!()?;
            }
            kind = Some(row.kind.as_str());
            out!(
                "{:<12} {:<slug_width$} {:>4}  {:<publisher_width$}  TITLE",
                row.kind.to_uppercase(),
                "SLUG",
                "REV",
                "PUBLISHER"
            )?;
        }
        let (slug, publisher) = cells(row);
        let kind = if row.withdrawn { "(withdrawn)" } else { "" };
        out!("{kind:<12} {slug:<slug_width$} {:>4}  {publisher:<publisher_width$}  {}", row.revision, row.title)?;
    }
    Ok(())
}

pub(super) fn show(data: &DataDir, target: &str, as_json: bool, with_history: bool) -> Result<()> {
    let by_reference = target.split_once('/').is_some_and(|(publisher, slug)| {
        publisher.parse::<crate::record::PublisherId>().is_ok() && record::is_slug(slug)
    });
    if target.parse::<RecordId>().is_err() && !record::is_slug(target) && !by_reference {
        return Err(view::FindError::NotATarget(target.to_owned()).into());
    }
    let detail = Backend::open(data)?.show(target, with_history)?;
    if as_json {
        return print_json(&detail);
    }
    print_detail(&detail)
}

/// `attachments`: the files a record names, one a line: name, type and size, whether it is
/// here, and its SHA-256.
pub(super) fn attachments(data: &DataDir, target: &str, as_json: bool) -> Result<()> {
    let rows = Backend::open(data)?.attachments(target)?;
    if as_json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        eprintln!("{target} names no files");
    }
    for row in &rows {
        let state = if row.here { "here" } else { "not here yet" };
        let media_type = if row.media_type.is_empty() { "file" } else { &row.media_type };
        out!("{}  ({media_type}, {} bytes)  {state}  {}", row.name, row.size, row.sha256)?;
    }
    Ok(())
}

fn print_detail(detail: &Detail) -> Result<()> {
    let summary = &detail.summary;
    out!("id:         {}", summary.id)?;
    out!("publisher:  {} ({})", summary.publisher_name, summary.publisher)?;
    out!("record:     {} {} revision {}", summary.kind, summary.slug, summary.revision)?;
    out!("signed:     {}", format_time(summary.timestamp_ms))?;
    out!("signature:  {}", if detail.signature_verified { "verified" } else { "DOES NOT VERIFY" })?;
    match &detail.head {
        Some(_) if detail.is_current() => out!("status:     current")?,
        Some(head) => out!("status:     superseded by revision {} ({})", head.revision, head.id)?,
        None => {}
    }
    out!()?;
    match (&detail.body, &detail.markdown) {
        (BodyView::Readable(Body::Tombstone(stone)), _) => out!("WITHDRAWN: {}", stone.reason)?,
        (_, Some(markdown)) => out_part!("{markdown}")?,
        (body, None) => out!("{}", serde_json::to_string_pretty(&view::to_json(body))?)?,
    }
    if let Some(history) = &detail.history {
        out!("\nhistory ({} revisions held):", history.len())?;
        for revision in history {
            let mark = if revision.summary.withdrawn { " withdrawn" } else { "" };
            let time = format_time(revision.summary.timestamp_ms);
            out!("  revision {:>3}  {}  {time}{mark}", revision.summary.revision, revision.summary.id)?;
            if revision.summary.revision != 1 && !revision.changed.is_empty() {
                out!("                changed: {}", revision.changed.join(", "))?;
            }
        }
    }
    Ok(())
}

pub(super) fn search(data: &DataDir, args: super::SearchArgs) -> Result<()> {
    let facets = [
        ("theme", args.theme),
        ("sdg", args.sdg),
        ("country", args.country),
        ("language", args.language),
        ("publisher", args.publisher),
        ("status", args.status),
        ("kind", args.kind),
    ];
    let filters: Vec<(&'static str, String)> =
        facets.into_iter().flat_map(|(name, values)| values.into_iter().map(move |value| (name, value))).collect();
    let params = crate::api::SearchParams { q: args.words.join(" "), filters, limit: Some(args.limit), offset: None };
    let query = params.query()?;
    let results = Backend::open(data)?.search(query)?;
    if args.json {
        return print_json(&results);
    }
    print_search(&results)
}

/// A snippet's HTML as plain text, the matched words in *stars*.
fn plain(html: &str) -> String {
    let text = html.replace("<mark>", "*").replace("</mark>", "*").replace("&lt;", "<").replace("&gt;", ">");
    let text = text.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn print_search(results: &SearchPage) -> Result<()> {
    let notes_only = !results.filters.contains_key("kind");
    if results.total == 0 {
        let what = if notes_only { "practice note" } else { "record" };
        eprintln!("no {what} matches; try fewer words or filters");
        return Ok(());
    }
    let what = if notes_only { "note" } else { "record" };
    let notes = match results.total {
        1 => format!("1 {what} matches"),
        n => format!("{n} {what}s match"),
    };
    out!("{notes}; showing {}\n", results.hits.len())?;
    for hit in &results.hits {
        out!("{}  ({}, {})", hit.title, hit.publisher_name, hit.slug)?;
        out!("    {}", plain(&hit.snippet_html))?;
        out!("    id {}\n", hit.id)?;
    }
    for name in crate::search::FACETS {
        let counts = results.facets.get(name).map(Vec::as_slice).unwrap_or_default();
        if counts.is_empty() {
            continue;
        }
        let shown: Vec<String> = counts
            .iter()
            .take(8)
            .map(|count| format!("{} ({})", count.name.as_deref().unwrap_or(&count.value), count.count))
            .collect();
        out!("{name:<10} {}", shown.join(", "))?;
    }
    Ok(())
}

pub(super) fn status(data: &DataDir, as_json: bool) -> Result<()> {
    let status = Backend::open(data)?.status()?;
    match (&status, as_json) {
        (NodeStatus::Running(status), true) => print_json(status),
        (NodeStatus::Stopped(stopped), true) => print_json(stopped),
        (NodeStatus::Running(status), false) => print_running(status).and_then(|()| print_identity(data)),
        (NodeStatus::Stopped(stopped), false) => {
            out!("node:        not running (start it with `citymesh run`)")?;
            out!("publisher:   {}", stopped.publisher.as_deref().unwrap_or_default())?;
            out!("networks:    {}", stopped.networks.join(", "))?;
            out!("records:     {}", stopped.records)?;
            print_identity(data)
        }
    }
}

/// The identity in a line, and whatever in it needs attention.
fn print_identity(data: &DataDir) -> Result<()> {
    let Some(publisher) = data.publisher()? else { return Ok(()) };
    let view = Backend::open(data)?.identity(None)?;
    match view.state.as_str() {
        "none" => out!("identity:    none yet: this node's key alone signs for the organisation")?,
        _ => out!(
            "identity:    revision {}; {} of {} governance keys sign changes; {} operator keys",
            view.revision,
            view.threshold,
            view.governance.len(),
            view.operators.len()
        )?,
    }
    for warning in crate::organisation::warnings(&view, &publisher, crate::author::now_ms()) {
        out!("WARNING:     {warning}")?;
    }
    Ok(())
}

fn print_running(status: &crate::node::Status) -> Result<()> {
    out!("node:        running, peer id {}", status.peer_id)?;
    for address in &status.listen_addrs {
        out!("listening:   {address}")?;
    }
    out!("publisher:   {}", status.publisher)?;
    out!("networks:    {}", status.networks.join(", "))?;
    out!("records:     {}", status.records)?;
    out!("peers:       {} connected", status.connected_peers.len())?;
    for peer in &status.connected_peers {
        match status.peer_names.get(peer) {
            Some(name) => out!("             {name} ({peer})")?,
            None => out!("             {peer}")?,
        }
    }
    for report in &status.syncs {
        out!("last sync:   {} at {}: {}", report.peer, format_time(report.at_ms), super::sync_outcome(report))?;
    }
    out!("trust:       {}", status.trust_policy)?;
    for penalty in &status.penalties {
        let banned = if penalty.banned { ", banned" } else { "" };
        out!(
            "penalised:   {}: {} strikes{banned}; last: {}",
            penalty.peer,
            penalty.strikes,
            penalty.last_fault.as_deref().unwrap_or_default()
        )?;
    }
    if let Some(last) = &status.last_received {
        let time = format_time(last.at_ms);
        out!("last record: {} {} revision {} from {} at {time}", last.kind, last.slug, last.revision, last.from)?;
    }
    Ok(())
}
