//! Hashed lookups against a large table (issue 4): `bindings` 3PIDs are written straight into
//! `verity_binding` (set-up, not measured), then the server starts on that store (timed: that is
//! `Application::build`) and builds its lookup hash table in memory, in the background; the time
//! until a hashed lookup is answered with its mapping is timed too (503 until then). Then
//! `POST /_matrix/identity/v2/lookup` with `algorithm: sha256` and 100 hashes a request, of which
//! 10 are bound and 90 are not, at each concurrency. Last, the server is stopped and started again
//! on the same store (a later start: the pepper is kept, the table built again), timed the same way.
//!
//! The hashes are computed here with sha2 and base64 (the spec's recipe, as the e2e tests do),
//! not with Verity's code, into a pool of request bodies made before the clock starts.
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use verity::Application;
use verity::settings::Settings;
use verity_testkit::homeserver::FakeHomeserver;
use verity_tests::client::Client;

use crate::Store;
use crate::load::{Run, drive};
use crate::report::Memory;

/// Hashes per request, and how many of them are bound.
pub const ADDRESSES: usize = 100;
pub const KNOWN: usize = 10;
/// How often a lookup is tried while the table is built: the resolution of "until lookups answer".
const POLL: Duration = Duration::from_millis(10);
/// Distinct request bodies, cycled through (each made before the clock starts).
const POOL: usize = 1_000;
const HOMESERVER: &str = "example.org";

/// How much to measure.
pub struct Plan {
    /// Bound 3PIDs in the store.
    pub bindings: usize,
    /// Requests at each concurrency.
    pub requests: usize,
    pub concurrencies: [usize; 2],
}

/// The set-up figures of one store.
struct Setup {
    store: &'static str,
    bindings: usize,
    seed: Duration,
    build: Duration,
    ready: Duration,
    /// A later start on the same store: until listening, until lookups answer.
    restart: (Duration, Duration),
    size: String,
}

