//! What every fake shares: binding a loopback port, a server task that stops when asked or when
//! the fake is dropped, a state lock that still works after a test panicked holding it, and the
//! JSON answers the HTTP fakes give.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Body, IntoEndpoint, Response, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a graceful stop lets requests in flight finish.
const GRACE: Duration = Duration::from_secs(1);

/// Binds `127.0.0.1:0` for the fake called `name`, and the address it got.
pub(crate) async fn bind(name: &str) -> (TcpAcceptor, SocketAddr) {
    let tcp = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap_or_else(|error| panic!("bind the {name}: {error}"));
    let addr = *tcp
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr())
        .expect("a socket address");
    (tcp, addr)
}

/// The state behind a fake's mutex, even if a panic poisoned it (the next assertion should
/// report the test's failure, not the poisoning).
pub(crate) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake's server task: [`stop`](Self::stop) ends it gracefully, dropping it aborts it.
#[derive(Debug)]
pub(crate) struct Running {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// Serves `app` with poem on `acceptor` until stopped.
    pub(crate) fn serve<A, E>(acceptor: A, app: E) -> Self
    where
        A: Acceptor + 'static,
        E: IntoEndpoint + Send + 'static,
        E::Endpoint: 'static,
    {
        let (shutdown, stopped) = oneshot::channel::<()>();
        let signal = async move {
            let _ = stopped.await;
        };
        let server = Server::new_with_acceptor(acceptor);
        let task = tokio::spawn(async move {
            let _ = server
                .run_with_graceful_shutdown(app, signal, Some(GRACE))
                .await;
        });
        Self {
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Runs `task` (a fake's own accept loop), which only stops by being aborted.
    pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            shutdown: None,
            task: Some(tokio::spawn(task)),
        }
    }

    /// Stops serving and waits until the port is closed.
    pub(crate) async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops accepting connections at once, without waiting.
    pub(crate) fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.abort();
    }
}

/// `status` as a status code (500 if it is not one).
pub(crate) fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `status` with the JSON `body`.
pub(crate) fn json(status: u16, body: String) -> Response {
    Response::builder()
        .status(status_code(status))
        .header("content-type", "application/json")
        .body(body)
}

/// 200 with the JSON `body`, with a `Content-Length`, or streamed without one (for the size
/// limits of clients that cannot trust a length).
pub(crate) fn json_ok(body: String, with_length: bool) -> Response {
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json");
    if with_length {
        response.body(body)
    } else {
        response.body(Body::from_async_read(std::io::Cursor::new(
            body.into_bytes(),
        )))
    }
}

/// 404 `M_UNRECOGNIZED`, for a path the fake does not serve.
pub(crate) fn unrecognized() -> Response {
    json(
        404,
        r#"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#.to_owned(),
    )
}
