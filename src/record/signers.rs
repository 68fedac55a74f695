//! Format 4: who signs. A record of any kind may be signed by one of its organisation's
//! operator keys, named in `Header.signer`; an identity revision is signed by several
//! governance keys at once, their signatures in `Envelope.signatures`. Whether a key may sign
//! for an organisation is the identity log's to say (`crate::identity`); this module checks
//! only that the signatures are there and verify.

#[cfg(test)]
mod tests;

use ed25519_dalek::Signer;

use super::{
    Body, Context, Envelope, Header, Kind, KindBody, PublisherId, PublisherKey, Record, RecordError, SIGNER_FORMAT,
    Verifier, signed_bytes, verify,
};
use crate::wire::{self, Identity, KeySignature};

/// The one slug of an organisation's identity revisions.
pub const IDENTITY_SLUG: &str = "identity";
/// Signatures on one identity revision at most: one per governance key.
pub const MAX_SIGNATURES: usize = 16;

impl KindBody for Identity {
    const MESSAGE: &'static str = "Identity";
    const WITHDRAWABLE: bool = false;
    const SLUG: Option<&'static str> = Some(IDENTITY_SLUG);

    /// An identity's field rules depend on the revision's time and on the revisions before it,
    /// so the identity log judges them (`crate::identity`, rules `identity-*`).
    fn check(&self, _: &Context) -> Result<(), RecordError> {
        Ok(())
    }

    fn title(&self) -> String {
        let keys = |n: usize, what: &str| format!("{n} {what} key{}", if n == 1 { "" } else { "s" });
        format!(
            "organisation identity: {}, {}",
            keys(self.governance.len(), "governance"),
            keys(self.operators.len(), "operator")
        )
    }
}

/// The key that signed a record (rule `signer`): from format 4, `Header.signer` for every kind
/// but identity, where it must be empty, and for a kind of format 5 or later empty meaning the
/// publisher itself; before format 4 the publisher, whatever field 10 holds (older verifiers
/// skip it).
pub(super) fn signer(header: &Header, kind: Kind, publisher: PublisherId) -> Result<PublisherId, RecordError> {
    if header.format < SIGNER_FORMAT {
        return Ok(publisher);
    }
    if kind == Kind::Identity {
        return match header.signer.is_empty() {
            true => Ok(publisher),
            false => Err(RecordError::Signer("must be empty in an identity revision, whose signers sign the envelope")),
        };
    }
    let signer: [u8; 32] = match header.signer.len() {
        0 if kind.format() > SIGNER_FORMAT => return Ok(publisher),
        0 => return Err(RecordError::Signer("is required in format 4 (the operator key that signed)")),
        32 => header.signer.as_slice().try_into().expect("32 bytes"),
        _ => return Err(RecordError::Signer("must be 32 bytes, an Ed25519 public key")),
    };
    if signer == publisher.0 {
        return Err(RecordError::Signer(
            "names the publisher itself; a record signed by its publisher is signed in its kind's own format",
        ));
    }
    Ok(PublisherId(signer))
}

/// Checks an identity revision's signatures (rule `signatures`, then `signature-length` and
/// `signature` for each): `Envelope.signature` empty, 1 to [`MAX_SIGNATURES`] signatures by
/// distinct valid keys, each verifying.
pub(super) fn check_signatures(verifier: &mut Verifier, record: &Record) -> Result<(), RecordError> {
    if !record.signature.is_empty() {
        return Err(RecordError::Signatures(
            "an identity revision's signatures are in Envelope.signatures; Envelope.signature must be empty".into(),
        ));
    }
    let count = record.signatures.len();
    if count == 0 || count > MAX_SIGNATURES {
        return Err(RecordError::Signatures(format!("1 to {MAX_SIGNATURES} signatures are allowed, not {count}")));
    }
    for (index, signed) in record.signatures.iter().enumerate() {
        let key: [u8; 32] = signed.key.as_slice().try_into().map_err(|_| {
            RecordError::Signatures(format!("signatures[{index}].key is {} bytes; a key is 32", signed.key.len()))
        })?;
        if record.signatures[..index].iter().any(|earlier| earlier.key == signed.key) {
            return Err(RecordError::Signatures(format!("signatures[{index}]: the key signed twice")));
        }
        let key = verifier.key(&PublisherId(key)).map_err(|_| {
            RecordError::Signatures(format!("signatures[{index}].key is not a valid Ed25519 public key"))
        })?;
        record.check_signature(&signed.signature, &key)?;
    }
    Ok(())
}

/// The envelope of an identity revision signed by `keys`.
pub(super) fn identity_envelope(keys: &[&PublisherKey], header: Vec<u8>, body: Vec<u8>) -> Vec<u8> {
    let signatures = keys.iter().map(|key| key_signature(key, &header)).collect();
    wire::encode(&Envelope { header, signature: Vec::new(), body, signatures })
}

fn key_signature(key: &PublisherKey, header: &[u8]) -> KeySignature {
    KeySignature { key: key.publisher().0.to_vec(), signature: key.0.sign(&signed_bytes(header)).to_bytes().to_vec() }
}

/// The keys of signatures that verified.
pub(super) fn keys(signatures: &[KeySignature]) -> Vec<PublisherId> {
    signatures.iter().filter_map(|signed| signed.key.as_slice().try_into().ok().map(PublisherId)).collect()
}

impl Record {
    /// The same identity revision with `key`'s signature added (or renewed): how several
    /// officials sign one revision, on one machine or by passing the file between machines.
    /// Its id does not change.
    pub fn cosigned(&self, key: &PublisherKey) -> Result<Record, RecordError> {
        if self.kind != Kind::Identity {
            return Err(RecordError::Signatures(format!(
                "only identity revisions carry several signatures, not a {}",
                self.kind
            )));
        }
        let mut signatures: Vec<KeySignature> =
            self.signatures.iter().filter(|signed| signed.key != key.publisher().0).cloned().collect();
        signatures.push(key_signature(key, &self.header_bytes));
        if signatures.len() > MAX_SIGNATURES {
            return Err(RecordError::Signatures(format!("at most {MAX_SIGNATURES} signatures are allowed")));
        }
        let envelope =
            Envelope { header: self.header_bytes.clone(), signature: Vec::new(), body: self.body.clone(), signatures };
        verify(&wire::encode(&envelope), self.header.timestamp_ms)
    }

    /// The identity body of an identity revision.
    pub fn identity(&self) -> Option<Identity> {
        match self.parse_body() {
            Ok(Body::Identity(identity)) => Some(identity),
            _ => None,
        }
    }
}
