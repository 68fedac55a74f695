//! The bytes of a Negentropy V1 message: `version Range*`, `Range = Bound Mode Payload`,
//! `Bound = varint(timestamp delta) varint(prefix length) id prefix`. Varints are base 128,
//! most significant group first. Timestamps are sent as 1 + the difference from the previous
//! bound's timestamp, 0 meaning infinity.

use std::cmp::Ordering;

use super::{Item, PROTOCOL_VERSION, ReconcileError};

/// Encodes a varint.
pub(super) fn varint(mut value: u64) -> Vec<u8> {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    groups.reverse();
    groups
}

/// A range boundary: every item below it (by timestamp, then id) is inside the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bound {
    timestamp: u64,
    /// The shortest id prefix that separates neighbouring items; compared as if padded with
    /// zeros to 32 bytes.
    prefix: Vec<u8>,
}

impl Bound {
    pub(super) fn zero() -> Self {
        Bound { timestamp: 0, prefix: Vec::new() }
    }

    pub(super) fn infinity() -> Self {
        Bound { timestamp: u64::MAX, prefix: Vec::new() }
    }

    /// The bound just at `item` (which is then the first item above it).
    pub(super) fn of(item: &Item) -> Self {
        Bound { timestamp: item.timestamp, prefix: item.id.to_vec() }
    }

    /// The shortest bound above `previous` and at `current` (neighbouring items).
    pub(super) fn between(previous: &Item, current: &Item) -> Self {
        if previous.timestamp != current.timestamp {
            return Bound { timestamp: current.timestamp, prefix: Vec::new() };
        }
        let shared = previous.id.iter().zip(&current.id).take_while(|(a, b)| a == b).count();
        Bound { timestamp: current.timestamp, prefix: current.id[..(shared + 1).min(32)].to_vec() }
    }

    fn padded(&self) -> [u8; 32] {
        let mut id = [0; 32];
        id[..self.prefix.len()].copy_from_slice(&self.prefix);
        id
    }

    /// True when `item` is below this bound.
    pub(super) fn is_above(&self, item: &Item) -> bool {
        (item.timestamp, item.id) < (self.timestamp, self.padded())
    }
}

impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.timestamp, self.padded()).cmp(&(other.timestamp, other.padded()))
    }
}

/// What a range says about itself.
pub(super) enum Mode {
    /// Nothing to do for this range.
    Skip,
    /// The sender's fingerprint of the range.
    Fingerprint([u8; 16]),
    /// Every id the sender holds in the range.
    IdList(Vec<[u8; 32]>),
}

/// Builds one message; bounds are delta-encoded against the last bound written.
pub(super) struct Writer {
    bytes: Vec<u8>,
    last_timestamp: u64,
}

impl Writer {
    /// A new message, starting with the version byte.
    pub(super) fn new() -> Self {
        Writer { bytes: vec![PROTOCOL_VERSION], last_timestamp: 0 }
    }

    /// A piece to append to `message` later (or to drop); it encodes as if written there.
    pub(super) fn continuing(message: &Writer) -> Self {
        Writer { bytes: Vec::new(), last_timestamp: message.last_timestamp }
    }

    pub(super) fn append(&mut self, piece: Writer) {
        if !piece.bytes.is_empty() {
            self.bytes.extend(piece.bytes);
            self.last_timestamp = piece.last_timestamp;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(super) fn finish(self) -> Vec<u8> {
        self.bytes
    }

    pub(super) fn bound(&mut self, bound: &Bound) {
        let delta = if bound.timestamp == u64::MAX {
            0
        } else {
            bound.timestamp.saturating_sub(self.last_timestamp).saturating_add(1)
        };
        self.last_timestamp = bound.timestamp;
        self.bytes.extend(varint(delta));
        self.bytes.extend(varint(bound.prefix.len() as u64));
        self.bytes.extend(&bound.prefix);
    }

    pub(super) fn mode_skip(&mut self) {
        self.bytes.push(0);
    }

    pub(super) fn mode_fingerprint(&mut self, fingerprint: &[u8; 16]) {
        self.bytes.push(1);
        self.bytes.extend(fingerprint);
    }

    pub(super) fn id_list(&mut self, ids: &[[u8; 32]]) {
        self.bytes.push(2);
        self.bytes.extend(varint(ids.len() as u64));
        for id in ids {
            self.bytes.extend(id);
        }
    }
}

/// Reads one message.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    last_timestamp: u64,
}

impl<'a> Reader<'a> {
    /// Checks the version byte.
    pub(super) fn new(message: &'a [u8]) -> Result<Self, ReconcileError> {
        let (&version, rest) = message.split_first().ok_or(ReconcileError::Empty)?;
        if !(0x60..=0x6f).contains(&version) {
            return Err(ReconcileError::NotAVersion(version));
        }
        if version != PROTOCOL_VERSION {
            return Err(ReconcileError::UnsupportedVersion(version));
        }
        Ok(Reader { rest, last_timestamp: 0 })
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn bytes(&mut self, count: usize) -> Result<&'a [u8], ReconcileError> {
        if self.rest.len() < count {
            return Err(ReconcileError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn varint(&mut self) -> Result<u64, ReconcileError> {
        let mut value: u64 = 0;
        loop {
            let &[byte] = self.bytes(1)? else { return Err(ReconcileError::Truncated) };
            if value > u64::MAX >> 7 {
                return Err(ReconcileError::VarintOverflow);
            }
            value = value << 7 | u64::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
    }

    pub(super) fn bound(&mut self) -> Result<Bound, ReconcileError> {
        let timestamp = match self.varint()? {
            0 => u64::MAX,
            delta => (delta - 1).saturating_add(self.last_timestamp),
        };
        self.last_timestamp = timestamp;
        let length = self.varint()?;
        if length > 32 {
            return Err(ReconcileError::LongPrefix(length));
        }
        let prefix = self.bytes(length as usize)?.to_vec();
        Ok(Bound { timestamp, prefix })
    }

    pub(super) fn mode(&mut self) -> Result<Mode, ReconcileError> {
        match self.varint()? {
            0 => Ok(Mode::Skip),
            1 => {
                let mut fingerprint = [0; 16];
                fingerprint.copy_from_slice(self.bytes(16)?);
                Ok(Mode::Fingerprint(fingerprint))
            }
            2 => {
                let count = self.varint()?;
                if count > (self.rest.len() / 32) as u64 {
                    return Err(ReconcileError::Truncated);
                }
                let mut ids = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    let mut id = [0; 32];
                    id.copy_from_slice(self.bytes(32)?);
                    ids.push(id);
                }
                Ok(Mode::IdList(ids))
            }
            other => Err(ReconcileError::UnknownMode(other)),
        }
    }
}
