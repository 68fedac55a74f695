//! Envelopes kept compressed (store format 3). A `records` value is the id (32) and then one
//! of:
//! - the envelope as received. Its first byte is at least 0x08: a protobuf message starts with
//!   a field's tag, and field numbers start at 1. Format 2 wrote every value so, and format 3
//!   writes so an envelope that compression would not shrink;
//! - [`PLAIN`] and a Zstandard frame of the envelope;
//! - [`WITH_DICTIONARY`] and a Zstandard frame of the envelope made with the store's
//!   dictionary: trained once on the store's own records when it first holds
//!   [`TRAIN_AT`] of them, kept in `meta` before any value uses it, never replaced.
//!
//! Reading undoes it: the bytes a reader gets are always the envelope as received. Since each
//! value says what it is, repacking (after a dictionary is trained, or when a format 2 store is
//! upgraded) can stop anywhere and go on later, and readers read throughout.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

use super::{Store, StoreError, damaged};
use crate::compress::{self, Dictionary};
use crate::record::{self, MAX_ENVELOPE_BYTES, Record};

/// The tag of an envelope compressed without a dictionary.
const PLAIN: u8 = 0x00;
/// The tag of an envelope compressed with the store's dictionary.
const WITH_DICTIONARY: u8 = 0x01;
/// The smallest first byte of an envelope kept as received.
const RAW_FROM: u8 = 0x08;
/// `meta`: the store's dictionary.
const DICTIONARY_KEY: &[u8] = b"dictionary";
/// `meta`: the sequence number repacking goes on from, while a repack is unfinished.
const REPACK_KEY: &[u8] = b"repack_from";
/// Records held when the dictionary is trained.
pub const TRAIN_AT: u64 = 1_000;
/// Records the dictionary is trained on, at most, spread over the store.
const SAMPLES: usize = 2_000;
/// The dictionary's size, at most: about a hundredth of what it is trained on.
const DICTIONARY_BYTES: usize = 32 * 1024;
/// Values rewritten in one batch while repacking.
const REPACK_BATCH: usize = 1_000;

/// How values are packed: with the dictionary once there is one.
#[derive(Default)]
pub(super) struct Packing {
    dictionary: OnceLock<Dictionary>,
}

impl Packing {
    /// The packing of a store whose `meta` holds `dictionary`, if it does.
    pub(super) fn with(dictionary: Option<Vec<u8>>) -> Packing {
        let packing = Packing::default();
        if let Some(bytes) = dictionary {
            let _ = packing.dictionary.set(Dictionary::load(bytes));
        }
        packing
    }

    /// A `records` value: the id and the envelope, packed.
    pub(super) fn pack(&self, id: &[u8; 32], envelope: &[u8]) -> Vec<u8> {
        let (tag, frame) = match self.dictionary.get() {
            Some(dictionary) => (WITH_DICTIONARY, dictionary.compress(envelope)),
            None => (PLAIN, compress::compress(envelope)),
        };
        if frame.len() + 1 >= envelope.len() {
            return [&id[..], envelope].concat();
        }
        [&id[..], &[tag], &frame].concat()
    }

    /// The envelope a value holds, as received, and its id.
    pub(super) fn unpack<'a>(&self, stored: &'a [u8]) -> Result<([u8; 32], Cow<'a, [u8]>), StoreError> {
        let Some((id, body)) = stored.split_first_chunk::<32>() else {
            return Err(damaged(stored, "the entry is too short"));
        };
        let unpacked = match body.split_first() {
            Some((&first, _)) if first >= RAW_FROM => Ok(Cow::Borrowed(body)),
            Some((&PLAIN, frame)) => compress::decompress(frame, MAX_ENVELOPE_BYTES).map(Cow::Owned),
            Some((&WITH_DICTIONARY, frame)) => match self.dictionary.get() {
                Some(dictionary) => dictionary.decompress(frame, MAX_ENVELOPE_BYTES).map(Cow::Owned),
                None => return Err(damaged(id, "it needs the store's dictionary, which is missing")),
            },
            _ => return Err(damaged(id, "its packing is not one this release knows")),
        };
        unpacked.map(|envelope| (*id, envelope)).map_err(|error| damaged(id, &format!("it does not unpack: {error}")))
    }

    fn has_dictionary(&self) -> bool {
        self.dictionary.get().is_some()
    }
}

fn sequence_number(bytes: &[u8]) -> Result<u64, StoreError> {
    bytes.try_into().map(u64::from_be_bytes).map_err(|_| damaged(bytes, "a sequence number has the wrong length"))
}

/// What a long piece of store work reports as it goes: what it is doing, how far it is, and
/// of how much. The CLI draws it as a bar; otherwise it is logged.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// Where long store work reports its progress, when something asked to hear it.
static PROGRESS: OnceLock<Reporter> = OnceLock::new();

/// A reporter of progress: what is being done, how far it is, and of how much.
pub type Reporter = Box<dyn Fn(&str, u64, u64) + Send + Sync>;

