//! `cargo bench -p verity-tests --bench server`: the real server, built as `main` builds it, on
//! `127.0.0.1:0` in this process, measured from a client in the same process. It prints Markdown
//! tables (see `docs/benchmarks.md` for how to read them):
//!
//! - cold start-up: `Application::build` to the first 200 on `GET /status`, fresh store each time;
//! - `GET /status` and `GET /_matrix/identity/v2` at 1 and 8 concurrent connections;
//! - email validation sessions through the SMTP connector (a real SMTP server on loopback): new
//!   sessions, repeated requests that send nothing, and the submission of the emailed tokens;
//! - the process's resident memory;
//! - hashed lookups (`lookups`): 100 sha256 hashes a request against a table of 1,000,000 bound
//!   3PIDs, with the time the first table takes to build;
//! - recursive lookups (`recursive`): v1 lookups answered locally, forwarded to a second server
//!   in the process, and by that server directly.
//!
//! - remote sessions (`remote`): the start of a remote session and a bind forwarded to a second
//!   server in the process, next to a local bind.
//!
//! - 3PID invites (`invites`): `store-invite` (each stores an invite and emails it through SMTP)
//!   at 1 and 8 connections, and the time from a bind of an invited address to `3pid/onbind`
//!   arriving at the fake homeserver.
//!
//! - the metrics' cost (`metrics`): the same requests with `server.metrics.enabled` true and
//!   false, in alternating rounds.
//! - the limits' cost (`limits`): GET /v2, v2 lookups and new email sessions with every limit
//!   on and with `ratelimit.enabled: false`, in alternating rounds. Every other section runs with
//!   the limits on, with allowances no run reaches.
//!
//! - issue 14's table (`targets`, run by `scripts/bench`): the release `verity` binary as a
//!   child process on 1,000,000 bindings, each row driven by wrk, with its targets. Not part of a
//!   `cargo bench` run that names no section (it takes minutes and needs the release binary and
//!   wrk); part of the smoke pass, which skips it, saying why, when either is missing.
//!
//! Sections can be run alone by name: `cargo bench -p verity-tests --bench server -- lookups`
//! (`core` is everything before the lookups).
//!
//! On SQLite in a temporary directory, and on PostgreSQL too when `VERITY_TEST_POSTGRES_URL` is
//! set. `VERITY_BENCH_SCALE` multiplies the request counts (e.g. `0.05` for a quick look).
//! Without `--bench` (that is, run by `cargo test --benches` rather than `cargo bench`) it runs a
//! smoke-sized pass, as libtest does with benchmarks, so a test run never becomes a bench run.
//!
//! A benchmark binary is not a test to clippy, but like a test it should stop loudly on a broken
//! set-up, and printing its table is its job: the workspace's no-panic and no-stdout lints are
//! relaxed here on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod child;
mod directory;
mod first_start;
mod foundation;
mod invites;
mod limits;
mod load;
mod lookups;
mod metrics;
mod recursive;
mod remote;
mod report;
mod sessions;
mod targets;
mod wrk;

use report::{Memory, Report};
use verity_tests::Backend;

/// The store a server runs on.
#[derive(Clone, Copy)]
pub enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    fn backend(self) -> Backend {
        match self {
            Self::Sqlite => Backend::Sqlite,
            Self::Postgres => Backend::Postgres,
        }
    }
}

/// How much to measure.
struct Plan {
    cold_starts: usize,
    pings: usize,
    sessions: usize,
    concurrencies: [usize; 2],
    lookups: lookups::Plan,
    invites: invites::Plan,
    recursive: recursive::Plan,
}

impl Plan {
    fn scaled(scale: f64) -> Self {
        let count = |full: usize, least: usize| ((full as f64 * scale).round() as usize).max(least);
        Self {
            cold_starts: count(10, 1),
            pings: count(20_000, 8),
            sessions: count(400, 8),
            concurrencies: [1, 8],
            invites: invites::Plan {
                requests: count(2_000, 8),
                concurrencies: [1, 8],
                binds: count(50, 3),
            },
            lookups: lookups::Plan {
                bindings: count(1_000_000, 1_000),
                requests: count(10_000, 8),
                concurrencies: [1, 8],
            },
            recursive: recursive::Plan {
                identities: count(1_000, 20),
                requests: count(5_000, 8),
                concurrencies: [1, 8],
            },
        }
    }
}

