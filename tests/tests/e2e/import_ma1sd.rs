//! Moving in from ma1sd (issue 12): a database with ma1sd's tables (as its ORMLite makes them:
//! `verity_adapter_sql::ma1sd::schema`) and rows as ma1sd writes them, with its `ma1sd.yaml` and
//! key directory, is imported with the real `verity import ma1sd` binary; Verity, started on the
//! same `ma1sd.yaml` (sharing ma1sd's database), accepts ma1sd's access tokens, signs with
//! ma1sd's key as is, and a second import changes nothing.
use std::path::Path;
use std::process::{Command, Output};

use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_adapter_sql::ma1sd::schema::{
    POSTGRES, SQLITE, insert_accepted, insert_account, insert_invite, invite_properties,
};
use verity_domain::{KeyId, SigningKey};
use verity_tests::{
    Backend, TestApp, TestDatabase, spawn_app_with, stdout_of_success, verity_binary,
};

const SEED: [u8; 32] = [7; 32];
const TOKENS: [(&str, &str); 2] = [
    ("5b1e0c52-6a4f-4a8e-9d1c-0e2f3a4b5c6d", "@alice:example.org"),
    ("8f0d2c11-3e4b-4f6a-8b7c-1d2e3f4a5b6c", "@bob:example.org"),
];

fn import(binary: &Path, ma1sd_yaml: &Path, dir: &Path, more: &[&str]) -> String {
    let output: Output = Command::new(binary)
        .args(["import", "ma1sd", "--config"])
        .arg(ma1sd_yaml)
        .args(more)
        .current_dir(dir)
        .env_remove("VERITY_CONFIG")
        .output()
        .expect("the binary runs");
    stdout_of_success(&output)
}

