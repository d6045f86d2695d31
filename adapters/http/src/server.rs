//! Binding the listener and serving the application until a shutdown signal, so the composition
//! root never touches poem itself.
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Response, Server, endpoint::BoxEndpoint};

/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE_PERIOD: Duration = Duration::from_secs(10);

/// A listening socket, bound but not yet serving.
pub struct BoundServer {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
}

impl BoundServer {
    /// Binds `host:port` (port 0 picks a free port, as tests do).
    ///
    /// # Errors
    /// The I/O error of binding (address in use, permission denied, unknown host).
    pub async fn bind(host: &str, port: u16) -> io::Result<Self> {
        let acceptor = TcpListener::bind(format!("{host}:{port}"))
            .into_acceptor()
            .await?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .ok_or_else(|| io::Error::other("the listener has no socket address"))?;
        Ok(Self {
            acceptor,
            local_addr,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `app` until `shutdown` completes, then lets in-flight requests finish (up to a grace
    /// period) and returns.
    ///
    /// # Errors
    /// A fatal I/O error of the listener.
    pub async fn serve(
        self,
        app: BoxEndpoint<'static, Response>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .name("verity")
            .run_with_graceful_shutdown(app, shutdown, Some(GRACE_PERIOD))
            .await
    }
}
