//! The protobuf wire types generated from `proto/citymesh.proto`, and their encoding and decoding.
//!
//! Only this module names prost: everything else sees plain structs and the two functions below.

#[allow(missing_docs, clippy::doc_lazy_continuation)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/citymesh.v1.rs"));
}

pub use generated::{
    Activity, Answer, Attachment, Contact, Endorsement, Engagement, Envelope, Erasure, Event, FetchRequest,
    FetchResponse, Header, Identity, Indicator, Invite, KeySignature, Link, Offer, Operator, Outcome, Partner,
    Partnership, Place, Practice, Profile, Receipt, Ref, Refusal, Request, Resources, ResultIndicator, Revocation,
    Stage, SyncRequest, SyncResponse, Tombstone, Transferability,
};

/// A message that could not be decoded; the text says where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// A wire message: one of the generated types.
pub trait Wire: prost::Message + Default + Sized {}
impl<M: prost::Message + Default> Wire for M {}

/// Decodes one message. Unknown fields are skipped (callers that must keep them keep the bytes).
pub fn decode<M: Wire>(bytes: &[u8]) -> Result<M, DecodeError> {
    M::decode(bytes).map_err(|error| DecodeError(error.to_string()))
}

/// Encodes one message canonically: fields in number order, defaults omitted.
pub fn encode<M: Wire>(message: &M) -> Vec<u8> {
    message.encode_to_vec()
}

/// The values of one length-delimited field of a message, at its top level, without decoding
/// the rest: a few bytes read per field skipped. `None` when the bytes are not a message.
pub fn fields_of(message: &[u8], number: u32) -> Option<Vec<&[u8]>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        prost::encoding::decode_varint(bytes).ok()
    }
    let mut rest = message;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let key = varint(&mut rest)?;
        let length = match key & 7 {
            0 => {
                varint(&mut rest)?;
                0
            }
            1 => 8,
            2 => usize::try_from(varint(&mut rest)?).ok()?,
            5 => 4,
            _ => return None,
        };
        let value = rest.get(..length)?;
        if key & 7 == 2 && key >> 3 == u64::from(number) {
            out.push(value);
        }
        rest = &rest[length..];
    }
    Some(out)
}

/// Serialises a byte field as lowercase hex (used by the generated types' JSON form).
pub fn serialize_hex<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::hex::to_hex(bytes))
}

/// Reads a byte field written by [`serialize_hex`].
pub fn deserialize_hex<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    crate::hex::parse_hex(&text).map_err(serde::de::Error::custom)
}

/// Serialises a repeated byte field as a list of lowercase hex strings.
pub fn serialize_hex_list<S: serde::Serializer>(list: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|bytes| crate::hex::to_hex(bytes)))
}

/// Reads a repeated byte field written by [`serialize_hex_list`].
pub fn deserialize_hex_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Vec<u8>>, D::Error> {
    let list = <Vec<String> as serde::Deserialize>::deserialize(deserializer)?;
    list.iter().map(|text| crate::hex::parse_hex(text).map_err(serde::de::Error::custom)).collect()
}
