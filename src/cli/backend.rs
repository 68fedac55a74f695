//! Where a command's work is done: through the running node's API when `citymesh run` holds
//! the data directory (so that changes take effect at once and are gossiped), else on the data
//! directory itself. Both answer the same typed views, so each command prints them once.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::remote::Remote;
use crate::api::{Blocked, Imported, PartnerRemoved, PolicySet, Synced, Unblocked, Withdrawal};
use crate::archive::{Archive, Invite};
use crate::author::{ProfileChanges, Publication};
use crate::datadir::DataDir;
use crate::node::{ImportResult, PartnerAdded, PartnerRow, PartnersPage, Status, SyncAnswer};
use crate::record::Kind;
use crate::search::SearchQuery;
use crate::view::{Detail, EnvelopePage, Filter, Page, SearchPage, Summary};

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

/// A node's state, running or not.
pub(super) enum NodeStatus {
    Running(Box<Status>),
    Stopped(Stopped),
}

pub(super) enum Backend {
    Node(Remote),
    Local(Box<Archive>),
}

impl Backend {
    /// The running node on this data directory, else the directory, which must hold a store.
    pub(super) fn open(data: &DataDir) -> Result<Backend> {
        match Remote::discover(data)? {
            Some(remote) => Ok(Backend::Node(remote)),
            None => Ok(Backend::Local(Box::new(Archive::open(data.clone())?))),
        }
    }

