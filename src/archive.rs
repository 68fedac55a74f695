//! A data directory opened for use: its settings, keys, store and search index, and every use
//! case that needs nothing more: publish, withdraw, import, the profile, partners and blocks,
//! and the reads (list, show, search, partners, invite). The CLI works on one when no node
//! runs; a running node holds one and adds the network's part to each use case (gossip, the
//! trust policy in force, syncs), so the steps of a use case are written once, here.
//!
//! Methods block (they read and write the store and files); a node calls them off its async
//! runtime.

mod attachments;
mod few_heads;
mod learning;

use std::sync::{Mutex, OnceLock};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::author::{self, AuthorError, NotInitialised, ProfileChanges, Published};
use crate::blobs::Blobs;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::ingest::{self, Outcome};
use crate::invite::InviteCode;
use crate::markdown::Note;
use crate::organisation::OrganisationError;
use crate::partners::{self, Added, PartnerError, PartnerView};
use crate::record::{Kind, PublisherId, Record, Signer};
use crate::search::{Search, SearchError, SearchQuery};
use crate::store::{Store, StoreError};
use crate::trust::{BlockEntry, PartnerEntry, Policy, PolicyKind};
use crate::view::{self, Cursor, Detail, EnvelopePage, Filter, FindError, Names, Page, SearchPage};

pub use attachments::{AttachmentError, AttachmentRow, Download};
pub use learning::{DEFAULT_MATCHES, MatchAnswer, MatchError, MatchView};

/// An invite code and what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub publisher: String,
    pub peer_id: String,
    pub addresses: Vec<String>,
    pub name: String,
}

/// A partner added, and which of its addresses are being dialled (none without a network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerAdded {
    pub publisher: String,
    pub name: String,
    pub label: String,
    pub dialled: Vec<String>,
}

impl PartnerAdded {
    pub fn of(entry: PartnerEntry, dialled: Vec<String>) -> PartnerAdded {
        PartnerAdded { publisher: entry.publisher, name: entry.name, label: entry.label, dialled }
    }
}

/// What became of one envelope of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum ImportResult {
    Stored { id: String },
    Held { id: String },
    Rejected { rule: String, detail: String },
}

impl ImportResult {
    /// The result of an outcome; an envelope that could not be read counts as breaking
    /// `unreadable_rule`.
    pub fn of(outcome: &Outcome, unreadable_rule: &str) -> ImportResult {
        match outcome {
            Outcome::Stored { id, .. } => ImportResult::Stored { id: id.to_string() },
            Outcome::AlreadyHeld { id } => ImportResult::Held { id: id.to_string() },
            Outcome::Invalid(error) => {
                ImportResult::Rejected { rule: error.rule().to_owned(), detail: error.to_string() }
            }
            Outcome::Refused { error, .. } => {
                ImportResult::Rejected { rule: error.rule().to_owned(), detail: error.to_string() }
            }
            Outcome::Unreadable(detail) => {
                ImportResult::Rejected { rule: unreadable_rule.to_owned(), detail: detail.clone() }
            }
        }
    }
}

/// A data directory, opened.
pub struct Archive {
    data: DataDir,
    config: Config,
    /// The key this node signs with and the organisation it signs for; a directory made by
    /// `import` alone has none until `init`.
    key: Option<Signer>,
    store: Store,
    /// The attachments' files.
    blobs: Blobs,
    search: OnceLock<Search>,
    /// Profiles and partnerships, as pages read them on every request.
    few_heads: few_heads::FewHeads,
    /// Held while the search index is opened, so that it is opened once.
    opening_search: Mutex<()>,
}

impl Archive {
    /// Opens a data directory that `init` (or `import`) made: fails with what to do when it
    /// holds no store.
    pub fn open(data: DataDir) -> Result<Archive> {
        data.require_store()?;
        Archive::open_or_create(data)
    }

    /// Opens a data directory, making its store if it has none (`import` into a new one).
    pub fn open_or_create(data: DataDir) -> Result<Archive> {
        let config = data.config()?;
        Archive::open_with(data, config)
    }

    /// Like [`Archive::open_or_create`], with the settings already read.
    pub fn open_with(data: DataDir, config: Config) -> Result<Archive> {
        let key = if data.is_initialised() { Some(data.signer()?) } else { None };
        let store = data.open_store(&config)?;
        let blobs = Blobs::open(&data.blobs_path(), config.store.max_file_mb << 20)?;
        Ok(Archive {
            data,
            config,
            key,
            store,
            blobs,
            search: OnceLock::new(),
            opening_search: Mutex::new(()),
            few_heads: Default::default(),
        })
    }

