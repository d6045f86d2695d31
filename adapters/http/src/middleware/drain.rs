//! Reading a body under the size limit, and a bounded lingering read of an oversized one.
//!
//! A client that is still sending when the server closes the connection gets a reset, and often
//! loses the answer it was about to read: `curl` or a homeserver sees EPIPE/ECONNRESET instead of
//! the 413 `M_TOO_LARGE`. So, as nginx's lingering close does, the rest of an oversized body is
//! read and thrown away before answering — but only up to [`DRAIN_MAX_BYTES`] and for at most
//! [`DRAIN_MAX_TIME`], so an endless or slow body cannot hold the server: past either bound the
//! answer goes out and the connection is closed.
use std::time::Duration;

use poem::Body;
use tokio::io::{AsyncRead, AsyncReadExt as _};

/// The most of an oversized body read (and discarded) so its sender can read the 413.
pub(crate) const DRAIN_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// The longest time spent reading it.
pub(crate) const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

/// What reading a body under a limit gave.
pub(crate) enum Read {
    /// The whole body, within the limit.
    Whole(Vec<u8>),
    /// Over the limit (the excess read and discarded within the bounds, where it could be).
    TooLarge,
    /// The body could not be read (the client went away, a broken chunked encoding).
    Failed,
}

/// Reads `body` if it has at most `max_bytes`; otherwise drains it within the bounds.
pub(crate) async fn read_limited(body: Body, max_bytes: usize, declared: Option<u64>) -> Read {
    let mut reader = body.into_async_read();
    // Room for the declared length (already checked against the limit) plus one byte, so the
    // read that finds the end does not grow the buffer; a body without one grows as it comes.
    let room = declared.map_or(0, |len| usize::try_from(len).unwrap_or(0).saturating_add(1));
    let mut buf = Vec::with_capacity(room.min(max_bytes.saturating_add(1)));
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if (&mut reader)
        .take(limit)
        .read_to_end(&mut buf)
        .await
        .is_err()
    {
        return Read::Failed;
    }
    if buf.len() <= max_bytes {
        return Read::Whole(buf);
    }
    drop(buf);
    drain(reader).await;
    Read::TooLarge
}

/// Drains a body whose declared length is already known to be over the limit, when that length
/// is within [`DRAIN_MAX_BYTES`]; a longer one is not read at all.
pub(crate) async fn drain_declared(body: Body, declared: u64) {
    if declared <= DRAIN_MAX_BYTES {
        drain(body.into_async_read()).await;
    }
}

/// Reads and discards up to [`DRAIN_MAX_BYTES`] within [`DRAIN_MAX_TIME`]; whether it reached
/// the end does not matter (past the bounds the connection is simply closed after the answer).
async fn drain(reader: impl AsyncRead + Unpin) {
    let mut bounded = reader.take(DRAIN_MAX_BYTES);
    let _ = tokio::time::timeout(
        DRAIN_MAX_TIME,
        tokio::io::copy(&mut bounded, &mut tokio::io::sink()),
    )
    .await;
}
