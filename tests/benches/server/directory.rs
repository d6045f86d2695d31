//! Issue 16's figures (`directory`): hashed lookups served from a table fed by a directory,
//! against one fed by as many of Verity's own bindings, with the same binary and the same rows.
//! A real slapd (the testkit's, seeded with `slapadd`) holds `entries` people, `uid=user<i>` with
//! `mail: user<i>@example.org`; the `ldap` backend maps them to `@user<i>:example.org`, the
//! Matrix IDs the seeded bindings have, so both tables answer the same lookups.
//!
//! Per feed, on SQLite: the start until every lookup answers right (for the directory: the whole
//! directory read with paged searches, normalised and hashed), then `GET /v2` and the 100-hash
//! lookup at 8 connections in the same run, and the server's memory (the rows of `targets`).
use std::time::Instant;

use serde_json::json;
use verity_testkit::homeserver::FakeHomeserver;
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, PEOPLE, Slapd};
use verity_testkit::smtp::SmtpServer;

use crate::Store;
use crate::child::{self, Deployment, HOMESERVER};
use crate::first_start;
use crate::targets::{Context, Row, lookup_rows, print_rows, start_row};
use crate::wrk;

/// How much to measure.
pub struct Plan {
    /// People in the directory, and bindings in the store.
    pub entries: usize,
    /// Seconds of each wrk row.
    pub seconds: u32,
}

/// The seed: `entries` people under `ou=people`.
fn people(entries: usize) -> String {
    let mut ldif = String::with_capacity(entries * 160);
    for i in 0..entries {
        ldif.push_str(&format!(
            "dn: uid=user{i},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: user{i}\ncn: user{i}\n\
             sn: user{i}\nmail: user{i}@example.org\n\n"
        ));
    }
    ldif
}

/// The `ldap` section: OpenLDAP's `uid`, the table fed from the directory at start-up (and
/// again after an hour, past the measurement).
fn ldap_section(port: u16) -> serde_json::Value {
    json!({
        "enabled": true,
        "connection": {
            "host": "127.0.0.1", "port": port, "bindDn": ADMIN_DN,
            "bindPassword": ADMIN_PASSWORD, "baseDNs": [PEOPLE],
        },
        "attribute": {"uid": {"type": "uid", "value": "uid"}},
        "identity": {"lookup": true, "refresh": "1h"},
    })
}

/// The section: skipped, with the reason printed, when the binary, wrk or slapd is missing.
pub async fn run(plan: &Plan) {
    let (binary, wrk) = match (child::binary(), wrk::version()) {
        (Ok(binary), Ok(wrk)) => (binary, wrk),
        (Err(reason), _) | (_, Err(reason)) => {
            println!("\n## Issue 16: directory-fed lookups: skipped: {reason}");
            return;
        }
    };
    let n = plan.entries;
    let seeding = Instant::now();
    let Some(slapd) = Slapd::start(&people(n), &Options::default()) else {
        println!("\n## Issue 16: directory-fed lookups: skipped: slapd is missing");
        return;
    };
    let seeded = seeding.elapsed();
    let mut tables = Vec::new();
    for directory in [false, true] {
        tables.push(run_feed(plan, &binary, directory.then_some(&slapd)).await);
    }
    println!("\n## Issue 16: hashed lookups from a directory (scripts/bench directory)\n");
    println!("- machine: {}", crate::cpu_model());
    println!("- load average after: {}", crate::load_average());
    println!("- load generator: {wrk}, {} s a row", plan.seconds);
    println!(
        "- slapd seeded with {n} people by slapadd and started in {:.1} s",
        seeded.as_secs_f64()
    );
    if cfg!(debug_assertions) {
        println!("- smoke pass (debug build, small directory, 1 s rows): the figures mean nothing");
    }
    for (feed, rows) in tables {
        println!("\n### Fed by {feed}\n");
        print_rows(&rows);
    }
}

async fn run_feed(
    plan: &Plan,
    binary: &std::path::Path,
    directory: Option<&Slapd>,
) -> (&'static str, Vec<Row>) {
    let n = plan.entries;
    let feed = if directory.is_some() {
        "the directory (ldap, no bindings)"
    } else {
        "Verity's bindings"
    };
    let smtp = SmtpServer::start().await;
    let homeserver = FakeHomeserver::start().await;
    homeserver.add_user("openid-bench", &format!("@bench:{HOMESERVER}"));
    let mut deployment =
        Deployment::new(binary, Store::Sqlite, smtp.port(), &homeserver.base_url()).await;
    match directory {
        Some(slapd) => deployment.set("ldap", ldap_section(slapd.port())),
        None => verity_adapter_sql::testing::seed_bindings(&deployment.store_url, n).await,
    }
    let server = deployment.spawn();
    let listening = first_start::until_listening(&server).await;
    let token = child::register(&server.base_url).await;
    let http = verity_tests::bearer_http(&token);
    let pepper = crate::lookups::pepper(&http, &server.base_url).await;
    let check = first_start::check(&pepper, n);
    let ready = first_start::until_right(&http, &server, &check).await;
    let mut rows = vec![start_row(
        format!("start on {n} entries until every lookup answers right"),
        listening,
        &ready,
    )];
    let context = Context {
        name: if directory.is_some() {
            "directory"
        } else {
            "bindings"
        },
        bindings: n,
        seconds: plan.seconds,
        dir: deployment.dir().to_owned(),
        server: &server,
        token,
        http,
        pepper,
    };
    lookup_rows(&context, &mut rows).await;
    server.stop().await;
    deployment.finish().await;
    (feed, rows)
}
