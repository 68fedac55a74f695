//! The `citymesh` command line: argument parsing and one function per subcommand. Each command
//! does its work through a [`backend::Backend`] (the running node's API, or the data directory
//! when no node runs), which answers the same typed views either way, and prints them once.

/// `println!` for a command's output, answering a `Result`: when the reader has gone
/// (`citymesh list | head -1`), the command ends quietly instead of panicking.
macro_rules! out {
    () => {
        $crate::cli::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// [`out!`] without the line break.
macro_rules! out_part {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))
    };
}

mod backend;
mod demo;
mod identity;
mod learning;
mod publish;
mod read;
mod remote;
mod transfer;
mod trust;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::datadir::DataDir;
use crate::node::SyncAnswer;
use crate::record::{Kind, PublisherKey, Signer};
use crate::sync::SyncReport;
use crate::view::format_time;
use crate::vocab;
use crate::wire::{Place, Profile};

/// citymesh: a peer-to-peer knowledge-sharing node for cities.
///
/// Each city (or NGO, community organisation, municipal association) runs its own node. The
/// node keeps signed best-practice documents ("practice notes"), shares them with partner
/// cities' nodes, and serves a web page to read, search and publish them. New here? Run
/// `citymesh demo`. To start your own node: `citymesh init --name NAME --country CC`, then
/// `citymesh run` and open http://127.0.0.1:7878/ in a browser.
#[derive(Debug, Parser)]
#[command(name = "citymesh", version, max_term_width = 100)]
pub struct Cli {
    /// Data directory holding keys, settings and the store
    /// [default: ~/.local/share/citymesh, or the platform's data directory]
    #[arg(long, global = true, env = "CITYMESH_HOME", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Three example cities run their own nodes on this machine and share notes live.
    ///
    /// Start here. Each city has its own data directory, keys and node; they connect over
    /// loopback, publish a note each, and the demo prints each note as it arrives elsewhere.
    /// The nodes keep running until Ctrl-C so that you can try the other commands on them (the
    /// demo prints how); the directories stay afterwards. Ignores --data-dir.
    Demo {
        /// Where to put the cities' data directories [default: a new folder in the system's
        /// temporary directory].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Stop as soon as every note has reached every city, instead of at Ctrl-C.
        #[arg(long)]
        once: bool,
    },
    /// Create a data directory: publisher and node keys, config.toml and a signed profile.
    Init(InitArgs),
    /// Run the node: connect to other nodes, receive and pass on notes, serve the local API.
    ///
    /// Runs until Ctrl-C or SIGTERM. While it runs, the other commands on this data directory
    /// go through its API. Logs go to standard error (RUST_LOG sets the level; default info).
    Run(RunArgs),
    /// Catch up now with one connected peer (or all of them) and print what was fetched.
    ///
    /// Needs a running node (`citymesh run`). Nodes also sync by themselves when a peer
    /// connects and every node.sync_interval_secs.
    Sync {
        /// The peer's id (as `citymesh status` lists it); every connected peer when left out.
        peer: Option<String>,
    },
    /// Show the node's state: peer id, addresses, publisher, networks, records, peers.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Sign and store a practice note (or any record its `kind:` names) written in Markdown;
    /// prints its record id.
    ///
    /// The file starts with YAML front matter (slug, title, themes, sdg_targets, status,
    /// country, language, ...) followed by `## Summary`, `## Problem`, ... sections. Publishing
    /// a slug you already published makes its next revision. See README.md, "Writing a note".
    Publish {
        /// The Markdown file.
        file: PathBuf,
        /// Keep what cameras and phones write into photos (EXIF: the GPS position, the device,
        /// the time; XMP). By default it is removed from JPEG and PNG attachments before they
        /// are hashed, so the published photo does not tell where it was taken.
        #[arg(long)]
        keep_photo_metadata: bool,
    },
    /// Withdraw one of your practice notes: a signed revision that replaces it everywhere.
    Withdraw {
        /// Slug of the note.
        slug: String,
        /// Why it is withdrawn, in a sentence (shown to readers).
        #[arg(long)]
        reason: String,
    },
    /// List the current revision of every record held.
    List {
        /// Only records of this kind.
        #[arg(long, value_parser = parse_kind)]
        kind: Option<Kind>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one record, by id or by slug.
    Show {
        /// A record id (64 hex characters) or a practice note's slug.
        target: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// List every revision held of the record.
        #[arg(long)]
        history: bool,
    },
    /// List the files (reports, photos) a record names, and whether each is here.
    Attachments {
        /// A record id (64 hex characters) or a practice note's slug.
        target: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Search the current practice notes by words, with facet filters.
    ///
    /// Several words must all appear (in the title, summary, any section, keywords or place);
    /// "quoted words" must appear together; -word excludes. Accents and case do not matter.
    /// Prints the matches, best first, with a passage around the words, then how many matches
    /// each theme, country, ... has. With no words, lists the newest notes that pass the filters.
    Search(SearchArgs),
    /// Write every record as `<id>.cmr` (exact envelope bytes) and every current note as `<slug>.md`.
    Export {
        /// Directory to write into (created if missing).
        dir: PathBuf,
    },
    /// Verify and store every `<id>.cmr` file in a directory; invalid files are reported and skipped.
    Import {
        /// Directory to read from.
        dir: PathBuf,
    },
    /// Print this node's invite code: one line to send to a city you want to partner with.
    ///
    /// The code names your publisher key, your node's peer id, the addresses it listens on and
    /// your organisation's name, with a checksum so that a mistyped code is caught. The other
    /// city pastes it into `citymesh partner add`.
    Invite {
        /// An address other nodes can reach this one at, instead of those it listens on
        /// (repeatable), such as /dns4/node.example.org/tcp/7879. Needed when no node runs.
        #[arg(long = "address", value_name = "MULTIADDR")]
        addresses: Vec<String>,
    },
    /// Add, list and remove partners: the publishers whose records this node keeps under the
    /// `partners` trust policies.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
    },
    /// Refuse a publisher's records from now on, under every trust policy, partner or not.
    Block {
        /// The publisher key (64 hex characters).
        publisher: String,
    },
    /// Accept a blocked publisher's records again (as the trust policy decides).
    Unblock {
        /// The publisher key (64 hex characters).
        publisher: String,
    },
    /// Show the trust policy, or change it: open, partners, or partners+N (N from 1 to 3).
    ///
    /// open keeps any valid record; partners keeps only your partners' records (and yours);
    /// partners+N also keeps the partners their partnership records name, up to N hops. A
    /// change takes effect at once on a running node and is kept in partners.json, where it
    /// overrides trust.policy in config.toml.
    Policy {
        /// The new policy; shows the current one when left out.
        policy: Option<String>,
    },
    /// Show or change who signs for your organisation: its governance keys, the operator keys
    /// of staff and machines (each with the kinds it may sign and an expiry), and revoked keys.
    ///
    /// A data directory from before identities has none: its one key signs for it. The first
    /// change starts the identity with that key as its governance key and an operator. Partners'
    /// nodes refuse records signed by a key the identity does not list, or lists for other kinds,
    /// or that expired or was revoked.
    Identity {
        #[command(subcommand)]
        command: identity::IdentityCommand,
    },
    /// Change this node's public profile (name, type, place, website, languages, contact).
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Ask other cities for expertise: publish, list, show, close your requests.
    ///
    /// A request says what your city needs, its themes and SDG targets, the formats wanted
    /// (study visit, expert mission, staff exchange, training, webinar, remote advice,
    /// documents, twinning), the languages it can be held in, when, where help is preferred
    /// from, and who covers costs. `citymesh match SLUG` ranks what answers it.
    Request {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// Offer your organisation's expertise: publish, list, show, close offers.
    Offer {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// Seminars, trainings, conferences, webinars, workshops, visits and exchanges: publish,
    /// list, show, cancel. Each has an .ics file, and GET /api/v1/events.ics is a calendar feed.
    Event {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// Your side of a transfer of a practice with another organisation, and the stages it
    /// reached. It shows as confirmed once the other side publishes its own naming you for the
    /// same practice.
    Engagement {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// What came of one of your engagements: indicators (baseline, target, actual), results,
    /// lessons, evidence.
    Outcome {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// Vouch for another organisation's practice or outcome (you visited it, applied it or
    /// verified its results).
    Endorse {
        #[command(subcommand)]
        command: learning::WrittenCommand,
    },
    /// Rank what answers one of the requests held (offers, practice notes, organisations), or
    /// which open requests an offer answers, each with its reasons.
    ///
    /// A match needs a language both sides work in and a theme or SDG target in common; the
    /// score adds formats, nearness (same country, then UN M49 sub-region, then region),
    /// evidence (cities that adopted the practice, outcomes, endorsements) and recency.
    Match {
        /// The request or offer: its slug, record id or publisher/slug.
        target: String,
        /// Matches in each list, 1 to 100.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Make the publisher of an invite code a partner: keep its records, remember and dial its
    /// addresses, sign a partnership record naming it, and fetch its records.
    Add {
        /// The invite code (`citymesh invite` prints one); spaces and line breaks are ignored.
        code: String,
        /// Your own name for this partner, shown in `partner list`.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List partners: name, key, whether the partnership is mutual, records held, last sync.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// End a partnership made with an invite code (its partnership record is withdrawn).
    Remove {
        /// The partner's publisher key (64 hex characters).
        publisher: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Sign a new revision of the profile with the fields given; the others stay as they are.
    Set(Box<trust::ProfileArgs>),
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The words to look for.
    pub words: Vec<String>,
    /// Only notes with this theme (see README.md, "Themes"). Each filter may be given more than
    /// once: then any of its values matches.
    #[arg(long)]
    pub theme: Vec<String>,
    /// Only notes naming this SDG target, such as 11.6.
    #[arg(long)]
    pub sdg: Vec<String>,
    /// Only notes from this country (ISO 3166-1 alpha-2 code, such as ID).
    #[arg(long)]
    pub country: Vec<String>,
    /// Only notes written in this language (BCP 47 tag, such as en or pt-BR).
    #[arg(long)]
    pub language: Vec<String>,
    /// Only notes by this publisher (key, 64 hex characters).
    #[arg(long)]
    pub publisher: Vec<String>,
    /// Only notes with this status: planned, ongoing, completed or discontinued (requests,
    /// offers and events have theirs, such as open or scheduled).
    #[arg(long)]
    pub status: Vec<String>,
    /// Search records of this kind instead of practice notes: request, offer, event,
    /// engagement, outcome or endorsement (repeatable; practice to include notes again).
    #[arg(long)]
    pub kind: Vec<String>,
    /// Matches to print, 1 to 100.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Listen on this multiaddr instead of node.listen (repeatable), such as /ip4/0.0.0.0/tcp/7879.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Also connect to this node (repeatable): a multiaddr ending in /p2p/<peer id>.
    #[arg(long, value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Serve the API on this address instead of api.listen, such as 127.0.0.1:7878 (port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub api: Option<std::net::SocketAddr>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Your organisation's name, shown to other cities (such as "Surabaya City Government").
    #[arg(long)]
    pub name: Option<String>,
    /// Your country, as an ISO 3166-1 alpha-2 code (ID, KE, BR, ...).
    #[arg(long, value_parser = parse_country)]
    pub country: Option<String>,
    /// Organisation type: local-government, ngo, cbo, municipal-association, network,
    /// academic, national-agency or private.
    #[arg(long = "type", default_value = "local-government", value_parser = parse_organisation_type)]
    pub organisation_type: String,
    /// Your city or place name (needs --country).
    #[arg(long, requires = "country")]
    pub place: Option<String>,
    /// Start without an identity log, as data directories made before identities: the key
    /// alone signs for the organisation until the first `citymesh identity` change, and no
    /// recovery key is made.
    #[arg(long)]
    pub without_identity: bool,
    /// Make this a data directory for an operator of an existing organisation (a staff
    /// member's laptop, a second node) instead of a new organisation: its new key signs for
    /// the organisation once one of the organisation's officers adds it
    /// (`citymesh identity add-operator KEY` on the organisation's node). Give the
    /// organisation's key, 64 hex characters.
    #[arg(long, value_name = "KEY", conflicts_with_all = ["name", "country", "place", "without_identity"])]
    pub operator_of: Option<String>,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    text.parse().map_err(|_| format!("unknown kind {text:?}; kinds are: {}", Kind::names()))
}

fn parse_country(text: &str) -> Result<String, String> {
    let code = text.to_ascii_uppercase();
    if vocab::is_country(&code) {
        Ok(code)
    } else {
        Err(format!("{text:?} is not an ISO 3166-1 alpha-2 country code (such as ID, KE or BR)"))
    }
}

fn parse_organisation_type(text: &str) -> Result<String, String> {
    if vocab::is_organisation_type(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("allowed: {}", vocab::ORGANISATION_TYPES.join(", ")))
    }
}

/// Runs one command.
/// Writes a command's output; see [`out!`].
fn write_out(text: std::fmt::Arguments) -> std::io::Result<()> {
    use std::io::Write;
    std::io::stdout().lock().write_fmt(text)
}

/// Whether an error is only that whoever read the output stopped reading (a closed pipe),
/// which is no failure of the command.
pub fn reader_gone(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn run(cli: Cli) -> Result<()> {
    let Cli { data_dir, command } = cli;
    if std::io::stderr().is_terminal() {
        crate::store::report_progress_to(transfer::progress_reporter());
    }
    let data = || -> Result<DataDir> {
        match &data_dir {
            Some(dir) => Ok(DataDir::new(dir)),
            None => DataDir::default_path()
                .map(DataDir::new)
                .context("cannot find a home directory: pass --data-dir or set CITYMESH_HOME"),
        }
    };
    match command {
        Command::Init(args) => init(&data()?, args),
        Command::Run(args) => run_node(data()?, args),
        Command::Status { json } => read::status(&data()?, json),
        Command::Sync { peer } => sync_now(&data()?, peer),
        Command::Publish { file, keep_photo_metadata } => publish::publish(&data()?, &file, keep_photo_metadata),
        Command::Withdraw { slug, reason } => publish::withdraw(&data()?, &slug, &reason),
        Command::List { kind, json } => read::list(&data()?, kind, json),
        Command::Show { target, json, history } => read::show(&data()?, &target, json, history),
        Command::Attachments { target, json } => read::attachments(&data()?, &target, json),
        Command::Search(args) => read::search(&data()?, args),
        Command::Export { dir } => transfer::export(&data()?, &dir),
        Command::Import { dir } => transfer::import(&data()?, &dir),
        Command::Demo { dir, once } => demo::run(dir, once),
        Command::Invite { addresses } => trust::invite(&data()?, &addresses),
        Command::Partner { command: PartnerCommand::Add { code, label } } => trust::add(&data()?, &code, &label),
        Command::Partner { command: PartnerCommand::List { json } } => trust::list(&data()?, json),
        Command::Partner { command: PartnerCommand::Remove { publisher } } => trust::remove(&data()?, &publisher),
        Command::Block { publisher } => trust::block(&data()?, &publisher, false),
        Command::Policy { policy } => trust::policy(&data()?, policy.as_deref()),
        Command::Unblock { publisher } => trust::block(&data()?, &publisher, true),
        Command::Profile { command: ProfileCommand::Set(changes) } => trust::set_profile(&data()?, *changes),
        Command::Identity { command } => identity::run(&data()?, command),
        Command::Request { command } => learning::run(&data()?, Kind::Request, command),
        Command::Offer { command } => learning::run(&data()?, Kind::Offer, command),
        Command::Event { command } => learning::run(&data()?, Kind::Event, command),
        Command::Engagement { command } => learning::run(&data()?, Kind::Engagement, command),
        Command::Outcome { command } => learning::run(&data()?, Kind::Outcome, command),
        Command::Endorse { command } => learning::run(&data()?, Kind::Endorsement, command),
        Command::Match { target, limit, json } => learning::matches(&data()?, &target, usize::from(limit), json),
    }
}

/// The name a profile gets when `init` is given none.
const UNNAMED: &str = "Unnamed organisation";

fn init(data: &DataDir, args: InitArgs) -> Result<()> {
    if let Some(organisation) = &args.operator_of {
        let organisation = organisation.trim().parse().map_err(|_| {
            anyhow::anyhow!("--operator-of {organisation:?} is not an organisation's key; give its 64 hex characters")
        })?;
        let (signer, _) = data.initialise_operator(organisation)?;
        out!("{}", signer.key().publisher())?;
        eprintln!(
            "initialised {} as an operator of organisation {organisation}. Ask one of its officers to add the key \
             above on the organisation's node: `citymesh identity add-operator {} --label \"...\"`; once this node \
             holds that revision (it arrives by sync, or `citymesh import`), what you publish here is the \
             organisation's.",
            data.root().display(),
            signer.key().publisher()
        );
        return Ok(());
    }
    let place = args.country.map(|country| Place { country, name: args.place.unwrap_or_default(), ..Place::default() });
    let named = args.name.is_some();
    let name = args.name.unwrap_or_else(|| UNNAMED.to_owned());
    let profile = Profile { name, organisation_type: args.organisation_type, place, ..Profile::default() };
    let (key, store) = data.initialise(profile)?;
    out!("{}", key.publisher())?;
    eprintln!("initialised {} for publisher {}", data.root().display(), key.publisher());
    if !args.without_identity {
        // The identity's first revision: this key governs and operates, committed to a new
        // recovery key that is shown once and never stored.
        let recovery = PublisherKey::generate();
        let commit = crate::organisation::Change::SetRecovery { key: recovery.publisher().to_string() };
        crate::organisation::change(&store, &Signer::own(key), commit, crate::author::now_ms())?;
        store.flush()?;
        eprintln!(
            "\nYour organisation's identity is made: this node's key governs it and signs for it. Its recovery \
             key, shown this once as 24 words, replaces lost governance keys if they are ever lost. Write the \
             words down or print them, and lock them away off this computer:\n\n    {}\n\nLater, add your \
             officials' keys so that several of them govern the identity: `citymesh identity rotate --help`.\n",
            crate::organisation::recovery_words(&recovery)
        );
    }
    if !named {
        eprintln!(
            "No --name was given, so partners see \"{UNNAMED}\". Give your organisation's name with \
             `citymesh profile set --name \"Your City\"`."
        );
    }
    eprintln!("Next: `citymesh run` starts the node; it prints the address of its web page.");
    Ok(())
}

fn sync_now(data: &DataDir, peer: Option<String>) -> Result<()> {
    let answers = backend::Backend::open(data)?.sync(peer)?;
    if answers.is_empty() {
        eprintln!("no peers connected; nothing to sync with");
    }
    for answer in answers {
        match answer {
            SyncAnswer::Done(report) => out!("{}: {}", report.peer, sync_outcome(&report))?,
            SyncAnswer::Busy { peer, error } => out!("{peer}: failed: {error}")?,
        }
    }
    Ok(())
}

/// How one sync went, in a line.
fn sync_outcome(report: &SyncReport) -> String {
    match &report.error {
        Some(error) => format!("failed: {error}"),
        None => format!(
            "fetched {} records in {} rounds ({} bytes sent, {} received, {} ms)",
            report.fetched, report.rounds, report.bytes_sent, report.bytes_received, report.duration_ms
        ),
    }
}

fn run_node(data: DataDir, args: RunArgs) -> Result<()> {
    let options = crate::daemon::RunOptions { listen: args.listen, bootstrap: args.bootstrap, api_listen: args.api };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(crate::daemon::run(data, options))
}
