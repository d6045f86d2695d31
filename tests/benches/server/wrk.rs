//! wrk, the HTTP load generator (Debian's `wrk`), driven with the Lua scripts in `wrk/`: the
//! bench writes `common.lua` followed by one scenario's script into a file, runs
//! `wrk -t<threads> -c<connections> -d<seconds>s --latency -s <file> <url> -- <arguments>` and
//! parses the `VERITY_WRK {json}` line its `done()` prints. wrk runs as a separate process, so
//! its cost is not the server's, but it shares the machine's cores with it.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

const COMMON: &str = include_str!("wrk/common.lua");

/// What wrk sends.
pub enum Script {
    /// A `GET` of the URL, nothing else.
    Get,
    /// A new email `requestToken` each time; `tag` keeps the addresses of runs apart.
    RequestToken { token: String, tag: String },
    /// Hashed lookups, the bodies of a file (one a line) in turn.
    Lookup { token: String, bodies: PathBuf },
    /// Each submission of a file (one a line) once; the threads stop when they are done.
    SubmitToken { token: String, submissions: PathBuf },
}

/// One wrk run.
pub struct Load<'a> {
    pub url: &'a str,
    pub connections: usize,
    pub seconds: u32,
    pub script: Script,
}

/// What one run measured.
#[derive(Debug, Deserialize)]
pub struct Summary {
    duration_us: u64,
    /// Answers wrk read in time (it does not count the ones in flight when the run ends).
    pub requests: u64,
    connect: u64,
    read: u64,
    write: u64,
    /// Answers with a status above 399.
    status: u64,
    timeout: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    /// Answers the script checked itself (`SubmitToken` only), and how many were wrong.
    pub answered: u64,
    pub bad: u64,
    /// From the first request to the last checked answer (`SubmitToken`), or -1.
    span_us: i64,
    sample: String,
}

impl Summary {
    /// Answers per second: over the span the script measured when it checks its answers (its
    /// threads may stop before `-d` runs out), else over wrk's own duration.
    pub fn rate(&self) -> f64 {
        if self.span_us > 0 {
            self.answered as f64 / (self.span_us as f64 / 1e6)
        } else {
            self.requests as f64 / (self.duration_us as f64 / 1e6)
        }
    }

    pub fn p50(&self) -> Duration {
        Duration::from_micros(self.p50_us)
    }

    pub fn p90(&self) -> Duration {
        Duration::from_micros(self.p90_us)
    }

    pub fn p99(&self) -> Duration {
        Duration::from_micros(self.p99_us)
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// Every request must have succeeded: a socket error, a timeout, a status above 399 or a
    /// wrong answer means the row measured something else.
    fn failures(&self) -> Option<String> {
        let errors = self.connect + self.read + self.write + self.status + self.timeout;
        (errors + self.bad > 0).then(|| {
            format!(
                "connect {}, read {}, write {}, status >= 400 {}, timeout {}, wrong answers {} \
                 (first: {:?})",
                self.connect,
                self.read,
                self.write,
                self.status,
                self.timeout,
                self.bad,
                self.sample
            )
        })
    }
}

/// wrk's version line, or why it cannot be run.
pub fn version() -> Result<String, String> {
    // `wrk -v` prints its version and usage, and exits with 1.
    let output = Command::new("wrk")
        .arg("-v")
        .output()
        .map_err(|error| format!("wrk cannot be run ({error}); scripts/bench installs it"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok(text.lines().next().unwrap_or("wrk").trim().to_owned())
}

/// Runs `load` with scripts written into `dir`; panics, with wrk's output, unless every request
/// succeeded.
pub async fn run(dir: &Path, label: &str, load: Load<'_>) -> Summary {
    let threads = load
        .connections
        .min(std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let (scenario, arguments): (&str, Vec<String>) = match load.script {
        Script::Get => ("", vec![]),
        Script::RequestToken { token, tag } => {
            (include_str!("wrk/request_token.lua"), { vec![token, tag] })
        }
        Script::Lookup { token, bodies } => (
            include_str!("wrk/lookup.lua"),
            vec![token, bodies.display().to_string()],
        ),
        Script::SubmitToken { token, submissions } => (
            include_str!("wrk/submit_token.lua"),
            vec![
                token,
                submissions.display().to_string(),
                threads.to_string(),
            ],
        ),
    };
    let script = dir.join("wrk.lua");
    std::fs::write(&script, format!("{COMMON}\n{scenario}")).expect("write the wrk script");
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{threads}"))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        .args(["--timeout", "5s", "--latency", "-s"])
        .arg(&script)
        .arg(load.url);
    if !arguments.is_empty() {
        command.arg("--").args(&arguments);
    }
    eprintln!(
        "  wrk: {label}: {} connection(s), {} thread(s), {} s",
        load.connections, threads, load.seconds
    );
    // The SMTP sink and the fake homeserver run on this process's runtime: wait off it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the wrk task")
        .expect("wrk runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .find_map(|line| line.strip_prefix("VERITY_WRK "))
        .map(|json| serde_json::from_str::<Summary>(json).expect("wrk's summary line parses"));
    let Some(summary) = summary.filter(|_| output.status.success()) else {
        panic!(
            "{label}: wrk failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    if let Some(failures) = summary.failures() {
        panic!("{label}: not every request succeeded: {failures}\n{stdout}");
    }
    summary
}