/// ma1sd's key directory as ma1sd writes it (`key.path`: `current`, `regular/ed25519/0`).
fn ma1sd_keys(dir: &Path) {
    use base64::Engine as _;
    let regular = dir.join("regular/ed25519");
    std::fs::create_dir_all(&regular).unwrap();
    std::fs::write(
        dir.join("current"),
        r#"{"type":"Regular","algo":"ed25519","serial":"0"}"#,
    )
    .unwrap();
    let seed = base64::engine::general_purpose::STANDARD.encode(SEED);
    std::fs::write(
        regular.join("0"),
        format!(r#"{{"version":"0","isValid":true,"key":"{seed}"}}"#),
    )
    .unwrap();
}

#[tokio::test]
async fn an_ma1sd_deployment_is_imported_into_its_own_sqlite_database_its_tokens_accepted_and_imported_again_without_change()
 {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("ma1sd.db");
    let storage = format!(
        "storage:\n  backend: sqlite\n  provider:\n    sqlite:\n      database: '{}'\n",
        db.display()
    );
    let url = format!("sqlite:{}?mode=rwc", db.display());
    import_and_serve(data.path(), &storage, &url, SQLITE).await;
}

#[tokio::test]
async fn an_ma1sd_deployment_on_postgresql_is_imported_into_its_own_database_its_tokens_accepted_and_imported_again_without_change()
 {
    let Some(admin) = verity_tests::postgres_url() else {
        return;
    };
    let database = TestDatabase::create_on(&admin).await;
    let data = tempfile::tempdir().unwrap();
    let storage = format!(
        "storage:\n  backend: postgresql\n  provider:\n    postgresql:\n      database: '{}'\n",
        database.url()
    );
    import_and_serve(data.path(), &storage, database.url(), POSTGRES).await;
    database.drop_database().await;
}

/// Makes ma1sd's database at `url` with `schema`, its key directory and an `ma1sd.yaml` on
/// `storage` in `dir`, imports it, serves it from Verity on the same file and imports it again.
async fn import_and_serve(dir: &Path, storage: &str, url: &str, schema: &[&str]) {
    let keys = dir.join("keys");
    ma1sd_keys(&keys);
    let ma1sd_yaml = dir.join("ma1sd.yaml");
    std::fs::write(
        &ma1sd_yaml,
        format!(
            "matrix:\n  domain: example.org\nkey:\n  path: '{}'\n{storage}",
            keys.display()
        ),
    )
    .unwrap();
    let (server, ephemeral) = ma1sd_database(url, schema).await;

    let binary = verity_binary();
    let dry = import(&binary, &ma1sd_yaml, dir, &["--dry-run"]);
    assert!(dry.contains("accounts: 2 read, 2 to add"), "{dry}");
    assert!(dry.contains("dry run: nothing was written"), "{dry}");

    let first = import(&binary, &ma1sd_yaml, dir, &[]);
    assert!(
        first.starts_with(&format!(
            "signing key: nothing to import, Verity reads ma1sd's key directory {} as is \
             (ed25519:0 signs)",
            keys.display()
        )),
        "{first}"
    );
    assert!(first.contains("accounts: 2 read, 2 added"), "{first}");
    assert!(first.contains("accepted terms: 1 read, 1 added"), "{first}");
    assert!(first.contains("invites: 1 read, 1 added"), "{first}");
    assert!(first.contains("bindings: 0 read"), "{first}");

    // Verity on the same ma1sd.yaml: ma1sd's database, ma1sd's key directory.
    let extra = format!("key:\n  path: '{}'\n{storage}", keys.display());
    // The storage section above wins over the backend's.
    let app = spawn_app_with(Backend::SqliteAt(dir.join("unused.db")), &extra).await;
    imported_data_is_served(&app, &server, &ephemeral).await;
    app.stop().await.unwrap();

    let second = import(&binary, &ma1sd_yaml, dir, &[]);
    assert!(
        second.contains("nothing to change: everything is already imported"),
        "{second}"
    );
    assert!(
        second.contains("accounts: 2 read, 0 added, 2 unchanged"),
        "{second}"
    );
}

/// ma1sd's database at `db`: its tables, two accounts, an accepted document and a pending invite
/// signed for by ma1sd's key; `(server key, the invite's ephemeral key)`.
async fn ma1sd_database(url: &str, schema: &[&str]) -> (SigningKey, SigningKey) {
    let mut rows: Vec<String> = TOKENS
        .iter()
        .map(|(token, user)| insert_account(token, user, 1_700_000_000))
        .collect();
    rows.push(insert_accepted(
        "@alice:example.org",
        "https://example.org/terms.html",
        1_700_000_001_000,
    ));
    let ephemeral = SigningKey::from_seed(KeyId::parse("ed25519:1").unwrap(), &[9; 32]);
    let server = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &SEED);
    rows.push(insert_invite(
        "0f1e2d",
        &"k".repeat(64),
        "@alice:example.org",
        ("email", "carol@example.org"),
        "!room:example.org",
        &invite_properties(
            4_000_000_000_000,
            &server.public_key().to_base64(),
            &ephemeral.public_key().to_base64(),
        ),
    ));
    let mut statements: Vec<&str> = schema.to_vec();
    statements.extend(rows.iter().map(String::as_str));
    verity_adapter_sql::testing::execute(url, &statements).await;

    (server, ephemeral)
}

/// ma1sd's tokens are accepted, its key signs, its invite's ephemeral key is valid.
async fn imported_data_is_served(app: &TestApp, server: &SigningKey, ephemeral: &SigningKey) {
    for (token, user) in TOKENS {
        let response = app
            .http
            .get(app.url("/_matrix/identity/v2/account"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{user}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user_id"], user);
    }
    let refused = app
        .http
        .get(app.url("/_matrix/identity/v2/account"))
        .bearer_auth("not-an-imported-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let pubkey: Value = app
        .http
        .get(app.url("/_matrix/identity/api/v1/pubkey/ed25519:0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pubkey["public_key"], server.public_key().to_base64());
    let valid: Value = app
        .http
        .get(app.url(&format!(
            "/_matrix/identity/api/v1/pubkey/ephemeral/isvalid?public_key={}",
            ephemeral
                .public_key()
                .to_base64()
                .replace('+', "%2B")
                .replace('/', "%2F")
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(valid["valid"], true, "the imported invite's ephemeral key");
}
