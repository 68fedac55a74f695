//! The node's reads, one method of [`NodeHandle`] each: they answer the typed views the API
//! serves, the web page renders and the CLI prints.

use serde::{Deserialize, Serialize};

use super::{NodeError, NodeHandle, Penalty, Received, Rejection, events};
use crate::archive::{Invite, InviteError};
use crate::net::PeerId;
use crate::partners::PartnerView;
use crate::record::{Body, Key, Kind, PROFILE_SLUG, PublisherId, Record, RecordId};
use crate::search::SearchQuery;
use crate::store::StoreError;
use crate::sync::SyncReport;
use crate::trust::BlockEntry;
use crate::view::{self, Cursor, Detail, EnvelopePage, Filter, HitView, Page, SearchPage};
use crate::wire::{Practice, Profile};

/// The node's state, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub publisher: String,
    pub networks: Vec<String>,
    /// Records held (every revision).
    pub records: usize,
    pub connected_peers: Vec<String>,
    /// The organisations whose nodes those peers are, where this node knows (its partners').
    #[serde(default)]
    pub peer_names: std::collections::BTreeMap<String, String>,
    pub gossip_peers: usize,
    pub mesh_peers: usize,
    pub last_received: Option<Received>,
    pub recent_rejections: Vec<Rejection>,
    pub syncs: Vec<SyncReport>,
    pub trust_policy: String,
    pub penalties: Vec<Penalty>,
}

/// A connected peer, as the network page and `GET /api/v1/peers` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerView {
    pub peer: String,
    /// The organisation whose node it is, where this node knows (a partner's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub last_sync: Option<SyncReport>,
    pub penalty: Option<Penalty>,
    pub gossip_score: Option<f64>,
}

/// A partner, and when this node last synced with its node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRow {
    #[serde(flatten)]
    pub partner: PartnerView,
    pub last_sync_ms: Option<i64>,
}

/// The partners and the policy in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnersPage {
    pub policy: String,
    pub partners: Vec<PartnerRow>,
}

impl NodeHandle {
    /// The node's state: network, records held, recent arrivals, refusals and syncs.
    pub async fn status(&self) -> Result<Status, NodeError> {
        let net = self.net_status().await?;
        let names = self.peer_names().await;
        let peer_names =
            net.connected_peers.iter().filter_map(|peer| Some((peer.clone(), names.get(peer)?.clone()))).collect();
        Ok(Status {
            peer_names,
            peer_id: net.peer_id,
            listen_addrs: net.listen_addrs,
            publisher: self.publisher().to_string(),
            networks: net.networks,
            records: self.records_held(),
            connected_peers: net.connected_peers,
            gossip_peers: net.gossip_peers,
            mesh_peers: net.mesh_peers,
            last_received: self.shared.state.last_received(),
            recent_rejections: self.rejections(),
            syncs: self.syncs().into_values().collect(),
            trust_policy: self.policy().kind().to_string(),
            penalties: self.penalties(),
        })
    }

    /// The heads, newest first, filtered, a page at a time.
    pub async fn list(&self, filter: Filter, after: Option<Cursor>, limit: usize) -> Result<Page, NodeError> {
        self.blocking(move |shared| shared.archive.list(&filter, after, limit)).await
    }

    /// A record by id, or a practice note's head by slug (this node's own first).
    pub async fn find(&self, target: String) -> Result<Record, NodeError> {
        self.blocking(move |shared| shared.archive.find(&target)).await
    }

    /// An attachment's file, if a held record names it and its bytes are here.
    pub async fn attachment(&self, sha256: [u8; 32]) -> Result<crate::archive::Download, NodeError> {
        self.blocking(move |shared| shared.archive.attachment(&sha256)).await
    }

    /// The files a record names, each with whether its bytes are here.
    pub async fn attachments_of(&self, target: String) -> Result<Vec<crate::archive::AttachmentRow>, NodeError> {
        self.blocking(move |shared| shared.archive.attachments_of(&target)).await
    }

