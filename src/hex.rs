//! Bytes as hexadecimal text, the way ids, keys and hashes are written everywhere (64
//! lowercase characters for 32 bytes). Pure; the bottom of the crate.

use std::fmt;

/// An id in text that is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an id: expected 64 hex characters (0-9, a-f)")]
pub struct BadId(pub String);

/// Parses 64 hex characters (either case) into 32 bytes.
pub fn parse_hex32(text: &str) -> Result<[u8; 32], BadId> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(BadId(text.to_owned()));
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => *slot = high << 4 | low,
            _ => return Err(BadId(text.to_owned())),
        }
    }
    Ok(out)
}

/// Parses hex of any even length (either case).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not hex: expected pairs of 0-9, a-f".to_owned());
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}

/// Lowercase hex of any byte string.
pub fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
