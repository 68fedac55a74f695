//! Request-response exchanges between two nodes (sync rounds and record fetches): each message
//! is one length-prefixed frame (4-byte big-endian length, then the bytes), bounded in size.
//!
//! Each exchange has two versions, offered newest first. In version 1 the answer frame is the
//! message itself, and a refusal or a fault ends the stream without a frame. In version 2 the
//! answer frame is an [`wire::Answer`]: the message (a fetch answer compressed with Zstandard)
//! or a refusal with a reason and when to ask again; a fault still ends the stream without a
//! frame, so a requester can tell the two apart (proto/README.md §19.8). The node sees the same
//! messages whichever version a peer speaks.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

use crate::{compress, wire};

/// Reconciliation rounds, version 1.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/citymesh/sync/1");
/// Fetching records by id, version 1.
pub const FETCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/citymesh/fetch/1");
/// Reconciliation rounds, version 2: answers and refusals told apart.
pub const SYNC_PROTOCOL_2: StreamProtocol = StreamProtocol::new("/citymesh/sync/2");
/// Fetching records by id, version 2: answers compressed, and refusals told apart.
pub const FETCH_PROTOCOL_2: StreamProtocol = StreamProtocol::new("/citymesh/fetch/2");
/// Largest request frame (a sync round: a reconciliation message of up to 1 MiB and up to
/// 10,000 publishers).
pub const MAX_REQUEST: usize = 2 * 1024 * 1024;
/// Largest fetch request frame (512 ids of 32 bytes with their protobuf framing, and room).
pub const MAX_FETCH_REQUEST: usize = 64 * 1024;
/// Largest response frame (a fetch answers up to 4 MiB of envelopes); in version 2 also the
/// largest a compressed fetch answer may grow to when decompressed.
pub const MAX_RESPONSE: usize = 5 * 1024 * 1024;

/// Frames of bytes; the meaning is the caller's.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameCodec;

/// Which version of an exchange a stream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    One,
    Two,
}

impl Version {
    fn of(protocol: &StreamProtocol) -> Version {
        if *protocol == SYNC_PROTOCOL_2 || *protocol == FETCH_PROTOCOL_2 { Version::Two } else { Version::One }
    }
}

fn is_fetch(protocol: &StreamProtocol) -> bool {
    *protocol == FETCH_PROTOCOL || *protocol == FETCH_PROTOCOL_2
}

/// A request: its bytes and the version of the stream it came on (when written, the version
/// is negotiated and this one is not looked at), or, as read, only the length it announced
/// when that is over the limit (the rest is not read; the node penalises the sender and the
/// stream is reset).
#[derive(Debug)]
pub enum Request {
    Frame(Vec<u8>, Version),
    Oversize(usize),
}

/// A responder's refusal: no fault, ask again after `retry_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub retry_after: Duration,
}

/// An answer to a request, as the node hands it over or as read from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The message (an encoded `SyncResponse` or `FetchResponse`), and the bytes its frame
    /// took on the wire (as read; compressed in fetch version 2). When written, `framed` is
    /// not looked at.
    Message { bytes: Vec<u8>, framed: usize },
    /// Declined for now (version 1: the stream is closed without a frame).
    Refused(Refusal),
    /// The request broke the protocol: the stream ends without a frame (reset, when the peer
    /// is still writing).
    Fault,
}

impl Answer {
    /// An answer carrying `bytes`.
    pub fn message(bytes: Vec<u8>) -> Answer {
        let framed = bytes.len();
        Answer::Message { bytes, framed }
    }
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    io.read_exact(&mut length).await?;
    let length = u32::from_be_bytes(length) as usize;
    if length > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a frame of {length} bytes is over {limit}")));
    }
    let mut bytes = vec![0; length];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8], limit: usize) -> io::Result<()> {
    if bytes.len() > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a frame of {} bytes is over {limit}", bytes.len()),
        ));
    }
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

/// The largest request of an exchange.
pub fn request_limit(protocol: &StreamProtocol) -> usize {
    if is_fetch(protocol) { MAX_FETCH_REQUEST } else { MAX_REQUEST }
}

/// The payload of an answer frame in version 2, for `Answer::Message` and `Answer::Refused`.
pub fn encode_answer(fetch: bool, answer: &Answer) -> io::Result<Vec<u8>> {
    let message = match answer {
        Answer::Message { bytes, .. } if fetch => wire::Answer { response: compress::compress(bytes), refused: None },
        Answer::Message { bytes, .. } => wire::Answer { response: bytes.clone(), refused: None },
        Answer::Refused(refusal) => wire::Answer {
            response: Vec::new(),
            refused: Some(wire::Refusal {
                reason: refusal.reason.clone(),
                retry_after_ms: u32::try_from(refusal.retry_after.as_millis()).unwrap_or(u32::MAX),
            }),
        },
        Answer::Fault => return Err(io::Error::other("a fault is answered by ending the stream")),
    };
    Ok(wire::encode(&message))
}

