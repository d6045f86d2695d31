//! A reverse proxy that serves Verity under a path, as an operator's does for
//! `server.publicUrl: https://example.org/identity`: it takes requests under the prefix (origin
//! form, or absolute form as a client configured to use it as its proxy sends them), strips the
//! prefix and passes them on; anything else gets 404 and never reaches Verity.
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The largest request head the proxy reads.
const MAX_HEAD: usize = 64 * 1024;

/// A running path-stripping proxy; stops when dropped.
pub struct PathProxy {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl PathProxy {
    /// Listens on a free loopback port and forwards requests under `prefix` (e.g. `/identity`)
    /// to `upstream` without it.
    pub async fn start(prefix: &str, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let address = listener.local_addr().expect("proxy address");
        let prefix = prefix.trim_end_matches('/').to_owned();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let prefix = prefix.clone();
                tokio::spawn(async move {
                    let _ = forward(client, &prefix, upstream).await;
                });
            }
        });
        Self { address, task }
    }

    /// `http://127.0.0.1:<port>`: give it to an HTTP client as its proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for PathProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The request's target without its scheme and authority (absolute form), then without
/// `prefix`; `None` when it is not under the prefix.
fn strip(target: &str, prefix: &str) -> Option<String> {
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => target,
    };
    let rest = path.strip_prefix(prefix)?;
    match rest.chars().next() {
        None => Some("/".to_owned()),
        Some('/') => Some(rest.to_owned()),
        Some('?') => Some(format!("/{rest}")),
        Some(_) => None,
    }
}

async fn forward(mut client: TcpStream, prefix: &str, upstream: SocketAddr) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0_u8; 4096];
    let end = loop {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return Ok(());
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let Some(path) = strip(target, prefix) else {
        client
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await?;
        return Ok(());
    };
    // One request per connection: the next one on a kept-alive connection would skip the rewrite.
    let mut rewritten = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim();
        if !name.eq_ignore_ascii_case("connection")
            && !name.eq_ignore_ascii_case("proxy-connection")
        {
            rewritten.push_str(line);
            rewritten.push_str("\r\n");
        }
    }
    rewritten.push_str("connection: close\r\n\r\n");
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(rewritten.as_bytes()).await?;
    server.write_all(&head[end..]).await?;
    copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn only_targets_under_the_prefix_pass_and_lose_it() {
        assert_eq!(
            strip("/identity/_matrix/x?a=1", "/identity").as_deref(),
            Some("/_matrix/x?a=1")
        );
        assert_eq!(
            strip("http://localhost/identity/_matrix/x", "/identity").as_deref(),
            Some("/_matrix/x")
        );
        assert_eq!(strip("/identity?a", "/identity").as_deref(), Some("/?a"));
        assert_eq!(strip("/_matrix/x", "/identity"), None);
        assert_eq!(strip("/identityx/_matrix", "/identity"), None);
        assert_eq!(strip("http://localhost/_matrix/x", "/identity"), None);
    }
}
