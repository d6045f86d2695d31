//! Issue 14's table (`targets`, run by `scripts/bench`): the release `verity` binary as a child
//! process ([`crate::child`]) on a store seeded with 1,000,000 bindings, an SMTP sink and a fake
//! homeserver in this process, each row driven by wrk ([`crate::wrk`]), on SQLite and, when
//! `VERITY_TEST_POSTGRES_URL` is set, PostgreSQL. Prints one Markdown table per store: what,
//! target, measured, met.
//!
//! Per store: seed; the first start (no pepper, no table) until every lookup answers right;
//! email `requestToken` for new addresses at 1 and 8 connections (one email each, checked);
//! `submitToken` of those sessions at 8 connections; `GET /v2` then the 100-hash lookup at 8
//! connections; the server's memory; a restart (new process, pepper stored, table rebuilt)
//! until every lookup answers right.
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use verity_testkit::homeserver::FakeHomeserver;
use verity_testkit::smtp::SmtpServer;
use verity_tests::client::Client;

use crate::Store;
use crate::child::{self, Deployment, HOMESERVER, Server};
use crate::first_start::{self, Ready};
use crate::load::drive;
use crate::wrk::{self, Load, Script, Summary};

/// How much to measure.
pub struct Plan {
    /// Bound 3PIDs in the store.
    pub bindings: usize,
    /// Seconds of each wrk row.
    pub seconds: u32,
}

/// Distinct lookup bodies wrk cycles through.
const BODIES: usize = 256;

/// One line of a table.
pub(crate) struct Row {
    what: String,
    target: &'static str,
    measured: String,
    met: bool,
}

/// The rows as a Markdown table: what, target, measured, met.
pub(crate) fn print_rows(rows: &[Row]) {
    println!("| what | target | measured | met? |");
    println!("|---|---|---|---|");
    for row in rows {
        let met = if row.met { "yes" } else { "**no**" };
        println!(
            "| {} | {} | {} | {met} |",
            row.what, row.target, row.measured
        );
    }
}

/// The section: skipped, with the reason printed, when the binary or wrk is missing.
pub async fn run(plan: &Plan) {
    let (binary, wrk) = match (child::binary(), wrk::version()) {
        (Ok(binary), Ok(wrk)) => (binary, wrk),
        (Err(reason), _) | (_, Err(reason)) => {
            println!("\n## Issue 14 targets: skipped: {reason}");
            return;
        }
    };
    let mut stores = vec![Store::Sqlite];
    if verity_tests::postgres_url().is_some() {
        stores.push(Store::Postgres);
    }
    let names: Vec<_> = stores.iter().map(|store| store.name()).collect();
    let load = crate::load_average();
    let started = Instant::now();
    let mut tables = Vec::new();
    for &store in &stores {
        tables.push((store.name(), run_store(store, plan, &binary).await));
    }
    println!("\n## Issue 14 targets (scripts/bench)\n");
    println!("- commit: {}", commit());
    println!(
        "- machine: {} cores (nproc), {}",
        cores(),
        crate::cpu_model()
    );
    println!(
        "- load average before: {load}; after: {}",
        crate::load_average()
    );
    println!("- server: {} (a child process)", binary.display());
    println!("- load generator: {wrk}, {} s a row", plan.seconds);
    println!("- stores: {}; {} bindings", names.join(", "), plan.bindings);
    println!("- took {:.0} s", started.elapsed().as_secs_f64());
    if cfg!(debug_assertions) {
        println!("- smoke pass (debug build, small store, 1 s rows): the figures mean nothing");
    }
    for (store, rows) in tables {
        println!("\n### {store}\n");
        print_rows(&rows);
    }
}

/// What the rows of one store share.
pub(crate) struct Context<'a> {
    pub(crate) name: &'static str,
    /// Bound 3PIDs the table holds (`user<i>@example.org`).
    pub(crate) bindings: usize,
    /// Seconds of each wrk row.
    pub(crate) seconds: u32,
    pub(crate) dir: PathBuf,
    pub(crate) server: &'a Server,
    pub(crate) token: String,
    pub(crate) http: reqwest::Client,
    pub(crate) pepper: String,
}

