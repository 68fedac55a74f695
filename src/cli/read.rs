//! `list` and `show`: read what the store holds, as a table, text or JSON.

use std::collections::HashMap;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::datadir::DataDir;
use crate::markdown;
use crate::record::{self, Body, Key, Kind, PublisherId, Record, RecordId};
use crate::store::Store;

/// Names publishers by their profile, falling back to a short key.
struct Names(HashMap<PublisherId, String>);

impl Names {
    fn load(store: &Store) -> Result<Self> {
        let mut names = HashMap::new();
        for profile in store.heads(Some(Kind::Profile))? {
            if let Ok(Body::Profile(body)) = profile.parse_body() {
                names.insert(profile.publisher(), body.name);
            }
        }
        Ok(Self(names))
    }

    fn of(&self, publisher: &PublisherId) -> String {
        self.0.get(publisher).cloned().unwrap_or_else(|| publisher.to_string()[..12].to_owned())
    }
}

/// The title a listing shows for a record.
fn title(record: &Record) -> String {
    match record.parse_body() {
        Ok(Body::Practice(note)) => note.title,
        Ok(Body::Profile(profile)) => profile.name,
        Ok(Body::Tombstone(stone)) => format!("(withdrawn: {})", stone.reason),
        Err(error) => format!("(unreadable: {error})"),
    }
}

fn summary_json(record: &Record, names: &Names) -> Value {
    json!({
        "id": record.id().to_string(),
        "publisher": record.publisher().to_string(),
        "publisher_name": names.of(&record.publisher()),
        "kind": record.kind().as_str(),
        "slug": record.slug(),
        "revision": record.revision(),
        "timestamp_ms": record.timestamp_ms(),
        "withdrawn": record.is_tombstone(),
        "title": title(record),
    })
}

pub(super) fn list(data: &DataDir, kind: Option<Kind>, as_json: bool) -> Result<()> {
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    let names = Names::load(&store)?;
    let heads = store.heads(kind)?;
    if as_json {
        let rows: Vec<Value> = heads.iter().map(|record| summary_json(record, &names)).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if heads.is_empty() {
        eprintln!("no records held yet; publish one with `citymesh publish NOTE.md`");
        return Ok(());
    }
    println!("{:<9} {:<32} {:>4}  {:<24} TITLE", "KIND", "SLUG", "REV", "PUBLISHER");
    for record in &heads {
        println!(
            "{:<9} {:<32} {:>4}  {:<24} {}",
            record.kind().as_str(),
            record.slug(),
            record.revision(),
            names.of(&record.publisher()),
            title(record)
        );
    }
    Ok(())
}

/// Finds a record by id, or a practice note's head by slug (this publisher's first).
fn find(data: &DataDir, store: &Store, target: &str) -> Result<Record> {
    if let Ok(id) = target.parse::<RecordId>() {
        return match store.get(&id)? {
            Some(record) => Ok(record),
            None => bail!("no record with id {id} is held here"),
        };
    }
    if !record::is_slug(target) {
        bail!("{target:?} is neither a record id (64 hex characters) nor a slug (a-z, 0-9, '-')");
    }
    if let Some(publisher) = data.publisher()? {
        let own = Key { publisher, kind: Kind::Practice, slug: target.to_owned() };
        if let Some(record) = store.head(&own)? {
            return Ok(record);
        }
    }
    let matches: Vec<Record> =
        store.heads(Some(Kind::Practice))?.into_iter().filter(|record| record.slug() == target).collect();
    match matches.as_slice() {
        [] => bail!("no practice note with slug {target:?} is held here; `citymesh list` shows what is"),
        [one] => Ok(one.clone()),
        many => {
            let ids: Vec<String> =
                many.iter().map(|record| format!("  {} ({})", record.id(), record.publisher())).collect();
            bail!("several publishers have a note {target:?}; name one by id:\n{}", ids.join("\n"))
        }
    }
}

pub(super) fn show(data: &DataDir, target: &str, as_json: bool, with_history: bool) -> Result<()> {
    data.require_store()?;
    let store = data.open_store(&data.config()?)?;
    let names = Names::load(&store)?;
    let record = find(data, &store, target)?;
    let head = store.head(&record.key())?;
    let body = record.parse_body()?;
    let history = if with_history { store.history(&record.key())? } else { Vec::new() };
    let verified = record::verify(&record.envelope_bytes(), super::now_ms()).is_ok();
    if as_json {
        let mut out = summary_json(&record, &names);
        out["signature_verified"] = json!(verified);
        out["is_head"] = json!(head.as_ref().map(Record::id) == Some(record.id()));
        out["body"] = match &body {
            Body::Practice(note) => serde_json::to_value(note)?,
            Body::Profile(profile) => serde_json::to_value(profile)?,
            Body::Tombstone(stone) => serde_json::to_value(stone)?,
        };
        if with_history {
            out["history"] = history.iter().map(|revision| summary_json(revision, &names)).collect();
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("id:         {}", record.id());
    println!("publisher:  {} ({})", names.of(&record.publisher()), record.publisher());
    println!("record:     {} {} revision {}", record.kind(), record.slug(), record.revision());
    println!("signed:     {}", super::format_time(record.timestamp_ms()));
    println!("signature:  {}", if verified { "verified" } else { "DOES NOT VERIFY" });
    match head {
        Some(head) if head.id() == record.id() => println!("status:     current"),
        Some(head) => println!("status:     superseded by revision {} ({})", head.revision(), head.id()),
        None => {}
    }
    println!();
    match body {
        Body::Practice(note) => print!("{}", markdown::render(record.slug(), &note)),
        Body::Profile(profile) => println!("{}", serde_json::to_string_pretty(&profile)?),
        Body::Tombstone(stone) => println!("WITHDRAWN: {}", stone.reason),
    }
    if with_history {
        println!("\nhistory ({} revisions held):", history.len());
        for revision in &history {
            let mark = if revision.is_tombstone() { " withdrawn" } else { "" };
            let time = super::format_time(revision.timestamp_ms());
            println!("  revision {:>3}  {}  {time}{mark}", revision.revision(), revision.id());
        }
    }
    Ok(())
}
