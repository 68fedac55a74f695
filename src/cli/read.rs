//! `list` and `show`: print what the store holds, as a table, text or JSON. The values come
//! from [`crate::view`], the same ones a running node's API serves.

use anyhow::Result;
use serde_json::Value;

use super::remote::Remote;
use crate::author::now_ms;
use crate::datadir::DataDir;
use crate::record::{self, Kind, RecordId};
use crate::view;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

pub(super) fn list(data: &DataDir, kind: Option<Kind>, as_json: bool) -> Result<()> {
    if let Some(remote) = Remote::discover(data)? {
        let query = kind.map(|kind| format!("kind={kind}")).unwrap_or_default();
        return print_list(&remote.records(&query)?, as_json);
    }
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    let rows = view::list(&store, kind)?;
    print_list(&rows, as_json)
}

pub(super) fn print_list(rows: &Value, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(rows)?);
        return Ok(());
    }
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    if rows.is_empty() {
        eprintln!("no records held yet; publish one with `citymesh publish NOTE.md`");
        return Ok(());
    }
    println!("{:<9} {:<32} {:>4}  {:<24} TITLE", "KIND", "SLUG", "REV", "PUBLISHER");
    for row in rows {
        println!(
            "{:<9} {:<32} {:>4}  {:<24} {}",
            text(&row["kind"]),
            text(&row["slug"]),
            row["revision"],
            text(&row["publisher_name"]),
            text(&row["title"])
        );
    }
    Ok(())
}

pub(super) fn show(data: &DataDir, target: &str, as_json: bool, with_history: bool) -> Result<()> {
    if target.parse::<RecordId>().is_err() && !record::is_slug(target) {
        return Err(view::FindError::NotATarget(target.to_owned()).into());
    }
    if let Some(remote) = Remote::discover(data)? {
        let detail = remote.get(&format!("/api/v1/records/{target}?history={with_history}"))?;
        return print_detail(&detail, as_json);
    }
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    let record = view::find(&store, data.publisher()?, target)?;
    let detail = view::detail(&store, &record, with_history, now_ms())?;
    print_detail(&detail, as_json)
}

