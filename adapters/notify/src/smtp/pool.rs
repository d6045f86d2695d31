//! SMTP connections opened with `TCP_NODELAY`, kept open and reused.
//!
//! lettre 0.11 writes a message's body and its terminating `\r\n.\r\n` as two writes on a socket
//! with Nagle's algorithm on, so the terminator waits for the server's delayed ACK (40 ms on
//! Linux) on every email. lettre's transport cannot be told to set socket options: the executor
//! that opens its connections is a sealed trait. So the TCP connection is opened here, with
//! `TCP_NODELAY`, and handed to lettre's SMTP client ([`AsyncSmtpConnection`]), which still does
//! the greeting, `EHLO`, STARTTLS or implicit TLS (with lettre's own TLS parameters, so
//! certificates are checked exactly as before), `AUTH` and the mail transaction.
//!
//! lettre's pool belongs to its transport and cannot hold these connections, so [`Pool`] keeps
//! them instead, with lettre's defaults: at most [`MAX_IDLE`] idle connections, each closed after
//! [`IDLE_TIMEOUT`] unused, and a `NOOP` before an idle connection is reused, so one the server
//! closed meanwhile is dropped and a new one opened. A message is never sent again after a
//! failure: whatever happened to it is the caller's answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)] // The one public way to run lettre's TLS handshake on our own socket.
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;

/// Idle connections kept open at most (lettre's default pool size). More connections are opened
/// when more emails are sent at once; those beyond this are closed when their email is sent.
pub(crate) const MAX_IDLE: usize = 10;

/// An idle connection unused for this long is closed (lettre's default), well before the
/// 5 minutes after which RFC 5321 lets a server drop a silent client.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the `NOOP` on an idle connection, or the `QUIT` on one being closed, may take. A
/// connection that does not answer `NOOP` in time is dropped and a new one is opened, rather than
/// spending the whole delivery's time limit on it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What TLS a new connection gets, decided once from `tls` and the login.
pub(crate) enum Security {
    /// `tls: 0`: plain SMTP.
    Plain,
    /// `tls: 1` without a login: STARTTLS when the server's `EHLO` answer offers it.
    StartTlsIfOffered(TlsParameters),
    /// `tls: 2`, or `tls: 1` with a login: STARTTLS, and fail when it is not offered.
    StartTls(TlsParameters),
    /// `tls: 3`: TLS from the first byte.
    Implicit(TlsParameters),
}

/// Why a delivery failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The TCP connection could not be opened (name resolution or connect).
    Connect(io::Error),
    /// What lettre reported: a reply, TLS, `AUTH` or the conversation's I/O.
    Smtp(lettre::transport::smtp::Error),
    /// Credentials are configured but the connection is not encrypted. The configuration never
    /// leads here (`Security` requires TLS whenever there is a login); this is the last check
    /// before `AUTH`.
    NotEncrypted,
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        Self::Smtp(error)
    }
}

/// How to open a new, ready-to-use connection.
pub(crate) struct Connector {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    /// The `EHLO` name: the machine's host name, as lettre's transport sent.
    hello: ClientId,
    /// Longest a TCP connect may take, per address.
    connect_timeout: Duration,
}

impl Connector {
    pub(crate) fn new(
        host: &str,
        port: u16,
        security: Security,
        credentials: Option<Credentials>,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            host: host.to_owned(),
            port,
            security,
            credentials,
            hello: ClientId::default(),
            connect_timeout,
        }
    }

    /// A new connection: TCP with `TCP_NODELAY`, the greeting, `EHLO`, TLS as configured, then
    /// `AUTH` when there are credentials.
    async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let tcp = connect(&self.host, self.port, self.connect_timeout)
            .await
            .map_err(Failure::Connect)?;
        let (mut conn, mut encrypted) = match &self.security {
            Security::Implicit(params) => {
                #[allow(deprecated)]
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                stream.upgrade_tls(params.clone()).await?;
                let stream = Box::new(ImplicitTls(stream));
                (
                    AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?,
                    true,
                )
            }
            _ => (
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?,
                false,
            ),
        };
        match &self.security {
            Security::StartTlsIfOffered(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &self.hello).await?;
                encrypted = true;
            }
            // lettre fails here, before anything else is sent, when STARTTLS is not offered.
            Security::StartTls(params) => {
                conn.starttls(params.clone(), &self.hello).await?;
                encrypted = true;
            }
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            if !encrypted {
                return Err(Failure::NotEncrypted);
            }
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

