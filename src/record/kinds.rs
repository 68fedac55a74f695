//! The record kinds this version knows, registered in one place ([`kinds!`] below): each kind's
//! name, the header format that introduced it and its body message. The registration makes
//! [`Kind`], [`Body`] and everything that dispatches on them; what a kind's body means (its
//! rules, its title, whether it can be withdrawn) is the message's [`KindBody`] impl.
//!
//! A new kind is its message in `proto/citymesh.proto`, one line in [`kinds!`], and a module of
//! its own under `record/` with its `impl KindBody` (its rules).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{PublisherId, RecordError};
use crate::wire::{
    self, Endorsement, Engagement, Erasure, Event, Identity, Offer, Outcome, Partnership, Practice, Profile, Receipt,
    Request, Tombstone,
};

/// What a record's rules may look at beyond its body.
pub struct Context<'a> {
    pub publisher: PublisherId,
    pub slug: &'a str,
}

/// A kind's body message: what its records mean beyond their bytes.
pub trait KindBody: Sized {
    /// The message's name, as decoding errors give it.
    const MESSAGE: &'static str;
    /// Whether records of the kind can be withdrawn (a profile cannot: it is replaced).
    const WITHDRAWABLE: bool = true;
    /// The one slug records of the kind must have, if they have one (`profile`).
    const SLUG: Option<&'static str> = None;

    /// Checks the body against its field rules (`proto/README.md`, "Bodies"); the error names
    /// the field and what is allowed.
    fn check(&self, context: &Context) -> Result<(), RecordError>;

    /// Every problem [`KindBody::check`] would find, not only the first (for a form that
    /// shows them all at once); the first is the one `check` gives.
    fn problems(&self, context: &Context) -> Vec<RecordError> {
        self.check(context).err().into_iter().collect()
    }

    /// Rules a body must follow when it is written here, which verification does not apply
    /// (fields older verifiers skip: spec §17); none for most kinds.
    fn authoring_problems(&self) -> Vec<RecordError> {
        Vec::new()
    }

    /// What a listing shows as the record's title.
    fn title(&self) -> String;

    /// The number of the body's field of `Attachment`s, for kinds that name files.
    const ATTACHMENTS: Option<u32> = None;
}

