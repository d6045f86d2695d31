//! TLS for the fakes that serve HTTPS.
use std::io;
use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// TLS over poem's TCP acceptor, with a self-signed certificate. Handshakes happen in
/// `accept`, one at a time (enough for tests); a failed one (a client refusing the
/// certificate) is skipped.
pub(crate) struct TlsAcceptor {
    tcp: TcpAcceptor,
    tls: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    pub(crate) fn new(tcp: TcpAcceptor) -> (Self, Vec<u8>) {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("generate a self-signed certificate");
        let der = certified.cert.der().to_vec();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("a usable certificate");
        let tls = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        (Self { tcp, tls }, der)
    }
}

impl Acceptor for TlsAcceptor {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (stream, local, remote, _) = self.tcp.accept().await?;
            let handshake = tokio::time::timeout(Duration::from_secs(5), self.tls.accept(stream));
            if let Ok(Ok(io)) = handshake.await {
                return Ok((io, local, remote, Scheme::HTTPS));
            }
        }
    }
}
