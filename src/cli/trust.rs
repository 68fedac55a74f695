//! `invite`, `partner add|list|remove`, `block`, `unblock` and `profile set`: through the
//! running node's API when one runs (so they take effect at once), else on the data directory.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::remote::Remote;
use crate::author::{self, Previous, ProfileChanges};
use crate::datadir::DataDir;
use crate::invite::InviteCode;
use crate::partners;

/// Opens what a local change needs.
fn local(data: &DataDir) -> Result<(crate::config::Config, crate::record::PublisherKey, crate::store::Store)> {
    data.require_initialised()?;
    let config = data.config()?;
    let key = data.publisher_key()?;
    let store = data.open_store(&config)?;
    Ok((config, key, store))
}

pub(super) fn invite(data: &DataDir, addresses: &[String]) -> Result<()> {
    data.require_initialised()?;
    if let Some(remote) = Remote::discover(data)? {
        let path = if addresses.is_empty() {
            "/api/v1/invite".to_owned()
        } else {
            format!("/api/v1/invite?addresses={}", addresses.join(","))
        };
        let answer = remote.get(&path)?;
        println!("{}", answer["code"].as_str().unwrap_or_default());
        eprintln!(
            "Send this line to a partner; they run `citymesh partner add <code>`. It names {} and these addresses:",
            answer["name"].as_str().unwrap_or_default()
        );
        for address in answer["addresses"].as_array().map(Vec::as_slice).unwrap_or_default() {
            eprintln!("    {}", address.as_str().unwrap_or_default());
        }
        return Ok(());
    }
    if addresses.is_empty() {
        bail!(
            "no node is running on {}: start it (`citymesh run`) so the code can name the addresses it listens on, or give them with --address",
            data.root().display()
        );
    }
    let peer_id = crate::net::peer_id(&data.node_key()?)?;
    let suffix = format!("/p2p/{peer_id}");
    let mut named = Vec::new();
    for address in addresses {
        crate::net::parse_addr(address, "--address")?;
        named.push(if address.ends_with(&suffix) { address.clone() } else { format!("{address}{suffix}") });
    }
    let (_, key, store) = local(data)?;
    let name = crate::view::Names::load(&store)?.known(&key.publisher()).unwrap_or_default();
    let code = InviteCode { publisher: key.publisher(), peer_id, addresses: named, name };
    println!("{}", code.encode());
    Ok(())
}

pub(super) fn add(data: &DataDir, code: &str, label: &str) -> Result<()> {
    if let Some(remote) = Remote::discover(data)? {
        let answer = remote.post("/api/v1/partners", &json!({"code": code, "label": label}))?;
        eprintln!(
            "{} ({}) is now a partner; dialled {} address(es), and a sync of its records has started",
            answer["name"].as_str().unwrap_or_default(),
            answer["publisher"].as_str().unwrap_or_default(),
            answer["dialled"].as_array().map_or(0, Vec::len)
        );
        return Ok(());
    }
    let (_, key, store) = local(data)?;
    let added = partners::add(data, &store, &key, code, label)?;
    for address in &added.entry.addresses {
        data.remember_peer(address)?;
    }
    eprintln!(
        "{} ({}) is now a partner; the node will connect to it and fetch its records when it runs",
        added.entry.name, added.entry.publisher
    );
    Ok(())
}

pub(super) fn list(data: &DataDir, as_json: bool) -> Result<()> {
    let rows: Value = match Remote::discover(data)? {
        Some(remote) => remote.get("/api/v1/partners")?["partners"].clone(),
        None => {
            let (config, key, store) = local(data)?;
            json!(partners::list(data, &config, &store, key.publisher())?)
        }
    };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let rows = rows.as_array().map(Vec::as_slice).unwrap_or_default();
    if rows.is_empty() {
        eprintln!("no partners yet: ask a city for its `citymesh invite` line and run `citymesh partner add <code>`");
    }
    for row in rows {
        let text = |field: &str| row[field].as_str().unwrap_or_default().to_owned();
        let mutual = if row["mutual"] == true { "mutual" } else { "one-way" };
        let blocked = if row["blocked"] == true { ", BLOCKED" } else { "" };
        let label = if text("label").is_empty() { String::new() } else { format!(" [{}]", text("label")) };
        let last_sync = row["last_sync_ms"].as_i64().map_or("never".to_owned(), super::format_time);
        println!(
            "{}{label}  {}  {mutual}{blocked}, {} records held, last sync {last_sync}",
            text("name"),
            text("publisher"),
            row["records"]
        );
    }
    Ok(())
}

pub(super) fn remove(data: &DataDir, publisher: &str) -> Result<()> {
    if let Some(remote) = Remote::discover(data)? {
        remote.post("/api/v1/partners/remove", &json!({"publisher": publisher}))?;
    } else {
        let (config, key, store) = local(data)?;
        partners::remove(data, &config, &store, &key, publisher)?;
    }
    eprintln!("{} is no longer a partner; its partnership record is withdrawn", publisher.trim());
    Ok(())
}

