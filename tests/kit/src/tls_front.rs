//! A TLS front for a plain HTTP server: a TCP proxy on `127.0.0.1:0` that ends TLS with a
//! self-signed certificate for `localhost` and `127.0.0.1` and copies the bytes to the target.
//!
//! Homeservers reach an identity server only as `https://<id_server>`, while the server under
//! test listens in plain HTTP: put this in front of it. The port is bound first (so the name
//! `localhost:<port>` can go into the server's configuration) and the target given once the
//! server runs.
//!
//! ```no_run
//! # async fn demo(target: std::net::SocketAddr) {
//! let front = verity_testkit::tls_front::TlsFront::bind().await;
//! let name = front.authority(); // "localhost:<port>", what the homeserver is told
//! front.forward_to(target);
//! # }
//! ```
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls;

/// The running front; stops accepting when dropped (connections in flight end on their own).
pub struct TlsFront {
    addr: SocketAddr,
    listener: Mutex<Option<TcpListener>>,
    acceptor: tokio_rustls::TlsAcceptor,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl TlsFront {
    /// Binds `127.0.0.1:0` and makes the certificate; nothing is accepted before
    /// [`forward_to`](Self::forward_to).
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the TLS front");
        let addr = listener.local_addr().expect("the TLS front's address");
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("generate a self-signed certificate");
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("a usable certificate");
        Self {
            addr,
            listener: Mutex::new(Some(listener)),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            task: Mutex::new(None),
        }
    }

    /// `localhost:<port>`: the name to give a homeserver as `id_server`.
    pub fn authority(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// `https://localhost:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.authority())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts accepting: every connection is handshaken (concurrently) and copied both ways to
    /// `target`. Called once; later calls do nothing.
    pub fn forward_to(&self, target: SocketAddr) {
        let Some(listener) = crate::serve::lock(&self.listener).take() else {
            return;
        };
        let acceptor = self.acceptor.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(forward(acceptor.clone(), stream, target));
            }
        });
        *crate::serve::lock(&self.task) = Some(task);
    }
}

async fn forward(acceptor: tokio_rustls::TlsAcceptor, stream: TcpStream, target: SocketAddr) {
    let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
    let Ok(Ok(mut tls)) = handshake.await else {
        return; // a client that refused the certificate, or never spoke TLS
    };
    let Ok(mut plain) = TcpStream::connect(target).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(task) = crate::serve::lock(&self.task).take() {
            task.abort();
        }
    }
}