    /// Everything about a record, by id or slug; with its key's history when asked.
    pub async fn show(&self, target: String, with_history: bool) -> Result<Detail, NodeError> {
        self.blocking(move |shared| shared.archive.show(&target, with_history)).await
    }

    /// A record's envelope exactly as stored, by id or slug.
    pub async fn raw(&self, target: String) -> Result<Vec<u8>, NodeError> {
        self.blocking(move |shared| shared.archive.find(&target).map(|record| record.envelope_bytes())).await
    }

    /// The body of this node's current note with this slug, and its revision, if it has one.
    pub async fn own_note(&self, slug: String) -> Result<Option<(u64, Practice)>, NodeError> {
        self.blocking(move |shared| {
            let key = Key { publisher: shared.own(), kind: Kind::Practice, slug };
            Ok::<_, StoreError>(shared.store().head(&key)?.and_then(|head| match head.parse_body() {
                Ok(Body::Practice(note)) => Some((head.revision(), note)),
                _ => None,
            }))
        })
        .await
    }

    /// A publisher's current profile, if one is held.
    pub async fn profile_of(&self, publisher: PublisherId) -> Result<Option<Profile>, NodeError> {
        self.blocking(move |shared| {
            let key = Key { publisher, kind: Kind::Profile, slug: PROFILE_SLUG.to_owned() };
            Ok::<_, StoreError>(shared.store().head(&key)?.and_then(|head| match head.parse_body() {
                Ok(Body::Profile(profile)) => Some(profile),
                _ => None,
            }))
        })
        .await
    }

    /// This node's name, from its profile (the start of its key when it has none).
    pub async fn name(&self) -> String {
        self.name_of(self.publisher()).await
    }

    /// A publisher's name, from its profile (the start of its key when none is held).
    pub async fn name_of(&self, publisher: PublisherId) -> String {
        self.blocking(move |shared| Ok::<_, StoreError>(shared.archive.names().of(&publisher)))
            .await
            .unwrap_or_else(|_| publisher.to_string()[..12].to_owned())
    }

    /// Several publishers' names as this node shows them, named once together (for a list).
    pub async fn names_of(&self, publishers: Vec<PublisherId>) -> std::collections::HashMap<PublisherId, String> {
        self.blocking(move |shared| {
            let names = shared.archive.names();
            Ok::<_, StoreError>(publishers.into_iter().map(|publisher| (publisher, names.of(&publisher))).collect())
        })
        .await
        .unwrap_or_default()
    }

    /// The other publishers whose profiles claim `publisher`'s name.
    pub async fn sharing_name(&self, publisher: PublisherId) -> Vec<PublisherId> {
        let others = self.blocking(move |shared| Ok::<_, StoreError>(shared.archive.names().sharing_name(&publisher)));
        others.await.unwrap_or_default()
    }

    /// Records held, in arrival order, a page at a time, with their exact bytes.
    pub async fn envelopes(&self, after: Option<u64>, limit: usize) -> Result<EnvelopePage, NodeError> {
        self.blocking(move |shared| shared.archive.envelopes(after, limit)).await
    }

    /// Full-text search over the current practice notes.
    pub async fn search(&self, query: SearchQuery) -> Result<SearchPage, NodeError> {
        self.blocking(move |shared| shared.archive.search(&query)).await
    }

    /// The current notes that adapt any of these records (name them in `based_on`).
    pub async fn adaptations(&self, ids: Vec<RecordId>) -> Result<Vec<HitView>, NodeError> {
        self.blocking(move |shared| {
            let archive = &shared.archive;
            view::adaptations(archive.store(), &archive.names(), archive.search_index()?, &ids)
        })
        .await
    }

    /// Current practice notes (not withdrawn), as the search index has them once it has caught
    /// up (as it has them now, if it cannot).
    pub async fn notes(&self) -> Result<u64, NodeError> {
        self.blocking(|shared| {
            let archive = &shared.archive;
            let index = archive.search_index()?;
            match index.catch_up(archive.store()) {
                Ok(indexed) => events::after_indexing(indexed),
                Err(error) => tracing::warn!(%error, "cannot update the search index; counting the notes it has"),
            }
            index.count_of(Kind::Practice)
        })
        .await
    }

