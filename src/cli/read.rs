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
    println!("{}", serde_json::to_string_pretty(&view::to_json(view))?);
    Ok(())
}

pub(super) fn list(data: &DataDir, kind: Option<Kind>, as_json: bool) -> Result<()> {
    let rows = Backend::open(data)?.list(kind)?;
    if as_json {
        return print_json(&rows);
    }
    print_rows(&rows);
    Ok(())
}

fn print_rows(rows: &[Summary]) {
    if rows.is_empty() {
        eprintln!("no records held yet; publish one with `citymesh publish NOTE.md`");
        return;
    }
    println!("{:<9} {:<32} {:>4}  {:<24} TITLE", "KIND", "SLUG", "REV", "PUBLISHER");
    for row in rows {
        println!("{:<9} {:<32} {:>4}  {:<24} {}", row.kind, row.slug, row.revision, row.publisher_name, row.title);
    }
}

pub(super) fn show(data: &DataDir, target: &str, as_json: bool, with_history: bool) -> Result<()> {
    if target.parse::<RecordId>().is_err() && !record::is_slug(target) {
        return Err(view::FindError::NotATarget(target.to_owned()).into());
    }
    let detail = Backend::open(data)?.show(target, with_history)?;
    if as_json {
        return print_json(&detail);
    }
    print_detail(&detail)
}

fn print_detail(detail: &Detail) -> Result<()> {
    let summary = &detail.summary;
    println!("id:         {}", summary.id);
    println!("publisher:  {} ({})", summary.publisher_name, summary.publisher);
    println!("record:     {} {} revision {}", summary.kind, summary.slug, summary.revision);
    println!("signed:     {}", format_time(summary.timestamp_ms));
    println!("signature:  {}", if detail.signature_verified { "verified" } else { "DOES NOT VERIFY" });
    match &detail.head {
        Some(_) if detail.is_current() => println!("status:     current"),
        Some(head) => println!("status:     superseded by revision {} ({})", head.revision, head.id),
        None => {}
    }
    println!();
    match (&detail.body, &detail.markdown) {
        (BodyView::Readable(Body::Tombstone(stone)), _) => println!("WITHDRAWN: {}", stone.reason),
        (_, Some(markdown)) => print!("{markdown}"),
        (body, None) => println!("{}", serde_json::to_string_pretty(&view::to_json(body))?),
    }
    if let Some(history) = &detail.history {
        println!("\nhistory ({} revisions held):", history.len());
        for revision in history {
            let mark = if revision.summary.withdrawn { " withdrawn" } else { "" };
            let time = format_time(revision.summary.timestamp_ms);
            println!("  revision {:>3}  {}  {time}{mark}", revision.summary.revision, revision.summary.id);
            if revision.summary.revision != 1 && !revision.changed.is_empty() {
                println!("                changed: {}", revision.changed.join(", "));
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
    ];
    let filters: Vec<(&'static str, String)> =
        facets.into_iter().flat_map(|(name, values)| values.into_iter().map(move |value| (name, value))).collect();
    let params = crate::api::SearchParams { q: args.words.join(" "), filters, limit: Some(args.limit), offset: None };
    let query = params.query()?;
    let results = Backend::open(data)?.search(query)?;
    if args.json {
        return print_json(&results);
    }
    print_search(&results);
    Ok(())
}

/// A snippet's HTML as plain text, the matched words in *stars*.
fn plain(html: &str) -> String {
    let text = html.replace("<mark>", "*").replace("</mark>", "*").replace("&lt;", "<").replace("&gt;", ">");
    let text = text.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn print_search(results: &SearchPage) {
    if results.total == 0 {
        eprintln!("no practice note matches; try fewer words or filters");
        return;
    }
    let notes = if results.total == 1 { "1 note matches".to_owned() } else { format!("{} notes match", results.total) };
    println!("{notes}; showing {}\n", results.hits.len());
    for hit in &results.hits {
        println!("{}  ({}, {})", hit.title, hit.publisher_name, hit.slug);
        println!("    {}", plain(&hit.snippet_html));
        println!("    id {}\n", hit.id);
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
        println!("{name:<10} {}", shown.join(", "));
    }
}

pub(super) fn status(data: &DataDir, as_json: bool) -> Result<()> {
    let status = Backend::open(data)?.status()?;
    match (&status, as_json) {
        (NodeStatus::Running(status), true) => print_json(status),
        (NodeStatus::Stopped(stopped), true) => print_json(stopped),
        (NodeStatus::Running(status), false) => {
            print_running(status);
            Ok(())
        }
        (NodeStatus::Stopped(stopped), false) => {
            println!("node:        not running (start it with `citymesh run`)");
            println!("publisher:   {}", stopped.publisher.as_deref().unwrap_or_default());
            println!("networks:    {}", stopped.networks.join(", "));
            println!("records:     {}", stopped.records);
            Ok(())
        }
    }
}

fn print_running(status: &crate::node::Status) {
    println!("node:        running, peer id {}", status.peer_id);
    for address in &status.listen_addrs {
        println!("listening:   {address}");
    }
    println!("publisher:   {}", status.publisher);
    println!("networks:    {}", status.networks.join(", "));
    println!("records:     {}", status.records);
    println!("peers:       {} connected", status.connected_peers.len());
    for peer in &status.connected_peers {
        println!("             {peer}");
    }
    for report in &status.syncs {
        println!("last sync:   {} at {}: {}", report.peer, format_time(report.at_ms), super::sync_outcome(report));
    }
    println!("trust:       {}", status.trust_policy);
    for penalty in &status.penalties {
        let banned = if penalty.banned { ", banned" } else { "" };
        println!(
            "penalised:   {}: {} strikes{banned}; last: {}",
            penalty.peer,
            penalty.strikes,
            penalty.last_fault.as_deref().unwrap_or_default()
        );
    }
    if let Some(last) = &status.last_received {
        let time = format_time(last.at_ms);
        println!("last record: {} {} revision {} from {} at {time}", last.kind, last.slug, last.revision, last.from);
    }
}