fn main() {
    let benching = std::env::args().any(|arg| arg == "--bench");
    let scale = std::env::var("VERITY_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(if benching { 1.0 } else { 0.005 });
    // reqwest is built without a default TLS provider: install the workspace's one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The server logs as it does in production (`info`, text), into a sink: formatting a log
    // line is part of a request's cost, writing it to a terminal is not.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(std::io::sink)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // The sections named on the command line (`-- lookups`), or every one.
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    for section in &sections {
        assert!(
            [
                "core",
                "lookups",
                "invites",
                "recursive",
                "remote",
                "limits",
                "metrics",
                "targets",
                "directory"
            ]
            .contains(&section.as_str()),
            "unknown section {section:?}: expected core, lookups, invites, recursive, remote, limits, \
             metrics, targets or directory"
        );
    }
    let wants = |name: &str| sections.is_empty() || sections.iter().any(|s| s == name);
    if sections.len() == 1 && sections[0] == "targets" {
        runtime.block_on(targets::run(&targets_plan(benching, scale)));
        return;
    }
    if sections.len() == 1 && sections[0] == "directory" {
        runtime.block_on(directory::run(&directory_plan(benching, scale)));
        return;
    }
    let (core, lookups) = (wants("core"), wants("lookups"));
    let recursive = wants("recursive");
    runtime.block_on(run(Plan::scaled(scale), scale, core, lookups, recursive));
    if wants("remote") {
        let sessions = ((200.0 * scale).round() as usize).max(4);
        runtime.block_on(remote::run(&remote::Plan {
            sessions,
            concurrencies: [1, 8],
        }));
    }
    if wants("limits") {
        let count = |full: f64, least: usize| ((full * scale).round() as usize).max(least);
        runtime.block_on(limits::run(&limits::Plan {
            rounds: if benching { 3 } else { 1 },
            sessions: count(200.0, 8),
            requests: count(5_000.0, 8),
            concurrencies: [1, 8],
        }));
    }
    if wants("metrics") {
        let count = |full: f64, least: usize| ((full * scale).round() as usize).max(least);
        runtime.block_on(metrics::run(&limits::Plan {
            rounds: if benching { 3 } else { 1 },
            sessions: count(200.0, 8),
            requests: count(5_000.0, 8),
            concurrencies: [1, 8],
        }));
    }
    // Named, or the smoke pass: a whole run would take minutes longer with it.
    if sections.iter().any(|s| s == "targets") || (sections.is_empty() && !benching) {
        runtime.block_on(targets::run(&targets_plan(benching, scale)));
    }
    if sections.iter().any(|s| s == "directory") || (sections.is_empty() && !benching) {
        runtime.block_on(directory::run(&directory_plan(benching, scale)));
    }
}

/// `directory`: 100,000 people (and as many bindings) × the scale, with the rows of `targets`.
fn directory_plan(benching: bool, scale: f64) -> directory::Plan {
    directory::Plan {
        entries: ((100_000.0 * scale).round() as usize).max(1_000),
        seconds: targets_plan(benching, scale).seconds,
    }
}

/// `targets`: 1,000,000 bindings × the scale, and 10 s a row (1 s in the smoke pass), or
/// `VERITY_BENCH_SECONDS`.
fn targets_plan(benching: bool, scale: f64) -> targets::Plan {
    let seconds = std::env::var("VERITY_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(if benching { 10 } else { 1 })
        .max(1);
    targets::Plan {
        bindings: ((1_000_000.0 * scale).round() as usize).max(1_000),
        seconds,
    }
}

async fn run(plan: Plan, scale: f64, core: bool, lookups: bool, recursive: bool) {
    let mut stores = vec![Store::Sqlite];
    if verity_tests::postgres_url().is_some() {
        stores.push(Store::Postgres);
    }
    header(&stores, scale);
    let started = std::time::Instant::now();
    if section_wanted("invites") {
        let mut report = Report::default();
        let mut onbind = Vec::new();
        for &store in &stores {
            onbind.push((
                store.name(),
                invites::run(&mut report, store, &plan.invites).await,
            ));
        }
        println!("\n## 3PID invites");
        report.print_loads();
        invites::print_onbind(&onbind);
    }
    if core {
        run_core(&plan, &stores).await;
    }
    if lookups {
        let mut figures = lookups::Figures::default();
        for &store in &stores {
            lookups::run(&mut figures, store, &plan.lookups).await;
        }
        figures.print();
    }
    if recursive {
        let mut report = Report::default();
        recursive::run(&mut report, &plan.recursive).await;
        report.print_loads();
    }
    println!(
        "\nmeasured in {:.0} s (start-ups, load and set-up); load average after: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
}

/// Start-up, the GETs and the email sessions.
async fn run_core(plan: &Plan, stores: &[Store]) {
    let mut report = Report::default();
    report.memory(Memory::now("at start"));
    for &store in stores {
        report.starts(
            store.name(),
            foundation::cold_starts(store, plan.cold_starts).await,
        );
    }
    for &store in stores {
        let (app, peers) = sessions::app(store).await;
        foundation::pings(&mut report, store, &app, plan.pings, &plan.concurrencies).await;
        report.memory(Memory::now(format!("after the {} GETs", store.name())));
        let n = plan.sessions;
        sessions::flows(&mut report, store, &app, &peers, n, &plan.concurrencies).await;
        report.memory(Memory::now(format!("after the {} sessions", store.name())));
        app.stop().await.expect("the server stops cleanly");
    }
    report.print();
}

/// Whether the command line asks for `name` (or for every section).
fn section_wanted(name: &str) -> bool {
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    sections.is_empty() || sections.iter().any(|s| s == name)
}

/// What was measured, where.
fn header(stores: &[Store], scale: f64) {
    let cpu = cpu_model();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let profile = if cfg!(debug_assertions) {
        "debug (numbers are not representative)"
    } else {
        "release"
    };
    let stores: Vec<_> = stores.iter().map(|s| s.name()).collect();
    println!("## verity server bench");
    println!();
    println!("- build: {profile}; scale {scale}");
    println!("- machine: {cores} cores available, {cpu}");
    println!("- stores: {}", stores.join(", "));
    println!("- load average before: {}", load_average());
    eprintln!("running (progress on stderr, tables on stdout at the end)");
}

/// `/proc/cpuinfo`'s first model name.
fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map_or("unknown", |rest| rest.trim_start_matches([' ', '\t', ':']))
        .to_owned()
}

/// `/proc/loadavg`'s 1, 5 and 15 minute figures: above the core count, something else was
/// competing for the CPU (another build, say) and the figures are pessimistic.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "n/a".to_owned())
}
