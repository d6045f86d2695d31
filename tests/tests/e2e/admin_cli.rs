//! `verity admin` as an operator runs it: the real binary, on the configuration of a running
//! server's store (SQLite file, PostgreSQL) and key directory. Removing bindings reaches the
//! running server's hashed lookups; a pepper rotation is followed by the running server; invites
//! are listed, expired and retried; a new signing key leaves the old one verifying.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::client::{Client, Error, types};
use verity_tests::{Backend, Peers, TestApp, TestDatabase, stdout_of_success, verity_binary};

use crate::invites::invite_request;
use crate::sessions::{app_with_peers, register_alice};

/// How long a running server may take to follow: a 1 s poll plus a wide margin.
const DEADLINE: Duration = Duration::from_secs(10);
const BIND_API: &str = "server: {internal: {bindApi: true}}\n";

/// A running server, and the configuration file `verity admin` reads (its store and keys).
struct Running {
    app: TestApp,
    peers: Peers,
    alice: Client,
    config: PathBuf,
    _scratch: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

async fn running(postgres: bool) -> Running {
    let scratch = tempfile::tempdir().unwrap();
    let database = if postgres {
        Some(TestDatabase::create().await)
    } else {
        None
    };
    let storage = match &database {
        Some(database) => format!(
            "storage: {{backend: postgresql, provider: {{postgresql: {{database: '{}'}}}}}}\n",
            database.url()
        ),
        None => format!(
            "storage: {{backend: sqlite, provider: {{sqlite: {{database: '{}'}}}}}}\n",
            scratch.path().join("verity.db").display()
        ),
    };
    let (app, peers) = app_with_peers(
        Backend::SqliteAt(scratch.path().join("unused.db")),
        &format!("{BIND_API}{storage}"),
    )
    .await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);
    let config = scratch.path().join("verity.yaml");
    std::fs::write(
        &config,
        format!(
            "matrix: {{domain: example.org}}\nkey: {{path: '{}'}}\n{storage}",
            app.dir.path().join("keys").display()
        ),
    )
    .unwrap();
    Running {
        app,
        peers,
        alice,
        config,
        _scratch: scratch,
        _database: database,
    }
}

fn admin(config: &Path, args: &[&str]) -> Output {
    Command::new(verity_binary())
        .arg("--config")
        .arg(config)
        .arg("admin")
        .args(args)
        .env_remove("RUST_LOG")
        .env("USER", "os-operator")
        .output()
        .expect("verity admin runs")
}

fn admin_ok(config: &Path, args: &[&str]) -> String {
    stdout_of_success(&admin(config, args))
}

