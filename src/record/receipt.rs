//! Format 5: receipts and erasures. A node states that it holds another organisation's record, at the
//! receipt's timestamp by its own clock; partners' receipts of an identity's revisions are its
//! witnesses (DESIGN.md §9): time stamps the organisation cannot forge, and two receipts of
//! different revisions with one number show a fork to everyone. An erasure lists the ids of
//! superseded revisions of the publisher's own records whose bodies nodes drop (the store
//! applies it, `store/erasures.rs`); a receipt of the erasure says a node did.

use super::body::Problems;
use super::{Context, KindBody, RecordError, RecordId};
use crate::wire::{Erasure, Receipt};

/// The kinds a receipt may name in format 5.
pub const RECEIPTED_KINDS: &[&str] = &["identity", "erasure"];
/// Ids an erasure lists at most.
pub const MAX_ERASED: usize = 1000;
/// Longest reason an erasure gives, in characters.
pub const MAX_ERASURE_REASON_CHARS: usize = 500;

impl KindBody for Receipt {
    const MESSAGE: &'static str = "Receipt";
    const WITHDRAWABLE: bool = false;

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        self.problems(context).into_iter().next().map_or(Ok(()), Err)
    }

    fn problems(&self, context: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        if context.slug.len() != 64 || context.slug.parse::<RecordId>().is_err() {
            let problem = "must be the id of the record receipted, 64 lowercase hex characters";
            problems.add("slug", format!("{:?} {problem}", context.slug));
        }
        match self.organisation.len() {
            32 if self.organisation == context.publisher.0 => problems
                .add("organisation", "is the publisher itself; a receipt witnesses another organisation's record"),
            32 => {}
            0 => problems.add("organisation", "is required (the 32-byte key of the organisation receipted)"),
            other => problems.add("organisation", format!("is {other} bytes; a key is 32")),
        }
        if !RECEIPTED_KINDS.contains(&self.subject_kind.as_str()) {
            let problem = match self.subject_kind.as_str() {
                "" => "is required".to_owned(),
                other => format!("{other:?} cannot be receipted"),
            };
            problems.add("subject_kind", format!("{problem}; allowed: {}", RECEIPTED_KINDS.join(", ")));
        }
        if self.revision == 0 {
            problems.add("revision", "is required: the receipted record's revision, 1 or more");
        }
        problems.0
    }

    fn title(&self) -> String {
        format!("receipt of {} revision {}", self.subject_kind, self.revision)
    }
}

impl Receipt {
    /// The id of the record receipted, from the receipt's slug.
    pub fn subject(slug: &str) -> Option<RecordId> {
        slug.parse().ok()
    }
}

impl KindBody for Erasure {
    const MESSAGE: &'static str = "Erasure";
    const WITHDRAWABLE: bool = false;

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        self.problems(context).into_iter().next().map_or(Ok(()), Err)
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        if self.ids.is_empty() || self.ids.len() > MAX_ERASED {
            problems.add("ids", format!("lists {} ids; list 1 to {MAX_ERASED}", self.ids.len()));
        }
        for (index, id) in self.ids.iter().enumerate() {
            if id.len() != 32 {
                problems.add(format!("ids[{index}]"), format!("is {} bytes; a record id is 32", id.len()));
            } else if self.ids[..index].contains(id) {
                problems.add(format!("ids[{index}]"), "is listed twice");
            }
        }
        if self.reason.chars().count() > MAX_ERASURE_REASON_CHARS {
            problems.add("reason", format!("at most {MAX_ERASURE_REASON_CHARS} characters"));
        }
        problems.0
    }

    fn title(&self) -> String {
        let n = self.ids.len();
        format!("erasure of {n} superseded revision{}", if n == 1 { "" } else { "s" })
    }
}
