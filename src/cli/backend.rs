//! Where a command's work is done: through the running node's API when `citymesh run` holds
//! the data directory (so that changes take effect at once and are gossiped), else on the data
//! directory itself. Both answer the same typed views, so each command prints them once.

use std::cell::OnceCell;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::remote::Remote;
use crate::api::{Blocked, Imported, PartnerRemoved, PolicySet, Synced, Unblocked, Withdrawal};
use crate::archive::{Archive, AttachmentRow, ImportResult, Invite, PartnerAdded};
use crate::author::{ProfileChanges, Publication};
use crate::datadir::DataDir;
use crate::markdown;
use crate::node::{PartnerRow, PartnersPage, Status, SyncAnswer};
use crate::record::{Body, Kind};
use crate::search::SearchQuery;
use crate::view::{self, Detail, EnvelopePage, Filter, Page, SearchPage, Summary};

/// Records per page when listing every head or every envelope.
const PAGE: usize = 1000;

/// What `status` shows of a data directory no node runs on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Stopped {
    pub running: bool,
    pub publisher: Option<String>,
    pub networks: Vec<String>,
    pub records: usize,
}

/// A page of the records held: each one's id and exact bytes, and the arrival the next page
/// starts after (`None` at the end).
pub(super) struct Envelopes {
    pub records: Vec<(String, Vec<u8>)>,
    pub next: Option<u64>,
}

/// An identity revision signed: stored, or (`unsigned`: envelope, signed, needed) waiting for
/// other officials' signatures.
pub(super) struct IdentityChange {
    pub id: String,
    pub revision: u64,
    pub unsigned: Option<(Vec<u8>, usize, u32)>,
}

/// A node's state, running or not.
pub(super) enum NodeStatus {
    Running(Box<Status>),
    Stopped(Stopped),
}

pub(super) enum Backend {
    Node(Remote),
    Local(Local),
}

/// A data directory no node runs on, opened when a command first needs its store (`sync` and
/// an offline invite do not).
pub(super) struct Local {
    data: DataDir,
    /// Whether to make the store when there is none.
    create: bool,
    archive: OnceCell<Box<Archive>>,
}

impl Local {
    fn archive(&self) -> Result<&Archive> {
        if let Some(archive) = self.archive.get() {
            return Ok(archive);
        }
        let data = self.data.clone();
        let archive = Box::new(if self.create { Archive::open_or_create(data)? } else { Archive::open(data)? });
        Ok(self.archive.get_or_init(|| archive))
    }
}

impl Backend {
    /// The running node on this data directory, else the directory, which must hold a store.
    pub(super) fn open(data: &DataDir) -> Result<Backend> {
        Backend::find(data, false)
    }

    /// Like [`Backend::open`], making the store when there is none (`import` into a new folder).
    pub(super) fn open_or_create(data: &DataDir) -> Result<Backend> {
        Backend::find(data, true)
    }

    fn find(data: &DataDir, create: bool) -> Result<Backend> {
        match Remote::discover(data)? {
            Some(remote) => Ok(Backend::Node(remote)),
            None => Ok(Backend::Local(Local { data: data.clone(), create, archive: OnceCell::new() })),
        }
    }

    /// Like [`Backend::open`], for a command that signs: the directory must be initialised.
    pub(super) fn open_initialised(data: &DataDir) -> Result<Backend> {
        data.require_initialised()?;
        Backend::open(data)
    }

    pub(super) fn is_running(&self) -> bool {
        matches!(self, Backend::Node(_))
    }