    pub fn data(&self) -> &DataDir {
        &self.data
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// This node's publisher, if the directory has a key.
    pub fn publisher(&self) -> Option<PublisherId> {
        self.key.as_ref().map(Signer::publisher)
    }

    /// The key this node signs with, for its organisation.
    pub fn key(&self) -> Result<&Signer, NotInitialised> {
        self.key.as_ref().ok_or_else(|| NotInitialised(self.data.root().display().to_string()))
    }

    /// The search index, opened (and rebuilt if it must be) the first time it is needed. It may
    /// lag behind the store: searches catch it up first.
    pub fn search_index(&self) -> Result<&Search, SearchError> {
        if let Some(search) = self.search.get() {
            return Ok(search);
        }
        let _opening = self.opening_search.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(search) = self.search.get() {
            return Ok(search);
        }
        let search = Search::open(&self.data.search_path(), self.store.recovered())?;
        Ok(self.search.get_or_init(|| search))
    }

    /// Flushes the store and closes the search index (waiting for its merges).
    pub fn close(self) -> Result<(), StoreError> {
        self.store.flush()?;
        if let Some(search) = self.search.into_inner()
            && let Err(error) = search.close()
        {
            tracing::warn!(%error, "the search index did not close cleanly; it is checked when next opened");
        }
        Ok(())
    }

    /// Signs a Markdown note as the next revision of its slug and stores it durably; `base` is
    /// the revision an edit began from (0: a new note), refused as stale when it is not the
    /// current one. An unchanged note is not signed again.
    pub fn publish_markdown(&self, text: &str, base: Option<u64>) -> Result<Published, AuthorError> {
        author::publish_over(&self.store, self.key()?, &self.config, text, base)
    }

    /// Like [`Archive::publish_markdown`], for a note already read (from the web form).
    pub fn publish_note(&self, note: Note, base: Option<u64>) -> Result<Published, AuthorError> {
        author::publish_note(&self.store, self.key()?, &self.config, note, base)
    }

    /// Signs a withdrawal of one of this publisher's notes and stores it durably.
    pub fn withdraw(&self, slug: &str, reason: &str) -> Result<Record, AuthorError> {
        author::withdraw(&self.store, self.key()?, slug, reason)
    }

    /// Signs the next revision of this publisher's profile with `changes`, unless nothing changes.
    pub fn set_profile(&self, changes: ProfileChanges) -> Result<Published, AuthorError> {
        author::set_profile(&self.store, self.key()?, changes)
    }

    /// Verifies and stores envelopes as if they came from a peer (an envelope that could not
    /// be read counts as breaking `unreadable_rule`): one result per envelope, in order, each
    /// given once it is durable, and the records that became heads (for a node to gossip).
    pub fn import_results(
        &self,
        envelopes: Vec<Result<Vec<u8>, String>>,
        unreadable_rule: &str,
    ) -> Result<(Vec<ImportResult>, Vec<Record>), StoreError> {
        let mut results = vec![None; envelopes.len()];
        let mut heads = Vec::new();
        ingest::ingest(&self.store, envelopes.into_iter().enumerate(), crate::author::now_ms(), |index, outcome| {
            results[index] = Some(ImportResult::of(&outcome, unreadable_rule));
            if let Outcome::Stored { record, head: true, .. } = outcome {
                heads.push(*record);
            }
        })?;
        // The pipeline reports every item once; one missing means a stage could not start.
        let unread = || ImportResult::Rejected {
            rule: "unread".to_owned(),
            detail: "the import stopped before this envelope was verified (the node's log says why)".to_owned(),
        };
        Ok((results.into_iter().map(|result| result.unwrap_or_else(unread)).collect(), heads))
    }

    // Partners, blocks and the policy: each change reads, changes and writes partners.json, so
    // callers make one at a time (a node does so under the lock it also holds while it
    // recomputes the policy; the CLI makes one per run).

    /// Makes the publisher of an invite code a partner, remembers its addresses and signs a
    /// partnership record naming it (returned when new, to be gossiped).
    pub fn add_partner(&self, code: &str, label: &str) -> Result<Added, PartnerError> {
        let added = partners::add(&self.data, &self.store, self.key()?, code, label)?;
        for address in &added.entry.addresses {
            if let Err(error) = self.data.remember_peer(address) {
                tracing::warn!(error = format!("{error:#}"), "cannot remember a partner's address");
            }
        }
        Ok(added)
    }

    /// Ends a partnership made by invite code; returns the withdrawal of the partnership record.
    pub fn remove_partner(&self, publisher: &str) -> Result<Option<Record>, PartnerError> {
        partners::remove(&self.data, &self.config, &self.store, self.key()?, publisher)
    }

    /// Refuses a publisher's records from now on; returns its key.
    /// Partners in return with a publisher whose partnership record names this one.
    pub fn accept_partner(&self, publisher: &str) -> Result<Added, PartnerError> {
        partners::accept(&self.data, &self.store, self.key()?, publisher)
    }

    pub fn ignore_partner(&self, publisher: &str) -> Result<String, PartnerError> {
        partners::ignore(&self.data, publisher)
    }

    /// Publishers that named this one as a partner and wait for an answer.
    pub fn invitations(&self) -> Result<Vec<PublisherId>> {
        let graph = self.partnership_graph()?;
        partners::invitations(&self.data, &self.config, &graph, self.key()?.publisher())
    }

    /// Hides a note (by slug) or, with an empty slug, a publisher from the pages.
    pub fn hide(&self, publisher: &str, slug: &str) -> Result<String, PartnerError> {
        partners::hide(&self.data, &self.store, publisher, slug)
    }

    pub fn unhide(&self, publisher: &str, slug: &str) -> Result<String, PartnerError> {
        partners::unhide(&self.data, publisher, slug)
    }

    /// What is hidden from the pages.
    pub fn hidden(&self) -> Result<Vec<crate::trust::HiddenEntry>> {
        Ok(self.data.trust_file()?.hidden)
    }

    /// An organisation's identity in words, with its partners' receipts: this node's own
    /// when `organisation` is `None`.
    pub fn identity(
        &self,
        organisation: Option<PublisherId>,
    ) -> Result<crate::organisation::IdentityView, OrganisationError> {
        let organisation = match organisation {
            Some(organisation) => organisation,
            None => self.key().map_err(AuthorError::from)?.publisher(),
        };
        Ok(crate::organisation::view(&self.store, &self.names(), organisation)?)
    }

    /// Signs and stores an erasure of these superseded revisions of this organisation's
    /// records (ids in hex): every node that takes it in drops their bodies.
    pub fn erase(&self, ids: &[String], reason: &str) -> Result<Record, OrganisationError> {
        let key = self.key().map_err(AuthorError::from)?;
        crate::organisation::erase(&self.store, key, ids, reason, author::now_ms())
    }

    /// Receipts this node's key signs for the identity revisions and erasures of its partners
    /// that it holds and has not receipted yet (some at a time); answers them, for gossip.
    pub fn witness_identities(&self) -> Result<Vec<Record>> {
        let Some(key) = self.key.as_ref() else { return Ok(Vec::new()) };
        let policy = self.policy()?;
        let is_partner = |organisation: &PublisherId| policy.is_partner(&organisation.0);
        Ok(crate::organisation::witness(&self.store, key, is_partner, author::now_ms())?)
    }

    /// Signs and stores the identity's next revision with `change` made.
    pub fn change_identity(
        &self,
        change: crate::organisation::Change,
    ) -> Result<crate::organisation::Changed, OrganisationError> {
        let key = self.key().map_err(crate::author::AuthorError::from)?;
        crate::organisation::change(&self.store, key, change, crate::author::now_ms())
    }

    /// Renews this node's own key in its identity log when it is due.
    pub fn renew_identity_if_due(&self) -> Result<Option<crate::organisation::Changed>, OrganisationError> {
        let Some(key) = self.key.as_ref() else { return Ok(None) };
        crate::organisation::renew_if_due(&self.store, key, crate::author::now_ms())
    }

    pub fn block(&self, publisher: &str) -> Result<String, PartnerError> {
        let own = self.key()?.publisher();
        partners::block(&self.data, &self.store, own, publisher)
    }

    pub fn unblock(&self, publisher: &str) -> Result<String, PartnerError> {
        partners::unblock(&self.data, publisher)
    }

    /// Sets the trust policy, kept in partners.json (it overrides `trust.policy`).
    pub fn set_policy(&self, policy: &str) -> Result<PolicyKind, PartnerError> {
        partners::set_policy(&self.data, policy)
    }

    /// The trust policy the settings, partners.json and the partnership records held make now.
    pub fn policy(&self) -> Result<Policy> {
        let own = self.key()?.publisher();
        partners::policy(&self.data, &self.config, &self.store, own)
    }

    /// The heads, newest first, filtered, a page at a time.
    pub fn list(&self, filter: &Filter, after: Option<Cursor>, limit: usize) -> Result<Page, StoreError> {
        view::page(&self.store, &self.names(), filter, after, limit)
    }

    /// A record by id, or a practice note's head by slug (this publisher's first).
    pub fn find(&self, target: &str) -> Result<Record, FindError> {
        view::find(&self.store, self.publisher(), target)
    }

    /// Everything about a record, by id or slug; with its key's history when asked.
    pub fn show(&self, target: &str, with_history: bool) -> Result<Detail, FindError> {
        let record = self.find(target)?;
        Ok(view::detail(&self.store, &self.names(), &record, with_history, crate::author::now_ms())?)
    }

    /// Records held, in arrival order, a page at a time, with their exact bytes.
    pub fn envelopes(&self, after: Option<u64>, limit: usize) -> Result<EnvelopePage, StoreError> {
        view::envelopes(&self.store, after, limit)
    }

    /// Full-text search over the current practice notes.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        view::search(&self.store, &self.names(), self.search_index()?, query)
    }

