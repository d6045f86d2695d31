//! The abuse limits' cost (`limits`): the same requests against a server with every limit on and
//! one with `ratelimit.enabled: false`, in alternating rounds on fresh servers so that drift of
//! the machine falls on both alike.
//!
//! Every other section runs with the limits on too ([`unrefused`]): allowances so large that no
//! bench run reaches them, so each request pays the whole check (its keys hashed, each kind's
//! GCRA cell updated) and is never refused.
use std::sync::Arc;

use serde_json::{Value, json};
use verity_tests::TestApp;

use crate::Store;
use crate::load::{Run, drive};
use crate::lookups::{ADDRESSES, hash, pepper};
use crate::sessions::{self, Peers};

/// How much to measure.
pub struct Plan {
    /// Alternating rounds (each: limits on, then off).
    pub rounds: usize,
    /// `requestToken` requests per run.
    pub sessions: usize,
    /// Lookups and GETs per run.
    pub requests: usize,
    pub concurrencies: [usize; 2],
}

/// Every limit on, with allowances (a billion at once, then one a microsecond) that no bench run
/// reaches: the full cost of checking, never a refusal.
pub fn unrefused() -> Value {
    let wide = json!({"burst": 1_000_000_000, "perSeconds": 0.000_001});
    json!({
        "email": {"requester": wide, "destination": wide},
        "msisdn": {"requester": wide, "destination": wide, "country": wide,
                   "hourlyBudget": 1_000_000_000},
        "invite": wide,
        "register": wide,
        "submitToken": wide,
        "bind": wide,
        "lookup": wide,
    })
}

/// `section` as a top-level `ratelimit:` YAML block, to append to a test configuration.
pub fn yaml(section: &Value) -> String {
    format!(
        "\n{}",
        serde_norway::to_string(&json!({ "ratelimit": section })).expect("limits to YAML")
    )
}

/// The figures of every round, by label.
#[derive(Default)]
struct Rounds {
    runs: Vec<(&'static str, &'static str, usize, Run)>,
}

/// The section: alternating rounds on SQLite, then the medians as a table.
pub async fn run(plan: &Plan) {
    let modes = [
        ("on", yaml(&unrefused())),
        ("off", yaml(&json!({"enabled": false}))),
    ];
    compare(plan, "limits", "The limits' cost", modes).await;
}

/// The same requests against servers in two modes (`on` and `off`, each with its extra YAML),
/// in alternating rounds on fresh SQLite servers; the medians as a table titled `title`.
pub async fn compare(plan: &Plan, section: &str, title: &str, modes: [(&'static str, String); 2]) {
    let mut rounds = Rounds::default();
    for round in 0..plan.rounds {
        for (mode, extra) in &modes {
            eprintln!(
                "{section}: round {} of {}, {section} {mode}",
                round + 1,
                plan.rounds
            );
            let (app, peers) = sessions::app_with(Store::Sqlite, extra).await;
            measure(&mut rounds, mode, &app, &peers, plan).await;
            app.stop().await.expect("the server stops cleanly");
        }
    }
    rounds.print(title);
}

/// One round on one server: the control (`GET /v2`, which no limit counts), v2 lookups of
/// [`ADDRESSES`] hashes and new email sessions.
async fn measure(
    rounds: &mut Rounds,
    mode: &'static str,
    app: &TestApp,
    peers: &Peers,
    plan: &Plan,
) {
    let token = sessions::register_token(app, peers).await;
    let http = verity_tests::bearer_http(&token);
    let v2 = app.url("/_matrix/identity/v2");
    let pepper = pepper(&http, &app.base_url).await;
    let bodies: Arc<Vec<String>> = Arc::new((0..64).map(|i| body(&pepper, i)).collect());
    let client = Arc::new(app.client_as(&token));
    for &c in &plan.concurrencies {
        let get = {
            let (http, url) = (http.clone(), v2.clone());
            move |_| ok(http.clone().get(url.clone()))
        };
        drive(plan.requests.min(500), c, get.clone()).await;
        rounds.push(
            mode,
            "GET /_matrix/identity/v2 (no limit: the control)",
            c,
            drive(plan.requests, c, get).await,
        );

        let lookup = {
            let (http, url, bodies) = (http.clone(), format!("{v2}/lookup"), bodies.clone());
            move |i: usize| {
                ok(http
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bodies[i % bodies.len()].clone()))
            }
        };
        drive(plan.requests.min(200), c, lookup.clone()).await;
        let label = "POST /v2/lookup, 100 hashes (counts 100)";
        rounds.push(mode, label, c, drive(plan.requests, c, lookup).await);

        let set: Arc<str> = format!("{mode}{c}").into();
        let request = {
            let client = client.clone();
            move |i| sessions::request_token(client.clone(), set.clone(), i)
        };
        let label = "POST email/requestToken, new (email sent)";
        rounds.push(mode, label, c, drive(plan.sessions, c, request).await);
    }
}

/// A lookup body of [`ADDRESSES`] hashes of addresses nobody bound (the store is empty: the
/// cheapest lookup, where the limiter's share is largest).
fn body(pepper: &str, i: usize) -> String {
    let addresses: Vec<String> = (0..ADDRESSES)
        .map(|k| hash(&format!("nobody{i}.{k}@example.net"), pepper))
        .collect();
    json!({"algorithm": "sha256", "pepper": pepper, "addresses": addresses}).to_string()
}

/// Sends `request`, which must answer 200; the body is read so the connection is reused.
async fn ok(request: reqwest::RequestBuilder) -> Result<(), String> {
    let answer = request.send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    let body = answer.bytes().await.map_err(|e| e.to_string())?;
    if status.as_u16() == 200 {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

impl Rounds {
    fn push(&mut self, mode: &'static str, label: &'static str, c: usize, run: Run) {
        self.runs.push((mode, label, c, run));
    }

    /// The median of the rounds' throughput and p50 per scenario and mode, and the difference.
    fn print(&self, title: &str) {
        println!("\n## {title} (SQLite; median of the rounds)\n");
        println!(
            "| scenario | conc. | on: req/s | off: req/s | on vs off | on: p50 ms | off: p50 ms |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (_, label, c, _) in &self.runs {
            if seen.contains(&(label, *c)) {
                continue;
            }
            seen.push((label, *c));
            let median = |mode: &str, f: &dyn Fn(&Run) -> f64| {
                let mut values: Vec<f64> = self
                    .runs
                    .iter()
                    .filter(|(m, l, k, _)| *m == mode && l == label && k == c)
                    .map(|(_, _, _, run)| f(run))
                    .collect();
                values.sort_by(f64::total_cmp);
                values[values.len() / 2]
            };
            let rate = |run: &Run| run.throughput();
            let p50 = |run: &Run| run.percentile(50.0).as_secs_f64() * 1000.0;
            let (on, off) = (median("on", &rate), median("off", &rate));
            println!(
                "| {label} | {c} | {on:.0} | {off:.0} | {:+.1} % | {:.2} | {:.2} |",
                (on / off - 1.0) * 100.0,
                median("on", &p50),
                median("off", &p50),
            );
        }
    }
}
