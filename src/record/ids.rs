//! The names records go by: record ids, publisher ids and kinds, with their text forms.

use std::fmt;
use std::str::FromStr;

use super::RecordError;
use crate::hex::{BadId, parse_hex32, to_hex};

/// SHA-256 of a record's header bytes; written as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub [u8; 32]);

/// A publisher's Ed25519 public key; written as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublisherId(pub [u8; 32]);

macro_rules! hex_id {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(text: &str) -> Result<Self, BadId> {
                parse_hex32(text).map(Self)
            }
        }
    };
}

hex_id!(RecordId);
hex_id!(PublisherId);

/// The kinds of record format 1 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Who a publisher is; one per publisher, slug `profile`.
    Profile,
    /// A practice note.
    Practice,
    /// One publisher naming another as its partner (format 2); slug: the partner's key in hex.
    Partnership,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 3] = [Kind::Profile, Kind::Practice, Kind::Partnership];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Practice => "practice",
            Kind::Partnership => "partnership",
        }
    }

    /// The header format that introduced this kind; records of the kind carry exactly it
    /// (a publisher signs with the lowest format that can express a record).
    pub fn format(self) -> u32 {
        match self {
            Kind::Profile | Kind::Practice => 1,
            Kind::Partnership => 2,
        }
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
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| RecordError::Kind(text.to_owned()))
    }
}
