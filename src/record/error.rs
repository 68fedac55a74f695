//! Why a record was refused. Each variant is one rule of `proto/README.md`, named in its message.

use super::{MAX_BODY_BYTES, MAX_ENVELOPE_BYTES, MAX_FUTURE_MS, MAX_HEADER_BYTES};
use crate::wire::DecodeError;

/// A broken rule. Messages start with `rule <name>:` so that logs, the CLI and other
/// implementations name the same rule the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("rule envelope-size: the envelope is {0} bytes; the limit is {MAX_ENVELOPE_BYTES}")]
    EnvelopeSize(usize),
    #[error("rule envelope-decode: not a citymesh envelope ({0})")]
    EnvelopeDecode(DecodeError),
    #[error("rule header-size: the header is {0} bytes; the limit is {MAX_HEADER_BYTES}")]
    HeaderSize(usize),
    #[error("rule header-decode: the header is not a valid Header message ({0})")]
    HeaderDecode(DecodeError),
    #[error("rule format: format {0} is not supported here; this node reads formats 1 to 5")]
    Format(u32),
    #[error("rule publisher-length: the publisher key is {0} bytes; it must be 32")]
    PublisherLength(usize),
    #[error("rule publisher-key: the publisher key is not a valid Ed25519 public key")]
    PublisherKey,
    #[error("rule weak-key: the publisher key is a weak (small-order) Ed25519 key")]
    WeakKey,
    #[error(
        "rule kind: unknown kind {0:?}; format 1 knows profile and practice, format 2 partnership, format 3 request, offer, event, engagement, outcome and endorsement, format 4 identity, format 5 receipt and erasure"
    )]
    Kind(String),
    #[error("rule kind: a {0} cannot be withdrawn, only replaced by a new revision")]
    NotWithdrawable(&'static str),
    #[error("rule slug: {0:?} is not a slug; use 1 to 64 of a-z, 0-9 and '-', not starting with '-'")]
    Slug(String),
    #[error("rule slug: a {kind}'s slug must be {expected:?}, not {found:?}")]
    FixedSlug { kind: &'static str, expected: &'static str, found: String },
    #[error("rule revision: revisions start at 1")]
    Revision,
    #[error(
        "rule timestamp: timestamp {timestamp_ms} ms is negative or more than {MAX_FUTURE_MS} ms after this node's clock ({now_ms} ms)"
    )]
    Timestamp { timestamp_ms: i64, now_ms: i64 },
    #[error("rule body-hash-length: body_sha256 is {0} bytes; it must be 32")]
    BodyHashLength(usize),
    #[error("rule body-size: the body is {0} bytes; the limit is {MAX_BODY_BYTES}")]
    BodySize(u64),
    #[error("rule body-length: the header says the body is {declared} bytes but it is {actual}")]
    BodyLength { declared: u64, actual: usize },
    #[error("rule body-hash: the body does not match the header's body_sha256")]
    BodyHash,
    #[error("rule signature-length: the signature is {0} bytes; it must be 64")]
    SignatureLength(usize),
    #[error("rule signature: the signature does not verify for this header and the key that signed it")]
    Signature,
    #[error("rule signer: Header.signer {0}")]
    Signer(&'static str),
    #[error("rule signatures: {0}")]
    Signatures(String),
    #[error("rule body-decode: the body is not a valid {message} message ({error})")]
    BodyDecode { message: &'static str, error: DecodeError },
    #[error("rule body-field: {field}: {problem}")]
    BodyField { field: String, problem: String },
}

impl RecordError {
    /// Whether sending a record that breaks this rule is the sender's fault. It is not for a
    /// kind or format of a newer version, nor for a timestamp ahead of this node's clock (the
    /// clocks may differ): such a record is ignored, not held against whoever passed it on.
    pub fn is_senders_fault(&self) -> bool {
        !matches!(self, RecordError::Kind(_) | RecordError::Format(_) | RecordError::Timestamp { .. })
    }

    /// The rule's stable name, as `proto/README.md` lists it.
    pub fn rule(&self) -> &'static str {
        use RecordError::*;
        match self {
            EnvelopeSize(_) => "envelope-size",
            EnvelopeDecode(_) => "envelope-decode",
            HeaderSize(_) => "header-size",
            HeaderDecode(_) => "header-decode",
            Format(_) => "format",
            PublisherLength(_) => "publisher-length",
            PublisherKey => "publisher-key",
            WeakKey => "weak-key",
            Kind(_) | NotWithdrawable(_) => "kind",
            Slug(_) | FixedSlug { .. } => "slug",
            Revision => "revision",
            Timestamp { .. } => "timestamp",
            BodyHashLength(_) => "body-hash-length",
            BodySize(_) => "body-size",
            BodyLength { .. } => "body-length",
            BodyHash => "body-hash",
            SignatureLength(_) => "signature-length",
            Signature => "signature",
            Signer(_) => "signer",
            Signatures(_) => "signatures",
            BodyDecode { .. } => "body-decode",
            BodyField { .. } => "body-field",
        }
    }
}
