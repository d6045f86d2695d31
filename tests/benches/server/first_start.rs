//! A start on a store of bound 3PIDs, until every lookup answers right: polled from the moment
//! the process is spawned, `GET /status` until its first 200 (listening), then a hashed lookup of
//! a fixed set of bound and unbound addresses every 5 ms. A 503 `M_UNKNOWN` with `retry_after_ms`
//! is "not ready yet"; a 200 must be exactly right (every bound hash mapped to its Matrix ID,
//! no unbound one answered). Anything else is a wrong answer, counted and shown.
//!
//! The lookup bodies of the load rows are checked here too, each once, before the load.
use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::child::Server;
use crate::lookups::hash;

/// Hashes per lookup, and how many of a load body's are bound (as the `lookups` section).
const ADDRESSES: usize = 100;
const KNOWN: usize = 10;
const POLL: Duration = Duration::from_millis(5);
/// Give up after this long (a start that never completes).
const PATIENCE: Duration = Duration::from_secs(120);

/// A lookup body and its right answer.
pub struct Lookup {
    pub body: String,
    /// hash → Matrix ID of every bound address in the body.
    expected: HashMap<String, String>,
}

fn lookup(pepper: &str, bound: &[usize], unbound: &[String]) -> Lookup {
    let expected: HashMap<String, String> = bound
        .iter()
        .map(|&i| {
            let address = format!("user{i}@example.org");
            (hash(&address, pepper), format!("@user{i}:example.org"))
        })
        .collect();
    let mut addresses: Vec<String> = expected.keys().cloned().collect();
    addresses.extend(unbound.iter().map(|address| hash(address, pepper)));
    let body = json!({"algorithm": "sha256", "pepper": pepper, "addresses": addresses});
    Lookup {
        body: body.to_string(),
        expected,
    }
}

/// The start check: 50 bound addresses spread over `bindings` (the first and the last among
/// them) and 50 that nobody bound.
pub fn check(pepper: &str, bindings: usize) -> Lookup {
    let bound: Vec<usize> = (0..50).map(|k| k * (bindings - 1) / 49).collect();
    let unbound: Vec<String> = (0..50).map(|k| format!("unbound{k}@example.net")).collect();
    lookup(pepper, &bound, &unbound)
}

/// `count` load bodies of [`ADDRESSES`] hashes: [`KNOWN`] distinct bound addresses drawn at
/// random among `bindings`, the rest nobody's.
pub fn pool(pepper: &str, bindings: usize, count: usize) -> Vec<Lookup> {
    let mut random = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64: reproducible, no dependency.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    (0..count)
        .map(|_| {
            let mut bound: Vec<usize> = Vec::with_capacity(KNOWN);
            while bound.len() < KNOWN.min(bindings) {
                let i = (next() % bindings as u64) as usize;
                if !bound.contains(&i) {
                    bound.push(i);
                }
            }
            let unbound: Vec<String> = (bound.len()..ADDRESSES)
                .map(|_| format!("nobody{}@example.net", next()))
                .collect();
            lookup(pepper, &bound, &unbound)
        })
        .collect()
}

/// What one lookup answered.
enum Answer {
    NotYet,
    Right,
    Wrong(String),
}

async fn ask(http: &reqwest::Client, server: &Server, lookup: &Lookup) -> Answer {
    let sent = http
        .post(server.url("/_matrix/identity/v2/lookup"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(lookup.body.clone())
        .send()
        .await;
    let Ok(answer) = sent else {
        return Answer::NotYet; // not listening yet
    };
    let status = answer.status().as_u16();
    let body: Value = match answer.json().await {
        Ok(body) => body,
        Err(error) => return Answer::Wrong(format!("{status}, not JSON: {error}")),
    };
    match status {
        503 if body["errcode"] == "M_UNKNOWN" && body["retry_after_ms"].is_u64() => Answer::NotYet,
        200 => match verdict(&body, &lookup.expected) {
            Ok(()) => Answer::Right,
            Err(wrong) => Answer::Wrong(format!("200: {wrong}")),
        },
        _ => Answer::Wrong(format!("{status}: {body}")),
    }
}

/// Whether `body` maps exactly the expected hashes, each to its Matrix ID.
fn verdict(body: &Value, expected: &HashMap<String, String>) -> Result<(), String> {
    let Some(mappings) = body["mappings"].as_object() else {
        return Err(format!("no mappings: {body}"));
    };
    let missing = expected
        .iter()
        .filter(|(hash, mxid)| mappings.get(*hash).and_then(Value::as_str) != Some(mxid))
        .count();
    let extra = mappings
        .keys()
        .filter(|hash| !expected.contains_key(*hash))
        .count();
    if missing + extra == 0 {
        Ok(())
    } else {
        Err(format!(
            "{missing} of {} bound hashes missing or mapped wrongly, {extra} unbound ones answered",
            expected.len()
        ))
    }
}

/// Checks each body once: every one must be answered right (the table is complete).
pub async fn verify(http: &reqwest::Client, server: &Server, lookups: &[Lookup]) {
    for lookup in lookups {
        match ask(http, server, lookup).await {
            Answer::Right => {}
            Answer::NotYet => panic!("a lookup body was answered 503 once the table was built"),
            Answer::Wrong(wrong) => panic!("a lookup body was answered wrongly: {wrong}"),
        }
    }
}

/// From the spawn of `server` until its first 200 on `GET /status`.
pub async fn until_listening(server: &Server) -> Duration {
    let http = reqwest::Client::new();
    loop {
        if let Ok(answer) = http.get(server.url("/status")).send().await
            && answer.status().as_u16() == 200
        {
            return server.since_spawn();
        }
        assert!(
            server.since_spawn() < PATIENCE,
            "no 200 on GET /status {PATIENCE:?} after the spawn:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// How the lookups went after a start.
pub struct Ready {
    /// From the spawn to the first right answer.
    pub right: Duration,
    /// Lookups answered "not ready yet" (503) before it.
    pub not_yet: usize,
    /// Every wrong answer, until 100 ms after the first right one.
    pub wrong: Vec<String>,
}

/// Polls `check` every 5 ms until its first right answer, and for 100 ms more (a right answer
/// must stay right).
pub async fn until_right(http: &reqwest::Client, server: &Server, check: &Lookup) -> Ready {
    let (mut right, mut not_yet, mut wrong) = (None, 0, Vec::new());
    loop {
        match ask(http, server, check).await {
            Answer::NotYet if right.is_none() => not_yet += 1,
            Answer::NotYet => wrong.push("503 after a right answer".to_owned()),
            Answer::Right => {
                right.get_or_insert(server.since_spawn());
            }
            Answer::Wrong(answer) => {
                eprintln!(
                    "  WRONG ANSWER at {:.3} s: {answer}",
                    server.since_spawn().as_secs_f64()
                );
                wrong.push(answer);
            }
        }
        match right {
            Some(at) if server.since_spawn() > at + Duration::from_millis(100) => {
                return Ready {
                    right: at,
                    not_yet,
                    wrong,
                };
            }
            _ => {}
        }
        assert!(
            server.since_spawn() < PATIENCE,
            "no right lookup answer {PATIENCE:?} after the spawn:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(POLL).await;
    }
}
