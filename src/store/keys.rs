//! How the store's index keys and values are laid out (big-endian integers, so that byte order
//! is numeric order), and read back.

use super::StoreError;
use crate::record::{self, Key, RecordId, Version};

pub(super) fn damaged(id: &[u8], problem: &str) -> StoreError {
    StoreError::Damaged { id: record::to_hex(id), problem: problem.to_owned() }
}

pub(super) fn head_key(key: &Key) -> Vec<u8> {
    [&key.publisher.0[..], key.kind.as_str().as_bytes(), &[0], key.slug.as_bytes()].concat()
}

pub(super) fn history_key(key: &Key, version: Version) -> Vec<u8> {
    [&head_key(key)[..], &[0], &version.revision.to_be_bytes(), &version.id.0].concat()
}

pub(super) fn time_key(timestamp_ms: i64, id: RecordId) -> Vec<u8> {
    // Verified records never have a negative timestamp (rule `timestamp`).
    [&(timestamp_ms as u64).to_be_bytes()[..], &id.0].concat()
}

/// The kind a head key names: publisher (32) ‖ kind ‖ 0x00 ‖ slug.
pub(super) fn head_key_kind(key: &[u8]) -> String {
    let rest = key.get(32..).unwrap_or_default();
    String::from_utf8_lossy(rest.split(|byte| *byte == 0).next().unwrap_or_default()).into_owned()
}

/// A `by_time` key: the timestamp and the id.
pub(super) fn parse_time_key(key: &[u8]) -> Result<(u64, RecordId), StoreError> {
    match key.split_first_chunk::<8>() {
        Some((timestamp, id)) if id.len() == 32 => Ok((u64::from_be_bytes(*timestamp), trailing_id(id)?)),
        _ => Err(damaged(key, "a time index entry has the wrong length")),
    }
}

pub(super) fn version_bytes(version: Version) -> Vec<u8> {
    [&version.revision.to_be_bytes()[..], &version.id.0].concat()
}

pub(super) fn parse_version(bytes: &[u8]) -> Result<Version, StoreError> {
    match bytes.split_first_chunk::<8>() {
        Some((revision, id)) if id.len() == 32 => {
            Ok(Version { revision: u64::from_be_bytes(*revision), id: trailing_id(id)? })
        }
        _ => Err(damaged(&[], "a head entry has the wrong length")),
    }
}

pub(super) fn parse_total(bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| damaged(bytes, "a publisher's byte total has the wrong length"))
}

/// The id that ends an index key.
pub(super) fn trailing_id(key: &[u8]) -> Result<RecordId, StoreError> {
    key.last_chunk::<32>().map(|id| RecordId(*id)).ok_or_else(|| damaged(key, "an index entry is too short"))
}
