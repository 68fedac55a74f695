//! Range-based set reconciliation in the Negentropy protocol V1 message format (NIP-77): two
//! nodes find which records each lacks by exchanging fingerprints of ranges of their sets,
//! splitting only the ranges that differ, so the cost grows with the differences, not with the
//! size of the sets. Pure: no I/O; sessions are driven by whoever moves the bytes.
//!
//! Items are `(timestamp_ms, record id)` in ascending order. A range's fingerprint is the first
//! 16 bytes of SHA-256(sum of its ids as 256-bit little-endian integers mod 2^256 ‖
//! varint(count)); [`ItemSet`] keeps a prefix sum every [`SUM_STRIDE`] items, so any range's
//! fingerprint costs one hash and at most twice that many additions.

mod message;
#[cfg(test)]
mod tests;

use sha2::{Digest, Sha256};

use message::{Bound, Mode, Reader, Writer};

/// The protocol version byte this implementation speaks.
pub const PROTOCOL_VERSION: u8 = 0x61;
/// Ranges of fewer items than this are sent as id lists; larger ones are split into
/// [`BUCKETS`] fingerprinted sub-ranges.
const BUCKETS: usize = 16;
const ID_LIST_BELOW: usize = 2 * BUCKETS;
/// The smallest frame size limit the protocol allows (0 means no limit).
pub const MIN_FRAME_LIMIT: usize = 4096;

/// One element of a reconciled set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    pub timestamp: u64,
    pub id: [u8; 32],
}

/// A reconciliation message that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error("the message is empty")]
    Empty,
    #[error("the first byte {0:#04x} is not a Negentropy protocol version (0x60 to 0x6f)")]
    NotAVersion(u8),
    #[error("the peer speaks Negentropy version {0:#04x}; this node speaks 0x61")]
    UnsupportedVersion(u8),
    #[error("the message ends in the middle of a range")]
    Truncated,
    #[error("unknown range mode {0}")]
    UnknownMode(u64),
    #[error("a bound's id prefix is {0} bytes; at most 32 are allowed")]
    LongPrefix(u64),
    #[error("a varint is longer than 64 bits")]
    VarintOverflow,
    #[error("ranges are out of order")]
    Disorder,
    #[error("the frame size limit {0} is below the minimum of 4096 bytes")]
    FrameLimit(usize),
}

/// Items between two kept prefix sums: a set takes 40 bytes an item and 2 for its sums (32
/// with a sum at every item), and a fingerprint adds at most 30 ids to two sums.
pub const SUM_STRIDE: usize = 16;

/// A sorted set of items with prefix sums of their ids.
#[derive(Debug, Clone, Default)]
pub struct ItemSet {
    items: Vec<Item>,
    /// `sums[k]` is the sum of the ids of `items[..k * SUM_STRIDE]`, as four little-endian
    /// 64-bit limbs.
    sums: Vec<[u64; 4]>,
}

fn limbs(id: &[u8; 32]) -> [u64; 4] {
    std::array::from_fn(|limb| u64::from_le_bytes(id[limb * 8..limb * 8 + 8].try_into().unwrap_or_default()))
}

fn add(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0; 4];
    let mut carry = false;
    for limb in 0..4 {
        let (sum, c1) = a[limb].overflowing_add(b[limb]);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        out[limb] = sum;
        carry = c1 || c2;
    }
    out
}

fn subtract(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0; 4];
    let mut borrow = false;
    for limb in 0..4 {
        let (difference, b1) = a[limb].overflowing_sub(b[limb]);
        let (difference, b2) = difference.overflowing_sub(u64::from(borrow));
        out[limb] = difference;
        borrow = b1 || b2;
    }
    out
}