async fn run_store(store: Store, plan: &Plan, binary: &Path) -> Vec<Row> {
    let name = store.name();
    let n = plan.bindings;
    let smtp = SmtpServer::start().await;
    let homeserver = FakeHomeserver::start().await;
    homeserver.add_user("openid-bench", &format!("@bench:{HOMESERVER}"));
    let deployment = Deployment::new(binary, store, smtp.port(), &homeserver.base_url()).await;
    let mut rows = Vec::new();

    eprintln!("targets {name}: seeding {n} bindings");
    let seeding = Instant::now();
    verity_adapter_sql::testing::seed_bindings(&deployment.store_url, n).await;
    eprintln!(
        "targets {name}: seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    // The first start: no pepper and no table yet. The account and the pepper come once it
    // listens, so this start's time includes registering.
    let server = deployment.spawn();
    let listening = first_start::until_listening(&server).await;
    let token = child::register(&server.base_url).await;
    let http = verity_tests::bearer_http(&token);
    let pepper = crate::lookups::pepper(&http, &server.base_url).await;
    let check = first_start::check(&pepper, n);
    let ready = first_start::until_right(&http, &server, &check).await;
    rows.push(start_row(
        format!("first start on {n} bindings (store seeded, no pepper yet) until every lookup answers right"),
        listening,
        &ready,
    ));

    let context = Context {
        name,
        bindings: plan.bindings,
        seconds: plan.seconds,
        dir: deployment.dir().to_owned(),
        server: &server,
        token,
        http: http.clone(),
        pepper: pepper.clone(),
    };
    session_rows(&context, &smtp, &mut rows).await;
    lookup_rows(&context, &mut rows).await;

    // A restart: a new process on the same store (the pepper is stored, the table is not).
    server.stop().await;
    let server = deployment.spawn();
    let listening = first_start::until_listening(&server).await;
    let ready = first_start::until_right(&http, &server, &check).await;
    let pepper_now = crate::lookups::pepper(&http, &server.base_url).await;
    assert_eq!(pepper_now, pepper, "the pepper survives a restart");
    rows.push(start_row(
        format!("restart on {n} bindings (pepper stored) until every lookup answers right"),
        listening,
        &ready,
    ));
    server.stop().await;
    deployment.finish().await;
    rows
}

/// Email requestToken for new addresses at 1 and 8 connections, then the submitToken of every
/// session they made.
async fn session_rows(context: &Context<'_>, smtp: &SmtpServer, rows: &mut Vec<Row>) {
    let Context {
        name, seconds, dir, ..
    } = context;
    // A few through reqwest first open the SMTP pool.
    let client = Arc::new(Client::new_with_client(
        &context.server.base_url,
        verity_tests::bearer_http(&context.token),
    ));
    let warm_up = 50;
    drive(warm_up, 8, move |i| {
        crate::sessions::request_token(client.clone(), "warm".into(), i)
    })
    .await;
    let url = context.server.url("/");
    let mut mails = warm_up;
    for (connections, target) in [(1, "p50 <= 3 ms"), (8, ">= 1,000/s")] {
        let tag = format!("{}.c{connections}", name.to_lowercase());
        let script = Script::RequestToken {
            token: context.token.clone(),
            tag,
        };
        let label = format!("{name} requestToken c{connections}");
        let run = wrk::run(dir, &label, load(&url, connections, *seconds, script)).await;
        mails = one_mail_each(smtp, mails, &run, connections).await;
        let met = match connections {
            1 => run.p50() <= Duration::from_millis(3),
            _ => run.rate() >= 1_000.0,
        };
        rows.push(Row {
            what: format!("email requestToken, new addresses, {connections} connection(s)"),
            target,
            measured: format!(
                "{:.0}/s, p50 {}, p99 {} ({} sessions)",
                run.rate(),
                ms(run.p50()),
                ms(run.p99()),
                run.requests
            ),
            met,
        });
    }

    // Each session once, from the captured emails' links.
    let submissions = dir.join("submissions.jsonl");
    let lines: Vec<String> = crate::sessions::submissions(&smtp.received())
        .into_values()
        .map(|submission| serde_json::to_string(&submission).expect("a submission as JSON"))
        .collect();
    std::fs::write(&submissions, lines.join("\n") + "\n").expect("write the submissions");
    let script = Script::SubmitToken {
        token: context.token.clone(),
        submissions,
    };
    let label = format!("{name} submitToken c8");
    let run = wrk::run(dir, &label, load(&url, 8, *seconds, script)).await;
    rows.push(Row {
        what: "submitToken, 8 connections".to_owned(),
        target: ">= 3,000/s",
        measured: format!(
            "{:.0}/s, p50 {}, p99 {} ({} of {} prepared sessions submitted)",
            run.rate(),
            ms(run.p50()),
            ms(run.p99()),
            run.answered,
            lines.len()
        ),
        met: run.rate() >= 3_000.0,
    });
}

/// `GET /v2` (the HTTP floor) and the 100-hash lookup at 8 connections in the same run, then
/// the server's memory.
pub(crate) async fn lookup_rows(context: &Context<'_>, rows: &mut Vec<Row>) {
    let Context {
        name,
        bindings: n,
        seconds,
        dir,
        server,
        ..
    } = context;
    let n = *n;
    let pool = first_start::pool(&context.pepper, n, BODIES);
    first_start::verify(&context.http, server, &pool).await;
    let bodies = dir.join("lookups.jsonl");
    let text: Vec<&str> = pool.iter().map(|lookup| lookup.body.as_str()).collect();
    std::fs::write(&bodies, text.join("\n") + "\n").expect("write the lookup bodies");
    let url = server.url("/");
    let lookups = |seconds| {
        let script = Script::Lookup {
            token: context.token.clone(),
            bodies: bodies.clone(),
        };
        Load {
            url: &url,
            connections: 8,
            seconds,
            script,
        }
    };
    wrk::run(dir, &format!("{name} lookup warm-up"), lookups(1)).await;
    let v2 = server.url("/_matrix/identity/v2");
    let get = Load {
        url: &v2,
        connections: 8,
        seconds: *seconds,
        script: Script::Get,
    };
    let before = server.cpu_time();
    let floor = wrk::run(dir, &format!("{name} GET /v2 c8"), get).await;
    let between = server.cpu_time();
    let lookup = wrk::run(dir, &format!("{name} lookup c8"), lookups(*seconds)).await;
    let after = server.cpu_time();
    let ratio = lookup.rate() / floor.rate();
    let per_request =
        |cpu: Duration, run: &wrk::Summary| cpu.as_secs_f64() * 1e6 / run.requests.max(1) as f64;
    rows.push(Row {
        what: format!(
            "v2 lookup of 100 hashes, 8 connections, vs `GET /v2` in the same run, {n} stored"
        ),
        target: "ratio >= 0.6",
        measured: format!(
            "{ratio:.2} ({:.0}/s vs {:.0}/s; server CPU {:.0} µs vs {:.0} µs a request)",
            lookup.rate(),
            floor.rate(),
            per_request(after - between, &lookup),
            per_request(between - before, &floor),
        ),
        met: ratio >= 0.6,
    });
    rows.push(Row {
        what: format!("v2 lookup, {n} stored, 8 connections"),
        target: "p99 <= 3 ms",
        measured: format!(
            "p99 {} (p50 {}, p90 {}, max {})",
            ms(lookup.p99()),
            ms(lookup.p50()),
            ms(lookup.p90()),
            ms(lookup.max())
        ),
        met: lookup.p99() <= Duration::from_millis(3),
    });
    let (rss, hwm) = server.memory();
    rows.push(Row {
        what: format!("RSS of the server, {n} stored, after the lookup benchmark"),
        target: "<= 250 MiB",
        measured: format!("VmRSS {}, VmHWM (peak) {}", mib(rss), mib(hwm)),
        met: rss <= 250 * 1024,
    });
}

fn load(url: &str, connections: usize, seconds: u32, script: Script) -> Load<'_> {
    Load {
        url,
        connections,
        seconds,
        script,
    }
}