    /// Every head (of one kind), newest first.
    pub(super) fn list(&self, kind: Option<Kind>) -> Result<Vec<Summary>> {
        let remote = match self {
            Backend::Node(remote) => remote,
            Backend::Local(local) => {
                let filter = Filter { kind, ..Filter::default() };
                return Ok(local.archive()?.list(&filter, None, usize::MAX)?.records);
            }
        };
        // The API answers a page at a time.
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", PAGE.to_string())];
            query.extend(kind.map(|kind| ("kind", kind.to_string())));
            query.extend(cursor.clone().map(|cursor| ("cursor", cursor)));
            let page: Page = remote.get("/api/v1/records", &query)?;
            rows.extend(page.records);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(rows),
            }
        }
    }

    /// One record by id or slug, with its key's history when asked.
    pub(super) fn show(&self, target: &str, with_history: bool) -> Result<Detail> {
        match self {
            Backend::Node(remote) => {
                let target = target.replace('/', "%2F");
                remote.get(&format!("/api/v1/records/{target}"), &[("history", with_history.to_string())])
            }
            Backend::Local(local) => Ok(local.archive()?.show(target, with_history)?),
        }
    }

    /// The files a record names, each with whether it is here.
    pub(super) fn attachments(&self, target: &str) -> Result<Vec<AttachmentRow>> {
        #[derive(Deserialize)]
        struct Listed {
            attachments: Vec<AttachmentRow>,
        }
        match self {
            Backend::Node(remote) => {
                let target = target.replace('/', "%2F");
                let listed: Listed = remote.get(&format!("/api/v1/records/{target}/attachments"), &[])?;
                Ok(listed.attachments)
            }
            Backend::Local(local) => Ok(local.archive()?.attachments_of(target)?),
        }
    }

    pub(super) fn search(&self, query: SearchQuery) -> Result<SearchPage> {
        match self {
            Backend::Node(remote) => {
                let mut pairs = vec![("q", query.text.clone()), ("limit", query.limit.to_string())];
                pairs.extend(query.filters.iter().map(|(name, value)| (*name, value.clone())));
                remote.get("/api/v1/search", &pairs)
            }
            Backend::Local(local) => Ok(local.archive()?.search(&query)?),
        }
    }

    pub(super) fn status(&self) -> Result<NodeStatus> {
        match self {
            Backend::Node(remote) => Ok(NodeStatus::Running(Box::new(remote.get("/api/v1/status", &[])?))),
            Backend::Local(local) => {
                let archive = local.archive()?;
                Ok(NodeStatus::Stopped(Stopped {
                    running: false,
                    publisher: archive.publisher().map(|publisher| publisher.to_string()),
                    networks: archive.config().node.networks.clone(),
                    records: archive.store().len(),
                }))
            }
        }
    }

    /// Records held, in arrival order, a page at a time, with their exact bytes.
    pub(super) fn envelopes(&self, after: Option<u64>) -> Result<Envelopes> {
        match self {
            Backend::Node(remote) => {
                let query: Vec<(&str, String)> = after.map(|after| ("after", after.to_string())).into_iter().collect();
                let page: EnvelopePage = remote.get("/api/v1/envelopes", &query)?;
                let mut rows = Vec::with_capacity(page.envelopes.len());
                for row in page.envelopes {
                    let bytes = crate::hex::parse_hex(&row.hex)
                        .map_err(|error| anyhow::anyhow!("the node sent record {} garbled: {error}", row.id))?;
                    rows.push((row.id, bytes));
                }
                Ok(Envelopes { records: rows, next: page.next })
            }
            Backend::Local(local) => {
                let (records, next) = view::records_page(local.archive()?.store(), after, PAGE)?;
                let records = records.iter().map(|record| (record.id().to_string(), record.envelope_bytes())).collect();
                Ok(Envelopes { records, next })
            }
        }
    }

    /// Records held (every revision).
    pub(super) fn records_held(&self) -> Result<usize> {
        Ok(match self.status()? {
            NodeStatus::Running(status) => status.records,
            NodeStatus::Stopped(stopped) => stopped.records,
        })
    }

    /// Every current practice note (not withdrawn), as Markdown: `(slug, publisher, text)`.
    pub(super) fn current_notes(&self) -> Result<Vec<(String, String, String)>> {
        let Backend::Local(local) = self else {
            let mut notes = Vec::new();
            for row in self.list(Some(Kind::Practice))? {
                if row.withdrawn {
                    continue;
                }
                if let Some(text) = self.show(&row.id, false)?.markdown {
                    notes.push((row.slug, row.publisher, text));
                }
            }
            return Ok(notes);
        };
        let mut notes = Vec::new();
        for head in local.archive()?.store().heads(Some(Kind::Practice))? {
            if let Ok(Body::Practice(note)) = head.parse_body() {
                notes.push((
                    head.slug().to_owned(),
                    head.publisher().to_string(),
                    markdown::render(head.slug(), &note),
                ));
            }
        }
        Ok(notes)
    }

    pub(super) fn publish(&self, markdown: &str) -> Result<Publication> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/publish", &json!({ "markdown": markdown })),
            Backend::Local(local) => Ok(local.archive()?.publish_markdown(markdown, None)?.answer()),
        }
    }

    /// Withdraws one of this publisher's records of `kind`.
    pub(super) fn withdraw_kind(&self, kind: Kind, slug: &str, reason: &str) -> Result<Withdrawal> {
        match self {
            Backend::Node(remote) => {
                remote.post("/api/v1/withdraw", &json!({ "slug": slug, "reason": reason, "kind": kind.as_str() }))
            }
            Backend::Local(local) => Ok(Withdrawal::of(&local.archive()?.withdraw_kind(kind, slug, reason)?)),
        }
    }

    /// Changes the status of one of this publisher's requests, offers or events.
    pub(super) fn set_status(&self, kind: Kind, slug: &str, status: &str) -> Result<Publication> {
        match self {
            Backend::Node(remote) => {
                remote.post("/api/v1/set-status", &json!({ "kind": kind.as_str(), "slug": slug, "status": status }))
            }
            Backend::Local(local) => Ok(local.archive()?.set_status(kind, slug, status)?.answer()),
        }
    }

    /// What a request or an offer matches.
    pub(super) fn matches(&self, target: &str, limit: usize, offer: bool) -> Result<crate::archive::MatchAnswer> {
        match self {
            Backend::Node(remote) => {
                let name = if offer { "offer" } else { "request" };
                remote.get("/api/v1/match", &[(name, target.to_owned()), ("limit", limit.to_string())])
            }
            Backend::Local(local) => Ok(local.archive()?.matches(target, limit)?),
        }
    }

    pub(super) fn withdraw(&self, slug: &str, reason: &str) -> Result<Withdrawal> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/withdraw", &json!({ "slug": slug, "reason": reason })),
            Backend::Local(local) => Ok(Withdrawal::of(&local.archive()?.withdraw(slug, reason)?)),
        }
    }

    /// Verifies and stores envelopes as if they came from a peer; one result per envelope.
    pub(super) fn import(&self, envelopes: Vec<Vec<u8>>) -> Result<Vec<ImportResult>> {
        match self {
            Backend::Node(remote) => {
                let envelopes: Vec<String> = envelopes.iter().map(|bytes| crate::hex::to_hex(bytes)).collect();
                let imported: Imported = remote.post("/api/v1/import", &json!({ "envelopes": envelopes }))?;
                Ok(imported.results)
            }
            Backend::Local(local) => {
                let envelopes = envelopes.into_iter().map(Ok).collect();
                Ok(local.archive()?.import_results(envelopes, "unreadable")?.0)
            }
        }
    }

    /// This node's invite code; without a running node, the addresses must be given.
    pub(super) fn invite(&self, addresses: &[String]) -> Result<Invite> {
        match self {
            Backend::Node(remote) => {
                let query: Vec<(&str, String)> =
                    if addresses.is_empty() { Vec::new() } else { vec![("addresses", addresses.join(","))] };
                remote.get("/api/v1/invite", &query)
            }
            Backend::Local(local) => {
                if addresses.is_empty() {
                    bail!(
                        "no node is running on {}: start it (`citymesh run`) so the code can name the addresses it listens on, or give them with --address",
                        local.data.root().display()
                    );
                }
                Ok(local.archive()?.invite_offline(addresses)?)
            }
        }
    }

    pub(super) fn add_partner(&self, code: &str, label: &str) -> Result<PartnerAdded> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/partners", &json!({ "code": code, "label": label })),
            Backend::Local(local) => Ok(PartnerAdded::of(local.archive()?.add_partner(code, label)?.entry, Vec::new())),
        }
    }

    pub(super) fn partners(&self) -> Result<Vec<PartnerRow>> {
        match self {
            Backend::Node(remote) => Ok(remote.get::<PartnersPage>("/api/v1/partners", &[])?.partners),
            Backend::Local(local) => {
                let partners = local.archive()?.partners()?;
                Ok(partners.into_iter().map(|partner| PartnerRow { partner, last_sync_ms: None }).collect())
            }
        }
    }

    pub(super) fn remove_partner(&self, publisher: &str) -> Result<()> {
        match self {
            Backend::Node(remote) => {
                remote.post::<PartnerRemoved>("/api/v1/partners/remove", &json!({ "publisher": publisher }))?;
            }
            Backend::Local(local) => drop(local.archive()?.remove_partner(publisher)?),
        }
        Ok(())
    }

    /// Blocks (or with `unblock`, unblocks) a publisher; returns its key.
    pub(super) fn block(&self, publisher: &str, unblock: bool) -> Result<String> {
        let body = json!({ "publisher": publisher });
        match (self, unblock) {
            (Backend::Node(remote), false) => Ok(remote.post::<Blocked>("/api/v1/blocks", &body)?.blocked),
            (Backend::Node(remote), true) => Ok(remote.post::<Unblocked>("/api/v1/blocks/remove", &body)?.unblocked),
            (Backend::Local(local), false) => Ok(local.archive()?.block(publisher)?),
            (Backend::Local(local), true) => Ok(local.archive()?.unblock(publisher)?),
        }
    }

    /// The trust policy in force.
    pub(super) fn policy(&self) -> Result<String> {
        match self {
            Backend::Node(remote) => Ok(remote.get::<Status>("/api/v1/status", &[])?.trust_policy),
            Backend::Local(local) => Ok(local.archive()?.policy()?.kind().to_string()),
        }
    }

    pub(super) fn set_policy(&self, policy: &str) -> Result<String> {
        match self {
            Backend::Node(remote) => {
                Ok(remote.post::<PolicySet>("/api/v1/policy", &json!({ "policy": policy }))?.policy)
            }
            Backend::Local(local) => Ok(local.archive()?.set_policy(policy)?.to_string()),
        }
    }

    pub(super) fn set_profile(&self, changes: &ProfileChanges) -> Result<Publication> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/profile", changes),
            Backend::Local(local) => Ok(local.archive()?.set_profile(changes.clone())?.answer()),
        }
    }

    /// Signs an erasure of these revisions; answers its id and how many it lists.
    pub(super) fn erase(&self, ids: Vec<String>, reason: &str) -> Result<(String, usize)> {
        match self {
            Backend::Node(remote) => {
                let answer: crate::api::Erasure =
                    remote.post("/api/v1/erasures", &json!({ "ids": ids, "reason": reason }))?;
                Ok((answer.id, answer.records))
            }
            Backend::Local(local) => {
                let erasure = local.archive()?.erase(&ids, reason)?;
                Ok((erasure.id().to_string(), ids.len()))
            }
        }
    }

    /// An organisation's identity in words: this one's, or another's (its key in hex).
    pub(super) fn identity(&self, organisation: Option<String>) -> Result<crate::organisation::IdentityView> {
        match self {
            Backend::Node(remote) => {
                let query: Vec<(&str, String)> = organisation.into_iter().map(|key| ("organisation", key)).collect();
                remote.get("/api/v1/identity", &query)
            }
            Backend::Local(local) => {
                let organisation = organisation
                    .map(|key| {
                        key.trim().parse().map_err(|_| {
                            anyhow::anyhow!(
                                "--organisation {key:?} is not a key; give the organisation's key as 64 hex characters"
                            )
                        })
                    })
                    .transpose()?;
                Ok(local.archive()?.identity(organisation)?)
            }
        }
    }

    /// The identity's newest revision as held, if the organisation has a log.
    pub(super) fn identity_head(&self) -> Result<Option<crate::record::Record>> {
        let view = self.identity(None)?;
        let Some(head) = view.history.last() else { return Ok(None) };
        let id: crate::record::RecordId = head.id.parse().map_err(anyhow::Error::msg)?;
        match self {
            Backend::Node(remote) => {
                let bytes = remote.get_bytes(&format!("/api/v1/records/{}/raw", head.id))?;
                Ok(Some(crate::record::verify(&bytes, crate::author::now_ms())?))
            }
            Backend::Local(local) => Ok(local.archive()?.store().get(&id)?),
        }
    }

    /// Signs the identity's next revision with `change` made; answers its id and number, and
    /// when other officials must sign it too, its envelope with how many signed and must.
    pub(super) fn change_identity(&self, change: crate::organisation::Change) -> Result<IdentityChange> {
        match self {
            Backend::Node(remote) => {
                let changed: crate::api::IdentityChanged = remote.post("/api/v1/identity", &change)?;
                let unsigned = match changed.unsigned {
                    Some(unsigned) => Some((
                        crate::hex::parse_hex(&unsigned.envelope_hex).map_err(anyhow::Error::msg)?,
                        unsigned.signed,
                        unsigned.needed,
                    )),
                    None => None,
                };
                Ok(IdentityChange { id: changed.id, revision: changed.revision, unsigned })
            }
            Backend::Local(local) => {
                let changed = local.archive()?.change_identity(change)?;
                let record = changed.record();
                let unsigned = match &changed {
                    crate::organisation::Changed::Stored(_) => None,
                    crate::organisation::Changed::Unsigned { record, signed, needed } => {
                        Some((record.envelope_bytes(), *signed, *needed))
                    }
                };
                Ok(IdentityChange { id: record.id().to_string(), revision: record.revision(), unsigned })
            }
        }
    }

    /// Syncs now with one connected peer, or all of them; needs a running node.
    pub(super) fn sync(&self, peer: Option<String>) -> Result<Vec<SyncAnswer>> {
        match self {
            Backend::Node(remote) => Ok(remote.post::<Synced>("/api/v1/sync", &json!({ "peer": peer }))?.reports),
            Backend::Local(local) => {
                bail!("no node is running on {}; start it with `citymesh run`", local.data.root().display())
            }
        }
    }
}
