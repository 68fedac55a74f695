//! Request-response exchanges between two nodes (sync rounds and record fetches): each message
//! is one length-prefixed frame (4-byte big-endian length, then the bytes), bounded in size.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

/// Reconciliation rounds.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/citymesh/sync/1");
/// Fetching records by id.
pub const FETCH_PROTOCOL: StreamProtocol = StreamProtocol::new("/citymesh/fetch/1");
/// Largest request frame (a sync round: a reconciliation message of up to 1 MiB and up to
/// 10,000 publishers).
pub const MAX_REQUEST: usize = 2 * 1024 * 1024;
/// Largest fetch request frame (512 ids of 32 bytes with their protobuf framing, and room).
pub const MAX_FETCH_REQUEST: usize = 64 * 1024;
/// Largest response frame (a fetch answers up to 4 MiB of envelopes).
pub const MAX_RESPONSE: usize = 5 * 1024 * 1024;

/// Frames of bytes; the meaning is the caller's.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameCodec;

/// A request as read: its bytes, or only the length it announced when that is over the limit
/// (the rest is not read; the node penalises the sender and closes the stream).
#[derive(Debug)]
pub enum Request {
    Frame(Vec<u8>),
    Oversize(usize),
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
    if *protocol == FETCH_PROTOCOL { MAX_FETCH_REQUEST } else { MAX_REQUEST }
}

impl request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Vec<u8>;

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
        Ok(Request::Frame(bytes))
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_frame(io, MAX_RESPONSE).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()> {
        let limit = request_limit(protocol);
        match request {
            Request::Frame(bytes) => write_frame(io, &bytes, limit).await,
            Request::Oversize(length) => {
                Err(io::Error::new(io::ErrorKind::InvalidInput, format!("a frame of {length} bytes is over {limit}")))
            }
        }
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()> {
        write_frame(io, &response, MAX_RESPONSE).await
    }
}
