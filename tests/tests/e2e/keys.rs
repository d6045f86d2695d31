//! The signing key end to end: made on first start under `key.path`, served by the pubkey
//! endpoints, kept across restarts, and taken as is from an mxisd/ma1sd key directory.
use std::fs;
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::Value;
use verity::Application;
use verity_tests::client::Client;
use verity_tests::{Backend, TestApp, spawn_app, spawn_app_with};

/// The specification's test seed (appendix "Signing JSON"), and the public key it derives.
const SPEC_SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
const SPEC_PUBLIC_KEY: &str = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";
/// A public key this server never had.
const OTHER_PUBLIC_KEY: &str = "l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ";

/// The key id `<key.path>/current` names, as mxisd reads it.
fn current_key_id(key_path: &Path) -> String {
    let current: Value =
        serde_json::from_slice(&fs::read(key_path.join("current")).expect("current")).unwrap();
    assert_eq!(current["type"], "Regular");
    assert_eq!(current["algo"], "ed25519");
    format!("ed25519:{}", current["serial"].as_str().unwrap())
}

async fn fetch_public_key(client: &Client, key_id: &str) -> String {
    client
        .get_pub_key_v2(key_id)
        .await
        .unwrap_or_else(|e| panic!("GET /pubkey/{key_id}: {e}"))
        .into_inner()
        .public_key
}

async fn is_valid(client: &Client, public_key: &str) -> bool {
    let v2 = client
        .pub_key_is_valid_v2(public_key)
        .await
        .expect("isvalid")
        .into_inner()
        .valid;
    let v1 = client
        .pub_key_is_valid_v1(public_key)
        .await
        .expect("isvalid (v1)")
        .into_inner()
        .valid;
    assert_eq!(v1, v2, "v1 and v2 disagree about {public_key}");
    v2
}

fn key_path(app: &TestApp) -> std::path::PathBuf {
    app.dir.path().join("keys")
}

#[tokio::test]
async fn the_first_start_makes_a_key_that_the_pubkey_endpoints_serve() {
    let app = spawn_app().await;
    let keys = key_path(&app);
    let key_id = current_key_id(&keys);
    let identifier = key_id.trim_start_matches("ed25519:");
    assert!(
        keys.join("regular/ed25519").join(identifier).is_file(),
        "the key file is under key.path"
    );

    let public_key = fetch_public_key(&app.client, &key_id).await;
    assert_eq!(public_key.len(), 43, "unpadded base64 of 32 bytes");
    assert_eq!(
        app.client
            .get_pub_key_v1(&key_id)
            .await
            .expect("v1")
            .into_inner()
            .public_key,
        public_key
    );
    assert!(is_valid(&app.client, &public_key).await);
    // Spec v1.15: the URL-safe spelling of the same key is valid too.
    let url_safe = public_key.replace('+', "-").replace('/', "_");
    assert!(is_valid(&app.client, &url_safe).await);
    assert!(!is_valid(&app.client, OTHER_PUBLIC_KEY).await);
    // A long-term key is not an ephemeral one, and no invite made one yet.
    assert!(
        !app.client
            .ephemeral_pub_key_is_valid_v2(&public_key)
            .await
            .expect("ephemeral isvalid")
            .into_inner()
            .valid
    );
}

#[tokio::test]
async fn an_unknown_key_id_is_404_m_not_found() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/_matrix/identity/v2/pubkey/ed25519:unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errcode"], "M_NOT_FOUND");
}

#[tokio::test]
async fn a_restart_on_the_same_key_path_keeps_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let config = format!("key: {{path: {:?}}}", keys.display().to_string());

    let first = spawn_app_with(Backend::Sqlite, &config).await;
    let key_id = current_key_id(&keys);
    let public_key = fetch_public_key(&first.client, &key_id).await;
    first.stop().await.expect("a clean stop");

    let again = spawn_app_with(Backend::Sqlite, &config).await;
    assert_eq!(current_key_id(&keys), key_id);
    assert_eq!(fetch_public_key(&again.client, &key_id).await, public_key);
    assert!(is_valid(&again.client, &public_key).await);
    let files = fs::read_dir(keys.join("regular/ed25519")).unwrap().count();
    assert_eq!(files, 1, "no second key was made");
}

#[tokio::test]
async fn an_mxisd_key_directory_is_used_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("mxisd-keys");
    // As mxisd 1.3+/ma1sd writes it; its identifier has a '-', as mxisd's base64url ones may.
    fs::create_dir_all(keys.join("regular/ed25519")).unwrap();
    fs::write(
        keys.join("regular/ed25519/AAAAOx-q1ZkQ"),
        format!(r#"{{"version":"0","isValid":true,"key":"{SPEC_SEED}"}}"#),
    )
    .unwrap();
    fs::write(
        keys.join("current"),
        r#"{"type":"Regular","algo":"ed25519","serial":"AAAAOx-q1ZkQ"}"#,
    )
    .unwrap();
    let config = format!("key: {{path: {:?}}}", keys.display().to_string());

    let app = spawn_app_with(Backend::Sqlite, &config).await;
    assert_eq!(current_key_id(&keys), "ed25519:AAAAOx-q1ZkQ");
    assert_eq!(
        fetch_public_key(&app.client, "ed25519:AAAAOx-q1ZkQ").await,
        SPEC_PUBLIC_KEY
    );
    assert!(is_valid(&app.client, SPEC_PUBLIC_KEY).await);
    let files = fs::read_dir(keys.join("regular/ed25519")).unwrap().count();
    assert_eq!(files, 1, "no key was added");
}

#[tokio::test]
async fn a_legacy_mxisd_key_file_is_migrated_to_key_0() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("sign.key");
    fs::write(&keys, format!("{SPEC_SEED}\n")).unwrap();
    let config = format!("key: {{path: {:?}}}", keys.display().to_string());

    let app = spawn_app_with(Backend::Sqlite, &config).await;
    assert_eq!(current_key_id(&keys), "ed25519:0");
    assert_eq!(
        fetch_public_key(&app.client, "ed25519:0").await,
        SPEC_PUBLIC_KEY
    );
    assert!(
        dir.path()
            .join("sign.key.backup-before-migration")
            .is_file()
    );
}

#[tokio::test]
async fn a_broken_key_store_stops_the_start_naming_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    fs::create_dir_all(keys.join("regular/ed25519")).unwrap();
    fs::write(keys.join("regular/ed25519/0"), "not json").unwrap();
    let yaml = format!(
        "matrix: {{domain: example.org}}\n\
         server: {{hostname: 127.0.0.1, port: 0}}\n\
         key: {{path: {:?}}}\n\
         storage: {{backend: sqlite, provider: {{sqlite: {{database: {:?}}}}}}}\n",
        keys.display().to_string(),
        dir.path().join("verity.db").display().to_string()
    );
    let settings = verity::config::parse(&yaml).expect("config").settings;
    let Err(error) = Application::build(&settings).await else {
        panic!("a corrupt key file must stop the start");
    };
    let message = format!("{error:#}");
    assert!(message.contains("key.path"), "{message}");
    assert!(message.contains("regular/ed25519/0"), "{message}");
    // Nothing was made in its place.
    assert!(!keys.join("current").exists());
}