impl ItemSet {
    /// Builds a set; the items are sorted and duplicates dropped.
    pub fn new(mut items: Vec<Item>) -> Self {
        items.sort_unstable();
        items.dedup();
        items.shrink_to_fit();
        let mut sums = Vec::with_capacity(items.len() / SUM_STRIDE + 1);
        let mut total = [0u64; 4];
        sums.push(total);
        for stride in items.chunks(SUM_STRIDE).filter(|stride| stride.len() == SUM_STRIDE) {
            total = stride.iter().fold(total, |sum, item| add(sum, limbs(&item.id)));
            sums.push(total);
        }
        Self { items, sums }
    }

    /// The sum of the ids of `items[..index]`.
    fn prefix_sum(&self, index: usize) -> [u64; 4] {
        let kept = index / SUM_STRIDE;
        self.items[kept * SUM_STRIDE..index].iter().fold(self.sums[kept], |sum, item| add(sum, limbs(&item.id)))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The fingerprint of `items[lower..upper]`.
    fn fingerprint(&self, lower: usize, upper: usize) -> [u8; 16] {
        let sum = subtract(self.prefix_sum(upper), self.prefix_sum(lower));
        let mut hasher = Sha256::new();
        for limb in sum {
            hasher.update(limb.to_le_bytes());
        }
        hasher.update(message::varint((upper - lower) as u64));
        let digest = hasher.finalize();
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }

    /// The first index at or after `from` whose item is not below `bound`.
    fn lower_bound(&self, from: usize, bound: &Bound) -> usize {
        from + self.items[from..].partition_point(|item| bound.is_above(item))
    }
}

/// One side of a reconciliation.
pub struct Session<'a> {
    set: &'a ItemSet,
    initiator: bool,
    frame_limit: usize,
}

impl<'a> Session<'a> {
    /// A session over `set`; `frame_limit` caps each message's size (0: no cap; else ≥ 4096).
    pub fn new(set: &'a ItemSet, frame_limit: usize) -> Result<Self, ReconcileError> {
        if frame_limit != 0 && frame_limit < MIN_FRAME_LIMIT {
            return Err(ReconcileError::FrameLimit(frame_limit));
        }
        Ok(Self { set, initiator: false, frame_limit })
    }

    /// The initiator's side of a session whose first message was sent before (by another
    /// `Session` over the same set): it takes the answers with [`Session::reconcile`].
    pub fn initiator(set: &'a ItemSet, frame_limit: usize) -> Result<Self, ReconcileError> {
        Ok(Self { initiator: true, ..Self::new(set, frame_limit)? })
    }

    /// The initiator's first message.
    pub fn initiate(&mut self) -> Vec<u8> {
        self.initiator = true;
        let mut writer = Writer::new();
        self.split_range(&mut writer, 0, self.set.len(), Bound::infinity());
        writer.finish()
    }

    /// The responder's answer to a message. A message in another protocol version gets the
    /// one-byte answer naming the version this node speaks, as the protocol says.
    pub fn respond(&mut self, message: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        match self.answer(message) {
            Err(ReconcileError::UnsupportedVersion(_)) => Ok(vec![PROTOCOL_VERSION]),
            other => other,
        }
    }

    /// The responder's answer to a message; a message in another protocol version is
    /// [`ReconcileError::UnsupportedVersion`], for an answer that says so in other words.
    pub fn answer(&mut self, message: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        self.process(message, &mut Vec::new(), &mut Vec::new())
    }

    /// The initiator's handling of an answer: ids only we hold go to `have`, ids only they hold
    /// to `need` (either may repeat across rounds). Returns the next message, or `None` when the
    /// sets are reconciled.
    pub fn reconcile(
        &mut self,
        message: &[u8],
        have: &mut Vec<[u8; 32]>,
        need: &mut Vec<[u8; 32]>,
    ) -> Result<Option<Vec<u8>>, ReconcileError> {
        let next = self.process(message, have, need)?;
        Ok((next.len() > 1).then_some(next))
    }

