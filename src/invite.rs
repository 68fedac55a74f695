//! Invite codes: one line a person pastes into an e-mail, naming a node's publisher key, peer
//! id, addresses and name (proto/README.md §20). The text is `citymesh1` followed by the
//! payload and a 4-byte checksum (the first bytes of its SHA-256) in lowercase base32
//! (RFC 4648 alphabet, no padding), so a mistyped or cut-off code is caught and reported as
//! such. Pure: no I/O.

use sha2::{Digest, Sha256};

use crate::record::{PublisherId, to_hex};
use crate::wire::{self, Invite};

/// What every code starts with; the digit is the code's version.
pub const PREFIX: &str = "citymesh1";
/// Longest code accepted, in characters (a few dozen addresses).
pub const MAX_CODE_CHARS: usize = 4096;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const CHECKSUM_BYTES: usize = 4;

/// Why a code cannot be used; each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error(
        "this is not a citymesh invite code: a code starts with {PREFIX} (ask your partner for the line `citymesh invite` printed)"
    )]
    Prefix,
    #[error("the invite code is {0} characters long; codes are at most {MAX_CODE_CHARS}")]
    TooLong(usize),
    #[error("the invite code has {found:?} at position {position}, which no code contains (only a-z and 2-7): a typo?")]
    Character { found: char, position: usize },
    #[error("the invite code is too short to be whole: was it cut off? Copy the whole line again")]
    Truncated,
    #[error("the invite code does not check out: it has a typo, or part of it is missing. Copy the whole line again")]
    Checksum,
    #[error("the invite code checks out but its content is unusable: {0}")]
    Content(String),
}

/// What a code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCode {
    pub publisher: PublisherId,
    pub peer_id: String,
    pub addresses: Vec<String>,
    pub name: String,
}

impl InviteCode {
    /// The one-line code.
    pub fn encode(&self) -> String {
        let invite = Invite {
            publisher: self.publisher.0.to_vec(),
            peer_id: self.peer_id.clone(),
            addresses: self.addresses.clone(),
            name: self.name.clone(),
        };
        code_of_payload(wire::encode(&invite))
    }

    /// Reads a code as pasted: spaces and line breaks anywhere are ignored, and so is case.
    pub fn decode(text: &str) -> Result<InviteCode, InviteError> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        if text.chars().count() > MAX_CODE_CHARS {
            return Err(InviteError::TooLong(text.chars().count()));
        }
        let Some(data) = text.strip_prefix(PREFIX) else { return Err(InviteError::Prefix) };
        let bytes = unbase32(data)
            .map_err(|(found, index)| InviteError::Character { found, position: PREFIX.len() + index + 1 })?;
        if bytes.len() <= CHECKSUM_BYTES {
            return Err(InviteError::Truncated);
        }
        // A last character the encoder would not write (a character too many, or padding bits
        // that are not zero) is a typo or a cut the checksum cannot see.
        if base32(&bytes) != data {
            return Err(InviteError::Checksum);
        }
        let (payload, checksum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
        if Sha256::digest(payload)[..CHECKSUM_BYTES] != *checksum {
            return Err(InviteError::Checksum);
        }
        let invite: Invite = wire::decode(payload).map_err(|error| InviteError::Content(error.to_string()))?;
        let publisher = <[u8; 32]>::try_from(invite.publisher.as_slice()).map_err(|_| {
            InviteError::Content(format!("the publisher key is {} bytes, not 32", invite.publisher.len()))
        })?;
        if invite.peer_id.is_empty() {
            return Err(InviteError::Content("it names no peer id".to_owned()));
        }
        Ok(InviteCode {
            publisher: PublisherId(publisher),
            peer_id: invite.peer_id,
            addresses: invite.addresses,
            name: invite.name,
        })
    }

    /// The publisher key, as hex.
    pub fn publisher_hex(&self) -> String {
        to_hex(&self.publisher.0)
    }
}

/// The code for an encoded [`Invite`]: the prefix, then the payload and its checksum in base32.
pub(crate) fn code_of_payload(mut payload: Vec<u8>) -> String {
    let checksum = Sha256::digest(&payload);
    payload.extend_from_slice(&checksum[..CHECKSUM_BYTES]);
    format!("{PREFIX}{}", base32(&payload))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32; on a character outside the alphabet, returns it and its index.
fn unbase32(text: &str) -> Result<Vec<u8>, (char, usize)> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for (index, c) in text.chars().enumerate() {
        let value = ALPHABET.iter().position(|&a| a as char == c).ok_or((c, index))? as u32;
        buffer = ((buffer << 5) | value) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code() -> InviteCode {
        InviteCode {
            publisher: PublisherId([7; 32]),
            peer_id: "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN".to_owned(),
            addresses: vec![
                "/ip4/192.0.2.1/tcp/7879/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN".to_owned(),
            ],
            name: "City of Surabaya".to_owned(),
        }
    }

    #[test]
    fn a_code_survives_e_mail_and_every_single_typo_is_caught() {
        let text = code().encode();
        assert!(text.starts_with(PREFIX) && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        // Wrapped by a mail program and shouted.
        let wrapped: String = text
            .to_uppercase()
            .chars()
            .collect::<Vec<_>>()
            .chunks(60)
            .map(|line| line.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n  ");
        assert_eq!(InviteCode::decode(&wrapped), Ok(code()));
        let chars: Vec<char> = text.chars().collect();
        for position in PREFIX.len()..chars.len() {
            let mut typo = chars.clone();
            typo[position] = if chars[position] == 'a' { 'b' } else { 'a' };
            let typo: String = typo.into_iter().collect();
            assert!(InviteCode::decode(&typo).is_err(), "a typo at {position} went unnoticed");
        }
        assert_eq!(InviteCode::decode(&text[..text.len() - 10]), Err(InviteError::Checksum));
        assert_eq!(InviteCode::decode("citymesh1ab"), Err(InviteError::Truncated));
        assert_eq!(InviteCode::decode("hello"), Err(InviteError::Prefix));
        let error = InviteCode::decode(&format!("{}0{}", &text[..20], &text[21..])).unwrap_err();
        assert_eq!(error, InviteError::Character { found: '0', position: 21 });
        assert!(error.to_string().contains("a typo"));
    }

    proptest! {
        #[test]
        fn base32_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(unbase32(&base32(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn any_text_gives_a_code_or_an_error_never_a_panic(text in ".{0,200}") {
            let _ = InviteCode::decode(&format!("{PREFIX}{text}"));
        }
    }
}
