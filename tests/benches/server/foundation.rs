//! The foundation figures: cold start-up, and the two cheapest endpoints under load.
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::oneshot;
use verity::Application;
use verity::settings::Settings;
use verity_tests::{TestApp, TestDatabase};

use crate::Store;
use crate::load::drive;
use crate::report::{Report, Start};

/// A new data directory, a new PostgreSQL database on `Store::Postgres`, and the `storage`
/// section that points at one or the other (the SQLite file at `sqlite_file` in the directory).
pub async fn scratch_store(
    store: Store,
    sqlite_file: &str,
) -> (tempfile::TempDir, Option<TestDatabase>, serde_json::Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = match store {
        Store::Sqlite => None,
        Store::Postgres => Some(TestDatabase::create().await),
    };
    let storage = match &database {
        None => json!({"backend": "sqlite", "provider": {"sqlite": {
            "database": dir.path().join(sqlite_file)}}}),
        Some(database) => json!({"backend": "postgresql", "provider": {"postgresql": {
            "database": database.url()}}}),
    };
    (dir, database, storage)
}

/// `runs` cold starts on `store`, each in a fresh data directory (or a fresh PostgreSQL
/// database), so every one opens a new store and runs every migration.
pub async fn cold_starts(store: Store, runs: usize) -> Vec<Start> {
    let mut starts = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (dir, database, storage) = scratch_store(store, "data/verity.db").await;
        let settings = settings(storage, dir.path());
        starts.push(cold_start(&settings).await);
        if let Some(database) = database {
            database.drop_database().await;
        }
    }
    starts
}

/// The minimal configuration the end-to-end tests start from, on `storage`.
fn settings(storage: serde_json::Value, dir: &Path) -> Settings {
    let config = json!({
        "matrix": {"domain": "example.org"},
        "server": {"hostname": "127.0.0.1", "port": 0, "publicUrl": "http://localhost",
                   "metrics": {"port": 0}},
        "key": {"path": dir.join("keys")},
        "storage": storage,
        "ratelimit": crate::limits::unrefused(),
    });
    let yaml = serde_norway::to_string(&config).expect("config to YAML");
    verity::config::parse(&yaml)
        .expect("the bench configuration is valid")
        .settings
}

/// Times `Application::build` and the first 200 on `GET /status`, then stops the server.
async fn cold_start(settings: &Settings) -> Start {
    // Built before the clock starts: the client is not part of the server's start-up.
    let http = reqwest::Client::new();
    let started = Instant::now();
    let app = Application::build(settings)
        .await
        .expect("the server builds");
    let build = started.elapsed();
    let url = format!("http://{}/status", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    loop {
        match http.get(&url).send().await {
            Ok(answer) if answer.status().as_u16() == 200 => break,
            _ if started.elapsed() > Duration::from_secs(30) => {
                panic!("no 200 on GET /status 30 s after start")
            }
            _ => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    let first_ok = started.elapsed();
    drop(http);
    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the server stops cleanly");
    Start { build, first_ok }
}

/// `GET /status` (one store round trip) and `GET /_matrix/identity/v2` (no I/O) at each
/// concurrency, `n` requests each after a short warm-up.
pub async fn pings(
    report: &mut Report,
    store: Store,
    app: &TestApp,
    n: usize,
    concurrencies: &[usize],
) {
    let http = reqwest::Client::new();
    for (path, scenario) in [
        ("/status", "GET /status"),
        ("/_matrix/identity/v2", "GET /_matrix/identity/v2"),
    ] {
        let url = app.url(path);
        for &concurrency in concurrencies {
            let get = {
                let (http, url) = (http.clone(), url.clone());
                move |_| get_ok(http.clone(), url.clone())
            };
            drive(n.min(500), concurrency, get.clone()).await;
            let run = drive(n, concurrency, get).await;
            report.load(store.name(), scenario, run);
        }
    }
}

/// One GET that must answer 200; the body is read so the connection is reused.
async fn get_ok(http: reqwest::Client, url: String) -> Result<(), String> {
    let answer = http.get(&url).send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    answer.bytes().await.map_err(|e| e.to_string())?;
    if status.as_u16() == 200 {
        Ok(())
    } else {
        Err(format!("GET {url}: {status}"))
    }
}

/// The OpenID credentials the fake homeserver `server_name` knows as `@bench:<server_name>`'s
/// (`openid-bench`), with which every bench registers.
pub fn bench_openid(server_name: &str) -> verity_tests::client::types::OpenIdCredentials {
    verity_tests::client::types::OpenIdCredentials {
        access_token: "openid-bench".into(),
        token_type: Some("Bearer".into()),
        matrix_server_name: server_name.into(),
        expires_in: Some(3600),
    }
}
