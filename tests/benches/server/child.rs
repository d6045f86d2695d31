//! The release `verity` binary as a child process, as an operator runs it: a configuration file
//! in a temporary directory (SQLite file, keys, logs there too), or a scratch PostgreSQL database
//! created and dropped here. Its memory (`/proc/<pid>/status`) is the server's alone, and each
//! start is a real process start.
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tempfile::TempDir;
use verity_tests::TestDatabase;
use verity_tests::client::{Client, types};

use crate::Store;

pub const HOMESERVER: &str = "example.org";
pub const TERMS_URL: &str = "https://example.org/terms-1.0.html";

/// Where the binary is: `VERITY_BENCH_BINARY`, else `verity` in the bench's own target directory
/// (`target/<profile>/deps/server-…` → `target/<profile>/verity`), as `scripts/bench` builds it.
pub fn binary() -> Result<PathBuf, String> {
    let path = match std::env::var_os("VERITY_BENCH_BINARY") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.join("verity")))
            .ok_or("the bench's own path is unknown")?,
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no verity binary at {} (set VERITY_BENCH_BINARY, or run scripts/bench)",
            path.display()
        ))
    }
}

/// A data directory and store that successive processes share.
pub struct Deployment {
    dir: TempDir,
    binary: PathBuf,
    storage: serde_json::Value,
    smtp_port: u16,
    homeserver: String,
    /// The store's URL, for seeding it.
    pub store_url: String,
    database: Option<TestDatabase>,
    /// Sections added to the configuration ([`set`](Self::set)).
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Deployment {
    /// A new data directory, and a new PostgreSQL database on `Store::Postgres`.
    pub async fn new(binary: &Path, store: Store, smtp_port: u16, homeserver: &str) -> Self {
        let (dir, database, storage) = crate::foundation::scratch_store(store, "verity.db").await;
        let mut deployment = Self {
            dir,
            binary: binary.to_owned(),
            storage,
            smtp_port,
            homeserver: homeserver.to_owned(),
            store_url: String::new(),
            database,
            extra: serde_json::Map::new(),
        };
        deployment.store_url = verity::config::parse(&deployment.config(0))
            .expect("the bench configuration is valid")
            .settings
            .storage
            .url();
        deployment
    }

    /// Adds (or replaces) the configuration section `key` for the next spawns.
    pub fn set(&mut self, key: &str, section: serde_json::Value) {
        self.extra.insert(key.to_owned(), section);
    }

    /// The temporary directory (scripts and data files for wrk go there too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration, as an operator would write it (mxisd key names): email through SMTP
    /// to the loopback sink, `example.org` resolved to the fake homeserver, one terms policy,
    /// every limit on but never reached, logs at `info`.
    fn config(&self, port: u16) -> String {
        let mut config = json!({
            "matrix": {"domain": HOMESERVER},
            "server": {"hostname": "127.0.0.1", "port": port, "publicUrl": "http://localhost"},
            "key": {"path": self.dir.path().join("keys")},
            "storage": self.storage,
            "ratelimit": crate::limits::unrefused(),
            "threepid": {"medium": {"email": {
                "identity": {"from": "verity@example.org", "name": "Verity"},
                "connector": "smtp",
                "connectors": {"smtp": {"host": "127.0.0.1", "port": self.smtp_port, "tls": 0}},
            }}},
            "dns": {"overwrite": {"homeserver": {"federation": [
                {"name": HOMESERVER, "value": self.homeserver}]}}},
            "policy": {"policies": {"terms_of_service": {"version": "1.0", "terms": {
                "en": {"name": "Terms of Service", "url": TERMS_URL}}}}},
        });
        if let Some(sections) = config.as_object_mut() {
            sections.extend(self.extra.clone());
        }
        serde_norway::to_string(&config).expect("config to YAML")
    }

    /// Writes the configuration with a free port and starts the binary on it; the clock of
    /// [`Server::since_spawn`] starts just before the process does.
    pub fn spawn(&self) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let config = self.dir.path().join("verity.yaml");
        std::fs::write(&config, self.config(port)).expect("write the configuration");
        let log = self.dir.path().join("verity.log");
        let out = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("the log file");
        let err = out.try_clone().expect("the log file");
        let spawned = Instant::now();
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("verity starts");
        Server {
            child,
            spawned,
            log,
            base_url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Drops the PostgreSQL database (the directory goes with `self`).
    pub async fn finish(self) {
        if let Some(database) = self.database {
            database.drop_database().await;
        }
    }
}

/// A running `verity` process; killed if dropped unstopped.
pub struct Server {
    child: Child,
    spawned: Instant,
    log: PathBuf,
    pub base_url: String,
}

impl Server {
    pub fn since_spawn(&self) -> Duration {
        self.spawned.elapsed()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `VmRSS` (resident now) and `VmHWM` (peak resident) of the process, in KiB.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status of the server");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .expect("VmRSS and VmHWM")
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The CPU time the process has used so far, user and system, on every core: the cost of
    /// a row in server time, which other processes on the machine (wrk, a build) do not change
    /// the way they change its rate.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/<pid>/stat of the server");
        // The fields after the command's name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the file, 12 and 13 after `) state`.
        let ticks: u64 = [11, 12]
            .iter()
            .map(|&i| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .expect("utime, stime")
            })
            .sum();
        // USER_HZ is 100 on every Linux this runs on.
        Duration::from_millis(ticks * 10)
    }

    /// The end of the server's log, for a failure message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGTERM, as systemd stops it, then waits (SIGKILL after 10 s).
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        eprintln!("  the server did not stop within 10 s of SIGTERM: killed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Registers `@bench:example.org` through the fake homeserver's OpenID token and accepts the
/// terms, so every request pays the account and terms checks of a real user.
pub async fn register(base_url: &str) -> String {
    let registered = Client::new_with_client(base_url, reqwest::Client::new())
        .register_account(&crate::foundation::bench_openid(HOMESERVER))
        .await
        .expect("register")
        .into_inner();
    Client::new_with_client(base_url, verity_tests::bearer_http(&registered.token))
        .agree_to_terms(&types::AcceptTerms {
            user_accepts: vec![TERMS_URL.into()],
        })
        .await
        .expect("accept the terms");
    registered.token
}
