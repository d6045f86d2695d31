//! An oversized body gets its 413 `M_TOO_LARGE`, read by a client that writes its whole body
//! before reading (as curl and homeservers do), with `Content-Length` or chunked; an endless one
//! is cut off. Raw TCP: an HTTP client library may read early or retry, which would hide the bug
//! this guards against (the connection closed while the client was still sending, so it saw
//! EPIPE or a reset instead of the answer, in half or all of the tries).
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use verity_tests::spawn_app;

const PATH: &str = "/_matrix/identity/v2/validate/email/requestToken";
const MB: usize = 1_000_000;
const CHUNK: usize = 64 * 1024;
/// Each case is tried this many times: the old failure was intermittent.
const TRIES: usize = 5;

fn head(length: Option<usize>) -> String {
    let framing = length.map_or_else(
        || "Transfer-Encoding: chunked".to_owned(),
        |n| format!("Content-Length: {n}"),
    );
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: verity.test\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    )
}

/// Writes a `size`-byte body (chunked when `chunked`) in full, then reads the whole answer.
async fn send_then_read(address: SocketAddr, size: usize, chunked: bool) -> Result<String, String> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let declared = (!chunked).then_some(size);
    stream
        .write_all(head(declared).as_bytes())
        .await
        .map_err(|e| format!("head: {e}"))?;
    let data = vec![b' '; CHUNK];
    let mut sent = 0;
    while sent < size {
        let n = CHUNK.min(size - sent);
        if chunked {
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .await
                .map_err(|e| format!("after {sent} bytes: {e}"))?;
        }
        stream
            .write_all(&data[..n])
            .await
            .map_err(|e| format!("after {sent} bytes: {e}"))?;
        if chunked {
            stream.write_all(b"\r\n").await.map_err(|e| e.to_string())?;
        }
        sent += n;
    }
    if chunked {
        stream
            .write_all(b"0\r\n\r\n")
            .await
            .map_err(|e| format!("last chunk: {e}"))?;
    }
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_client_that_sends_a_whole_oversized_body_then_reads_always_gets_the_413() {
    let app = spawn_app().await;
    for size in [3 * MB / 2, 4 * MB] {
        for chunked in [false, true] {
            for attempt in 1..=TRIES {
                let case = format!("{size} bytes, chunked {chunked}, try {attempt}");
                let answer = send_then_read(app.address, size, chunked)
                    .await
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                assert!(answer.starts_with("HTTP/1.1 413"), "{case}: {answer}");
                assert!(
                    answer.contains(r#""errcode":"M_TOO_LARGE""#),
                    "{case}: {answer}"
                );
            }
        }
    }
}

/// Writes up to `size` bytes (declared or chunked) while reading; returns how many bytes were
/// written before the server stopped taking them, and what it answered.
async fn send_endless(address: SocketAddr, size: usize, chunked: bool) -> (usize, String) {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let _ = read.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    let declared = (!chunked).then_some(size);
    write.write_all(head(declared).as_bytes()).await.unwrap();
    let data = vec![b' '; CHUNK];
    let mut sent = 0;
    while sent < size {
        let framed = if chunked {
            [format!("{CHUNK:x}\r\n").as_bytes(), &data, b"\r\n"].concat()
        } else {
            data.clone()
        };
        if write.write_all(&framed).await.is_err() {
            break;
        }
        sent += CHUNK;
    }
    drop(write);
    (sent, reader.await.unwrap())
}

#[tokio::test]
async fn a_100_mb_body_is_cut_off_without_being_read_entirely() {
    let app = spawn_app().await;
    for chunked in [false, true] {
        let (sent, answer) = send_endless(app.address, 100 * MB, chunked).await;
        assert!(
            sent < 100 * MB,
            "chunked {chunked}: all {sent} bytes were taken"
        );
        // Whether the answer arrives before the reset is the kernel's race; when it does, it
        // is the 413.
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 413"),
            "chunked {chunked}: {answer}"
        );
    }
}
