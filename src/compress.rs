//! Zstandard compression: fetch answers on the wire (`net`), and envelopes at rest with a
//! dictionary trained on the store's own records (`store`). Every decompression is bounded
//! by a limit its caller names, so no input can make it allocate more.

use std::cell::RefCell;
use std::io::Read;

use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

/// Zstandard's default level: about 4× on notes, at a few milliseconds per MiB.
pub const LEVEL: i32 = 3;

thread_local! {
    /// One context per thread each way, reused: making one costs more than a small record's
    /// compression.
    static COMPRESSOR: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DECOMPRESSOR: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// Why bytes did not decompress.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    #[error("not a Zstandard frame, or a damaged one: {0}")]
    Damaged(String),
    #[error("it decompresses to more than {0} bytes")]
    TooLarge(usize),
}

/// One Zstandard frame of `bytes`, with its content size in its header.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
    COMPRESSOR.with(|context| context.borrow_mut().compress(&mut out, bytes, LEVEL)).expect("room for the bound");
    out
}

/// Every frame of `compressed` (one or more, concatenated), read as a stream and stopped one
/// byte past `limit`: for frames from peers, which need not state their content size.
pub fn decompress_stream(compressed: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let decoder = zstd::stream::read::Decoder::new(compressed).map_err(|error| damaged(&error))?;
    let mut bytes = Vec::new();
    decoder.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(|error| damaged(&error))?;
    if bytes.len() > limit {
        return Err(DecompressError::TooLarge(limit));
    }
    Ok(bytes)
}

fn damaged(error: &dyn std::fmt::Display) -> DecompressError {
    DecompressError::Damaged(error.to_string())
}

/// The content size a frame states, if it is at most `limit`.
fn content_size(frame: &[u8], limit: usize) -> Result<usize, DecompressError> {
    match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= limit as u64 => Ok(size as usize),
        Ok(Some(_)) => Err(DecompressError::TooLarge(limit)),
        Ok(None) => Err(DecompressError::Damaged("the frame does not state its size".to_owned())),
        Err(_) => Err(DecompressError::Damaged("the frame header is damaged".to_owned())),
    }
}

/// A dictionary trained on samples of what it will compress: small records compress about as
/// well with it as a large batch does without.
pub struct Dictionary {
    bytes: Vec<u8>,
    encoder: CDict<'static>,
    decoder: DDict<'static>,
}

impl Dictionary {
    /// Trains a dictionary of at most `size` bytes on `samples`; `None` when they are too few
    /// or too alike to train on.
    pub fn train(samples: &[&[u8]], size: usize) -> Option<Vec<u8>> {
        let sizes: Vec<usize> = samples.iter().map(|sample| sample.len()).collect();
        let mut joined = Vec::with_capacity(sizes.iter().sum());
        for sample in samples {
            joined.extend_from_slice(sample);
        }
        let mut dictionary = Vec::with_capacity(size);
        zstd_safe::train_from_buffer(&mut dictionary, &joined, &sizes).ok()?;
        Some(dictionary)
    }

    /// A dictionary made by [`Dictionary::train`], ready to use.
    pub fn load(bytes: Vec<u8>) -> Dictionary {
        let encoder = CDict::create(&bytes, LEVEL);
        let decoder = DDict::create(&bytes);
        Dictionary { bytes, encoder, decoder }
    }

    /// The dictionary's own bytes, to keep beside what it compressed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// One frame of `bytes`, compressed with the dictionary, its content size in its header.
    pub fn compress(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
        COMPRESSOR
            .with(|context| context.borrow_mut().compress_using_cdict(&mut out, bytes, &self.encoder))
            .expect("room for the bound");
        out
    }

    /// Decompresses one frame this dictionary compressed, if its content is at most `limit`.
    pub fn decompress(&self, frame: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
        let size = content_size(frame, limit)?;
        let mut out = Vec::with_capacity(size);
        DECOMPRESSOR
            .with(|context| context.borrow_mut().decompress_using_ddict(&mut out, frame, &self.decoder))
            .map_err(|code| DecompressError::Damaged(zstd_safe::get_error_name(code).to_owned()))?;
        if out.len() != size {
            return Err(DecompressError::Damaged("the frame holds another size than it states".to_owned()));
        }
        Ok(out)
    }
}

/// Decompresses one frame made by [`compress`], if its content is at most `limit`.
pub fn decompress(frame: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    let size = content_size(frame, limit)?;
    let mut out = Vec::with_capacity(size);
    DECOMPRESSOR
        .with(|context| context.borrow_mut().decompress(&mut out, frame))
        .map_err(|code| DecompressError::Damaged(zstd_safe::get_error_name(code).to_owned()))?;
    if out.len() != size {
        return Err(DecompressError::Damaged("the frame holds another size than it states".to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(count: usize) -> Vec<Vec<u8>> {
        let words = ["compost", "hubs", "turn", "kitchen", "waste", "into", "soil", "for", "city", "parks"];
        (0..count)
            .map(|n| {
                let text: Vec<&str> = (0..200).map(|i| words[(n * 3 + i * i) % words.len()]).collect();
                format!("note {n}: {}", text.join(" ")).into_bytes()
            })
            .collect()
    }

    #[test]
    fn what_is_compressed_comes_back_byte_for_byte_with_or_without_a_dictionary() {
        let notes = notes(300);
        let samples: Vec<&[u8]> = notes.iter().map(Vec::as_slice).collect();
        let dictionary = Dictionary::load(Dictionary::train(&samples, 16 * 1024).expect("enough samples"));
        let again = Dictionary::load(dictionary.bytes().to_vec());
        for note in &notes {
            assert_eq!(&decompress(&compress(note), note.len()).unwrap(), note);
            let packed = dictionary.compress(note);
            assert!(packed.len() < compress(note).len(), "the dictionary helps");
            assert_eq!(&again.decompress(&packed, note.len()).unwrap(), note);
        }
    }

    #[test]
    fn a_frame_over_its_limit_or_damaged_is_refused_before_it_is_decompressed() {
        let big = vec![7u8; 100_000];
        assert_eq!(decompress(&compress(&big), 99_999), Err(DecompressError::TooLarge(99_999)));
        assert_eq!(decompress_stream(&compress(&big), 99_999), Err(DecompressError::TooLarge(99_999)));
        assert!(matches!(decompress(b"not zstandard", 1000), Err(DecompressError::Damaged(_))));
        let mut cut = compress(&notes(1)[0]);
        cut.truncate(cut.len() - 3);
        assert!(matches!(decompress(&cut, 100_000), Err(DecompressError::Damaged(_))));
        assert!(decompress_stream(&cut, 100_000).is_err());
    }
}
