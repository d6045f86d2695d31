//! A throwaway Synapse: the real homeserver, from the virtualenv `scripts/test` installs, on
//! loopback ports, with a generated configuration, signing key and certificate in a temporary
//! directory and a SQLite database.
//!
//! - the client API listens in plain HTTP on `127.0.0.1` ([`Synapse::client_url`]);
//! - the federation and key APIs listen in HTTPS with a self-signed certificate
//!   ([`Synapse::federation_url`]); the server name is `localhost` (no port: whoever calls the
//!   federation API is told where it listens, as an operator's override does);
//! - registration is open (`m.login.dummy`), rate limits are out of the way, and Synapse accepts
//!   self-signed certificates and loopback addresses for identity servers;
//! - its user directory searches every local user (`user_directory.search_all_users`);
//! - `account_threepid_delegates.msisdn` is set when asked for.
//!
//! The process is killed when the value is dropped. It also ends on its own within a second of
//! the test process ending (a watchdog thread checks its parent), and after [`MAX_LIFETIME`]
//! whatever happens, so a killed test run leaves nothing behind.
//!
//! Where Synapse is: [`python`] reads `VERITY_TEST_SYNAPSE` (the virtualenv's python).
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::synapse_config::{Layout, write_all};

/// The variable naming the python of a virtualenv with `matrix-synapse` installed.
pub const SYNAPSE_VAR: &str = "VERITY_TEST_SYNAPSE";

/// When set, Synapse's directory (configuration, database, log) is kept after the test.
pub const KEEP_VAR: &str = "VERITY_TEST_SYNAPSE_KEEP";

/// Synapse's server name: `@alice:localhost`.
pub const SERVER_NAME: &str = "localhost";

/// The longest a test Synapse lives, even if nobody stops it.
pub const MAX_LIFETIME: Duration = Duration::from_secs(20 * 60);

/// How long start-up may take (a cold start on a loaded two-core machine is a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs Synapse's main module after starting a thread that ends the process when its parent
/// (the test) is gone or the lifetime is over.
const BOOTSTRAP: &str = r#"
import os, sys, threading, time, runpy
parent = os.getppid()
deadline = time.monotonic() + float(sys.argv[1])
def watch():
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["synapse.app.homeserver"] + sys.argv[2:]
runpy.run_module("synapse.app.homeserver", run_name="__main__")
"#;

/// The python of the Synapse virtualenv, from [`SYNAPSE_VAR`].
///
/// Unset: `None` with a note on stderr (the Synapse tests then pass without running), except
/// under CI (`CI` set), where it panics: CI must run them. Set to a path that does not exist:
/// panics.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os(SYNAPSE_VAR) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "{SYNAPSE_VAR}={} does not exist: run scripts/test, which installs Synapse there",
                path.display()
            );
            Some(path)
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but {SYNAPSE_VAR} is not: CI must run the Synapse tests (scripts/test \
                 installs Synapse and sets it)"
            )
        }
        _ => {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {SYNAPSE_VAR} is not set; the Synapse tests pass without running \
                     (scripts/test installs Synapse and sets it)"
                );
            });
            None
        }
    }
}

/// What to configure beyond the defaults.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `account_threepid_delegates.msisdn`: the identity server's base URL.
    pub msisdn_delegate: Option<String>,
    /// More of `homeserver.yaml`, appended as written (a `modules:` list, say).
    pub extra_yaml: Option<String>,
    /// A directory put on Synapse's `PYTHONPATH` (where a test's module lives).
    pub python_path: Option<PathBuf>,
}

/// A running Synapse.
pub struct Synapse {
    dir: tempfile::TempDir,
    child: Child,
    client_port: u16,
    federation_port: u16,
    startup: Duration,
}

impl Synapse {
    /// Starts Synapse with `python` and waits until `/_matrix/client/versions` answers. A port
    /// taken between choosing it and Synapse binding it means a new try with other ports.
    ///
    /// # Panics
    /// When Synapse exits or does not answer within two minutes (with its log).
    pub async fn start(python: &Path, options: &Options) -> Self {
        let mut tries = 0;
        loop {
            tries += 1;
            let began = Instant::now();
            let mut synapse = Self::spawn(python, options);
            match synapse.wait_until_ready().await {
                Ok(()) => {
                    synapse.startup = began.elapsed();
                    return synapse;
                }
                Err(logs) if tries < 3 && logs.contains("Address already in use") => {}
                Err(logs) => panic!("{logs}"),
            }
        }
    }

    fn spawn(python: &Path, options: &Options) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for Synapse");
        let (client_port, federation_port) = (free_port(), free_port());
        write_all(&Layout {
            dir: dir.path(),
            client_port,
            federation_port,
            server_name: SERVER_NAME,
            msisdn_delegate: options.msisdn_delegate.as_deref(),
            extra_yaml: options.extra_yaml.as_deref(),
        });
        let output = std::fs::File::create(dir.path().join("output.log")).expect("output.log");
        let mut command = Command::new(python);
        if let Some(path) = &options.python_path {
            command.env("PYTHONPATH", path);
        }
        let child = command
            .arg("-c")
            .arg(BOOTSTRAP)
            .arg(MAX_LIFETIME.as_secs().to_string())
            .arg("--config-path")
            .arg(dir.path().join("homeserver.yaml"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("output.log"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("start Synapse with {}: {error}", python.display()));
        Self {
            dir,
            child,
            client_port,
            federation_port,
            startup: Duration::ZERO,
        }
    }

    /// Waits for the first answer; the reason and the log when there is none.
    async fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "Synapse exited ({status}) while starting:\n{}",
                    self.logs()
                ));
            }
            if versions_answer(self.client_port).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "Synapse did not answer within {START_TIMEOUT:?}:\n{}",
                    self.logs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:<client port>`: the client-server API.
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// `https://127.0.0.1:<federation port>`: the federation and key APIs.
    pub fn federation_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.federation_port)
    }

    /// The federation listener's address.
    pub fn federation_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.federation_port))
    }

    /// The server name in user IDs and signatures: [`SERVER_NAME`].
    pub fn server_name(&self) -> String {
        SERVER_NAME.to_owned()
    }

    /// The time from spawning the process to the first answer of `/_matrix/client/versions`.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Synapse's log so far (`homeserver.log`), then what it printed.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name));
        format!(
            "--- homeserver.log\n{}\n--- output\n{}",
            read("homeserver.log").unwrap_or_default(),
            read("output.log").unwrap_or_default()
        )
    }

    /// The log lines that contain `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("homeserver.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os(KEEP_VAR).is_some() {
            let dir = std::mem::replace(&mut self.dir, tempfile::TempDir::new().expect("temp dir"));
            let kept = dir.keep();
            let _ = writeln!(
                std::io::stderr(),
                "{KEEP_VAR}: Synapse's directory is kept at {}",
                kept.display()
            );
        }
    }
}

/// A port nobody listens on now (bound and released: another process may take it before
/// Synapse does, which would show as a start-up failure naming the port).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Whether `GET /_matrix/client/versions` answers 200.
async fn versions_answer(port: u16) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = "GET /_matrix/client/versions HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head)).await;
    matches!(read, Ok(Ok(_))) && head.ends_with(b" 200")
}
