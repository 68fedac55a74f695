//! `identity show|add-operator|renew|remove-operator|rotate|sign|submit|new-key`: who signs for
//! the organisation, through the running node's API when one runs (so the revision is gossiped
//! at once), else on the data directory (partners receive the revision at the next sync). A
//! revision that needs several officials' signatures is written to a file that passes from one
//! official's machine to the next (`identity sign`), then handed to the node (`identity submit`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::backend::Backend;
use super::read::print_json;
use crate::datadir::{DataDir, read_key_file, write_key_file};
use crate::organisation::{Change, DEFAULT_DAYS, IdentityView};
use crate::record::{Kind, PublisherKey, Record};
use crate::view::format_time;

#[derive(Debug, clap::Subcommand)]
pub enum IdentityCommand {
    /// Show the identity: governance keys and threshold, operators with what they may sign and
    /// until when, revoked keys, and every revision held with the partners that witnessed it.
    Show {
        /// Another organisation's identity, as this node holds it (its key, 64 hex characters).
        #[arg(long, value_name = "KEY")]
        organisation: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Let another key sign for the organisation: a staff member's laptop, a second node.
    ///
    /// The key's holder makes it with their own citymesh (`citymesh init` in their data
    /// directory prints it) and sends you the public key, never the secret one.
    AddOperator {
        /// The operator's public key, 64 hex characters.
        key: String,
        /// Who or what holds it, as partners will see it ("Dewi's laptop").
        #[arg(long)]
        label: String,
        /// The kinds it may sign, comma-separated (practice, request, offer, event, ...);
        /// every kind when left out.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Days it stays valid, 1 to 396 (13 months); renew it before then.
        #[arg(long, default_value_t = DEFAULT_DAYS)]
        days: u32,
        #[command(flatten)]
        out: Out,
    },
    /// Extend an operator key's validity (the node renews its own key by itself).
    Renew {
        /// The operator's public key, 64 hex characters.
        key: String,
        /// Days from now it stays valid, 1 to 396.
        #[arg(long, default_value_t = DEFAULT_DAYS)]
        days: u32,
        #[command(flatten)]
        out: Out,
    },
    /// Take an operator key out of service: retired (a person left, a machine was replaced:
    /// what it signed stays valid) or compromised (lost or stolen: what it signed from --since-ms
    /// on is refused and removed at every node).
    RemoveOperator {
        /// The operator's public key, 64 hex characters.
        key: String,
        /// retired or compromised.
        #[arg(long)]
        reason: String,
        /// For a compromised key: from when its records are refused, as milliseconds since
        /// 1970 (default: now). Give the time the key may first have been in other hands.
        #[arg(long)]
        since_ms: Option<i64>,
        #[command(flatten)]
        out: Out,
    },
    /// Replace the governance keys (the officials who sign changes to the identity) and how
    /// many of them must sign, e.g. three officials, two of whom must sign.
    ///
    /// The current governance keys sign the change: this node's key if it is one, the others
    /// by `identity sign` on their own machines. Each official makes a key with
    /// `citymesh identity new-key FILE` and keeps it off the server.
    Rotate {
        /// The new governance keys (public keys, 64 hex characters), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        governance: Vec<String>,
        /// How many of them must sign each later change (1 to their number); a majority when
        /// left out (2 of 3, 3 of 5).
        #[arg(long)]
        threshold: Option<u32>,
        #[command(flatten)]
        out: Out,
    },
    /// Add your signature to a partly signed identity revision (a file from `rotate` or any
    /// other change that needs several officials): on your own machine with your own key, or
    /// several officials at one machine, each giving their key (`--key A --key B`).
    #[command(alias = "cosign")]
    Sign {
        /// The revision file; it is rewritten with the signatures added.
        file: PathBuf,
        /// A key file (from `identity new-key`); give it once per official signing here.
        #[arg(long, required = true)]
        key: Vec<PathBuf>,
    },
    /// Hand a revision signed by enough officials to the node, which stores and gossips it.
    Submit {
        /// The revision file.
        file: PathBuf,
    },
    /// Make the organisation's recovery key and commit the identity to it. It is printed once,
    /// as 24 words: write them down or print them and lock them away. After a contest window
    /// of 7 days they can replace governance keys that were lost.
    RecoveryKey {
        /// Also write the key to this file (only you can read it), e.g. on a USB stick.
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        out: Out,
    },
    /// Name your city's website in the identity. Serve the organisation's key (`citymesh
    /// status` prints it as "publisher") as the first line of
    /// https://DOMAIN/.well-known/citymesh: running nodes, yours and your partners', that find it
    /// there show the identity as "domain verified". `""` removes the domain.
    SetDomain {
        /// The website's domain name, such as surabaya.go.id.
        domain: String,
        #[command(flatten)]
        out: Out,
    },
    /// Erase superseded revisions of your organisation's records (personal data in an old
    /// contact, say): every partner's node drops their bodies, keeps their headers and
    /// signatures, refuses the bodies if offered again, and confirms with a receipt;
    /// `identity show` says at how many partners' nodes it was done.
    ///
    /// Publish a new revision without the data first: the current revision cannot be erased.
    /// An erasure cannot be undone.
    Erase {
        /// The ids of the revisions to erase (`citymesh show SLUG --history` lists them).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Why, in words partners will see ("personal data in contacts").
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Replace lost governance keys with the recovery key. Partners' nodes apply the revision
    /// 7 days after they receive it, unless the current governance keys sign a change first
    /// (then it is cancelled), and show it loudly meanwhile.
    Recover {
        /// The 24 recovery words, in quotes.
        #[arg(long, required_unless_present = "recovery_key", conflicts_with = "recovery_key")]
        words: Option<String>,
        /// A file holding the recovery words or the key (from `identity recovery-key --file`).
        #[arg(long)]
        recovery_key: Option<PathBuf>,
        /// The new governance keys (public keys, 64 hex characters), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        governance: Vec<String>,
        /// How many of them must sign each later change.
        #[arg(long)]
        threshold: u32,
        #[command(flatten)]
        out: Out,
    },
    /// Make a new key for an official, in a file only you can read; prints its public key.
    /// Keep the file on your own computer or a USB stick, not on the server.
    NewKey {
        /// Where to write it; an existing file is never overwritten.
        file: PathBuf,
    },
}

/// Where a revision that needs other officials' signatures is written.
#[derive(Debug, clap::Args)]
pub struct Out {
    /// The file for a revision that other officials must sign too (default:
    /// identity-revision-N.cmr in the current directory).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(super) fn run(data: &DataDir, command: IdentityCommand) -> Result<()> {
    // `recovery-key` prints its words on standard output, and nothing else there.
    let prints_words = matches!(command, IdentityCommand::RecoveryKey { .. });
    let (change, out) = match command {
        IdentityCommand::Recover { words, recovery_key, governance, threshold, out } => {
            let key = match (words, recovery_key) {
                (Some(words), _) => crate::organisation::recovery_key_from_words(&words)?,
                (None, Some(file)) => recovery_key_file(&file)?,
                (None, None) => bail!("give the recovery words (--words \"...\") or the file that holds them"),
            };
            return recover(data, &key, &governance, threshold, out);
        }
        IdentityCommand::RecoveryKey { file, out } => {
            let key = PublisherKey::generate();
            if let Some(file) = &file {
                write_key_file(file, &key)?;
            }
            out!("{}", crate::organisation::recovery_words(&key))?;
            eprintln!(
                "These 24 words are the organisation's recovery key, shown this once. Write them down or print \
                 them and lock them away, off this computer: whoever holds them can replace your governance keys \
                 if your officials do not answer within 7 days."
            );
            (Change::SetRecovery { key: key.publisher().to_string() }, out)
        }
        IdentityCommand::Sign { file, key } => return sign(&file, &key),
        IdentityCommand::NewKey { file } => return new_key(&file),
        IdentityCommand::Submit { file } => return submit(data, &file),
        IdentityCommand::Erase { ids, reason } => {
            let backend = Backend::open_initialised(data)?;
            let (id, records) = backend.erase(ids, &reason)?;
            out!("{id}")?;
            let delivery = match backend.is_running() {
                true => "gossiped to partners, whose nodes drop those bodies and confirm with a receipt",
                false => "partners receive it when the node next syncs",
            };
            eprintln!(
                "signed an erasure of {records} revision{}; {delivery}. `citymesh identity show` says where it was done.",
                if records == 1 { "" } else { "s" }
            );
            return Ok(());
        }
        IdentityCommand::Show { organisation, json } => {
            let own = organisation.is_none();
            let view = Backend::open_initialised(data)?.identity(organisation)?;
            return if json { print_json(&view) } else { show(&view, own) };
        }
        IdentityCommand::AddOperator { key, label, scopes, days, out } => {
            (Change::AddOperator { key, label, scopes, days: Some(days) }, out)
        }
        IdentityCommand::Renew { key, days, out } => (Change::Renew { key, days: Some(days) }, out),
        IdentityCommand::RemoveOperator { key, reason, since_ms, out } => {
            (Change::RemoveOperator { key, reason, since_ms }, out)
        }
        IdentityCommand::Rotate { governance, threshold, out } => {
            let threshold = threshold.unwrap_or(governance.len() as u32 / 2 + 1);
            (Change::Rotate { governance, threshold }, out)
        }
        IdentityCommand::SetDomain { domain, out } => (Change::SetDomain { domain }, out),
    };
    let backend = Backend::open_initialised(data)?;
    let changed = backend.change_identity(change)?;
    if !prints_words {
        out!("{}", changed.id)?;
    }
    let Some((envelope, signed, needed)) = changed.unsigned else {
        let delivery = match backend.is_running() {
            true => "gossiped to partners",
            false => "partners receive it when the node next syncs",
        };
        eprintln!("signed revision {} of the organisation's identity; {delivery}", changed.revision);
        return Ok(());
    };
    let file = out.out.unwrap_or_else(|| PathBuf::from(format!("identity-revision-{}.cmr", changed.revision)));
    write_new(&file, &envelope)?;
    eprintln!(
        "revision {} needs {needed} governance signatures and has {signed}: it is in {}. Each official runs \
         `citymesh identity sign {} --key THEIR-KEY-FILE`; then `citymesh identity submit {}` hands it to the node.",
        changed.revision,
        file.display(),
        file.display(),
        file.display()
    );
    Ok(())
}

/// A recovery key from a file of words or a key file.
fn recovery_key_file(file: &Path) -> Result<PublisherKey> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8_lossy(&text);
    if text.split_whitespace().count() > 1 {
        return Ok(crate::organisation::recovery_key_from_words(&text)?);
    }
    read_key_file(file)
}

fn recover(data: &DataDir, key: &PublisherKey, governance: &[String], threshold: u32, out: Out) -> Result<()> {
    let backend = Backend::open_initialised(data)?;
    let head = backend.identity_head()?.context("the organisation has no identity log, so nothing to recover")?;
    let record = crate::organisation::recovery(&head, key, governance, threshold, crate::author::now_ms())?;
    let file = out.out.unwrap_or_else(|| PathBuf::from(format!("identity-recovery-{}.cmr", record.revision())));
    write_new(&file, &record.envelope_bytes())?;
    out!("{}", record.id())?;
    eprintln!(
        "wrote recovery revision {} to {}. `citymesh identity submit {}` hands it to a node; partners apply it 7 \
         days after they receive it unless the current officials sign a change before then.",
        record.revision(),
        file.display(),
        file.display()
    );
    Ok(())
}

/// A partly signed revision read from its file, verified as a record.
fn revision_file(file: &Path) -> Result<Record> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let record = crate::record::verify(&bytes, crate::author::now_ms())
        .with_context(|| format!("{} is not a valid signed record", file.display()))?;
    if record.kind() != Kind::Identity {
        bail!("{} holds a {}, not an identity revision", file.display(), record.kind());
    }
    Ok(record)
}

