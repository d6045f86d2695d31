//! The `exec` identity backend over small `sh` programs written to a temporary directory: v1
//! single and bulk lookups and v2 hashed lookups answered from them and from Verity's own
//! bindings together, hostile 3PIDs reaching a program as data and finding nobody, and a server
//! that starts and answers from its other backends while the command is missing or hangs, with
//! `/status` naming the store.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_tests::client::types;
use verity_tests::{Backend, Peers, spawn_app_with};

use crate::sessions::{app_with_peers, register_alice};
use crate::store_lookups::{bind_alice, bulk_sorted, hashed_eventually, status, v1_lookup};

#[path = "exec_store_programs.rs"]
mod programs;
use programs::Programs;

#[tokio::test]
async fn lookups_are_answered_from_the_exec_store_together_with_verity_s_own_bindings() {
    let programs = Programs::new(&[
        ("email", "bob@example.org", "@bob:example.org"),
        ("msisdn", "12025550143", "@carol:example.org"),
    ]);
    let single = programs.path("single");
    let (app, peers) = app_with_peers(Backend::Sqlite, &programs.yaml(&single, true, "5s")).await;
    let token = register_alice(&app, &peers).await;
    bind_alice(&app, &peers, &token, "alice@example.org").await;

    // v1 single: the program (an email asked in capitals is asked in canonical form) and a binding.
    for (medium, address, user) in [
        ("email", "bob@example.org", "@bob:example.org"),
        ("email", "BOB@example.org", "@bob:example.org"),
        ("msisdn", "12025550143", "@carol:example.org"),
        ("email", "alice@example.org", "@alice:example.org"),
    ] {
        let found = v1_lookup(&app.client, medium, address).await;
        assert_eq!(found["mxid"], user, "{medium} {address}: {found}");
    }
    assert_eq!(
        v1_lookup(&app.client, "email", "nobody@example.org").await,
        json!({})
    );

    // Bulk: the bulk program for what the bindings did not answer.
    let bulk = bulk_sorted(
        &app.client,
        &[
            ("email", "bob@example.org"),
            ("msisdn", "12025550143"),
            ("email", "alice@example.org"),
            ("email", "nobody@example.org"),
        ],
    )
    .await;
    assert_eq!(
        bulk,
        [
            ["email", "alice@example.org", "@alice:example.org"],
            ["email", "bob@example.org", "@bob:example.org"],
            ["msisdn", "12025550143", "@carol:example.org"],
        ]
        .map(|row| row.map(str::to_owned).to_vec())
    );

    // v2: the hash table fed by the bulk program (`hashLookup`) and the bindings.
    let alice = app.client_as(&token);
    hashed_eventually(
        &alice,
        &[
            ("bob@example.org", "email"),
            ("12025550143", "msisdn"),
            ("alice@example.org", "email"),
            ("nobody@example.org", "email"),
        ],
        json!([
            "@alice:example.org",
            "@bob:example.org",
            "@carol:example.org"
        ]),
    )
    .await;
    // A 3PID the programs start to know is hashed within `exec.identity.refresh` (1 s).
    programs.set(&[
        ("email", "bob@example.org", "@bob:example.org"),
        ("email", "dave@example.org", "@dave:example.org"),
    ]);
    hashed_eventually(
        &alice,
        &[("dave@example.org", "email"), ("12025550143", "msisdn")],
        json!(["@dave:example.org"]),
    )
    .await;

    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["exec"]),
        (200, &json!("OK")),
        "{body}"
    );
}

#[tokio::test]
async fn hostile_3pids_reach_the_program_as_one_argument_find_nobody_and_run_nothing() {
    let programs = Programs::new(&[("email", "bob@example.org", "@bob:example.org")]);
    let single = programs.path("single");
    let peers = Peers::start().await;
    let yaml = format!("{}{}", peers.yaml(), programs.yaml(&single, false, "5s"));
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let pwned = programs.path("pwned");
    let pwned = pwned.display();
    let hostile = [
        format!("$(touch {pwned})"),
        format!("`touch {pwned}`"),
        format!("bob@example.org; touch {pwned}"),
        format!("' ; touch '{pwned}"),
        format!("\" && touch \"{pwned}"),
        format!("bob@example.org | touch {pwned}"),
        "bob@example.org' || '1'='1".to_owned(),
        "*".to_owned(),
    ];
    let mut reached = Vec::new();
    for address in &hostile {
        for medium in ["m.handle", "email"] {
            let found = app.client.lookup_v1(address, medium).await;
            let found = found.map(|a| serde_json::to_value(a.into_inner()).expect("JSON"));
            assert!(
                matches!(&found, Ok(value) if *value == json!({})) || found.is_err(),
                "{medium} {address}: {found:?}"
            );
            if medium == "m.handle" && found.is_ok() {
                reached.push(address.clone());
            }
        }
    }
    assert!(
        !programs.path("pwned").exists(),
        "a 3PID was run by a shell"
    );
    // Each address the program was given arrived whole, as written.
    assert!(
        !reached.is_empty(),
        "no custom-medium lookup reached the program"
    );
    let asked = programs.asked();
    let asked: Vec<&str> = asked.lines().collect();
    for address in &reached {
        assert!(
            asked.contains(&address.as_str()),
            "{address:?} not in {asked:?}"
        );
    }
    // Bulk: the same through the bulk path (the single program for each 3PID, no bulk command).
    let bulk = app
        .client
        .bulk_lookup_v1(&types::BulkLookupRequest {
            threepids: hostile
                .iter()
                .map(|address| vec!["m.handle".into(), address.clone()])
                .collect(),
        })
        .await
        .map(|answer| answer.into_inner().threepids);
    assert!(
        matches!(&bulk, Ok(rows) if rows.is_empty()) || bulk.is_err(),
        "{bulk:?}"
    );
    assert!(
        !programs.path("pwned").exists(),
        "a 3PID was run by a shell"
    );
    let (_, body) = status(&app).await;
    assert_eq!(body["checks"]["exec"], "OK", "{body}");
}

#[tokio::test]
async fn with_the_command_missing_or_hanging_verity_starts_and_answers_from_its_other_backends() {
    let memory = "
memory:
  enabled: true
  identities:
    - username: memo
      threepids:
        - {medium: email, address: memo@example.org}
";
    let programs = Programs::new(&[("email", "bob@example.org", "@bob:example.org")]);
    let missing = programs.path("not-installed");
    let peers = Peers::start().await;
    let yaml = format!(
        "{}{}{memory}",
        peers.yaml(),
        programs.yaml(&missing, false, "5s")
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    assert_eq!(
        v1_lookup(&app.client, "email", "bob@example.org").await,
        json!({})
    );
    let eve = peers.register(&app, "eve").await;
    hashed_eventually(
        &eve,
        &[("memo@example.org", "email")],
        json!(["@memo:example.org"]),
    )
    .await;
    let (code, body) = status(&app).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["health"], "OK", "{body}");
    assert_eq!(body["checks"]["exec"], "UNHEALTHY", "{body}");

    // A program that hangs is killed after its `timeout` (1 s); the others answer meanwhile.
    let hangs = programs.script("hangs", "sleep 30");
    let peers = Peers::start().await;
    let yaml = format!(
        "{}{}{memory}",
        peers.yaml(),
        programs.yaml(&hangs, false, "1s")
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let asked = Instant::now();
    assert_eq!(
        v1_lookup(&app.client, "email", "bob@example.org").await,
        json!({})
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["exec"]),
        (200, &json!("UNHEALTHY")),
        "{body}"
    );
}