    fn process(
        &mut self,
        message: &[u8],
        have: &mut Vec<[u8; 32]>,
        need: &mut Vec<[u8; 32]>,
    ) -> Result<Vec<u8>, ReconcileError> {
        let mut reader = Reader::new(message)?;
        let mut out = Writer::new();
        let size = self.set.len();
        let (mut previous_bound, mut previous_index) = (Bound::zero(), 0usize);
        let mut skip = false;
        let mut emitted = 0usize;
        while !reader.is_empty() {
            let mut range = Writer::continuing(&out);
            let bound = reader.bound()?;
            if bound < previous_bound {
                return Err(ReconcileError::Disorder);
            }
            let mode = reader.mode()?;
            let lower = previous_index;
            let mut upper = self.set.lower_bound(previous_index, &bound);
            match mode {
                Mode::Skip => skip = true,
                Mode::Fingerprint(theirs) => {
                    if theirs == self.set.fingerprint(lower, upper) {
                        skip = true;
                    } else {
                        if std::mem::take(&mut skip) {
                            range.bound(&previous_bound);
                            range.mode_skip();
                        }
                        self.split_range(&mut range, lower, upper, bound.clone());
                    }
                }
                Mode::IdList(theirs) => {
                    let mut theirs: std::collections::HashSet<[u8; 32]> = theirs.into_iter().collect();
                    for item in &self.set.items[lower..upper] {
                        if !theirs.remove(&item.id) && self.initiator {
                            have.push(item.id);
                        }
                    }
                    if self.initiator {
                        skip = true;
                        need.extend(theirs);
                    } else {
                        if std::mem::take(&mut skip) {
                            range.bound(&previous_bound);
                            range.mode_skip();
                        }
                        let mut ids = Vec::new();
                        let mut end_bound = bound.clone();
                        for (index, item) in self.set.items[lower..upper].iter().enumerate() {
                            if self.over_limit(out.len() + range.len() + ids.len() * 32) {
                                end_bound = Bound::of(item);
                                upper = lower + index;
                                break;
                            }
                            ids.push(item.id);
                        }
                        range.bound(&end_bound);
                        range.id_list(&ids);
                        out.append(range);
                        range = Writer::continuing(&out);
                        emitted = upper;
                    }
                }
            }
            if self.over_limit(out.len() + range.len()) {
                // Too much for one frame: cover everything not yet sent with one fingerprint,
                // which the other side will split again in the next round.
                let mut rest = Writer::continuing(&out);
                rest.bound(&Bound::infinity());
                rest.mode_fingerprint(&self.set.fingerprint(emitted, size));
                out.append(rest);
                break;
            }
            if !range.is_empty() {
                emitted = upper;
            }
            out.append(range);
            previous_index = upper;
            previous_bound = bound;
        }
        Ok(out.finish())
    }

    fn over_limit(&self, length: usize) -> bool {
        // Room is kept for the closing fingerprint range (at most ~60 bytes).
        self.frame_limit != 0 && length + 200 > self.frame_limit
    }

    /// Describes `items[lower..upper]`, ending at `upper_bound`: as an id list when small, else
    /// as [`BUCKETS`] fingerprints.
    fn split_range(&self, out: &mut Writer, lower: usize, upper: usize, upper_bound: Bound) {
        let count = upper - lower;
        if count < ID_LIST_BELOW {
            out.bound(&upper_bound);
            let ids: Vec<[u8; 32]> = self.set.items[lower..upper].iter().map(|item| item.id).collect();
            out.id_list(&ids);
            return;
        }
        let (per_bucket, with_extra) = (count / BUCKETS, count % BUCKETS);
        let mut current = lower;
        for bucket in 0..BUCKETS {
            let size = per_bucket + usize::from(bucket < with_extra);
            let fingerprint = self.set.fingerprint(current, current + size);
            current += size;
            let bound = if current == upper {
                upper_bound.clone()
            } else {
                Bound::between(&self.set.items[current - 1], &self.set.items[current])
            };
            out.bound(&bound);
            out.mode_fingerprint(&fingerprint);
        }
    }
}
