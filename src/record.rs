//! Records: signing, verification, ids, limits and the head rule. Pure: no I/O and no clock
//! (callers pass the time), so every rule here is tested with plain unit tests.
//!
//! The only way to hold a [`Record`] is to sign one ([`sign`]) or verify one ([`verify`]); the
//! store takes nothing else, so nothing reaches it unverified. The normative description of every
//! rule is `proto/README.md`.

mod body;
mod error;
mod ids;
mod kinds;
mod receipt;
mod signers;
mod transfer;
#[cfg(test)]
pub(crate) mod tests;

use std::cmp::Ordering;
use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::wire::{self, Envelope, Header};

pub use crate::hex::{BadId, parse_hex, parse_hex32, to_hex};
pub use error::RecordError;
pub use ids::{ByPublisher, KeyHasher, PublisherId, RecordId};
pub use kinds::{Body, Context, Kind, KindBody};
pub use receipt::{MAX_ERASED, MAX_ERASURE_REASON_CHARS, RECEIPTED_KINDS};
pub use signers::{IDENTITY_SLUG, MAX_SIGNATURES};
pub use transfer::current_stage;

/// Header format version described by `proto/README.md`.
pub const FORMAT: u32 = 1;
/// The newest header format this version reads: format 2 is format 1 plus kind `partnership`,
/// format 3 is format 2 plus the knowledge-transfer kinds (request, offer, event, engagement,
/// outcome, endorsement), format 4 is format 3 plus organisation identities: kind `identity`,
/// signed by several keys, and records of any kind signed by an operator key for the
/// organisation (`Header.signer`), format 5 is format 4 plus kinds `receipt` (partners'
/// receipts of an identity's revisions and of erasures) and `erasure`.
pub const MAX_FORMAT: u32 = 5;
/// The format that introduced identity revisions and records signed by an operator key.
pub const SIGNER_FORMAT: u32 = 4;
/// Largest header, in bytes.
pub const MAX_HEADER_BYTES: usize = 4 * 1024;
/// Largest body, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest envelope: a full header and body plus room for the envelope's own framing.
pub const MAX_ENVELOPE_BYTES: usize = MAX_HEADER_BYTES + MAX_BODY_BYTES + 1024;
/// How far a record's timestamp may be ahead of the receiver's clock.
pub const MAX_FUTURE_MS: i64 = 10 * 60 * 1000;
/// Slug of the one profile record each publisher has.
pub const PROFILE_SLUG: &str = "profile";

/// Prefix of the signed bytes: the signature covers `DOMAIN || header`.
const DOMAIN: &[u8] = b"citymesh/header/v1\0";

/// A publisher's secret signing key. It never leaves the data directory unless exported.
pub struct PublisherKey(SigningKey);

impl PublisherKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        Self::from_seed(rand::random())
    }

    /// The key whose RFC 8032 secret seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The 32-byte secret seed, for writing the key file.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key that names this publisher.
    pub fn publisher(&self) -> PublisherId {
        PublisherId(self.0.verifying_key().to_bytes())
    }
}

/// What a publisher asks to sign; [`sign`] turns it into a [`Record`].
#[derive(Debug, Clone)]
pub struct Draft {
    pub slug: String,
    pub revision: u64,
    pub timestamp_ms: i64,
    pub kind: Kind,
    pub body: Body,
}

/// A record whose signature, limits and body have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    id: RecordId,
    publisher: PublisherId,
    /// The key that signed: the publisher itself before format 4.
    signer: PublisherId,
    kind: Kind,
    header: Header,
    header_bytes: Vec<u8>,
    signature: Vec<u8>,
    /// An identity revision's signatures (and none for every other kind).
    signatures: Vec<wire::KeySignature>,
    body: Vec<u8>,
}

/// Where a revision stands under the head rule: ordering two versions of one key, the greater
/// is the head (higher revision; at equal revision, the smaller id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub revision: u64,
    pub id: RecordId,
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.revision.cmp(&other.revision).then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The address of a record across its revisions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub publisher: PublisherId,
    pub kind: Kind,
    pub slug: String,
}

