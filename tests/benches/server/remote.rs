//! Remote sessions (`remote`): two servers in this process, "central" (validates everything
//! itself) and the local one with the default policy, its `root` label pointed at central. Timed:
//! the remote session start (`POST` of the explanation page's button: the local server asks
//! central's `requestToken`, which emails the user through SMTP), and the homeserver's bind of a
//! remotely validated session (forwarded to central's `3pid/bind`), next to a plain local bind.
//! Set-up (the local validations, following central's emails, the checks) is not timed.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::load::{Run, drive};

const WAIT: Duration = Duration::from_secs(30);
const SECRET: &str = "benchSecret";

/// Central validates every 3PID itself.
const CENTRAL: &str = "
session:
  policy:
    validation:
      forLocal: {toLocal: true, toRemote: {enabled: false}}
      forRemote: {toLocal: true, toRemote: {enabled: false}}
";

/// How much to measure.
pub struct Plan {
    /// Sessions per concurrency.
    pub sessions: usize,
    pub concurrencies: [usize; 2],
}

struct World {
    central: TestApp,
    central_peers: Peers,
    local: TestApp,
    peers: Peers,
}

/// Requests a token for each address at the local server and follows each emailed link (the
/// local validation); returns the sids in the order of `addresses`.
async fn validated_here(w: &World, addresses: &[String]) -> Vec<String> {
    let mut sids = Vec::with_capacity(addresses.len());
    for address in addresses {
        let answer: serde_json::Value = w
            .local
            .http
            .post(
                w.local
                    .url("/_matrix/identity/api/v1/validate/email/requestToken"),
            )
            .json(&json!({"client_secret": SECRET, "email": address, "send_attempt": 1}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        sids.push(answer["sid"].as_str().expect("a sid").to_owned());
        let mail = w.peers.smtp.wait_for_mail(WAIT).await.expect("the email");
        let link = verity_tests::first_link(&mail.parse().text.unwrap_or_default()).unwrap();
        let page = w
            .local
            .http
            .get(w.local.url(link.trim_start_matches("http://localhost")))
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success(), "the link validates");
    }
    sids
}

/// Follows central's email to each address and checks at the local server (not timed).
async fn validated_remotely(w: &World, sids: &[String]) {
    let mut links = HashMap::new();
    for _ in sids {
        let mail = w
            .central_peers
            .smtp
            .wait_for_mail(WAIT)
            .await
            .expect("central's email");
        let link = verity_tests::first_link(&mail.parse().text.unwrap_or_default()).unwrap();
        links.insert(mail.to[0].clone(), link);
    }
    for link in links.values() {
        let page = w
            .central
            .http
            .get(w.central.url(link.trim_start_matches("http://localhost")))
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success());
    }
    for sid in sids {
        let page = w
            .local
            .http
            .get(w.local.url(&format!(
                "/_matrix/identity/remote/api/v1/validate/check?sid={sid}&client_secret={SECRET}"
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("confirmed your"), "{page}");
    }
}

/// `op` for each sid of `sids`, `concurrency` at a time.
async fn each<F, Fut>(sids: &[String], concurrency: usize, op: F) -> Run
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let sids = Arc::new(sids.to_vec());
    drive(sids.len(), concurrency, move |i| op(sids[i].clone())).await
}

async fn start(http: reqwest::Client, base: String, sid: String) -> Result<(), String> {
    let url = format!(
        "{base}/_matrix/identity/remote/api/v1/validate/requestToken?sid={sid}&client_secret={SECRET}"
    );
    let response = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let page = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() && page.contains("Check your inbox") {
        Ok(())
    } else {
        Err(format!("start: {status} {page}"))
    }
}

async fn bind(
    http: reqwest::Client,
    base: String,
    sid: String,
    user: String,
) -> Result<(), String> {
    let response = http
        .post(format!("{base}/_matrix/identity/api/v1/3pid/bind"))
        .json(&json!({"sid": sid, "client_secret": SECRET, "mxid": user}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if status.is_success() && body["signatures"].is_object() {
        Ok(())
    } else {
        Err(format!("bind: {status} {body}"))
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// The limits on, never reached (both servers see every request come from loopback).
fn limits() -> String {
    crate::limits::yaml(&crate::limits::unrefused())
}

/// Every measurement, as a Markdown table.
pub async fn run(plan: &Plan) {
    let n = plan.sessions;
    eprintln!("remote: {n} sessions per concurrency");
    let central_peers = Peers::start().await;
    let central = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{CENTRAL}{}", central_peers.yaml(), limits()),
    )
    .await;
    let peers = Peers::start().await;
    let local = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}\nmatrix:\n  identity:\n    servers:\n      root: ['{}']\n{}",
            peers.yaml(),
            central.base_url,
            limits()
        ),
    )
    .await;
    let w = World {
        central,
        central_peers,
        local,
        peers,
    };
    let mut rows: Vec<(String, Run)> = Vec::new();
    for &concurrency in &plan.concurrencies {
        let remote: Vec<String> = (0..n)
            .map(|i| format!("r{concurrency}x{i}@gmail.com"))
            .collect();
        let sids = validated_here(&w, &remote).await;
        let (http, base) = (w.local.http.clone(), w.local.base_url.clone());
        let run = each(&sids, concurrency, move |sid| {
            start(http.clone(), base.clone(), sid)
        })
        .await;
        rows.push(("remote session start (POST requestToken page)".into(), run));
        validated_remotely(&w, &sids).await;
        let (http, base) = (w.local.http.clone(), w.local.base_url.clone());
        let run = each(&sids, concurrency, move |sid| {
            bind(http.clone(), base.clone(), sid, "@u:example.org".into())
        })
        .await;
        rows.push(("bind forwarded to the remote server".into(), run));

        let here: Vec<String> = (0..n)
            .map(|i| format!("l{concurrency}x{i}@example.org"))
            .collect();
        let sids = validated_here(&w, &here).await;
        let (http, base) = (w.local.http.clone(), w.local.base_url.clone());
        let run = each(&sids, concurrency, move |sid| {
            bind(http.clone(), base.clone(), sid, "@u:example.org".into())
        })
        .await;
        rows.push(("bind here (for comparison)".into(), run));
    }
    println!("\n### Remote sessions (SQLite, both servers in this process, closed loop)\n");
    println!("| Operation | conc. | n | req/s | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    for (name, run) in &rows {
        println!(
            "| {name} | {} | {} | {:.0} | {} | {} | {} |",
            run.concurrency,
            run.n,
            run.throughput(),
            ms(run.percentile(50.0)),
            ms(run.percentile(99.0)),
            ms(run.max())
        );
    }
    for app in [w.local, w.central] {
        app.stop().await.expect("the server stops cleanly");
    }
}