    /// The partners, each with the last sync with its node, and the policy in force.
    pub async fn partners(&self) -> Result<PartnersPage, NodeError> {
        let syncs = self.syncs();
        let partners = self.blocking(|shared| shared.archive.partners().map_err(NodeError::Failed)).await?;
        let partners = partners
            .into_iter()
            .map(|partner| {
                let last_sync_ms = syncs.get(&partner.peer_id).map(|report| report.at_ms);
                PartnerRow { partner, last_sync_ms }
            })
            .collect();
        Ok(PartnersPage { policy: self.policy().kind().to_string(), partners })
    }

    /// Connected peers, each with its last sync, strikes and gossip score.
    pub async fn peers(&self) -> Result<Vec<PeerView>, NodeError> {
        let net = self.net_status().await?;
        let (syncs, penalties) = (self.syncs(), self.penalties());
        let names = self.peer_names().await;
        let mut peers = Vec::new();
        for peer in net.connected_peers {
            let gossip_score = match peer.parse() {
                Ok(peer_id) => self.peer_score(peer_id).await.ok().flatten(),
                Err(_) => None,
            };
            peers.push(PeerView {
                last_sync: syncs.get(&peer).cloned(),
                penalty: penalties.iter().find(|penalty| penalty.peer == peer).cloned(),
                gossip_score,
                name: names.get(&peer).cloned(),
                peer,
            });
        }
        Ok(peers)
    }

    /// The organisations whose nodes peers are, by peer id, where this node knows (partners').
    pub async fn peer_names(&self) -> std::collections::HashMap<String, String> {
        self.blocking(|shared| Ok::<_, NodeError>(shared.archive.peer_names())).await.unwrap_or_default()
    }

    /// Publishers that named this node as a partner and wait for an answer.
    pub async fn invitations(&self) -> Result<Vec<PublisherId>, NodeError> {
        self.blocking(|shared| shared.archive.invitations().map_err(NodeError::Failed)).await
    }

    /// What is hidden from the pages.
    pub async fn hidden(&self) -> Result<Vec<crate::trust::HiddenEntry>, NodeError> {
        self.blocking(|shared| shared.archive.hidden().map_err(NodeError::Failed)).await
    }

    /// The blocked publishers.
    pub async fn blocks(&self) -> Result<Vec<BlockEntry>, NodeError> {
        self.blocking(|shared| shared.archive.blocks().map_err(NodeError::Failed)).await
    }

    /// This node's invite code, naming `addresses` (the addresses it listens on when `None`).
    pub async fn invite(&self, addresses: Option<Vec<String>>) -> Result<Invite, NodeError> {
        let net = self.net_status().await?;
        let addresses = addresses.unwrap_or(net.listen_addrs);
        let peer_id = net.peer_id;
        self.blocking(move |shared| {
            shared.archive.invite(&peer_id, &addresses, "address").map_err(|error| match error {
                InviteError::Address(text) => NodeError::BadAddress(text),
                other => NodeError::Failed(other.into()),
            })
        })
        .await
    }

    /// The node's metrics, in the Prometheus text format.
    pub async fn metrics(&self) -> String {
        let peers = self.net_status().await.map(|status| status.connected_peers.len()).unwrap_or_default();
        let notes = self.notes().await.unwrap_or_default();
        let keys = self.blocking(|shared| shared.store().head_counts()).await.unwrap_or_default();
        let state = crate::metrics::State { records: self.records_held(), peers, notes, keys };
        self.shared.metrics.set_state(&state);
        self.shared.metrics.render()
    }

    /// Connected peers' ids.
    pub async fn connected_peers(&self) -> Vec<PeerId> {
        events::connected_peers(&self.shared).await
    }
}