pub(super) fn block(data: &DataDir, publisher: &str, unblock: bool) -> Result<()> {
    let path = if unblock { "/api/v1/blocks/remove" } else { "/api/v1/blocks" };
    let hex = match Remote::discover(data)? {
        Some(remote) => {
            let answer = remote.post(path, &json!({"publisher": publisher}))?;
            answer[if unblock { "unblocked" } else { "blocked" }].as_str().unwrap_or_default().to_owned()
        }
        None if unblock => partners::unblock(data, publisher)?,
        None => {
            let (_, key, store) = local(data)?;
            partners::block(data, &store, key.publisher(), publisher)?
        }
    };
    if unblock {
        eprintln!("{hex} is no longer blocked");
    } else {
        eprintln!("{hex} is blocked: its records are refused from now on, whatever the trust policy");
    }
    Ok(())
}

pub(super) fn policy(data: &DataDir, policy: Option<&str>) -> Result<()> {
    let remote = Remote::discover(data)?;
    let Some(policy) = policy else {
        let current = match &remote {
            Some(remote) => remote.get("/api/v1/status")?["trust_policy"].as_str().unwrap_or_default().to_owned(),
            None => {
                let (config, key, store) = local(data)?;
                partners::policy(data, &config, &store, key.publisher())?.kind().to_string()
            }
        };
        println!("{current}");
        return Ok(());
    };
    let set = match remote {
        Some(remote) => {
            remote.post("/api/v1/policy", &json!({"policy": policy}))?["policy"].as_str().unwrap_or_default().to_owned()
        }
        None => {
            data.require_initialised()?;
            partners::set_policy(data, policy)?.to_string()
        }
    };
    eprintln!("the trust policy is now {set}");
    Ok(())
}

pub(super) fn set_profile(data: &DataDir, args: ProfileArgs) -> Result<()> {
    let changes = ProfileChanges::from(args);
    let (id, revision, same) = match Remote::discover(data)? {
        Some(remote) => {
            let answer = remote.post("/api/v1/profile", &serde_json::to_value(&changes)?)?;
            let id = answer["id"].as_str().unwrap_or_default().to_owned();
            (id, answer["revision"].as_u64().unwrap_or_default(), false)
        }
        None => {
            let (_, key, store) = local(data)?;
            let published = author::set_profile(&store, &key, changes)?;
            let same = published.previous == Previous::Same;
            (published.record.id().to_string(), published.record.revision(), same)
        }
    };
    if same {
        eprintln!("the profile is unchanged (revision {revision})");
    } else {
        eprintln!("signed profile revision {revision}");
    }
    println!("{id}");
    Ok(())
}

/// `profile set`'s flags: each one given replaces that field; an empty text clears an
/// optional one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProfileArgs {
    /// The organisation's name, shown to other cities.
    #[arg(long = "name")]
    pub name: Option<String>,
    /// Organisation type: local-government, ngo, cbo, municipal-association, network, academic,
    /// national-agency or private.
    #[arg(long = "type")]
    pub organisation_type: Option<String>,
    /// Country, as an ISO 3166-1 alpha-2 code (ID, KE, BR, ...).
    #[arg(long = "country")]
    pub country: Option<String>,
    /// ISO 3166-2 subdivision code (ID-JI); starts with the country.
    #[arg(long = "subdivision")]
    pub subdivision: Option<String>,
    /// City or place name.
    #[arg(long = "place")]
    pub place: Option<String>,
    /// Wikidata item id of the place (Q8678).
    #[arg(long = "wikidata")]
    pub wikidata: Option<String>,
    /// GeoNames id of the place (decimal digits).
    #[arg(long = "geonames")]
    pub geonames: Option<String>,
    /// UN/LOCODE of the place, without the space (IDSUB).
    #[arg(long = "unlocode")]
    pub unlocode: Option<String>,
    /// Website, an https:// or http:// URL.
    #[arg(long = "website")]
    pub website: Option<String>,
    /// Languages the organisation works in, as BCP 47 tags (repeatable; replaces the list).
    #[arg(long = "language", value_name = "TAG")]
    pub languages: Option<Vec<String>>,
    /// Contact: the role to write to ("Head of solid waste unit").
    #[arg(long = "contact-role")]
    pub contact_role: Option<String>,
    /// Contact: how to reach it, a mailto:, tel:, https:// or http:// URI.
    #[arg(long = "contact-channel")]
    pub contact_channel: Option<String>,
    /// Contact: a person's name.
    #[arg(long = "contact-name")]
    pub contact_name: Option<String>,
    /// What the organisation does, in a few sentences.
    #[arg(long = "description")]
    pub description: Option<String>,
}

impl From<ProfileArgs> for ProfileChanges {
    fn from(args: ProfileArgs) -> Self {
        ProfileChanges {
            name: args.name,
            organisation_type: args.organisation_type,
            country: args.country,
            subdivision: args.subdivision,
            place: args.place,
            wikidata: args.wikidata,
            geonames: args.geonames,
            unlocode: args.unlocode,
            website: args.website,
            languages: args.languages,
            contact_role: args.contact_role,
            contact_channel: args.contact_channel,
            contact_name: args.contact_name,
            description: args.description,
        }
    }
}