    /// Every partner, from invites first, then from config.toml.
    pub fn partners(&self) -> Result<Vec<PartnerView>> {
        let graph = self.partnership_graph()?;
        partners::list(&self.data, &self.config, &self.store, &graph, self.key()?.publisher())
    }

    pub fn blocks(&self) -> Result<Vec<BlockEntry>> {
        Ok(self.data.trust_file()?.blocked)
    }

    /// Publishers' names as this node shows them: partners by the local names this node gave
    /// them, others by their profiles.
    pub fn names(&self) -> Names<'_> {
        let petnames = self.data.trust_file().map(|file| file.petnames()).unwrap_or_default();
        let names = Names::with_petnames(&self.store, petnames);
        match self.few_heads.claims(&self.store) {
            Ok(claims) => names.with_claims((*claims).clone()),
            Err(_) => names,
        }
    }

    /// Who names whom as a partner in the partnership records held.
    pub fn partnership_graph(&self) -> Result<partners::Graph, StoreError> {
        Ok(partners::graph_of(&self.few_heads.of_kind(&self.store, Kind::Partnership)?))
    }

    /// The names of partners' nodes, by peer id, as the invite codes named their nodes.
    pub fn peer_names(&self) -> std::collections::HashMap<String, String> {
        let Ok(file) = self.data.trust_file() else { return Default::default() };
        let names = self.names();
        file.partners
            .iter()
            .filter(|entry| !entry.peer_id.is_empty())
            .map(|entry| (entry.peer_id.clone(), names.of_hex(&entry.publisher)))
            .collect()
    }

    /// This publisher's name, from its profile.
    pub fn name(&self) -> Option<String> {
        Names::new(&self.store).known(&self.publisher()?)
    }

    /// An invite code naming this publisher, the node `peer_id` and `addresses` (each checked
    /// and named by `setting` when it is not a multiaddr, and ended with `/p2p/<peer_id>` if it
    /// is not).
    pub fn invite(&self, peer_id: &str, addresses: &[String], setting: &str) -> Result<Invite, InviteError> {
        let publisher = self.key()?.publisher();
        let suffix = format!("/p2p/{peer_id}");
        let mut named = Vec::new();
        for address in addresses {
            crate::net::parse_addr(address, setting).map_err(|error| InviteError::Address(format!("{error:#}")))?;
            named.push(if address.ends_with(&suffix) { address.clone() } else { format!("{address}{suffix}") });
        }
        let name = self.name().unwrap_or_default();
        let code = InviteCode { publisher, peer_id: peer_id.to_owned(), addresses: named.clone(), name: name.clone() };
        Ok(Invite {
            code: code.encode(),
            publisher: publisher.to_string(),
            peer_id: peer_id.to_owned(),
            addresses: named,
            name,
        })
    }

    /// An invite code when no node runs: it names the node's peer id (from its key) and the
    /// addresses given, which must be some (`--address`).
    pub fn invite_offline(&self, addresses: &[String]) -> Result<Invite, InviteError> {
        let peer_id = self.data.node_key().and_then(|key| crate::net::peer_id(&key)).map_err(InviteError::Key)?;
        self.invite(&peer_id, addresses, "--address")
    }
}

/// Why an invite code could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// An address given is not a multiaddr; the text names it.
    #[error("{0}")]
    Address(String),
    #[error(transparent)]
    NotInitialised(#[from] NotInitialised),
    #[error("{0:#}")]
    Key(anyhow::Error),
}