pub(crate) fn start_row(what: String, listening: Duration, ready: &Ready) -> Row {
    Row {
        what,
        target: "<= 1 s, never a wrong answer",
        measured: format!(
            "{:.3} s to the first right answer ({} answered 503 before), {} wrong; listening after {:.3} s",
            ready.right.as_secs_f64(),
            ready.not_yet,
            ready.wrong.len(),
            listening.as_secs_f64()
        ),
        met: ready.right <= Duration::from_secs(1) && ready.wrong.is_empty(),
    }
}

/// Checks that the requestToken run sent exactly one email per new session: every recipient
/// once, and as many emails as answers, plus at most one per connection for the requests still
/// in flight when wrk stopped (wrk does not count those). Returns the emails so far.
async fn one_mail_each(
    smtp: &SmtpServer,
    before: usize,
    run: &Summary,
    connections: usize,
) -> usize {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = smtp.received();
    let recipients: HashSet<&str> = received
        .iter()
        .flat_map(|mail| mail.to.iter().map(String::as_str))
        .collect();
    assert_eq!(recipients.len(), received.len(), "no address emailed twice");
    let new = (received.len() - before) as u64;
    assert!(
        new >= run.requests && new <= run.requests + connections as u64,
        "{} answered requestTokens sent {new} emails",
        run.requests
    );
    received.len()
}

/// `git rev-parse --short HEAD`, and whether the work tree had changes.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match (
        git(&["rev-parse", "--short", "HEAD"]),
        git(&["status", "--porcelain", "--untracked-files=no"]),
    ) {
        (Some(head), Some(changes)) if !changes.is_empty() => {
            format!("{head} plus uncommitted changes in the work tree")
        }
        (Some(head), _) => head,
        (None, _) => "unknown".to_owned(),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