/// The key a node signs with and the organisation it signs for: its key's own, or another
/// organisation's, for which the key is an operator (format 4, `Header.signer`).
pub struct Signer {
    organisation: PublisherId,
    key: PublisherKey,
}

impl Signer {
    /// A key that signs for itself (the organisation it names).
    pub fn own(key: PublisherKey) -> Signer {
        Signer { organisation: key.publisher(), key }
    }

    /// A key that signs for `organisation` as one of its operators.
    pub fn operator(organisation: PublisherId, key: PublisherKey) -> Signer {
        Signer { organisation, key }
    }

    /// The organisation its records are published for.
    pub fn publisher(&self) -> PublisherId {
        self.organisation
    }

    /// The key that signs.
    pub fn key(&self) -> &PublisherKey {
        &self.key
    }

    /// Whether the key is an operator for another organisation's identity, not its own.
    pub fn is_operator(&self) -> bool {
        self.key.publisher() != self.organisation
    }

    /// Signs a draft for the organisation (see [`sign_for`]).
    pub fn sign(&self, draft: Draft) -> Result<Record, RecordError> {
        sign_for(self.organisation, &self.key, draft)
    }
}

/// Signs a draft as its own publisher. The result passes [`verify`] at the draft's own
/// timestamp, because it is checked by exactly the same code before it is returned.
pub fn sign(key: &PublisherKey, draft: Draft) -> Result<Record, RecordError> {
    sign_for(key.publisher(), key, draft)
}

/// Signs a draft for `organisation` with `key`: in the draft kind's own format when the key is
/// the organisation's, and in format 4 (or the kind's, if later) naming the key as the signer
/// when it is one of its operators. An identity revision gets `key`'s signature;
/// [`Record::cosigned`] adds more.
pub fn sign_for(organisation: PublisherId, key: &PublisherKey, draft: Draft) -> Result<Record, RecordError> {
    let timestamp_ms = draft.timestamp_ms;
    verify(&draft_envelope(organisation, key, draft), timestamp_ms)
}

/// The envelope of a draft signed for `organisation` with `key`, unchecked (see [`sign_for`]).
pub(crate) fn draft_envelope(organisation: PublisherId, key: &PublisherKey, draft: Draft) -> Vec<u8> {
    let (body, tombstone) = (draft.body.encode(), matches!(draft.body, Body::Tombstone(_)));
    let by_operator = key.publisher() != organisation && draft.kind != Kind::Identity;
    let header = Header {
        format: lowest_format(draft.kind, by_operator),
        publisher: organisation.0.to_vec(),
        kind: draft.kind.as_str().to_owned(),
        slug: draft.slug,
        revision: draft.revision,
        timestamp_ms: draft.timestamp_ms,
        body_sha256: Sha256::digest(&body).to_vec(),
        body_len: body.len() as u64,
        tombstone,
        signer: if by_operator { key.publisher().0.to_vec() } else { Vec::new() },
    };
    let header = wire::encode(&header);
    match draft.kind {
        Kind::Identity => signers::identity_envelope(&[key], header, body),
        _ => signed_envelope(key, header, body),
    }
}

/// The envelope of these header and body bytes with `key`'s signature, whatever they hold
/// (`sign` checks what it signs; the fuzz targets sign anything, to reach the rules after the
/// signature).
pub(crate) fn signed_envelope(key: &PublisherKey, header: Vec<u8>, body: Vec<u8>) -> Vec<u8> {
    let signature = key.0.sign(&signed_bytes(&header));
    wire::encode(&Envelope { header, signature: signature.to_bytes().to_vec(), body, signatures: Vec::new() })
}

/// Checks an envelope against every rule of `proto/README.md`, in the order given there, and
/// returns the verified record or the first rule it breaks.
pub fn verify(envelope: &[u8], now_ms: i64) -> Result<Record, RecordError> {
    Verifier::default().verify(envelope, now_ms)
}

