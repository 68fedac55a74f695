//! `request`, `offer`, `event`, `engagement`, `outcome` and `endorse`: write, list, show,
//! close or cancel the records of city-to-city learning; and `match`, which ranks what answers
//! a request (or what an offer answers), with the reasons.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::backend::Backend;
use super::read::print_json;
use crate::archive::{MatchAnswer, MatchView};
use crate::datadir::DataDir;
use crate::record::Kind;

/// What each of the six commands does with its kind.
#[derive(Debug, Subcommand)]
pub enum WrittenCommand {
    /// Sign and store one written in Markdown: front matter (slug, kind, title, ...) then
    /// `## Heading` sections. `citymesh KIND show SLUG` prints one in that form; see README.md,
    /// "Requests, offers, events and transfers". Publishing a slug again makes its next revision.
    Publish {
        /// The Markdown file.
        file: PathBuf,
    },
    /// Sign one from fields given here: `--set title="..." --set themes=solid-waste,housing`.
    ///
    /// A field is named by its front matter key or section heading (run with a wrong name to
    /// see them all). Lists take items separated by commas; a contact (and other rows) takes
    /// its parts separated by `|`, such as `--set "contact=Head of waste unit|mailto:w@city.example|Ana"`,
    /// once per row.
    New {
        /// Its slug: 1 to 64 of a-z, 0-9 and '-'.
        slug: String,
        #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
        set: Vec<String>,
    },
    /// List those held, yours and other publishers'.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one, by slug, record id or publisher/slug.
    Show {
        target: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Close one of your requests or offers (it stays readable, marked closed).
    Close { slug: String },
    /// Cancel one of your events (calendars that subscribed show it cancelled).
    Cancel { slug: String },
    /// Set the status of one of your requests, offers or events to any allowed value.
    Status {
        slug: String,
        /// request: open, in-progress, closed; offer: open, paused, closed; event: scheduled,
        /// postponed, cancelled, held.
        status: String,
    },
    /// Withdraw one of yours: a signed revision that replaces it everywhere.
    Withdraw {
        slug: String,
        /// Why, in a sentence (shown to readers).
        #[arg(long)]
        reason: String,
    },
}

pub(super) fn run(data: &DataDir, kind: Kind, command: WrittenCommand) -> Result<()> {
    match command {
        WrittenCommand::Publish { file } => publish_file(data, kind, &file),
        WrittenCommand::New { slug, set } => new(data, kind, &slug, &set),
        WrittenCommand::List { json } => super::read::list(data, Some(kind), json),
        WrittenCommand::Show { target, json } => super::read::show(data, &target, json, false),
        WrittenCommand::Close { slug } => match kind {
            Kind::Request | Kind::Offer => status(data, kind, &slug, "closed"),
            Kind::Event => bail!("events are cancelled, not closed: `citymesh event cancel {slug}`"),
            _ => bail!("only requests and offers are closed"),
        },
        WrittenCommand::Cancel { slug } => match kind {
            Kind::Event => status(data, kind, &slug, "cancelled"),
            Kind::Request | Kind::Offer => bail!("requests and offers are closed: `citymesh {kind} close {slug}`"),
            _ => bail!("only events are cancelled"),
        },
        WrittenCommand::Status { slug, status: value } => status(data, kind, &slug, &value),
        WrittenCommand::Withdraw { slug, reason } => {
            if reason.trim().is_empty() {
                bail!("--reason is required: say in a sentence why it is withdrawn (readers see it)");
            }
            let withdrawal = Backend::open_initialised(data)?.withdraw_kind(kind, &slug, &reason)?;
            eprintln!("withdrew {kind} {slug} (revision {})", withdrawal.revision);
            out!("{}", withdrawal.id)?;
            Ok(())
        }
    }
}

fn publish_file(data: &DataDir, kind: Kind, file: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let said = crate::markdown::kind_of(&text).map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    if said != kind {
        bail!(
            "{}: its front matter says kind {said}, not {kind}; add `kind: {kind}` to it, or publish it with `citymesh publish`",
            file.display()
        );
    }
    super::publish::publish(data, file, false)
}

fn new(data: &DataDir, kind: Kind, slug: &str, set: &[String]) -> Result<()> {
    let mut pairs = Vec::with_capacity(set.len());
    for pair in set {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--set {pair:?} is not FIELD=VALUE, such as --set title=\"Help with composting\"");
        };
        pairs.push((name.to_owned(), value.to_owned()));
    }
    let markdown = crate::markdown::from_pairs(kind, slug, &pairs)?;
    data.require_initialised()?;
    let published = Backend::open(data)?.publish(&markdown)?;
    super::publish::report(&published);
    out!("{}", published.id)?;
    Ok(())
}

fn status(data: &DataDir, kind: Kind, slug: &str, status: &str) -> Result<()> {
    let published = Backend::open_initialised(data)?.set_status(kind, slug, status)?;
    eprintln!("{kind} {slug} is now {status} (revision {})", published.revision);
    out!("{}", published.id)?;
    Ok(())
}

/// `citymesh match TARGET`: what answers a request, or what an offer answers.
pub(super) fn matches(data: &DataDir, target: &str, limit: usize, json: bool) -> Result<()> {
    let answer = Backend::open(data)?.matches(target, limit, false)?;
    if json {
        return print_json(&answer);
    }
    print_matches(&answer)
}

fn print_matches(answer: &MatchAnswer) -> Result<()> {
    out!("{} {}: {}", answer.kind, answer.slug, answer.title)?;
    let lists: [(&str, &[MatchView]); 4] = [
        ("Offers", &answer.offers),
        ("Practice notes", &answer.practices),
        ("Organisations", &answer.organisations),
        ("Open requests", &answer.requests),
    ];
    let mut any = false;
    for (heading, matches) in lists {
        if matches.is_empty() {
            continue;
        }
        any = true;
        out!("\n{heading}:")?;
        for (rank, found) in matches.iter().enumerate() {
            let what = if found.kind == "profile" {
                found.publisher.clone()
            } else {
                format!("{}/{}", found.publisher, found.slug)
            };
            if found.kind == "profile" {
                out!("{:>3}. {}  (score {})", rank + 1, found.title, found.score)?;
            } else {
                out!("{:>3}. {}  ({}, score {})", rank + 1, found.title, found.name, found.score)?;
            }
            out!("     {}", found.reasons.join("; "))?;
            out!("     {what}")?;
        }
    }
    if !any {
        eprintln!(
            "nothing held matches yet: a match needs a shared language and a theme or SDG target in common; \
             offers and notes arrive from partners as they publish"
        );
    }
    Ok(())
}
