//! The node's use cases that change something, one method of [`NodeHandle`] each, and what
//! the handle shows of the node's state. A write does the whole job: the
//! [`Archive`](crate::archive::Archive) signs and stores it durably (off the async runtime),
//! then the node gossips what was signed, recomputes the trust policy when partners or blocks
//! changed, starts the syncs a change calls for, and counts it. The reads are in `reads.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::syncing::{self, NotSynced};
use super::{NodeHandle, Penalty, Received, Rejection, Shared};
use crate::archive::{Archive, ImportResult, PartnerAdded};
use crate::author::{AuthorError, ProfileChanges, Published};
use crate::config::Config;
use crate::datadir::DataDir;
use crate::markdown::Note;
use crate::net::{Multiaddr, NetStatus, PeerId};
use crate::partners::PartnerError;
use crate::record::{Key, Kind, PROFILE_SLUG, PublisherId, Record};
use crate::search::SearchError;
use crate::store::{Store, StoreError};
use crate::sync::SyncReport;
use crate::trust::{Policy, PolicyKind};
use crate::view::FindError;

/// Why a use case could not be done; nothing was changed unless the variant says so.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Author(#[from] AuthorError),
    #[error(transparent)]
    Partner(#[from] PartnerError),
    #[error(transparent)]
    Identity(#[from] crate::organisation::OrganisationError),
    #[error(transparent)]
    Find(#[from] FindError),
    /// Matching could not answer (not a request or offer, or none held).
    #[error(transparent)]
    Match(#[from] crate::archive::MatchError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Attachment(#[from] crate::archive::AttachmentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("peer {0} is not connected")]
    NotConnected(String),
    /// An address given is not a multiaddr; the text says which.
    #[error("{0}")]
    BadAddress(String),
    /// The network stopped, or a task the use case needed did.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// One sync asked for, or why it did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SyncAnswer {
    Done(SyncReport),
    /// A sync with this peer was running already (it runs once more when it ends).
    Busy {
        peer: String,
        error: String,
    },
}

fn failed(error: impl std::error::Error + Send + Sync + 'static) -> NodeError {
    NodeError::Failed(anyhow::Error::new(error).context("a task of the node stopped"))
}

impl NodeHandle {
    /// Runs store work off the async runtime.
    pub(super) async fn blocking<T, E>(
        &self,
        work: impl FnOnce(&Shared) -> Result<T, E> + Send + 'static,
    ) -> Result<T, NodeError>
    where
        T: Send + 'static,
        E: Into<NodeError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        match self.shared.blocking.spawn_blocking(move || work(&shared)).await {
            Ok(result) => result.map_err(Into::into),
            Err(error) => Err(failed(error)),
        }
    }

    /// Pushes a record to the peers; having none is fine (sync carries it later).
    pub(super) async fn gossip(&self, record: &Record) {
        self.shared.metrics.gossip_published();
        if let Err(error) = self.shared.net.publish(record.envelope_bytes()).await {
            tracing::warn!(%error, "cannot gossip a record");
        }
    }

    /// Gossips what a use case signed, if it signed anything (an unchanged note is not signed).
    pub(super) async fn gossip_new(&self, published: Published) -> Published {
        if published.is_new() {
            self.gossip(&published.record).await;
        }
        published
    }

    /// Changes partners, blocks or the policy (off the runtime), then recomputes the trust
    /// policy from what the change left, so that it takes effect at once.
    async fn change_trust<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Archive) -> Result<T, PartnerError> + Send + 'static,
    ) -> Result<T, NodeError> {
        self.blocking(move |shared| {
            let changing = shared.changing_trust();
            let changed = change(&shared.archive)?;
            shared.recompute_policy(&changing).map_err(NodeError::Failed)?;
            Ok::<_, NodeError>(changed)
        })
        .await
    }

    pub fn publisher(&self) -> PublisherId {
        self.shared.own()
    }

    /// The API's bearer token.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The store, for tests and checks to read. Its reads block: front ends use the handle's
    /// async reads instead, and every write goes through a use case.
    pub fn store(&self) -> &Store {
        self.shared.store()
    }

    /// Records held (every revision); counted, so this does not read the store.
    pub fn records_held(&self) -> usize {
        self.shared.store().len()
    }

    pub fn config(&self) -> &Config {
        self.shared.archive.config()
    }

    pub fn data(&self) -> &DataDir {
        self.shared.archive.data()
    }

    /// The trust policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.shared.policy()
    }

    /// Every record accepted from a peer from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Received> {
        self.shared.accepted.subscribe()
    }

    /// The records refused from peers lately, oldest first.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.shared.state.rejections()
    }

    /// The last sync with each peer, by peer id.
    pub fn syncs(&self) -> HashMap<String, SyncReport> {
        self.shared.state.syncs()
    }

    /// Every peer with a strike against it.
    pub fn penalties(&self) -> Vec<Penalty> {
        self.shared.guard.penalties()
    }

    /// Gossip messages handed to validation so far.
    pub fn gossip_received(&self) -> u64 {
        self.shared.gossip_received.load(Ordering::Relaxed)
    }

    /// Counts an API request's time, by route pattern.
    pub fn time_api_request(&self, route: &str, seconds: f64) {
        self.shared.metrics.api_request(route, seconds);
    }

    pub async fn net_status(&self) -> Result<NetStatus, NodeError> {
        self.shared.net.status().await.map_err(NodeError::Failed)
    }

    /// Connects to a node now.
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NodeError> {
        self.shared.net.dial(address).await.map_err(NodeError::Failed)
    }

    /// A peer's gossipsub score (below -80 it is graylisted), if it has one.
    pub async fn peer_score(&self, peer: PeerId) -> Result<Option<f64>, NodeError> {
        self.shared.net.peer_score(peer).await.map_err(NodeError::Failed)
    }

    /// Gossips this node's profile again, so that peers meet it before any sync (the demo
    /// introduces its cities so).
    pub async fn gossip_profile(&self) -> Result<(), NodeError> {
        let profile = self
            .blocking(move |shared| {
                shared.store().head(&Key {
                    publisher: shared.own(),
                    kind: Kind::Profile,
                    slug: PROFILE_SLUG.to_owned(),
                })
            })
            .await?;
        if let Some(profile) = profile {
            self.gossip(&profile).await;
        }
        Ok(())
    }

    /// Signs a Markdown note as the next revision of its slug (see
    /// [`crate::archive::Archive::publish_markdown`]) and gossips it.
    pub async fn publish(&self, markdown: String, base: Option<u64>) -> Result<Published, NodeError> {
        let published = self.blocking(move |shared| shared.archive.publish_markdown(&markdown, base)).await?;
        Ok(self.gossip_new(published).await)
    }

    /// Signs a note read from the web form as the next revision of its slug, and gossips it.
    pub async fn publish_note(&self, note: Note, base: Option<u64>) -> Result<Published, NodeError> {
        let published = self.blocking(move |shared| shared.archive.publish_note(note, base)).await?;
        Ok(self.gossip_new(published).await)
    }

    /// Withdraws one of this node's notes and gossips the withdrawal.
    pub async fn withdraw(&self, slug: String, reason: String) -> Result<Record, NodeError> {
        let withdrawal = self.blocking(move |shared| shared.archive.withdraw(&slug, &reason)).await?;
        self.gossip(&withdrawal).await;
        Ok(withdrawal)
    }

    /// Signs the next revision of the profile with these changes (unless nothing changes) and
    /// gossips it.
    pub async fn set_profile(&self, changes: ProfileChanges) -> Result<Published, NodeError> {
        let published = self.blocking(move |shared| shared.archive.set_profile(changes)).await?;
        Ok(self.gossip_new(published).await)
    }

    /// Verifies and stores envelopes (hex) as if they came from a peer; gossips those that
    /// became heads. Answers one result per envelope, in order.
    pub async fn import(&self, envelopes: Vec<String>) -> Result<Vec<ImportResult>, NodeError> {
        let (results, heads) = self
            .blocking(move |shared| {
                let envelopes = envelopes.iter().map(|hex| crate::hex::parse_hex(hex)).collect();
                shared.archive.import_results(envelopes, "hex")
            })
            .await?;
        for record in &heads {
            self.gossip(record).await;
        }
        Ok(results)
    }

    /// Adds a partner from its invite code: keeps it, signs and gossips a partnership record,
    /// dials its addresses and syncs with everyone connected (the scope grew).
    pub async fn add_partner(&self, code: String, label: String) -> Result<PartnerAdded, NodeError> {
        let added = self.change_trust(move |archive| archive.add_partner(&code, &label)).await?;
        if let Some(record) = &added.record {
            self.gossip(record).await;
        }
        let mut dialled = Vec::new();
        for address in &added.entry.addresses {
            let dialling = match address.parse::<Multiaddr>() {
                Ok(multiaddr) => self.dial(multiaddr).await.is_ok(),
                Err(_) => false,
            };
            if dialling {
                dialled.push(address.clone());
            } else {
                tracing::warn!(%address, "cannot dial a partner's address");
            }
        }
        self.shared.sync_soon(None);
        Ok(PartnerAdded::of(added.entry, dialled))
    }

    /// Ends a partnership made by invite code; gossips the withdrawal of its partnership record.
    pub async fn remove_partner(&self, publisher: String) -> Result<Option<Record>, NodeError> {
        let withdrawal = self.change_trust(move |archive| archive.remove_partner(&publisher)).await?;
        if let Some(record) = &withdrawal {
            self.gossip(record).await;
        }
        Ok(withdrawal)
    }

    /// An organisation's identity in words (this node's own when `organisation` is `None`).
    pub async fn identity(
        &self,
        organisation: Option<PublisherId>,
    ) -> Result<crate::organisation::IdentityView, NodeError> {
        self.blocking(move |shared| {
            let organisation = organisation.unwrap_or_else(|| shared.own());
            let mut view = shared.archive.identity(Some(organisation))?;
            view.domain_check = shared.domains.last(&organisation, &view.domain);
            Ok::<_, NodeError>(view)
        })
        .await
    }

    /// Signs the identity's next revision with `change` made; stores and gossips it when this
    /// node's key meets the threshold.
    pub async fn change_identity(
        &self,
        change: crate::organisation::Change,
    ) -> Result<crate::organisation::Changed, NodeError> {
        let changed = self.blocking(move |shared| shared.archive.change_identity(change)).await?;
        if let crate::organisation::Changed::Stored(record) = &changed {
            self.gossip(record).await;
        }
        Ok(changed)
    }

    /// Signs, stores and gossips an erasure of these superseded revisions of this
    /// organisation's records.
    pub async fn erase(&self, ids: Vec<String>, reason: String) -> Result<Record, NodeError> {
        let erasure = self.blocking(move |shared| shared.archive.erase(&ids, &reason)).await?;
        self.gossip(&erasure).await;
        Ok(erasure)
    }

    /// Refuses a publisher's records from now on, whatever the policy; returns its key.
    pub async fn block(&self, publisher: String) -> Result<String, NodeError> {
        self.change_trust(move |archive| archive.block(&publisher)).await
    }

    /// Partners in return with a publisher whose partnership record names this node; gossips
    /// this node's partnership record.
    pub async fn accept_partner(&self, publisher: String) -> Result<(), NodeError> {
        let added = self.change_trust(move |archive| archive.accept_partner(&publisher)).await?;
        if let Some(record) = &added.record {
            self.gossip(record).await;
        }
        self.shared.sync_soon(None);
        Ok(())
    }

    /// Stops asking whether to partner with a publisher that named this node.
    pub async fn ignore_partner(&self, publisher: String) -> Result<String, NodeError> {
        self.blocking(move |shared| shared.archive.ignore_partner(&publisher).map_err(NodeError::from)).await
    }

    /// Hides a note (by slug) or, with an empty slug, a publisher from the pages; kept and
    /// shared still.
    pub async fn hide(&self, publisher: String, slug: String) -> Result<String, NodeError> {
        self.blocking(move |shared| shared.archive.hide(&publisher, &slug).map_err(NodeError::from)).await
    }

    pub async fn unhide(&self, publisher: String, slug: String) -> Result<String, NodeError> {
        self.blocking(move |shared| shared.archive.unhide(&publisher, &slug).map_err(NodeError::from)).await
    }

    /// Accepts a blocked publisher's records again, and fetches what was refused.
    pub async fn unblock(&self, publisher: String) -> Result<String, NodeError> {
        let unblocked = self.change_trust(move |archive| archive.unblock(&publisher)).await?;
        self.shared.sync_soon(None);
        Ok(unblocked)
    }

    /// Changes the trust policy now (kept in partners.json) and syncs in the new scope.
    pub async fn set_policy(&self, policy: String) -> Result<PolicyKind, NodeError> {
        let kind = self.change_trust(move |archive| archive.set_policy(&policy)).await?;
        self.shared.sync_soon(None);
        Ok(kind)
    }

    /// Syncs now with one connected peer, or with every connected peer; answers the reports.
    pub async fn sync_now(&self, peer: Option<String>) -> Result<Vec<SyncAnswer>, NodeError> {
        let connected = self.net_status().await?.connected_peers;
        let peers = match peer {
            Some(peer) if connected.contains(&peer) => vec![peer],
            Some(peer) => return Err(NodeError::NotConnected(peer)),
            None => connected,
        };
        let mut answers = Vec::new();
        for peer in peers {
            let Ok(peer_id) = peer.parse() else { continue };
            answers.push(match self.sync_with(peer_id).await {
                Ok(report) => SyncAnswer::Done(report),
                Err(not_synced) => SyncAnswer::Busy { peer, error: not_synced.to_string() },
            });
        }
        Ok(answers)
    }

    /// Syncs with a peer now, unless it is banned or a sync with it runs already.
    pub async fn sync_with(&self, peer: PeerId) -> Result<SyncReport, NotSynced> {
        syncing::sync(&self.shared, peer).await
    }
}