/// Registers the kinds: `Variant(Message) = "name", format N;`, in a stable order.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $variant:ident($message:ty) = $name:literal, format $format:literal; )+) => {
        /// The kinds of record this version knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $( $(#[$doc])* $variant, )+
        }

        impl Kind {
            /// Every kind, in a stable order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( Kind::$variant => $name, )+
                }
            }

            /// The header format that introduced this kind; records of the kind carry exactly
            /// it (a publisher signs with the lowest format that can express a record).
            pub fn format(self) -> u32 {
                match self {
                    $( Kind::$variant => $format, )+
                }
            }

            /// Whether records of this kind can be withdrawn.
            pub fn is_withdrawable(self) -> bool {
                match self {
                    $( Kind::$variant => <$message as KindBody>::WITHDRAWABLE, )+
                }
            }

            /// The number of the body's field of attachments, for kinds that name files.
            pub fn attachments_field(self) -> Option<u32> {
                match self {
                    $( Kind::$variant => <$message as KindBody>::ATTACHMENTS, )+
                }
            }

            /// The one slug records of this kind must have, if they have one.
            pub fn fixed_slug(self) -> Option<&'static str> {
                match self {
                    $( Kind::$variant => <$message as KindBody>::SLUG, )+
                }
            }
        }

        /// The parsed body of a record. Bodies are short-lived views, so the size difference
        /// between variants does not matter.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum Body {
            $( $variant($message), )+
            /// A withdrawal: the record's key is withdrawn from this revision on.
            Tombstone(Tombstone),
        }

        impl Body {
            /// The body's bytes, as signed.
            pub(super) fn encode(&self) -> Vec<u8> {
                match self {
                    $( Body::$variant(body) => wire::encode(body), )+
                    Body::Tombstone(stone) => wire::encode(stone),
                }
            }

            /// Decodes the body of a record of `kind` (a withdrawal when `tombstone`).
            pub(super) fn decode(kind: Kind, tombstone: bool, bytes: &[u8]) -> Result<Body, RecordError> {
                fn read<M: wire::Wire + KindBody>(bytes: &[u8]) -> Result<M, RecordError> {
                    wire::decode(bytes).map_err(|error| RecordError::BodyDecode { message: M::MESSAGE, error })
                }
                if tombstone {
                    return read(bytes).map(Body::Tombstone);
                }
                match kind {
                    $( Kind::$variant => read(bytes).map(Body::$variant), )+
                }
            }

            /// Reads a body back from its JSON form, by the kind of its record.
            pub fn from_json(kind: Kind, tombstone: bool, json: serde_json::Value) -> Result<Body, serde_json::Error> {
                if tombstone {
                    return serde_json::from_value(json).map(Body::Tombstone);
                }
                match kind {
                    $( Kind::$variant => serde_json::from_value(json).map(Body::$variant), )+
                }
            }

            pub(super) fn check(&self, context: &Context) -> Result<(), RecordError> {
                match self {
                    $( Body::$variant(body) => body.check(context), )+
                    Body::Tombstone(stone) => stone.check(context),
                }
            }

            /// The kind of the body (none for a withdrawal).
            pub fn kind(&self) -> Option<Kind> {
                match self {
                    $( Body::$variant(_) => Some(Kind::$variant), )+
                    Body::Tombstone(_) => None,
                }
            }

            /// The rules a body must follow when it is written here (see
            /// [`KindBody::authoring_problems`]).
            pub fn authoring_problems(&self) -> Vec<RecordError> {
                match self {
                    $( Body::$variant(body) => body.authoring_problems(), )+
                    Body::Tombstone(_) => Vec::new(),
                }
            }

            /// Every problem the record rules find in the body.
            pub fn problems(&self, context: &Context) -> Vec<RecordError> {
                match self {
                    $( Body::$variant(body) => body.problems(context), )+
                    Body::Tombstone(stone) => stone.problems(context),
                }
            }

            /// What a listing shows as the record's title.
            pub fn title(&self) -> String {
                match self {
                    $( Body::$variant(body) => body.title(), )+
                    Body::Tombstone(stone) => stone.title(),
                }
            }
        }
    };
}

kinds! {
    /// Who a publisher is; one per publisher, slug `profile`.
    Profile(Profile) = "profile", format 1;
    /// A practice note.
    Practice(Practice) = "practice", format 1;
    /// One publisher naming another as its partner (format 2); slug: the partner's key in hex.
    Partnership(Partnership) = "partnership", format 2;
    /// A city asking for expertise (format 3).
    Request(Request) = "request", format 3;
    /// An organisation offering expertise (format 3).
    Offer(Offer) = "offer", format 3;
    /// A seminar, training, visit or other dated gathering (format 3).
    Event(Event) = "event", format 3;
    /// One organisation's side of a transfer of a practice (format 3).
    Engagement(Engagement) = "engagement", format 3;
    /// What came of one of the publisher's engagements (format 3).
    Outcome(Outcome) = "outcome", format 3;
    /// A third party vouching for a practice or an outcome (format 3).
    Endorsement(Endorsement) = "endorsement", format 3;
    /// One revision of an organisation's identity log: which keys sign for it (format 4; slug
    /// `identity`).
    Identity(Identity) = "identity", format 4;
    /// A node's statement that it holds another organisation's record (format 5; slug: the
    /// record's id in hex): partners' receipts witness an identity's revisions.
    Receipt(Receipt) = "receipt", format 5;
    /// The publisher asking nodes to drop the bodies of some of its superseded revisions
    /// (format 5).
    Erasure(Erasure) = "erasure", format 5;
}

impl Kind {
    /// Every kind's name, for messages: `profile, practice, partnership`.
    pub fn names() -> String {
        Kind::ALL.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = RecordError;
    fn from_str(text: &str) -> Result<Self, RecordError> {
        Kind::ALL.iter().copied().find(|kind| kind.as_str() == text).ok_or_else(|| RecordError::Kind(text.to_owned()))
    }
}