    /// Like [`Backend::open`], making the store when there is none (`import` into a new folder).
    pub(super) fn open_or_create(data: &DataDir) -> Result<Backend> {
        match Remote::discover(data)? {
            Some(remote) => Ok(Backend::Node(remote)),
            None => Ok(Backend::Local(Box::new(Archive::open_or_create(data.clone())?))),
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
        let filter = Filter { kind, ..Filter::default() };
        let mut rows = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page: Page = match self {
                Backend::Node(remote) => {
                    let mut query = vec![("limit", PAGE.to_string())];
                    query.extend(kind.map(|kind| ("kind", kind.to_string())));
                    query.extend(cursor.clone().map(|cursor| ("cursor", cursor)));
                    remote.get("/api/v1/records", &query)?
                }
                Backend::Local(archive) => {
                    let after = cursor.as_deref().map(str::parse).transpose().map_err(anyhow::Error::msg)?;
                    archive.list(&filter, after, PAGE)?
                }
            };
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
                remote.get(&format!("/api/v1/records/{target}"), &[("history", with_history.to_string())])
            }
            Backend::Local(archive) => Ok(archive.show(target, with_history)?),
        }
    }

    pub(super) fn search(&self, query: SearchQuery) -> Result<SearchPage> {
        match self {
            Backend::Node(remote) => {
                let mut pairs = vec![("q", query.text.clone()), ("limit", query.limit.to_string())];
                pairs.extend(query.filters.iter().map(|(name, value)| (*name, value.clone())));
                remote.get("/api/v1/search", &pairs)
            }
            Backend::Local(archive) => Ok(archive.search(&query)?),
        }
    }

    pub(super) fn status(&self) -> Result<NodeStatus> {
        match self {
            Backend::Node(remote) => Ok(NodeStatus::Running(Box::new(remote.get("/api/v1/status", &[])?))),
            Backend::Local(archive) => Ok(NodeStatus::Stopped(Stopped {
                running: false,
                publisher: archive.publisher().map(|publisher| publisher.to_string()),
                networks: archive.config().node.networks.clone(),
                records: archive.store().len(),
            })),
        }
    }

    /// Records held, in arrival order, a page at a time, with their exact bytes.
    pub(super) fn envelopes(&self, after: Option<u64>) -> Result<EnvelopePage> {
        match self {
            Backend::Node(remote) => {
                let query: Vec<(&str, String)> = after.map(|after| ("after", after.to_string())).into_iter().collect();
                remote.get("/api/v1/envelopes", &query)
            }
            Backend::Local(archive) => Ok(archive.envelopes(after, PAGE)?),
        }
    }

    pub(super) fn publish(&self, markdown: &str) -> Result<Publication> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/publish", &json!({ "markdown": markdown })),
            Backend::Local(archive) => Ok(archive.publish_markdown(markdown, None)?.answer()),
        }
    }

    pub(super) fn withdraw(&self, slug: &str, reason: &str) -> Result<Withdrawal> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/withdraw", &json!({ "slug": slug, "reason": reason })),
            Backend::Local(archive) => Ok(Withdrawal::of(&archive.withdraw(slug, reason)?)),
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
            Backend::Local(archive) => {
                let mut results = vec![None; envelopes.len()];
                let items = envelopes.into_iter().map(Ok).enumerate();
                archive
                    .import(items, |index, outcome| results[index] = Some(ImportResult::of(&outcome, "unreadable")))?;
                results.into_iter().map(|result| result.context("the import stopped early")).collect()
            }
        }
    }

    /// This node's invite code; without a running node, the addresses must be given.
    pub(super) fn invite(&self, data: &DataDir, addresses: &[String]) -> Result<Invite> {
        match self {
            Backend::Node(remote) => {
                let query: Vec<(&str, String)> =
                    if addresses.is_empty() { Vec::new() } else { vec![("addresses", addresses.join(","))] };
                remote.get("/api/v1/invite", &query)
            }
            Backend::Local(archive) => {
                if addresses.is_empty() {
                    bail!(
                        "no node is running on {}: start it (`citymesh run`) so the code can name the addresses it listens on, or give them with --address",
                        data.root().display()
                    );
                }
                let peer_id = crate::net::peer_id(&data.node_key()?)?;
                archive.invite(&peer_id, addresses).map_err(|error| anyhow::anyhow!("--address: {error:#}"))
            }
        }
    }

    pub(super) fn add_partner(&self, code: &str, label: &str) -> Result<PartnerAdded> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/partners", &json!({ "code": code, "label": label })),
            Backend::Local(archive) => {
                let entry = archive.add_partner(code, label)?.entry;
                Ok(PartnerAdded {
                    publisher: entry.publisher,
                    name: entry.name,
                    label: entry.label,
                    dialled: Vec::new(),
                })
            }
        }
    }

    pub(super) fn partners(&self) -> Result<Vec<PartnerRow>> {
        match self {
            Backend::Node(remote) => Ok(remote.get::<PartnersPage>("/api/v1/partners", &[])?.partners),
            Backend::Local(archive) => {
                Ok(archive.partners()?.into_iter().map(|partner| PartnerRow { partner, last_sync_ms: None }).collect())
            }
        }
    }

    pub(super) fn remove_partner(&self, publisher: &str) -> Result<()> {
        match self {
            Backend::Node(remote) => {
                remote.post::<PartnerRemoved>("/api/v1/partners/remove", &json!({ "publisher": publisher }))?;
            }
            Backend::Local(archive) => drop(archive.remove_partner(publisher)?),
        }
        Ok(())
    }

    /// Blocks (or with `unblock`, unblocks) a publisher; returns its key.
    pub(super) fn block(&self, publisher: &str, unblock: bool) -> Result<String> {
        let body = json!({ "publisher": publisher });
        match (self, unblock) {
            (Backend::Node(remote), false) => Ok(remote.post::<Blocked>("/api/v1/blocks", &body)?.blocked),
            (Backend::Node(remote), true) => Ok(remote.post::<Unblocked>("/api/v1/blocks/remove", &body)?.unblocked),
            (Backend::Local(archive), false) => Ok(archive.block(publisher)?),
            (Backend::Local(archive), true) => Ok(archive.unblock(publisher)?),
        }
    }

    /// The trust policy in force.
    pub(super) fn policy(&self) -> Result<String> {
        match self {
            Backend::Node(remote) => Ok(remote.get::<Status>("/api/v1/status", &[])?.trust_policy),
            Backend::Local(archive) => Ok(archive.policy()?.kind().to_string()),
        }
    }

    pub(super) fn set_policy(&self, policy: &str) -> Result<String> {
        match self {
            Backend::Node(remote) => {
                Ok(remote.post::<PolicySet>("/api/v1/policy", &json!({ "policy": policy }))?.policy)
            }
            Backend::Local(archive) => Ok(archive.set_policy(policy)?.to_string()),
        }
    }

    pub(super) fn set_profile(&self, changes: &ProfileChanges) -> Result<Publication> {
        match self {
            Backend::Node(remote) => remote.post("/api/v1/profile", changes),
            Backend::Local(archive) => Ok(archive.set_profile(changes.clone())?.answer()),
        }
    }

    /// Syncs now with one connected peer, or all of them; needs a running node.
    pub(super) fn sync(&self, data: &DataDir, peer: Option<String>) -> Result<Vec<SyncAnswer>> {
        match self {
            Backend::Node(remote) => Ok(remote.post::<Synced>("/api/v1/sync", &json!({ "peer": peer }))?.reports),
            Backend::Local(_) => {
                bail!("no node is running on {}; start it with `citymesh run`", data.root().display())
            }
        }
    }
}
