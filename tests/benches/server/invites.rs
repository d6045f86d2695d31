//! 3PID invites (`invites`): `store-invite` under load (each stores an invite with a fresh
//! ephemeral key and sends its email through SMTP to the loopback server), and the time from a
//! bind of an invited address to the `3pid/onbind` call arriving at the fake homeserver.
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use verity_tests::{TestApp, first_link};

use crate::Store;
use crate::load::drive;
use crate::report::Report;
use crate::sessions::{Peers, app};

/// How much to measure.
pub struct Plan {
    /// store-invite requests per concurrency.
    pub requests: usize,
    pub concurrencies: [usize; 2],
    /// Binds of invited addresses, one after the other.
    pub binds: usize,
}

/// A v1 store-invite (no access token: the same path as v2 after the token check).
async fn store_invite(http: reqwest::Client, url: String, address: String) -> Result<(), String> {
    let response = http
        .post(&url)
        .json(&json!({
            "medium": "email",
            "address": address,
            "room_id": "!room:example.org",
            "sender": "@inviter:example.org",
            "room_name": "Bench room",
            "sender_display_name": "Inviter",
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("store-invite: {}", response.status()));
    }
    let answer: Value = response.json().await.map_err(|e| e.to_string())?;
    answer["token"]
        .as_str()
        .map(|_| ())
        .ok_or_else(|| format!("no token: {answer}"))
}

/// The link of the last email sent to `address`, waiting for it.
async fn link_to(peers: &Peers, address: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = peers.smtp.received().into_iter().rev().find_map(|mail| {
            let text = mail.parse().text?;
            (mail.to.iter().any(|to| to == address) && text.contains("submitToken"))
                .then(|| first_link(&text))
                .flatten()
        });
        if let Some(link) = found {
            return link;
        }
        assert!(
            Instant::now() < deadline,
            "no validation email to {address}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Invites, validates and binds `bound<k>@example.org`; returns the time from sending the bind
/// to the onbind call arriving.
async fn bind_to_onbind(app: &TestApp, peers: &Peers, k: usize) -> Duration {
    let address = format!("bound{k}@example.org");
    let v1 = app.url("/_matrix/identity/api/v1");
    store_invite(
        app.http.clone(),
        format!("{v1}/store-invite"),
        address.clone(),
    )
    .await
    .unwrap();
    let secret = format!("secret{k}");
    let requested: Value = app
        .http
        .post(format!("{v1}/validate/email/requestToken"))
        .json(&json!({"client_secret": secret, "email": address, "send_attempt": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = requested["sid"].as_str().unwrap().to_owned();
    let link = link_to(peers, &address).await;
    let page = app
        .http
        .get(app.url(link.trim_start_matches("http://localhost")))
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success());
    let before = peers.homeserver.onbind_calls().len();
    let sent = Instant::now();
    let bound = app
        .http
        .post(format!("{v1}/3pid/bind"))
        .json(&json!({"sid": sid, "client_secret": secret, "mxid": format!("@b{k}:example.org")}))
        .send()
        .await
        .unwrap();
    assert!(bound.status().is_success());
    // Polled every 0.2 ms rather than through `wait_for_onbind` (20 ms steps), so the figure is
    // the delivery time, not the polling step.
    let deadline = sent + Duration::from_secs(10);
    while peers.homeserver.onbind_calls().len() <= before {
        assert!(Instant::now() < deadline, "no onbind call for bind {k}");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    sent.elapsed()
}

/// Both measurements on `store`.
pub async fn run(report: &mut Report, store: Store, plan: &Plan) -> Vec<Duration> {
    let (app, peers) = app(store).await;
    let url = app.url("/_matrix/identity/api/v1/store-invite");
    for (round, &concurrency) in plan.concurrencies.iter().enumerate() {
        let (http, url) = (app.http.clone(), url.clone());
        let run = drive(plan.requests, concurrency, move |i| {
            store_invite(
                http.clone(),
                url.clone(),
                format!("invitee{round}-{i}@example.org"),
            )
        })
        .await;
        report.load(store.name(), "POST store-invite (v1, email sent)", run);
    }
    let mut latencies = Vec::with_capacity(plan.binds);
    for k in 0..plan.binds {
        latencies.push(bind_to_onbind(&app, &peers, k).await);
    }
    latencies.sort_unstable();
    app.stop().await.expect("the server stops cleanly");
    latencies
}

/// The bind-to-onbind table.
pub fn print_onbind(rows: &[(&'static str, Vec<Duration>)]) {
    println!();
    println!("### Bind to onbind received (sequential binds of invited addresses)");
    println!();
    println!("| Store | Binds | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (store, latencies) in rows {
        let at = |p: f64| {
            let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
            latencies[rank.clamp(1, latencies.len()) - 1]
        };
        println!(
            "| {store} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
            latencies.len(),
            at(50.0).as_secs_f64() * 1e3,
            at(99.0).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
}
