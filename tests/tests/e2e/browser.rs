//! The pages in a real browser: headless Chromium driven through chromedriver (WebDriver), to
//! prove what only a browser decides — that the Content-Security-Policy lets the built-in pages
//! render, their forms post and `next_link` redirect, with no violation reported.
//!
//! Chromium and chromedriver are the system's (`/usr/bin/chromium`, `/usr/bin/chromedriver`;
//! `VERITY_TEST_CHROMIUM` and `VERITY_TEST_CHROMEDRIVER` override them). `scripts/test` installs
//! them when missing. Without them a test is skipped with a note, except under CI (`CI` set),
//! where it fails: CI must run it.
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The host names the browser sees; each is mapped to a test server's loopback address.
pub(crate) const VERITY_HOST: &str = "verity.test";
pub(crate) const CLIENT_HOST: &str = "client.test";

/// A headless Chromium session and the chromedriver behind it (killed on drop).
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    _profile: TempDir,
}

fn program(var: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    path.exists().then_some(path)
}

/// Starts Chromium with `hosts` mapped to their addresses (`MAP name ip:port`), or `None` (with a
/// note) when the browser is not installed and `CI` is not set.
pub(crate) async fn start(hosts: &[(&str, SocketAddr)]) -> Option<Browser> {
    let (Some(chromium), Some(chromedriver)) = (
        program("VERITY_TEST_CHROMIUM", "/usr/bin/chromium"),
        program("VERITY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium or chromedriver is missing: CI must run the browser tests \
             (scripts/test installs them)"
        );
        eprintln!(
            "skipped: chromium and chromedriver are not installed (scripts/test installs them)"
        );
        return None;
    };
    // A free port for chromedriver: it takes a port number, not a listening socket.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let rules = hosts
        .iter()
        .map(|(name, addr)| format!("MAP {name} {addr}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut capabilities = Capabilities::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-proxy-server",
                format!("--user-data-dir={}", profile.path().display()),
                format!("--host-resolver-rules={rules}"),
                // The test servers speak plain HTTP: no upgrade attempt to https first.
                "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
            ],
        }),
    );
    // The console (where Chromium reports every CSP violation) through chromedriver's log.
    capabilities.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities);
    let url = format!("http://127.0.0.1:{port}");
    let mut browser = None;
    // chromedriver takes a moment to listen; the session is retried until it does (not a timed
    // assertion: a driver that never answers fails the test after the last try).
    for _ in 0..100 {
        match builder.connect(&url).await {
            Ok(client) => {
                browser = Some(client);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let client = browser.expect("a chromedriver session");
    Some(Browser {
        client,
        driver,
        _profile: profile,
    })
}

/// chromedriver's `GetLog` command (not in the W3C protocol, so not in fantoccini).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

impl Browser {
    /// The console messages since the last call (chromedriver hands each out once).
    pub(crate) async fn console(&self) -> Vec<String> {
        let log = self.client.issue_cmd(BrowserLog).await.expect("the log");
        log.as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get("message").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }

    /// The console messages since the last call that report a Content-Security-Policy violation.
    pub(crate) async fn csp_violations(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|m| m.contains("Content Security Policy"))
            .collect()
    }

    /// Ends the session and the driver.
    pub(crate) async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test does not reach `close`; the driver (and its Chromium) must not outlive it.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