fn sign(file: &Path, keys: &[PathBuf]) -> Result<()> {
    let mut signed = revision_file(file)?;
    for key in keys {
        let key: PublisherKey = read_key_file(key)?;
        signed = signed.cosigned(&key)?;
        out!("{}", key.publisher())?;
    }
    let temporary = file.with_extension("cmr.partial");
    std::fs::write(&temporary, signed.envelope_bytes())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, file).with_context(|| format!("cannot replace {}", file.display()))?;
    let signers: Vec<String> = signed.signers().iter().map(ToString::to_string).collect();
    eprintln!(
        "signed revision {} of {}'s identity; it now carries {} signature(s): {}",
        signed.revision(),
        signed.publisher(),
        signers.len(),
        signers.join(", ")
    );
    Ok(())
}

fn submit(data: &DataDir, file: &Path) -> Result<()> {
    let record = revision_file(file)?;
    let backend = Backend::open_initialised(data)?;
    match backend.import(vec![record.envelope_bytes()])?.into_iter().next() {
        Some(crate::archive::ImportResult::Rejected { detail, .. }) => {
            bail!("the node refused revision {}: {detail}", record.revision())
        }
        _ => {
            out!("{}", record.id())?;
            let view = backend.identity(None)?;
            match view.pending_recovery.filter(|pending| pending.id == record.id().to_string()) {
                Some(pending) => eprintln!(
                    "recovery revision {} is held: it replaces the governance keys on {} unless they sign a change first",
                    record.revision(),
                    format_time(pending.applies_ms)
                ),
                None => eprintln!("revision {} of the organisation's identity is in force", record.revision()),
            }
            Ok(())
        }
    }
}