pub(super) fn print_detail(detail: &Value, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(detail)?);
        return Ok(());
    }
    println!("id:         {}", text(&detail["id"]));
    println!("publisher:  {} ({})", text(&detail["publisher_name"]), text(&detail["publisher"]));
    println!("record:     {} {} revision {}", text(&detail["kind"]), text(&detail["slug"]), detail["revision"]);
    println!("signed:     {}", super::format_time(detail["timestamp_ms"].as_i64().unwrap_or_default()));
    let verified = detail["signature_verified"] == true;
    println!("signature:  {}", if verified { "verified" } else { "DOES NOT VERIFY" });
    let head = &detail["head"];
    if head["id"] == detail["id"] {
        println!("status:     current");
    } else if !head.is_null() {
        println!("status:     superseded by revision {} ({})", head["revision"], text(&head["id"]));
    }
    println!();
    if detail["withdrawn"] == true {
        println!("WITHDRAWN: {}", text(&detail["body"]["reason"]));
    } else if let Some(markdown) = detail["markdown"].as_str() {
        print!("{markdown}");
    } else {
        println!("{}", serde_json::to_string_pretty(&detail["body"])?);
    }
    if let Some(history) = detail["history"].as_array() {
        println!("\nhistory ({} revisions held):", history.len());
        for revision in history {
            let mark = if revision["withdrawn"] == true { " withdrawn" } else { "" };
            let time = super::format_time(revision["timestamp_ms"].as_i64().unwrap_or_default());
            println!("  revision {:>3}  {}  {time}{mark}", revision["revision"], text(&revision["id"]));
            let changed: Vec<&str> =
                revision["changed"].as_array().map(|all| all.iter().map(text).collect()).unwrap_or_default();
            if revision["revision"] != 1 && !changed.is_empty() {
                println!("                changed: {}", changed.join(", "));
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
    let filters: Vec<(String, String)> = facets
        .into_iter()
        .flat_map(|(name, values)| values.into_iter().map(move |value| (name.to_owned(), value)))
        .collect();
    let params = crate::api::SearchParams { q: args.words.join(" "), filters, limit: Some(args.limit), offset: None };
    if let Some(remote) = Remote::discover(data)? {
        let mut pairs: Vec<(&str, String)> = vec![("q", params.q.clone()), ("limit", args.limit.to_string())];
        pairs.extend(params.filters.iter().map(|(name, value)| (name.as_str(), value.clone())));
        return print_search(&remote.get_with("/api/v1/search", &pairs)?, args.json);
    }
    let query = params.query()?;
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    let index = data.open_search(&store)?;
    print_search(&view::search(&store, &index, &query)?, args.json)
}

/// A snippet's HTML as plain text, the matched words in *stars*.
fn plain(html: &str) -> String {
    let text = html.replace("<mark>", "*").replace("</mark>", "*").replace("&lt;", "<").replace("&gt;", ">");
    let text = text.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'").replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn print_search(results: &Value, as_json: bool) -> Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(results)?);
        return Ok(());
    }
    let hits = results["hits"].as_array().map(Vec::as_slice).unwrap_or_default();
    let total = results["total"].as_u64().unwrap_or_default();
    if total == 0 {
        eprintln!("no practice note matches; try fewer words or filters");
        return Ok(());
    }
    let notes = if total == 1 { "1 note matches".to_owned() } else { format!("{total} notes match") };
    println!("{notes}; showing {}\n", hits.len());
    for hit in hits {
        println!("{}  ({}, {})", text(&hit["title"]), text(&hit["publisher_name"]), text(&hit["slug"]));
        println!("    {}", plain(text(&hit["snippet_html"])));
        println!("    id {}\n", text(&hit["id"]));
    }
    for name in crate::search::FACETS {
        let counts = results["facets"][name].as_array().map(Vec::as_slice).unwrap_or_default();
        if counts.is_empty() {
            continue;
        }
        let shown: Vec<String> = counts
            .iter()
            .take(8)
            .map(|count| {
                let label = count["name"].as_str().unwrap_or_else(|| text(&count["value"]));
                format!("{label} ({})", count["count"])
            })
            .collect();
        println!("{name:<10} {}", shown.join(", "));
    }
    Ok(())
}

pub(super) fn status(data: &DataDir, as_json: bool) -> Result<()> {
    let status = match Remote::discover(data)? {
        Some(remote) => remote.get("/api/v1/status")?,
        None => {
            data.require_store()?;
            let store = data.open_store(&data.config()?)?;
            serde_json::json!({
                "running": false,
                "publisher": data.publisher()?.map(|publisher| publisher.to_string()),
                "networks": data.config()?.node.networks,
                "records": store.len(),
            })
        }
    };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    if status["running"] == false {
        println!("node:        not running (start it with `citymesh run`)");
    } else {
        println!("node:        running, peer id {}", text(&status["peer_id"]));
        for address in status["listen_addrs"].as_array().map(Vec::as_slice).unwrap_or_default() {
            println!("listening:   {}", text(address));
        }
    }
    println!("publisher:   {}", text(&status["publisher"]));
    let networks: Vec<&str> =
        status["networks"].as_array().map(|all| all.iter().map(text).collect()).unwrap_or_default();
    println!("networks:    {}", networks.join(", "));
    println!("records:     {}", status["records"]);
    if let Some(peers) = status["connected_peers"].as_array() {
        println!("peers:       {} connected", peers.len());
        for peer in peers {
            println!("             {}", text(peer));
        }
    }
    for report in status["syncs"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let time = super::format_time(report["at_ms"].as_i64().unwrap_or_default());
        let outcome = match report["error"].as_str() {
            Some(error) => format!("failed: {error}"),
            None => format!(
                "fetched {} in {} rounds, {} bytes sent, {} received, {} ms",
                report["fetched"],
                report["rounds"],
                report["bytes_sent"],
                report["bytes_received"],
                report["duration_ms"]
            ),
        };
        println!("last sync:   {} at {time}: {outcome}", text(&report["peer"]));
    }
    if let Some(policy) = status["trust_policy"].as_str() {
        println!("trust:       {policy}");
    }
    for penalty in status["penalties"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let banned = if penalty["banned"] == true { ", banned" } else { "" };
        println!(
            "penalised:   {}: {} strikes{banned}; last: {}",
            text(&penalty["peer"]),
            penalty["strikes"],
            text(&penalty["last_fault"])
        );
    }
    let last = &status["last_received"];
    if !last.is_null() {
        let time = super::format_time(last["at_ms"].as_i64().unwrap_or_default());
        println!(
            "last record: {} {} revision {} from {} at {time}",
            text(&last["kind"]),
            text(&last["slug"]),
            last["revision"],
            text(&last["from"])
        );
    }
    Ok(())
}