/// Everything this section measured, printed at the end.
#[derive(Default)]
pub struct Figures {
    setups: Vec<Setup>,
    loads: Vec<(&'static str, Run)>,
    memory: Vec<Memory>,
}

/// On PostgreSQL, the requests are a tenth of `Plan`'s (each store's lookups are answered from
/// the same table in memory); the bindings are as many as on SQLite.
const POSTGRES_DIVISOR: usize = 10;

/// The whole section on `store`.
pub async fn run(figures: &mut Figures, store: Store, plan: &Plan) {
    let name = store.name();
    let divisor = match store {
        Store::Sqlite => 1,
        Store::Postgres => POSTGRES_DIVISOR,
    };
    let plan = &Plan {
        bindings: plan.bindings.max(KNOWN),
        requests: (plan.requests / divisor).max(8),
        concurrencies: plan.concurrencies,
    };
    figures
        .memory
        .push(Memory::now(format!("{name}: before seeding")));
    let (dir, database, storage) = crate::foundation::scratch_store(store, "verity.db").await;
    let homeserver = FakeHomeserver::builder()
        .user("openid-bench", &format!("@bench:{HOMESERVER}"))
        .start()
        .await;
    let settings = settings(storage, dir.path(), &homeserver.base_url());
    let url = settings.storage.url();

    eprintln!("  {name}: seeding {} bindings", plan.bindings);
    let started = Instant::now();
    verity_adapter_sql::testing::seed_bindings(&url, plan.bindings).await;
    let seed_time = started.elapsed();

    // No table is stored yet: `Application::build` builds the first one before it listens.
    let started = Instant::now();
    let app = Application::build(&settings)
        .await
        .expect("the server builds");
    let build = started.elapsed();
    eprintln!(
        "  {name}: seeded in {:.1} s, first hash table built in {:.1} s",
        seed_time.as_secs_f64(),
        build.as_secs_f64()
    );
    figures
        .memory
        .push(Memory::now(format!("{name}: listening, table being built")));
    let size = size(store, &url, dir.path()).await;
    figures.setups.push(Setup {
        store: name,
        bindings: plan.bindings,
        seed: seed_time,
        build,
        ready: Duration::ZERO,
        restart: (Duration::ZERO, Duration::ZERO),
        size,
    });

    let base_url = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    // The table is built in the background once the server listens: hashed lookups answer 503
    // until it is complete. "ready" is from the start of `Application::build` to the first 200.
    let ready = until_ready(&base_url, plan.bindings).await + build;
    eprintln!(
        "  {name}: every lookup answers right {:.2} s after the start",
        ready.as_secs_f64()
    );
    if let Some(setup) = figures.setups.last_mut() {
        setup.ready = ready;
    }
    figures
        .memory
        .push(Memory::now(format!("{name}: table built")));
    measure(figures, name, &base_url, plan).await;
    figures
        .memory
        .push(Memory::now(format!("{name}: after the lookups")));

    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the server stops cleanly");

    restart(figures, name, &settings, plan.bindings).await;
    if let Some(database) = database {
        database.drop_database().await;
    }
}

/// A later start on the same store: the pepper is loaded and the table built again.
async fn restart(figures: &mut Figures, name: &str, settings: &Settings, bindings: usize) {
    let started = Instant::now();
    let app = Application::build(settings)
        .await
        .expect("the server builds again");
    let rebuild = started.elapsed();
    let base_url = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let ready = until_ready(&base_url, bindings).await + rebuild;
    eprintln!(
        "  {name}: after a restart, every lookup answers right {:.2} s after the start",
        ready.as_secs_f64()
    );
    if let Some(setup) = figures.setups.last_mut() {
        setup.restart = (rebuild, ready);
    }
    figures
        .memory
        .push(Memory::now(format!("{name}: after a restart, table built")));
    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the server stops cleanly");
}

/// How long until a hashed lookup of a bound address is answered with its mapping (polled every
/// [`POLL`]; a 503 is the table still being built).
async fn until_ready(base_url: &str, bindings: usize) -> Duration {
    let started = Instant::now();
    let http = authenticated(base_url).await;
    let pepper = pepper(&http, base_url).await;
    let body = bodies(&pepper, bindings, 1).remove(0);
    let url = format!("{base_url}/_matrix/identity/v2/lookup");
    loop {
        let answer = http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("lookup");
        match answer.status().as_u16() {
            200 => return started.elapsed(),
            // Not every millisecond: on 2 cores, the polling itself took a tenth of the build's CPU.
            503 => tokio::time::sleep(POLL).await,
            other => panic!("lookup answered {other} while the table was built"),
        }
    }
}

/// Looks up at each concurrency, after a short warm-up.
async fn measure(figures: &mut Figures, name: &'static str, base_url: &str, plan: &Plan) {
    let http = authenticated(base_url).await;
    let pepper = pepper(&http, base_url).await;
    let bodies = Arc::new(bodies(&pepper, plan.bindings, plan.requests.min(POOL)));
    let url = format!("{base_url}/_matrix/identity/v2/lookup");
    for &concurrency in &plan.concurrencies {
        let lookup = {
            let (http, url, bodies) = (http.clone(), url.clone(), bodies.clone());
            move |i: usize| lookup(http.clone(), url.clone(), bodies.clone(), i)
        };
        drive(plan.requests.min(200), concurrency, lookup.clone()).await;
        let run = drive(plan.requests, concurrency, lookup).await;
        eprintln!(
            "  {name} lookup c={concurrency}: {:.0} req/s, p50 {} ms, p99 {} ms",
            run.throughput(),
            ms(run.percentile(50.0)),
            ms(run.percentile(99.0)),
        );
        figures.loads.push((name, run));
    }
}

/// The minimal configuration, on `storage`, with `example.org` resolved to the fake homeserver
/// (for the bench user's OpenID token). No terms: lookups need only an access token.
fn settings(storage: Value, dir: &Path, homeserver: &str) -> Settings {
    let config = json!({
        "matrix": {"domain": "example.org"},
        "server": {"hostname": "127.0.0.1", "port": 0, "publicUrl": "http://localhost"},
        "key": {"path": dir.join("keys")},
        "storage": storage,
        "ratelimit": crate::limits::unrefused(),
        "dns": {"overwrite": {"homeserver": {"federation": [
            {"name": HOMESERVER, "value": homeserver}]}}},
    });
    let yaml = serde_norway::to_string(&config).expect("config to YAML");
    verity::config::parse(&yaml)
        .expect("the bench configuration is valid")
        .settings
}

/// The store's size on disk after the build: the SQLite file and its WAL, or PostgreSQL's
/// `pg_database_size` and the hash table's share of it.
async fn size(store: Store, url: &str, dir: &Path) -> String {
    match store {
        Store::Sqlite => {
            let len = |suffix: &str| {
                std::fs::metadata(dir.join(format!("verity.db{suffix}"))).map_or(0, |m| m.len())
            };
            format!(
                "{} (file) + {} (WAL)",
                mib(len("")),
                mib(len("-wal") + len("-shm"))
            )
        }
        Store::Postgres => {
            let db = Database::connect(url).await.expect("the store opens");
            let row = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::Postgres,
                    "SELECT pg_database_size(current_database()) AS total, \
                     pg_total_relation_size('verity_lookup_hash') AS hashes, \
                     pg_total_relation_size('verity_binding') AS bindings",
                ))
                .await
                .expect("sizes")
                .expect("a row");
            let get = |col: &str| row.try_get::<i64>("", col).expect("a size") as u64;
            let sizes = format!(
                "{} (database; hashes {}, bindings {})",
                mib(get("total")),
                mib(get("hashes")),
                mib(get("bindings"))
            );
            db.close().await.expect("the store closes");
            sizes
        }
    }
}