/// Asks to hear how long store work goes (an upgrade's repacking, say): the CLI draws a bar.
/// Without it, the work is logged every tenth of the way.
pub fn report_progress_to(report: Reporter) {
    let _ = PROGRESS.set(report);
}

/// The reporter long work in this process reports to.
pub(super) fn reporter() -> impl FnMut(&str, u64, u64) {
    let mut logged = 0;
    move |what, done, total| match PROGRESS.get() {
        Some(report) => report(what, done, total),
        None if done * 10 / total.max(1) > logged || done == total => {
            logged = done * 10 / total.max(1);
            tracing::info!("{what}: {done} of {total}");
        }
        None => {}
    }
}

/// The packing of an opened store's `meta`.
pub(super) fn load(meta: &sled::Tree) -> Result<Packing, StoreError> {
    Ok(Packing::with(meta.get(DICTIONARY_KEY)?.map(|bytes| bytes.to_vec())))
}

impl Store {
    /// Reads a `records` value: the id, then the envelope, which must still hash to that id.
    pub(super) fn decode_stored(&self, stored: &[u8]) -> Result<Record, StoreError> {
        let (id, envelope) = self.packing.unpack(stored)?;
        let record = record::from_trusted_storage(&envelope).map_err(|error| damaged(&id, &error.to_string()))?;
        if record.id().0 != id {
            return Err(damaged(&id, "its bytes no longer hash to its id"));
        }
        Ok(record)
    }

    /// A `records` value's envelope as received, checked against the id it was looked up by.
    pub(super) fn stored_envelope(&self, id: &[u8; 32], stored: &[u8]) -> Result<Vec<u8>, StoreError> {
        match self.packing.unpack(stored)? {
            (stored_id, envelope) if stored_id == *id => Ok(envelope.into_owned()),
            _ => Err(damaged(id, "its id is indexed to another record")),
        }
    }

    /// Trains the dictionary once the store holds enough records to, then repacks every value
    /// with it (under `writing`). Returns whether it did.
    pub(super) fn train_when_due(&self, progress: Progress) -> Result<bool, StoreError> {
        if self.packing.has_dictionary() || (self.len() as u64) < TRAIN_AT {
            return Ok(false);
        }
        let step = (self.records.len() / SAMPLES).max(1);
        let mut samples = Vec::with_capacity(SAMPLES);
        for stored in self.records.iter().values().step_by(step).take(SAMPLES) {
            samples.push(self.packing.unpack(&stored?)?.1.into_owned());
        }
        let samples: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let Some(trained) = Dictionary::train(&samples, DICTIONARY_BYTES) else {
            tracing::debug!("the records are too few or too alike to train a dictionary on; compressing without");
            return Ok(false);
        };
        // Durable before any value that needs it is written.
        self.meta.insert(DICTIONARY_KEY, trained.as_slice())?;
        self.meta.insert(REPACK_KEY, &0u64.to_be_bytes())?;
        self.db.flush()?;
        let _ = self.packing.dictionary.set(Dictionary::load(trained));
        tracing::info!(bytes = samples.iter().map(|s| s.len()).sum::<usize>(), "trained the store's dictionary");
        self.repack(progress)?;
        Ok(true)
    }

    /// Marks every value for repacking (an upgrade from a store of raw envelopes).
    pub(super) fn start_repack(&self) -> Result<(), StoreError> {
        self.meta.insert(REPACK_KEY, &0u64.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Rewrites every value from where the last repack stopped, packed as new values are, in
    /// batches, noting after each how far it got; values already packed so are left alone.
    pub(super) fn repack(&self, progress: Progress) -> Result<(), StoreError> {
        let Some(from) = self.meta.get(REPACK_KEY)? else { return Ok(()) };
        let mut next = sequence_number(&from)?;
        let total = self.records.len() as u64;
        let mut done = self.records.range(..next.to_be_bytes()).count() as u64;
        let started = Instant::now();
        loop {
            let mut batch = sled::Batch::default();
            let mut last = None;
            for entry in self.records.range(next.to_be_bytes()..).take(REPACK_BATCH) {
                let (sequence, stored) = entry?;
                let (id, envelope) = self.packing.unpack(&stored)?;
                let packed = self.packing.pack(&id, &envelope);
                if packed != *stored {
                    batch.insert(sequence.clone(), packed);
                }
                last = Some(sequence);
                done += 1;
            }
            let Some(last) = last else { break };
            self.records.apply_batch(batch)?;
            next = sequence_number(&last)? + 1;
            self.meta.insert(REPACK_KEY, &next.to_be_bytes())?;
            progress("compressing the stored records", done, total);
        }
        self.meta.remove(REPACK_KEY)?;
        self.db.flush()?;
        tracing::info!(records = done, seconds = started.elapsed().as_secs_f64(), "compressed the stored records");
        Ok(())
    }
}

#[cfg(test)]
mod tests;