/// Reads the payload of an answer frame in version 2. What does not decode, or a compressed
/// answer that does not decompress or grows past [`MAX_RESPONSE`], is an error naming it.
pub fn decode_answer(fetch: bool, payload: &[u8]) -> Result<Answer, String> {
    let answer: wire::Answer =
        wire::decode(payload).map_err(|error| format!("its answer frame does not decode: {error}"))?;
    if let Some(refusal) = answer.refused {
        return Ok(Answer::Refused(Refusal {
            reason: refusal.reason,
            retry_after: Duration::from_millis(refusal.retry_after_ms.into()),
        }));
    }
    if fetch && answer.response.is_empty() {
        return Err("its answer frame holds neither an answer nor a refusal".to_owned());
    }
    let bytes = if fetch {
        compress::decompress_stream(&answer.response, MAX_RESPONSE)
            .map_err(|error| format!("its compressed answer does not decompress: {error}"))?
    } else {
        answer.response
    };
    Ok(Answer::Message { bytes, framed: payload.len() })
}

impl request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Answer;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Request> {
        let mut length = [0u8; 4];
        io.read_exact(&mut length).await?;
        let length = u32::from_be_bytes(length) as usize;
        if length > request_limit(protocol) {
            // An error here would end the stream unseen by the node (request-response reports
            // failed reads to nobody), so the announcement itself is the request.
            return Ok(Request::Oversize(length));
        }
        let mut bytes = vec![0; length];
        io.read_exact(&mut bytes).await?;
        Ok(Request::Frame(bytes, Version::of(protocol)))
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Answer> {
        let frame = read_frame(io, MAX_RESPONSE).await?;
        match Version::of(protocol) {
            Version::One => Ok(Answer::message(frame)),
            Version::Two => decode_answer(is_fetch(protocol), &frame)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()> {
        let limit = request_limit(protocol);
        match request {
            Request::Frame(bytes, _) => write_frame(io, &bytes, limit).await,
            Request::Oversize(length) => {
                Err(io::Error::new(io::ErrorKind::InvalidInput, format!("a frame of {length} bytes is over {limit}")))
            }
        }
    }

    /// A fault fails the write, so request-response drops the stream unclosed: yamux resets
    /// it while the peer is still writing (and closes it when the peer is done).
    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        answer: Answer,
    ) -> io::Result<()> {
        match (Version::of(protocol), answer) {
            (_, Answer::Fault) => Err(io::Error::other("the request broke the protocol; the stream is ended")),
            (Version::One, Answer::Refused(_)) => Ok(()),
            (Version::One, Answer::Message { bytes, .. }) => write_frame(io, &bytes, MAX_RESPONSE).await,
            (Version::Two, answer) => write_frame(io, &encode_answer(is_fetch(protocol), &answer)?, MAX_RESPONSE).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fetch_answer_is_compressed_and_read_back_byte_for_byte() {
        let message = wire::encode(&wire::FetchResponse { envelopes: vec![b"a note about composting ".repeat(400)] });
        let payload = encode_answer(true, &Answer::message(message.clone())).unwrap();
        assert!(payload.len() * 10 < message.len(), "{} bytes compressed to {}", message.len(), payload.len());
        assert_eq!(decode_answer(true, &payload).unwrap(), Answer::Message { bytes: message, framed: payload.len() });
    }

    #[test]
    fn a_refusal_keeps_its_reason_and_when_to_ask_again() {
        let refusal =
            Refusal { reason: "too many requests are waiting".to_owned(), retry_after: Duration::from_secs(2) };
        for fetch in [false, true] {
            let payload = encode_answer(fetch, &Answer::Refused(refusal.clone())).unwrap();
            assert_eq!(decode_answer(fetch, &payload).unwrap(), Answer::Refused(refusal.clone()));
        }
    }

    #[test]
    fn a_compressed_answer_that_grows_past_the_limit_or_is_not_zstandard_is_named() {
        let bomb =
            wire::encode(&wire::Answer { response: compress::compress(&vec![0; MAX_RESPONSE + 1]), refused: None });
        assert!(decode_answer(true, &bomb).unwrap_err().contains("more than"), "{:?}", decode_answer(true, &bomb));
        let garbage = wire::encode(&wire::Answer { response: b"not zstandard".to_vec(), refused: None });
        assert!(decode_answer(true, &garbage).unwrap_err().contains("does not decompress"));
        assert!(decode_answer(false, &[0xff]).unwrap_err().contains("does not decode"));
    }
}
