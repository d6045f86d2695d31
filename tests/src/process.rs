//! The real `verity` binary as a child process on a data directory that outlives it, for the tests
//! that kill it with SIGKILL and start it again (crash safety).
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::client::Client;
use crate::postgres::TestDatabase;
use crate::spawn::{Backend, browser, install_crypto_provider, merge, test_config};

/// A configuration file and the data it points at (keys, SQLite file or PostgreSQL database),
/// which every [`Verity`] started from it shares.
pub struct Deployment {
    dir: TempDir,
    config: PathBuf,
    binary: PathBuf,
    database_url: String,
    _database: Option<TestDatabase>,
}

impl Deployment {
    /// Writes the configuration of a test server on `backend` with `extra_yaml` merged in (as
    /// [`crate::spawn_app_with`] does), logging JSON lines so that the tests can follow it.
    pub async fn new(backend: Backend, extra_yaml: &str) -> Self {
        let binary = crate::verity_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = match &backend {
            Backend::Sqlite => Some(dir.path().join("data/verity.db")),
            Backend::SqliteAt(path) => Some(path.clone()),
            Backend::Postgres => None,
        };
        let logging = "logging: {format: json, app: info}\n";
        let (yaml, database) =
            test_config(dir.path(), backend, &format!("{logging}{extra_yaml}")).await;
        let config = dir.path().join("verity.yaml");
        std::fs::write(&config, yaml).expect("write the configuration");
        let database_url = match (sqlite, &database) {
            (Some(path), _) => format!("sqlite://{}?mode=rwc", path.display()),
            (None, Some(database)) => database.url().to_owned(),
            (None, None) => unreachable!("PostgreSQL comes with its database"),
        };
        Self {
            dir,
            config,
            binary,
            database_url,
            _database: database,
        }
    }

    /// The data directory (configuration, keys, SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration file every start reads.
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Rewrites the configuration file with `extra_yaml` merged into it (mappings key by key,
    /// anything else replaced), as an operator edits it before a reload or a restart.
    pub fn amend_config(&self, extra_yaml: &str) {
        let text = std::fs::read_to_string(&self.config).expect("read the configuration");
        let mut config: Value = serde_norway::from_str(&text).expect("the configuration is YAML");
        let extra: Value = serde_norway::from_str(extra_yaml).expect("extra_yaml is YAML");
        merge(&mut config, extra);
        let yaml = serde_norway::to_string(&config).expect("config to YAML");
        std::fs::write(&self.config, yaml).expect("write the configuration");
    }

    /// The store's URL, for a test that reads it directly (a SQLite file or a PostgreSQL
    /// database; the server need not run).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Starts `verity -c <config>` and waits until it listens.
    pub async fn start(&self) -> Verity {
        let mut child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("verity starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let entry = serde_json::from_str(&line).unwrap_or(Value::String(line));
                    lines.lock().expect("log lines").push(entry);
                }
            })
        };
        let mut verity = Verity {
            child,
            lines,
            _reader: reader,
            base_url: String::new(),
            client: None,
            http: None,
        };
        let listening = verity
            .wait_for_log("verity is listening", Duration::from_secs(30))
            .await;
        let address = listening["address"].as_str().expect("the address logged");
        install_crypto_provider();
        let base_url = format!("http://{address}");
        let http = browser(&base_url);
        verity.client = Some(Client::new_with_client(&base_url, http.clone()));
        verity.http = Some(http);
        verity.base_url = base_url;
        verity
    }
}

/// A running `verity` process; killed (SIGKILL) when dropped.
pub struct Verity {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    _reader: std::thread::JoinHandle<()>,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    client: Option<Client>,
    http: Option<reqwest::Client>,
}

impl Verity {
    /// The generated client, pointed at the process.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("started")
    }

    /// A plain HTTP client that reaches the process for URLs under [`crate::PUBLIC_URL`].
    pub fn http(&self) -> &reqwest::Client {
        self.http.as_ref().expect("started")
    }

    /// `base_url` + `path`; a URL under [`crate::PUBLIC_URL`] (a link Verity made) is taken as
    /// its path.
    pub fn url(&self, path: &str) -> String {
        let path = path.strip_prefix(crate::PUBLIC_URL).unwrap_or(path);
        format!("{}{path}", self.base_url)
    }

    /// A generated client that sends `Authorization: Bearer <token>`.
    pub fn client_as(&self, token: &str) -> Client {
        Client::new_with_client(&self.base_url, crate::bearer_http(token))
    }

    /// Kills the process with SIGKILL, as a power cut or the OOM killer would: no shutdown,
    /// nothing flushed, requests in flight cut off. Returns once it is gone.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the process is reaped");
    }

    /// Sends SIGHUP (what `systemctl reload` sends): the process reloads its configuration.
    pub fn hang_up(&self) {
        let pid = i32::try_from(self.child.id()).expect("a process id");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGHUP,
        )
        .expect("SIGHUP sent");
    }

    /// How many lines were logged so far: a position for [`Self::wait_for_log_after`].
    pub fn log_count(&self) -> usize {
        self.lines.lock().expect("log lines").len()
    }

    /// The log lines from position `from` on (see [`Self::log_count`]).
    pub fn logs_after(&self, from: usize) -> Vec<Value> {
        let lines = self.lines.lock().expect("log lines");
        lines.iter().skip(from).cloned().collect()
    }

    /// The first JSON log line, from the start, whose `message` is `message`; panics after
    /// `timeout`.
    pub async fn wait_for_log(&self, message: &str, timeout: Duration) -> Value {
        self.wait_for_log_after(0, message, timeout).await
    }

    /// The first JSON log line from position `from` on whose `message` is `message`; panics
    /// after `timeout`.
    pub async fn wait_for_log_after(&self, from: usize, message: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(line) = self
                .logs_after(from)
                .into_iter()
                .find(|line| line["message"].as_str() == Some(message))
            {
                return line;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line {message:?} within {timeout:?}; logged:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many JSON log lines so far have `message` as their `message`.
    pub fn count_logs(&self, message: &str) -> usize {
        let lines = self.lines.lock().expect("log lines");
        lines
            .iter()
            .filter(|line| line["message"].as_str() == Some(message))
            .count()
    }

    /// Everything logged so far, one line per entry.
    pub fn logs(&self) -> String {
        let lines = self.lines.lock().expect("log lines");
        lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Verity {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
