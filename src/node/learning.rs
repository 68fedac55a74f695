//! The node's use cases of city-to-city learning: matching, a record's status, withdrawing a
//! record of any kind, and what the board, the events and the funnel read.

use super::{NodeError, NodeHandle};
use crate::archive::MatchAnswer;
use crate::author::Published;
use crate::record::{Kind, Record};
use crate::transfers::{Funnel, Transfers};

impl NodeHandle {
    /// What a request or an offer matches (see [`crate::archive::Archive::matches`]).
    pub async fn matches(&self, target: String, limit: usize) -> Result<MatchAnswer, NodeError> {
        self.blocking(move |shared| shared.archive.matches(&target, limit)).await
    }

    /// Signs the next revision of one of this node's requests, offers or events with a new
    /// status, and gossips it.
    pub async fn set_status(&self, kind: Kind, slug: String, status: String) -> Result<Published, NodeError> {
        let published = self.blocking(move |shared| shared.archive.set_status(kind, &slug, &status)).await?;
        Ok(self.gossip_new(published).await)
    }

    /// Signs a record of a written kind read from a form, and gossips it.
    pub async fn publish_written(
        &self,
        written: crate::markdown::Written,
        base: Option<u64>,
    ) -> Result<Published, NodeError> {
        let published = self.blocking(move |shared| shared.archive.publish_written(written, base)).await?;
        Ok(self.gossip_new(published).await)
    }

    /// This node's current record of `kind` with `slug`, and its revision.
    pub async fn own_record(&self, kind: Kind, slug: String) -> Result<Option<(u64, crate::record::Body)>, NodeError> {
        self.blocking(move |shared| shared.archive.own_record(kind, &slug)).await
    }

    /// Withdraws one of this node's records of `kind` and gossips the withdrawal.
    pub async fn withdraw_kind(&self, kind: Kind, slug: String, reason: String) -> Result<Record, NodeError> {
        let withdrawal = self.blocking(move |shared| shared.archive.withdraw_kind(kind, &slug, &reason)).await?;
        self.gossip(&withdrawal).await;
        Ok(withdrawal)
    }

    /// A record of `kind` by id, slug or `publisher/slug` (this node's own first).
    pub async fn find_kind(&self, kind: Kind, target: String) -> Result<Record, NodeError> {
        self.blocking(move |shared| crate::view::find_kind(shared.store(), Some(shared.own()), &[kind], &target)).await
    }

    /// The current heads of a kind of few records (requests, offers, events ...).
    pub async fn heads_of(&self, kind: Kind) -> Result<Vec<Record>, NodeError> {
        self.blocking(move |shared| shared.archive.heads_of(kind)).await
    }

    /// Each publisher's country, as its current profile says.
    pub async fn countries(&self) -> Result<std::collections::HashMap<crate::record::PublisherId, String>, NodeError> {
        self.blocking(move |shared| shared.archive.countries()).await
    }

    /// Every engagement held with its confirmation and outcomes, and every endorsement.
    pub async fn transfers(&self) -> Result<Transfers, NodeError> {
        self.blocking(move |shared| shared.archive.transfers()).await
    }

    /// The home page's funnel.
    pub async fn funnel(&self) -> Result<Funnel, NodeError> {
        self.blocking(move |shared| shared.archive.funnel()).await
    }
}