/// Opens a TCP connection to the first address of `host` that accepts, with `TCP_NODELAY`.
async fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last_error = None;
    for address in tokio::net::lookup_host((host, port)).await? {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                // Every SMTP step is a write waiting for an answer, so Nagle's algorithm never
                // has anything to coalesce; it only holds the end of each message back.
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Ok(Err(error)) => last_error = Some(error),
            Err(_) => {
                last_error = Some(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection to {address} within {} s", timeout.as_secs()),
                ));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolves to no address"),
        )
    }))
}

/// lettre's TLS stream over our socket, as the tokio stream lettre's client takes.
///
/// lettre's client only takes a plain stream and reads the greeting at once; for implicit TLS
/// the handshake has to come first, so it is done by lettre's stream type and wrapped.
#[allow(deprecated)]
#[derive(Debug)]
struct ImplicitTls(AsyncNetworkStream);

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_util::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(read)) => {
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_util::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

/// A connection waiting for the next email.
struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// Open SMTP connections, reused one email after another.
pub(crate) struct Pool {
    connector: Connector,
    /// Most recently used last, taken from the end.
    idle: Mutex<Vec<Idle>>,
    /// Whether the task closing expired connections runs.
    reaper: AtomicBool,
}

impl Pool {
    pub(crate) fn new(connector: Connector) -> Arc<Self> {
        Arc::new(Self {
            connector,
            idle: Mutex::new(Vec::new()),
            reaper: AtomicBool::new(false),
        })
    }

    /// Sends one message on a pooled or new connection. Never sends it twice: a failure at any
    /// step is returned as it is.
    pub(crate) async fn send(
        self: &Arc<Self>,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), Failure> {
        let mut conn = self.checkout().await?;
        let sent = conn.send(envelope, message).await;
        // When this future is dropped (the delivery's time limit) the connection is dropped with
        // it, never pooled in the middle of a transaction.
        self.checkin(conn);
        sent.map(drop).map_err(Failure::Smtp)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Idle>> {
        // Nothing can panic while the lock is held; a poisoned list is still a valid list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle connection that answers `NOOP`, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, Failure> {
        loop {
            let Some(idle) = self.lock().pop() else {
                tracing::debug!("opening a new SMTP connection");
                return self.connector.open().await;
            };
            let mut conn = idle.conn;
            if idle.since.elapsed() >= IDLE_TIMEOUT {
                close(conn);
                continue;
            }
            match tokio::time::timeout(CHECK_TIMEOUT, conn.test_connected()).await {
                Ok(true) => return Ok(conn),
                // Closed by the server, or not answering: dropping it closes the socket.
                Ok(false) | Err(_) => {
                    tracing::debug!("an idle SMTP connection failed its NOOP; dropping it");
                }
            }
        }
    }

    /// Puts a connection back after an email, unless lettre gave it up (it then already sent
    /// `QUIT` and closed it) or enough connections wait already.
    fn checkin(self: &Arc<Self>, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.lock();
        if idle.len() >= MAX_IDLE {
            drop(idle);
            close(conn);
            return;
        }
        idle.push(Idle {
            conn,
            since: Instant::now(),
        });
        drop(idle);
        self.start_reaper();
    }

    /// Starts, once, the task that closes connections idle for [`IDLE_TIMEOUT`]. It ends when the
    /// pool is dropped. Started on the first checkin rather than at construction, so building the
    /// connector needs no runtime.
    fn start_reaper(self: &Arc<Self>) {
        if self.reaper.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(IDLE_TIMEOUT / 2).await;
                let Some(pool) = pool.upgrade() else {
                    return;
                };
                let expired: Vec<Idle> = {
                    let mut idle = pool.lock();
                    let (expired, kept) = std::mem::take(&mut *idle)
                        .into_iter()
                        .partition(|conn| conn.since.elapsed() >= IDLE_TIMEOUT);
                    *idle = kept;
                    expired
                };
                drop(pool);
                for idle in expired {
                    close(idle.conn);
                }
            }
        });
    }
}

/// Says `QUIT` and closes the connection, in the background so no email waits for it.
fn close(mut conn: AsyncSmtpConnection) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(CHECK_TIMEOUT, conn.abort()).await;
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn the_sockets_verity_opens_have_nagle_turned_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(stream.nodelay().unwrap());
    }

    #[tokio::test]
    async fn a_host_that_refuses_connections_is_a_connect_failure() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let error = connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }
}