/// Registers `@bench:example.org` through the fake homeserver's OpenID token and returns a client
/// that sends its access token.
async fn authenticated(base_url: &str) -> reqwest::Client {
    let registered = Client::new_with_client(base_url, reqwest::Client::new())
        .register_account(&crate::foundation::bench_openid(HOMESERVER))
        .await
        .expect("register")
        .into_inner();
    verity_tests::bearer_http(&registered.token)
}

/// The server's current lookup pepper (`GET /v2/hash_details`, as `http`).
pub async fn pepper(http: &reqwest::Client, base_url: &str) -> String {
    http.get(format!("{base_url}/_matrix/identity/v2/hash_details"))
        .send()
        .await
        .expect("hash_details")
        .json::<Value>()
        .await
        .expect("hash_details JSON")["lookup_pepper"]
        .as_str()
        .expect("a lookup_pepper")
        .to_owned()
}

/// `sha256` of `"<address> <medium> <pepper>"`, unpadded URL-safe base64.
pub fn hash(address: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} email {pepper}")))
}

/// `count` request bodies of `ADDRESSES` hashes: `KNOWN` distinct bound addresses drawn at random
/// among `bindings`, the rest addresses nobody bound (the pool of the `targets` section).
fn bodies(pepper: &str, bindings: usize, count: usize) -> Vec<String> {
    crate::first_start::pool(pepper, bindings, count)
        .into_iter()
        .map(|lookup| lookup.body)
        .collect()
}

/// One lookup, which must answer 200 with exactly the bound hashes of its body.
async fn lookup(
    http: reqwest::Client,
    url: String,
    bodies: Arc<Vec<String>>,
    i: usize,
) -> Result<(), String> {
    let answer = http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(bodies[i % bodies.len()].clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status();
    let body = answer.bytes().await.map_err(|e| e.to_string())?;
    if status.as_u16() != 200 {
        return Err(format!(
            "lookup: {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    let found = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["mappings"].as_object().map(serde_json::Map::len));
    match found {
        Some(KNOWN) => Ok(()),
        other => Err(format!("lookup: expected {KNOWN} mappings, got {other:?}")),
    }
}

impl Figures {
    /// Prints the section's tables.
    pub fn print(&self) {
        println!(
            "\n### Hashed lookups: set-up ({ADDRESSES} sha256 hashes a request, {KNOWN} bound)\n"
        );
        println!(
            "| store | bindings | seed (set-up) | start until listening | start until lookups answer | restart until listening | restart until lookups answer | store size |"
        );
        println!("|---|--:|--:|--:|--:|--:|--:|---|");
        for setup in &self.setups {
            println!(
                "| {} | {} | {:.1} s | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} |",
                setup.store,
                setup.bindings,
                setup.seed.as_secs_f64(),
                setup.build.as_secs_f64(),
                setup.ready.as_secs_f64(),
                setup.restart.0.as_secs_f64(),
                setup.restart.1.as_secs_f64(),
                setup.size,
            );
        }
        println!("\n### Hashed lookups: POST /_matrix/identity/v2/lookup\n");
        println!("| store | conc. | N | wall | req/s | addresses/s | p50 | p90 | p99 | max |");
        println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (store, run) in &self.loads {
            println!(
                "| {store} | {} | {} | {:.2} s | {:.0} | {:.0} | {} ms | {} ms | {} ms | {} ms |",
                run.concurrency,
                run.n,
                run.wall.as_secs_f64(),
                run.throughput(),
                run.throughput() * ADDRESSES as f64,
                ms(run.percentile(50.0)),
                ms(run.percentile(90.0)),
                ms(run.percentile(99.0)),
                ms(run.max()),
            );
        }
        println!("\n### Hashed lookups: memory of the bench process (server + client)\n");
        println!("| when | VmRSS | VmHWM (peak) |");
        println!("|---|--:|--:|");
        for memory in &self.memory {
            let kib = |k: Option<u64>| k.map_or_else(|| "n/a".to_owned(), |k| mib(k * 1024));
            println!(
                "| {} | {} | {} |",
                memory.when,
                kib(memory.rss_kib),
                kib(memory.hwm_kib)
            );
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Milliseconds with a precision that suits the value.
fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}