/// Verifies many records, remembering the publisher keys it has decoded: decoding a key costs
/// about a sixth of a signature check, and a batch usually has few publishers.
#[derive(Default)]
pub struct Verifier {
    keys: HashMap<PublisherId, VerifyingKey>,
}

impl Verifier {
    /// Keys remembered at most; the memory is forgotten whole when full.
    const MAX_KEYS: usize = 4096;

    /// Same as [`verify`].
    pub fn verify(&mut self, envelope: &[u8], now_ms: i64) -> Result<Record, RecordError> {
        let decoded = Decoded::read(envelope)?;
        self.key(&decoded.publisher)?;
        let record = decoded.into_record()?;
        record.check_header(now_ms)?;
        record.check_body_bytes()?;
        self.check_signed(&record)?;
        record.parse_body()?;
        Ok(record)
    }

    /// Rules `signature-length` and `signature` (or `signatures`, for an identity revision).
    fn check_signed(&mut self, record: &Record) -> Result<(), RecordError> {
        if record.kind == Kind::Identity {
            return signers::check_signatures(self, record);
        }
        let key = self.signer_key(record)?;
        record.check_signature(&record.signature, &key)
    }

    /// The key that signed a record other than an identity revision (rule `signer` for an
    /// operator key, which must be a valid key other than the publisher).
    fn signer_key(&mut self, record: &Record) -> Result<VerifyingKey, RecordError> {
        if record.signer == record.publisher {
            return self.key(&record.publisher);
        }
        self.key(&record.signer).map_err(|_| RecordError::Signer("is not a valid Ed25519 public key"))
    }

    fn key(&mut self, publisher: &PublisherId) -> Result<VerifyingKey, RecordError> {
        if let Some(key) = self.keys.get(publisher) {
            return Ok(*key);
        }
        let key = verifying_key(publisher)?;
        if self.keys.len() >= Self::MAX_KEYS {
            self.keys.clear();
        }
        self.keys.insert(*publisher, key);
        Ok(key)
    }
}

/// The id and publisher an envelope claims, without checking anything else: to see whether a
/// peer sent what was asked for before verifying it.
pub fn claimed(envelope: &[u8]) -> Option<(RecordId, [u8; 32])> {
    let envelope: Envelope = wire::decode(envelope).ok()?;
    let header: Header = wire::decode(&envelope.header).ok()?;
    let publisher = <[u8; 32]>::try_from(header.publisher.as_slice()).ok()?;
    Some((RecordId(Sha256::digest(&envelope.header).into()), publisher))
}

/// Rebuilds a record from bytes this node verified before it stored them. Only the store calls
/// this, on its own records tree; the id is recomputed, so a damaged entry is still noticed.
pub(crate) fn from_trusted_storage(envelope: &[u8]) -> Result<Record, RecordError> {
    Decoded::read(envelope)?.into_record()
}

/// An envelope decoded up to the rule `publisher-length`.
struct Decoded {
    header_bytes: Vec<u8>,
    header: Header,
    signature: Vec<u8>,
    signatures: Vec<wire::KeySignature>,
    body: Vec<u8>,
    publisher: PublisherId,
}

impl Decoded {
    fn read(envelope: &[u8]) -> Result<Decoded, RecordError> {
        if envelope.len() > MAX_ENVELOPE_BYTES {
            return Err(RecordError::EnvelopeSize(envelope.len()));
        }
        let Envelope { header: header_bytes, signature, body, signatures } =
            wire::decode(envelope).map_err(RecordError::EnvelopeDecode)?;
        if header_bytes.len() > MAX_HEADER_BYTES {
            return Err(RecordError::HeaderSize(header_bytes.len()));
        }
        let header: Header = wire::decode(&header_bytes).map_err(RecordError::HeaderDecode)?;
        if header.format == 0 || header.format > MAX_FORMAT {
            return Err(RecordError::Format(header.format));
        }
        let publisher =
            header.publisher.as_slice().try_into().map_err(|_| RecordError::PublisherLength(header.publisher.len()))?;
        Ok(Decoded { header_bytes, header, signature, signatures, body, publisher: PublisherId(publisher) })
    }

