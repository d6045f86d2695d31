//! Recursive lookups (`recursive`): two servers in this process, "central" knowing N 3PIDs (the
//! `memory` backend) and the local one forwarding to it (`forward.servers`, the loopback
//! allowed). The same v1 requests are timed when the local server knows the 3PIDs itself, when it
//! forwards them to central, and against central directly, so the table shows what a forward
//! costs: one more HTTP round trip to a server chosen (and probed) once.
use std::fmt::Write as _;

use serde_json::{Value, json};
use verity_tests::{Backend, TestApp, spawn_app_with};

use crate::load::drive;
use crate::report::Report;

/// 3PIDs per bulk lookup.
const BULK: usize = 10;

/// How much to measure.
pub struct Plan {
    /// 3PIDs central knows (and the local "known here" server too).
    pub identities: usize,
    /// Requests per scenario and concurrency.
    pub requests: usize,
    pub concurrencies: [usize; 2],
}

/// A `memory` backend with `u<i>@example.org` -> `@u<i>:example.org`, for `i < n`.
fn memory(n: usize) -> String {
    let mut yaml = String::from("memory:\n  enabled: true\n  identities:\n");
    for i in 0..n {
        let _ = write!(
            yaml,
            "    - username: u{i}\n      threepids:\n        - {{medium: email, address: u{i}@example.org}}\n"
        );
    }
    yaml
}

/// The local server forwarding to `central` (knowing the 3PIDs itself when `known`).
async fn local(central: &TestApp, known: Option<usize>) -> TestApp {
    let yaml = format!(
        "matrix:\n  identity:\n    servers:\n      central: ['{}']\n\
         forward:\n  servers: [central]\n{}",
        central.base_url,
        known.map(memory).unwrap_or_default()
    );
    spawn_app_with(
        Backend::Sqlite,
        &format!("{yaml}{}", crate::limits::yaml(&crate::limits::unrefused())),
    )
    .await
}

/// `POST bulk_lookup` of [`BULK`] known 3PIDs starting at `i`, checking all are found.
async fn bulk(http: reqwest::Client, url: String, i: usize, n: usize) -> Result<(), String> {
    let pairs: Vec<Value> = (0..BULK)
        .map(|k| json!(["email", format!("u{}@example.org", (i * BULK + k) % n)]))
        .collect();
    let response = http
        .post(&url)
        .json(&json!({ "threepids": pairs }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let answer: Value = response.json().await.map_err(|e| e.to_string())?;
    match answer["threepids"].as_array() {
        Some(rows) if rows.len() == BULK => Ok(()),
        _ => Err(format!("not every 3PID was found: {answer}")),
    }
}

/// `GET lookup` of one known 3PID, checking it is found (and signed).
async fn single(http: reqwest::Client, url: String, i: usize, n: usize) -> Result<(), String> {
    let answer: Value = http
        .get(&url)
        .query(&[
            ("medium", "email".to_owned()),
            ("address", format!("u{}@example.org", i % n)),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    if answer["signatures"].is_object() {
        Ok(())
    } else {
        Err(format!("not found: {answer}"))
    }
}

/// Every scenario at every concurrency, into `report`.
pub async fn run(report: &mut Report, plan: &Plan) {
    let n = plan.identities;
    eprintln!("recursive: central with {n} 3PIDs");
    let central = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}{}",
            memory(n),
            crate::limits::yaml(&crate::limits::unrefused())
        ),
    )
    .await;
    let forwarding = local(&central, None).await;
    let knowing = local(&central, Some(n)).await;
    for (name, app) in [
        ("known here", &knowing),
        ("forwarded", &forwarding),
        ("central itself", &central),
    ] {
        for &concurrency in &plan.concurrencies {
            let (http, url) = (
                app.http.clone(),
                app.url("/_matrix/identity/api/v1/bulk_lookup"),
            );
            let run = drive(plan.requests, concurrency, move |i| {
                bulk(http.clone(), url.clone(), i, n)
            })
            .await;
            report.load("SQLite", &format!("v1 bulk_lookup ×{BULK}, {name}"), run);
        }
        for &concurrency in &plan.concurrencies {
            let (http, url) = (app.http.clone(), app.url("/_matrix/identity/api/v1/lookup"));
            let run = drive(plan.requests, concurrency, move |i| {
                single(http.clone(), url.clone(), i, n)
            })
            .await;
            report.load("SQLite", &format!("v1 lookup, {name}"), run);
        }
    }
    for app in [knowing, forwarding, central] {
        app.stop().await.expect("the server stops cleanly");
    }
}
