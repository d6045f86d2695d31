//! Starting the real server, as `main` does, on `127.0.0.1:0` with a fresh store.
use std::net::SocketAddr;

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use verity::Application;

use crate::client::Client;
use crate::postgres::TestDatabase;

/// Which store the server under test uses.
pub enum Backend {
    /// A SQLite file in the test's temporary directory.
    Sqlite,
    /// A SQLite file at this path (to restart a server on the same data).
    SqliteAt(std::path::PathBuf),
    /// A fresh PostgreSQL database (see [`crate::postgres_url`]).
    Postgres,
}

/// A running server and what the test needs to reach it.
pub struct TestApp {
    /// Where the server listens.
    pub address: SocketAddr,
    /// Where the internal listener (`check_credentials`) listens, when it started.
    pub internal_address: Option<SocketAddr>,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The generated client, pointed at the server.
    pub client: Client,
    /// A plain HTTP client for what the generated one cannot send (malformed bodies, OPTIONS).
    pub http: reqwest::Client,
    /// The data directory (keys, SQLite file); removed when the test ends.
    pub dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _database: Option<TestDatabase>,
}

/// The `server.publicUrl` the tests give Verity: the links of its emails and pages and its
/// redirects start with it.
pub const PUBLIC_URL: &str = "http://localhost";

/// Starts a server on SQLite with the minimal configuration plus `extra_yaml`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, "").await
}

/// Starts a server on `backend` with the minimal configuration, deep-merged with `extra_yaml`
/// (which may set any key, nested ones included, e.g. `matrix: {v1: false}`).
pub async fn spawn_app_with(backend: Backend, extra_yaml: &str) -> TestApp {
    init_test_logging();
    let dir = tempfile::tempdir().expect("temp dir");
    let (yaml, database) = test_config(dir.path(), backend, extra_yaml).await;
    let settings = verity::config::parse(&yaml)
        .unwrap_or_else(|e| panic!("test config: {e}\n{yaml}"))
        .settings;
    let app = Application::build(&settings)
        .await
        .expect("the server builds");
    let address = app.local_addr();
    let internal_address = app.internal_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let base_url = format!("http://{address}");
    install_crypto_provider();
    let http = browser(&base_url);
    TestApp {
        address,
        internal_address,
        client: Client::new_with_client(&base_url, http.clone()),
        base_url,
        http,
        dir,
        shutdown: Some(tx),
        server: Some(server),
        _database: database,
    }
}

/// The YAML of a test server whose data lives in `dir` (keys, SQLite file), on `backend`,
/// deep-merged with `extra_yaml`; and the PostgreSQL database it uses, if any (dropped with it).
pub(crate) async fn test_config(
    dir: &std::path::Path,
    backend: Backend,
    extra_yaml: &str,
) -> (String, Option<TestDatabase>) {
    let (storage, database) = match backend {
        Backend::Sqlite => {
            let db = dir.join("data/verity.db");
            (
                json!({"backend": "sqlite", "provider": {"sqlite": {"database": db}}}),
                None,
            )
        }
        Backend::SqliteAt(db) => (
            json!({"backend": "sqlite", "provider": {"sqlite": {"database": db}}}),
            None,
        ),
        Backend::Postgres => {
            let database = TestDatabase::create().await;
            let storage = json!({"backend": "postgresql", "provider": {"postgresql": {"database": database.url()}}});
            (storage, Some(database))
        }
    };
    let mut config = json!({
        "matrix": {"domain": "example.org"},
        "server": {
            "hostname": "127.0.0.1",
            "port": 0,
            "publicUrl": PUBLIC_URL,
            // Tests run side by side: each internal and metrics listener on a port of its own.
            "internal": {"port": 0},
            "metrics": {"port": 0},
        },
        "key": {"path": dir.join("keys")},
        "storage": storage,
    });
    if !extra_yaml.trim().is_empty() {
        let extra: Value = serde_norway::from_str(extra_yaml).expect("extra_yaml is YAML");
        merge(&mut config, extra);
    }
    let yaml = serde_norway::to_string(&config).expect("config to YAML");
    (yaml, database)
}

/// A `reqwest` client that sends `Authorization: Bearer <token>` with every request.
pub fn bearer_http(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("token");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    /// A generated client that sends `Authorization: Bearer <token>`.
    pub fn client_as(&self, token: &str) -> Client {
        Client::new_with_client(&self.base_url, crate::bearer_http(token))
    }

    /// `base_url` + `path`; a URL under [`PUBLIC_URL`] (a link Verity made) is taken as its path.
    pub fn url(&self, path: &str) -> String {
        let path = path.strip_prefix(PUBLIC_URL).unwrap_or(path);
        format!("{}{path}", self.base_url)
    }

    /// `http://<internal listener>` + `path`.
    ///
    /// # Panics
    /// When the internal listener did not start.
    pub fn internal_url(&self, path: &str) -> String {
        let address = self
            .internal_address
            .expect("the internal listener started");
        format!("http://{address}{path}")
    }

    /// Stops the server gracefully and waits for it, returning its result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// reqwest is built without a default TLS provider (one crypto backend, ring, for the whole
/// workspace), so one must be installed before any client is built.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Server logs in test output only when `TEST_LOG` is set.
fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
}

/// Deep-merges `extra` into `base`: objects key by key, anything else replaced.
pub(crate) fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}

/// A plain client that reaches the server at `base_url` for every URL under [`PUBLIC_URL`], as a
/// browser does through the operator's DNS and reverse proxy: redirects and links Verity builds
/// on `server.publicUrl` are followed to it (it is the proxy of the `localhost` host).
pub(crate) fn browser(base_url: &str) -> reqwest::Client {
    let server = base_url.to_owned();
    let proxy = reqwest::Proxy::custom(move |url| {
        (url.scheme() == "http" && url.host_str() == Some("localhost") && url.port().is_none())
            .then(|| server.clone())
    });
    reqwest::Client::builder()
        .proxy(proxy)
        .build()
        .expect("http client")
}