fn new_key(file: &Path) -> Result<()> {
    let key = PublisherKey::generate();
    write_key_file(file, &key)?;
    out!("{}", key.publisher())?;
    eprintln!(
        "wrote a new key to {} (readable by you only). Give the public key above to whoever changes the identity; \
         keep the file to yourself.",
        file.display()
    );
    Ok(())
}

/// Writes a file that must not exist yet, so that no one's revision is overwritten.
fn write_new(file: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut handle =
        std::fs::OpenOptions::new().write(true).create_new(true).open(file).with_context(|| {
            format!("cannot create {} (it may exist already: give another with --out)", file.display())
        })?;
    handle.write_all(bytes).and_then(|()| handle.sync_all()).with_context(|| format!("cannot write {}", file.display()))
}

/// Prints the identity; `own` when it is this node's organisation's.
fn show(view: &IdentityView, own: bool) -> Result<()> {
    out!("Organisation {}", view.organisation)?;
    if view.state == "none" {
        match own {
            true => {
                out!("No identity log yet: this key alone signs for the organisation.")?;
                out!("`citymesh identity add-operator KEY --label TEXT` lets another key sign too.")?;
            }
            false => out!("No identity log held: this key alone signs for the organisation.")?,
        }
        return show_erasures(view);
    }
    let node_key = view.organisation.parse().map_err(|_| anyhow::anyhow!("the node answered a malformed key"))?;
    let warnings = match own {
        true => crate::organisation::warnings(view, &node_key, crate::author::now_ms()),
        false => crate::organisation::others_warnings(view),
    };
    for warning in warnings {
        out!("WARNING: {warning}")?;
    }
    out!("Revision {}; {} of {} governance keys sign a change", view.revision, view.threshold, view.governance.len())?;
    if !view.domain.is_empty() {
        out!("Website: {}: {}", view.domain, crate::organisation::domain_status(view))?;
    }
    for key in &view.governance {
        out!("  governance  {key}")?;
    }
    for operator in &view.operators {
        let scopes = operator.scopes_in_words();
        let expires = format_time(operator.expires_ms);
        out!("  operator    {}  {}: signs {scopes}; valid until {expires}", operator.key, operator.label)?;
    }
    for revoked in &view.revoked {
        let since = format_time(revoked.since_ms);
        out!("  revoked     {}  {}: {} from {since}", revoked.key, revoked.label, revoked.reason)?;
    }
    out!("History:")?;
    for revision in &view.history {
        out!("  revision {}  {}  {}", revision.revision, format_time(revision.timestamp_ms), revision.id)?;
        for witness in &revision.witnesses {
            out!("    witnessed by {} on {}", witness.name, format_time(witness.seen_ms))?;
        }
    }
    show_erasures(view)
}

fn show_erasures(view: &IdentityView) -> Result<()> {
    if !view.erasures.is_empty() {
        out!("Erasures:")?;
    }
    for erasure in &view.erasures {
        let partners = erasure.partner_nodes.max(erasure.erased_at.len());
        out!(
            "  {}  {} revisions erased at {} of {partners} partner nodes  {}",
            format_time(erasure.timestamp_ms),
            erasure.records,
            erasure.erased_at.len(),
            erasure.id
        )?;
    }
    Ok(())
}
