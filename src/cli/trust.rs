//! `invite`, `partner add|list|remove`, `block`, `unblock`, `policy` and `profile set`:
//! through the running node's API when one runs (so they take effect at once), else on the
//! data directory.

use anyhow::Result;

use super::backend::Backend;
use super::read::print_json;
use crate::author::{Previous, ProfileChanges};
use crate::datadir::DataDir;

pub(super) fn invite(data: &DataDir, addresses: &[String]) -> Result<()> {
    let backend = Backend::open_initialised(data)?;
    let invite = backend.invite(addresses)?;
    out!("{}", invite.code)?;
    if backend.is_running() {
        eprintln!(
            "Send this line to a partner; they run `citymesh partner add <code>`. It names {} and these addresses:",
            invite.name
        );
        for address in &invite.addresses {
            eprintln!("    {address}");
        }
    }
    let loopback = |address: &String| address.starts_with("/ip4/127.") || address.starts_with("/ip6/::1/");
    if !invite.addresses.is_empty() && invite.addresses.iter().all(loopback) {
        eprintln!(
            "warning: the code names only loopback addresses (127.0.0.1), which reach this computer alone: a \
             partner elsewhere cannot connect with it. Run the node on an address others can reach (the default \
             --listen /ip4/0.0.0.0/tcp/7879), or name one with --address /ip4/PUBLIC-IP/tcp/7879."
        );
    }
    Ok(())
}

pub(super) fn add(data: &DataDir, code: &str, label: &str) -> Result<()> {
    let backend = Backend::open_initialised(data)?;
    let added = backend.add_partner(code, label)?;
    if backend.is_running() {
        eprintln!(
            "{} ({}) is now a partner; dialled {} address(es), and a sync of its records has started",
            added.name,
            added.publisher,
            added.dialled.len()
        );
    } else {
        eprintln!(
            "{} ({}) is now a partner; the node will connect to it and fetch its records when it runs",
            added.name, added.publisher
        );
    }
    Ok(())
}

pub(super) fn list(data: &DataDir, as_json: bool) -> Result<()> {
    let rows = Backend::open_initialised(data)?.partners()?;
    if as_json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        eprintln!("no partners yet: ask a city for its `citymesh invite` line and run `citymesh partner add <code>`");
    }
    for row in rows {
        let partner = &row.partner;
        let mutual = if partner.mutual { "mutual" } else { "one-way" };
        let blocked = if partner.blocked { ", BLOCKED" } else { "" };
        let label = if partner.label.is_empty() { String::new() } else { format!(" [{}]", partner.label) };
        let last_sync = row.last_sync_ms.map_or("never".to_owned(), super::format_time);
        out!(
            "{}{label}  {}  {mutual}{blocked}, {} records held, last sync {last_sync}",
            partner.name,
            partner.publisher,
            partner.records
        )?;
    }
    Ok(())
}

pub(super) fn remove(data: &DataDir, publisher: &str) -> Result<()> {
    Backend::open_initialised(data)?.remove_partner(publisher)?;
    eprintln!("{} is no longer a partner; its partnership record is withdrawn", publisher.trim());
    Ok(())
}

pub(super) fn block(data: &DataDir, publisher: &str, unblock: bool) -> Result<()> {
    let hex = Backend::open_initialised(data)?.block(publisher, unblock)?;
    if unblock {
        eprintln!("{hex} is no longer blocked");
    } else {
        eprintln!("{hex} is blocked: its records are refused from now on, whatever the trust policy");
    }
    Ok(())
}

pub(super) fn policy(data: &DataDir, policy: Option<&str>) -> Result<()> {
    let backend = Backend::open_initialised(data)?;
    match policy {
        None => out!("{}", backend.policy()?)?,
        Some(policy) => eprintln!("the trust policy is now {}", backend.set_policy(policy)?),
    }
    Ok(())
}

pub(super) fn set_profile(data: &DataDir, args: ProfileArgs) -> Result<()> {
    let published = Backend::open_initialised(data)?.set_profile(&ProfileChanges::from(args))?;
    if published.previous == Previous::Same {
        eprintln!("the profile is unchanged (revision {})", published.revision);
    } else {
        eprintln!("signed profile revision {}", published.revision);
    }
    out!("{}", published.id)?;
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
    /// Latitude of the place in decimal degrees (-7.2575; south is negative), with --longitude.
    #[arg(long = "latitude", allow_hyphen_values = true)]
    pub latitude: Option<String>,
    /// Longitude of the place in decimal degrees (112.7521; west is negative), with --latitude.
    #[arg(long = "longitude", allow_hyphen_values = true)]
    pub longitude: Option<String>,
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
            latitude: args.latitude,
            longitude: args.longitude,
            website: args.website,
            languages: args.languages,
            contact_role: args.contact_role,
            contact_channel: args.contact_channel,
            contact_name: args.contact_name,
            description: args.description,
        }
    }
}