    /// Checks the rules `kind`, `format` and `signer` (steps 9 to 9c) and computes the id.
    fn into_record(self) -> Result<Record, RecordError> {
        let kind: Kind = self.header.kind.parse()?;
        let format = self.header.format;
        if kind.format() > format {
            // Reserved in this format (partnership in format 1).
            return Err(RecordError::Kind(self.header.kind.clone()));
        }
        if format > kind.format().max(SIGNER_FORMAT) {
            // Later than any format the record could need, whoever signed it.
            return Err(RecordError::Format(format));
        }
        let signer = signers::signer(&self.header, kind, self.publisher)?;
        if format > lowest_format(kind, signer != self.publisher) {
            // Expressible in an older format, so it must be signed in it.
            return Err(RecordError::Format(format));
        }
        // Formats 1 to 3 skip envelope field 4, as their verifiers do; so does every kind but
        // identity (rule `signatures`, checked with the signatures).
        let signatures = if kind == Kind::Identity { self.signatures } else { Vec::new() };
        Ok(Record {
            id: RecordId(Sha256::digest(&self.header_bytes).into()),
            publisher: self.publisher,
            signer,
            kind,
            header: self.header,
            header_bytes: self.header_bytes,
            signature: self.signature,
            signatures,
            body: self.body,
        })
    }
}

/// The format a record of `kind` is signed in: the kind's own, or format 4 if that is later and
/// an operator key signs it (rule `format`).
fn lowest_format(kind: Kind, by_operator: bool) -> u32 {
    match by_operator {
        true => kind.format().max(SIGNER_FORMAT),
        false => kind.format(),
    }
}

fn signed_bytes(header: &[u8]) -> Vec<u8> {
    [DOMAIN, header].concat()
}

fn verifying_key(publisher: &PublisherId) -> Result<VerifyingKey, RecordError> {
    let key = VerifyingKey::from_bytes(&publisher.0).map_err(|_| RecordError::PublisherKey)?;
    if key.is_weak() {
        return Err(RecordError::WeakKey);
    }
    Ok(key)
}

impl Record {
    fn check_header(&self, now_ms: i64) -> Result<(), RecordError> {
        let header = &self.header;
        if header.tombstone && !self.kind.is_withdrawable() {
            return Err(RecordError::NotWithdrawable(self.kind.as_str()));
        }
        if !is_slug(&header.slug) {
            return Err(RecordError::Slug(header.slug.clone()));
        }
        if let Some(expected) = self.kind.fixed_slug().filter(|expected| header.slug != *expected) {
            let found = header.slug.clone();
            return Err(RecordError::FixedSlug { kind: self.kind.as_str(), expected, found });
        }
        if header.revision == 0 {
            return Err(RecordError::Revision);
        }
        if header.timestamp_ms < 0 || header.timestamp_ms > now_ms.saturating_add(MAX_FUTURE_MS) {
            return Err(RecordError::Timestamp { timestamp_ms: header.timestamp_ms, now_ms });
        }
        Ok(())
    }

    fn check_body_bytes(&self) -> Result<(), RecordError> {
        let header = &self.header;
        if header.body_sha256.len() != 32 {
            return Err(RecordError::BodyHashLength(header.body_sha256.len()));
        }
        if header.body_len > MAX_BODY_BYTES as u64 || self.body.len() > MAX_BODY_BYTES {
            return Err(RecordError::BodySize(header.body_len.max(self.body.len() as u64)));
        }
        if header.body_len != self.body.len() as u64 {
            return Err(RecordError::BodyLength { declared: header.body_len, actual: self.body.len() });
        }
        if Sha256::digest(&self.body).as_slice() != header.body_sha256.as_slice() {
            return Err(RecordError::BodyHash);
        }
        Ok(())
    }

    fn check_signature(&self, signature: &[u8], key: &VerifyingKey) -> Result<(), RecordError> {
        let signature = Signature::from_slice(signature).map_err(|_| RecordError::SignatureLength(signature.len()))?;
        key.verify_strict(&signed_bytes(&self.header_bytes), &signature).map_err(|_| RecordError::Signature)
    }