async fn internal_bind(app: &TestApp, address: &str, mxid: &str) -> Value {
    let body = json!({"medium": "email", "address": address, "mxid": mxid});
    let response = app
        .http
        .post(app.internal_url("/_matrix/identity/internal/bind"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn pepper(client: &Client) -> String {
    client
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner()
        .lookup_pepper
}

/// What the hashed lookup of `address` answers under `pepper` (`None` while the table builds).
async fn hashed(client: &Client, pepper: &str, address: &str) -> Option<Value> {
    let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} email {pepper}")));
    let asked = types::LookupBody {
        algorithm: "sha256".into(),
        pepper: pepper.into(),
        addresses: vec![hash.clone()],
    };
    match client.lookup_users(&asked).await {
        Ok(answer) => {
            Some(serde_json::to_value(answer.into_inner().mappings).unwrap()[&hash].clone())
        }
        Err(Error::ErrorResponse(e)) if matches!(e.status().as_u16(), 503 | 400) => None,
        Err(other) => panic!("lookup: {other:?}"),
    }
}

/// Waits until the hashed lookup of `address` under the current pepper answers `expected`.
async fn until_hashed(client: &Client, address: &str, expected: &Value) -> Duration {
    let started = Instant::now();
    loop {
        let current = pepper(client).await;
        if hashed(client, &current, address).await.as_ref() == Some(expected) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{address} never answered {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bindings_are_listed_shown_and_removed_as_an_unbind(postgres: bool) {
    let r = running(postgres).await;
    internal_bind(&r.app, "alice@example.org", "@alice:example.org").await;
    internal_bind(&r.app, "alice.work@example.org", "@alice:example.org").await;
    internal_bind(&r.app, "bob@example.org", "@bob:example.org").await;
    until_hashed(&r.alice, "alice@example.org", &json!("@alice:example.org")).await;

    let listed = admin_ok(&r.config, &["bindings", "list", "@alice:example.org"]);
    let lines: Vec<&str> = listed
        .lines()
        .map(|l| l.split("  bound ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "email alice.work@example.org -> @alice:example.org",
            "email alice@example.org -> @alice:example.org"
        ]
    );
    let shown = admin_ok(&r.config, &["bindings", "show", "Alice@Example.org"]);
    assert!(shown.contains("mxid:     @alice:example.org"), "{shown}");
    assert!(shown.contains("origin:   bound here"), "{shown}");

    let output = admin(
        &r.config,
        &[
            "bindings",
            "remove",
            "@alice:example.org",
            "--actor",
            "ops-ticket-42",
        ],
    );
    let removed = stdout_of_success(&output);
    assert_eq!(
        removed,
        "removed: email alice.work@example.org -> @alice:example.org (by ops-ticket-42)\n\
         removed: email alice@example.org -> @alice:example.org (by ops-ticket-42)\n"
    );
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("3PID unbound by the operator") && log.contains("actor=ops-ticket-42"),
        "{log}"
    );

    // The running server's table follows the recorded change, as for any unbind.
    let took = until_hashed(&r.alice, "alice@example.org", &Value::Null).await;
    eprintln!("the removal reached the running server's hashed lookups in {took:?}");
    assert_eq!(
        hashed(&r.alice, &pepper(&r.alice).await, "bob@example.org").await,
        Some(json!("@bob:example.org"))
    );
    assert_eq!(
        admin_ok(&r.config, &["bindings", "list", "@alice:example.org"]),
        ""
    );
    // The OS user is the actor when none is given.
    let again = admin_ok(&r.config, &["bindings", "remove", "bob@example.org"]);
    assert_eq!(
        again,
        "removed: email bob@example.org -> @bob:example.org (by os-operator)\n"
    );
}

#[tokio::test]
async fn bindings_are_listed_shown_and_removed_as_an_unbind_on_sqlite() {
    bindings_are_listed_shown_and_removed_as_an_unbind(false).await;
}

#[tokio::test]
async fn bindings_are_listed_shown_and_removed_as_an_unbind_on_postgresql() {
    bindings_are_listed_shown_and_removed_as_an_unbind(true).await;
}

async fn a_pepper_rotated_by_the_cli_is_followed_by_the_running_server(postgres: bool) {
    let r = running(postgres).await;
    internal_bind(&r.app, "alice@example.org", "@alice:example.org").await;
    until_hashed(&r.alice, "alice@example.org", &json!("@alice:example.org")).await;
    let before = pepper(&r.alice).await;
    assert_eq!(
        admin_ok(&r.config, &["pepper", "show"])
            .split("  ")
            .next()
            .unwrap(),
        format!("pepper {before}")
    );

    let rotated = admin_ok(&r.config, &["pepper", "rotate"]);
    let started = Instant::now();

    let after = rotated
        .split(" -> ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{rotated}"))
        .to_owned();
    assert!(
        rotated.starts_with(&format!("pepper rotated: {before} -> ")),
        "{rotated}"
    );
    while pepper(&r.alice).await != after {
        assert!(
            started.elapsed() < DEADLINE,
            "the server still gives {before}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "the running server followed the rotation in {:?}",
        started.elapsed()
    );
    assert_eq!(
        hashed(&r.alice, &after, "alice@example.org").await,
        Some(json!("@alice:example.org"))
    );
}

#[tokio::test]
async fn a_pepper_rotated_by_the_cli_is_followed_by_the_running_server_on_sqlite() {
    a_pepper_rotated_by_the_cli_is_followed_by_the_running_server(false).await;
}

#[tokio::test]
async fn a_pepper_rotated_by_the_cli_is_followed_by_the_running_server_on_postgresql() {
    a_pepper_rotated_by_the_cli_is_followed_by_the_running_server(true).await;
}

/// The token of the one invite `verity admin invites list` lists for `address`.
fn token_of(config: &Path, address: &str) -> String {
    let listed = admin_ok(config, &["invites", "list"]);
    listed
        .lines()
        .find(|line| line.contains(address))
        .and_then(|line| line.split_whitespace().next())
        .unwrap_or_else(|| panic!("no invite of {address}: {listed}"))
        .to_owned()
}

#[tokio::test]
async fn invites_are_listed_expired_and_their_delivery_retried() {
    let r = running(false).await;
    // Alice (who accepted the terms) invites; a v2 invite's sender is the token's user.
    for address in ["gone@example.org", "ginger@example.org"] {
        let mut request = invite_request(address);
        request.sender = "@alice:example.org".into();
        r.alice
            .store_invite_v2(&request)
            .await
            .expect("store-invite");
    }
    let gone = token_of(&r.config, "gone@example.org");
    let ginger = token_of(&r.config, "ginger@example.org");
    assert!(
        admin_ok(&r.config, &["invites", "list", "--status", "pending"]).ends_with("2 invite(s)\n")
    );

    let expired = admin_ok(&r.config, &["invites", "expire", &gone]);
    assert!(
        expired.starts_with(&format!("expired: {gone}  expired  email gone@example.org")),
        "{expired}"
    );
    let shown = admin_ok(&r.config, &["invites", "show", &gone]);
    assert!(shown.contains("status:     expired"), "{shown}");
    // An expired invite is not signed on bind.
    let association = internal_bind(&r.app, "gone@example.org", "@gone:example.org").await;
    assert_eq!(association.get("invites"), None, "{association}");

    // Nothing to retry before the address is bound.
    let refused = admin(&r.config, &["invites", "retry", &ginger]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not bound yet"));

    // The homeserver refuses the delivery: it stays due, with a failed attempt.
    r.peers.homeserver.fail_onbind(usize::MAX, 500);
    internal_bind(&r.app, "ginger@example.org", "@ginger:example.org").await;
    r.peers.homeserver.wait_for_onbind(1, DEADLINE).await;
    let started = Instant::now();
    let shown = loop {
        let shown = admin_ok(&r.config, &["invites", "show", &ginger]);
        if shown.contains("status:     due (1 failed") {
            break shown;
        }
        assert!(started.elapsed() < DEADLINE, "{shown}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(shown.contains("bound to:   @ginger:example.org"), "{shown}");

    r.peers.homeserver.fail_onbind(0, 500);
    let retried = admin_ok(&r.config, &["invites", "retry", &ginger, "--actor", "ops"]);
    assert!(retried.starts_with("delivery due now: "), "{retried}");
    assert!(retried.ends_with("(by ops)\n"), "{retried}");
    let started = Instant::now();
    while !admin_ok(&r.config, &["invites", "show", &ginger]).contains("status:     delivered") {
        assert!(
            started.elapsed() < DEADLINE,
            "the retried invite was never delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_new_signing_key_becomes_current_and_the_old_one_keeps_verifying() {
    let r = running(false).await;
    let before = admin_ok(&r.config, &["keys", "list"]);
    let old_id = before.split_whitespace().next().unwrap().to_owned();
    assert!(before.trim_end().ends_with("valid  signing"), "{before}");

    let made = admin_ok(&r.config, &["keys", "new"]);
    assert!(made.contains("restart every running server"), "{made}");

    let after = admin_ok(&r.config, &["keys", "list"]);
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines.len(), 2, "{after}");
    let old = lines.iter().find(|l| l.starts_with(&old_id)).unwrap();
    assert!(
        old.ends_with("  valid"),
        "the old key is kept valid, no longer signing: {after}"
    );
    let new = lines.iter().find(|l| !l.starts_with(&old_id)).unwrap();
    assert!(new.ends_with("valid  signing"), "{after}");
    // The running server still answers for the old key (and signs with it until restarted).
    let old_public = old.split_whitespace().nth(1).unwrap();
    let valid = r
        .app
        .client
        .pub_key_is_valid_v2(old_public)
        .await
        .unwrap()
        .into_inner();
    assert!(valid.valid);
}