    /// Decodes and checks the body. It cannot fail for a record that passed [`verify`].
    pub fn parse_body(&self) -> Result<Body, RecordError> {
        let body = Body::decode(self.kind, self.header.tombstone, &self.body)?;
        body.check(&Context { publisher: self.publisher, slug: &self.header.slug })?;
        Ok(body)
    }

    pub fn id(&self) -> RecordId {
        self.id
    }

    /// The organisation the record is for: what names it, whoever signed it.
    pub fn publisher(&self) -> PublisherId {
        self.publisher
    }

    /// The key that signed the record: the publisher itself, or one of its operator keys
    /// (format 4). An identity revision's signers are [`Record::signers`].
    pub fn signer(&self) -> PublisherId {
        self.signer
    }

    /// The keys whose signatures on the record verified: an identity revision's several
    /// signers, or the one signer of any other record.
    pub fn signers(&self) -> Vec<PublisherId> {
        match self.kind {
            Kind::Identity => signers::keys(&self.signatures),
            _ => vec![self.signer],
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn slug(&self) -> &str {
        &self.header.slug
    }

    pub fn revision(&self) -> u64 {
        self.header.revision
    }

    pub fn timestamp_ms(&self) -> i64 {
        self.header.timestamp_ms
    }

    /// True when this revision withdraws its key.
    pub fn is_tombstone(&self) -> bool {
        self.header.tombstone
    }

    pub fn key(&self) -> Key {
        Key { publisher: self.publisher, kind: self.kind, slug: self.header.slug.clone() }
    }

    pub fn version(&self) -> Version {
        Version { revision: self.header.revision, id: self.id }
    }

    /// The header bytes exactly as signed.
    pub fn header_bytes(&self) -> &[u8] {
        &self.header_bytes
    }

    /// The files the body names (a withdrawal names none), read without decoding the rest.
    pub fn attachments(&self) -> Vec<wire::Attachment> {
        let Some(field) = self.kind.attachments_field().filter(|_| !self.header.tombstone) else { return Vec::new() };
        let values = wire::fields_of(&self.body, field).unwrap_or_default();
        values.into_iter().filter_map(|value| wire::decode(value).ok()).collect()
    }

    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The canonical envelope encoding: what the store keeps and `export` writes.
    pub fn envelope_bytes(&self) -> Vec<u8> {
        wire::encode(&Envelope {
            header: self.header_bytes.clone(),
            signature: self.signature.clone(),
            body: self.body.clone(),
            signatures: self.signatures.clone(),
        })
    }

    /// The envelope without its body: what a node keeps of a revision its publisher erased.
    /// Its header and signatures still verify ([`verify_erased`]).
    pub fn erased_envelope_bytes(&self) -> Vec<u8> {
        wire::encode(&Envelope {
            header: self.header_bytes.clone(),
            signature: self.signature.clone(),
            body: Vec::new(),
            signatures: self.signatures.clone(),
        })
    }
}

/// Checks what a node keeps of an erased revision, an envelope without its body, against every
/// rule of `proto/README.md` §8 but those on the body (steps 14 to 16, 19 and 20): the header
/// is well formed and its signatures verify. The record answered has an empty body.
pub fn verify_erased(envelope: &[u8], now_ms: i64) -> Result<Record, RecordError> {
    let mut verifier = Verifier::default();
    let decoded = Decoded::read(envelope)?;
    verifier.key(&decoded.publisher)?;
    let record = decoded.into_record()?;
    record.check_header(now_ms)?;
    if record.header.body_sha256.len() != 32 {
        return Err(RecordError::BodyHashLength(record.header.body_sha256.len()));
    }
    if !record.body.is_empty() {
        return Err(RecordError::BodyLength { declared: 0, actual: record.body.len() });
    }
    verifier.check_signed(&record)?;
    Ok(record)
}

/// True for a valid slug: `[a-z0-9][a-z0-9-]{0,63}`.
pub fn is_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0] != b'-'
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}
