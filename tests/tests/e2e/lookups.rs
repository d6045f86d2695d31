//! Binds and lookups end to end, as Element and Synapse drive them: validate an email through the
//! real SMTP peer, bind it, find it with a hashed lookup (the hash computed here, independently),
//! check the v1 association's signature against the published key, unbind it; the `memory`
//! backend; the errors clients rely on. Hashes and signatures are checked with sha2 and
//! ed25519-dalek directly, not with Verity's code.
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::client::{Client, Error, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::sessions::{app_with_peers, register_alice};

/// The server signs as `server.name`, which defaults to `matrix.domain`.
const SERVER_NAME: &str = "example.org";

/// A user and a 3PID only the `memory` backend knows.
const MEMORY: &str = "
memory:
  enabled: true
  identities:
    - username: memo
      threepids:
        - medium: email
          address: Memo@Example.org
";

/// `sha256` of `"<address> <medium> <pepper>"`, unpadded URL-safe base64 (the spec's recipe).
fn hash(address: &str, medium: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} {medium} {pepper}")))
}

/// Checks `signed` as a homeserver would: `signatures` and `unsigned` removed, the rest in
/// canonical JSON (sorted keys, no spaces: what serde_json writes for this flat object), and the
/// ed25519 signature checked against the key `GET /pubkey/{keyId}` publishes.
async fn assert_signed_by_the_server(client: &Client, signed: &Value) {
    let signatures = signed["signatures"][SERVER_NAME]
        .as_object()
        .unwrap_or_else(|| panic!("no signature by {SERVER_NAME}: {signed}"));
    assert_eq!(signatures.len(), 1, "{signed}");
    let (key_id, signature) = signatures.iter().next().unwrap();
    let public_key = client
        .get_pub_key_v2(key_id)
        .await
        .expect("the signing key is published")
        .into_inner()
        .public_key;
    let key_bytes: [u8; 32] = STANDARD_NO_PAD
        .decode(&public_key)
        .unwrap()
        .try_into()
        .unwrap();
    let key = VerifyingKey::from_bytes(&key_bytes).unwrap();
    let signature_bytes: [u8; 64] = STANDARD_NO_PAD
        .decode(signature.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mut covered = signed.as_object().unwrap().clone();
    covered.remove("signatures");
    covered.remove("unsigned");
    let canonical = serde_json::to_string(&Value::Object(covered)).unwrap();
    key.verify(
        canonical.as_bytes(),
        &Signature::from_bytes(&signature_bytes),
    )
    .unwrap_or_else(|e| panic!("the signature does not verify: {e}\n{canonical}"));
}

/// The errcode and body of a failed call.
fn refusal<T: std::fmt::Debug>(
    result: Result<T, Error<types::MatrixError>>,
) -> (u16, types::MatrixError) {
    match result {
        Err(Error::ErrorResponse(e)) => (e.status().as_u16(), e.into_inner()),
        other => panic!("expected a Matrix error, got {other:?}"),
    }
}

/// Requests a token for `email` as alice, follows the emailed link and returns the sid.
async fn validate(
    app: &TestApp,
    peers: &Peers,
    alice: &Client,
    email: &str,
    secret: &str,
) -> String {
    let sid = alice
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: secret.into(),
            email: email.into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    assert_eq!(peers.open_emailed_link(app).await, 200);
    sid
}

async fn lookup(client: &Client, algorithm: &str, pepper: &str, addresses: &[String]) -> Value {
    let answer = client
        .lookup_users(&types::LookupBody {
            algorithm: algorithm.into(),
            pepper: pepper.into(),
            addresses: addresses.to_vec(),
        })
        .await
        .expect("lookup")
        .into_inner();
    serde_json::to_value(answer.mappings).unwrap()
}

async fn v1_lookup(client: &Client, medium: &str, address: &str) -> Value {
    let answer = client
        .lookup_v1(address, medium)
        .await
        .expect("v1 lookup")
        .into_inner();
    serde_json::to_value(answer).unwrap()
}

async fn bind_lookup_unbind(backend: Backend) {
    let (app, peers) = app_with_peers(backend, MEMORY).await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);

    // Validate and bind, as Element does after "Share".
    let sid = validate(&app, &peers, &alice, "Alice@Example.org", "secretAlice").await;
    let bound = alice
        .bind_v2(&types::BindRequest {
            sid: sid.clone(),
            client_secret: "secretAlice".into(),
            mxid: "@alice:example.org".into(),
        })
        .await
        .expect("bind")
        .into_inner();
    let bound = serde_json::to_value(bound).unwrap();
    assert_eq!(
        (&bound["address"], &bound["medium"], &bound["mxid"]),
        (
            &json!("alice@example.org"),
            &json!("email"),
            &json!("@alice:example.org")
        )
    );
    assert_eq!(bound["not_before"], bound["ts"]);
    assert!(bound["not_after"].as_u64() > bound["ts"].as_u64());
    assert_signed_by_the_server(&app.client, &bound).await;

    // Hashed lookup, as Element does it: hash_details, then the lower-cased address hashed.
    let details = alice
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner();
    assert!(
        details.algorithms.contains(&"sha256".to_owned()),
        "{details:?}"
    );
    assert!(
        details.algorithms.contains(&"none".to_owned()),
        "{details:?}"
    );
    let pepper = details.lookup_pepper;
    assert!(
        pepper.len() >= 20 && pepper.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{pepper}"
    );
    let alice_hash = hash("alice@example.org", "email", &pepper);
    let memo_hash = hash("memo@example.org", "email", &pepper);
    let nobody_hash = hash("nobody@example.org", "email", &pepper);
    let asked = [alice_hash.clone(), memo_hash.clone(), nobody_hash];
    assert_eq!(
        lookup(&alice, "sha256", &pepper, &asked).await,
        json!({&alice_hash: "@alice:example.org", &memo_hash: "@memo:example.org"})
    );
    // `none`: the keys are the strings sent.
    let plain = [
        "alice@example.org email".to_owned(),
        "memo@example.org email".to_owned(),
    ];
    assert_eq!(
        lookup(&alice, "none", &pepper, &plain).await,
        json!({"alice@example.org email": "@alice:example.org", "memo@example.org email": "@memo:example.org"})
    );

    v1_lookups_find_both(&app.client).await;

    // Unbind by session, as a client may (no access token needed).
    app.client
        .unbind_v2(&types::UnbindRequest {
            mxid: "@alice:example.org".into(),
            threepid: types::ThreePidBody {
                medium: "email".into(),
                address: "alice@example.org".into(),
            },
            sid: Some(sid),
            client_secret: Some("secretAlice".into()),
        })
        .await
        .expect("unbind");
    assert_eq!(
        lookup(&alice, "sha256", &pepper, &asked).await,
        json!({&memo_hash: "@memo:example.org"})
    );
    assert_eq!(
        v1_lookup(&app.client, "email", "alice@example.org").await,
        json!({})
    );
    assert_eq!(
        lookup(&alice, "none", &pepper, &plain[..1]).await,
        json!({})
    );
}

/// The v1 lookups find alice (bound) and memo (`memory`), with a signature that checks out.
async fn v1_lookups_find_both(client: &Client) {
    // The v1 lookup answers a signed association that checks out with the published key.
    let v1 = v1_lookup(client, "email", "alice@example.org").await;
    assert_eq!(v1["mxid"], "@alice:example.org");
    assert_signed_by_the_server(client, &v1).await;
    let memo = v1_lookup(client, "email", "memo@example.org").await;
    assert_eq!(memo["mxid"], "@memo:example.org");
    let bulk = client
        .bulk_lookup_v1(&types::BulkLookupRequest {
            threepids: vec![
                vec!["email".into(), "alice@example.org".into()],
                vec!["email".into(), "nobody@example.org".into()],
            ],
        })
        .await
        .expect("bulk lookup")
        .into_inner();
    assert_eq!(
        bulk.threepids,
        vec![vec![
            "email".to_owned(),
            "alice@example.org".to_owned(),
            "@alice:example.org".to_owned()
        ]]
    );
}

#[tokio::test]
async fn a_validated_email_is_bound_found_by_every_lookup_and_unbound_on_sqlite() {
    bind_lookup_unbind(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_validated_email_is_bound_found_by_every_lookup_and_unbound_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        bind_lookup_unbind(Backend::Postgres).await;
    }
}

async fn refusals(backend: Backend) {
    // carol@gmail.com's link leads to the remote step's explanation, which names the server the
    // `root` label resolves to: a second local server here, never the real matrix.org.
    let central = spawn_app_with(Backend::Sqlite, "").await;
    let root = format!(
        "matrix:\n  identity:\n    servers:\n      root: ['{}']\n",
        central.base_url
    );
    let (app, peers) = app_with_peers(backend, &root).await;
    let token = register_alice(&app, &peers).await;
    let alice = app.client_as(&token);
    let pepper = alice
        .get_hash_details()
        .await
        .unwrap()
        .into_inner()
        .lookup_pepper;

    // A stale pepper: the answer carries the current one, as Element needs to retry.
    let (status, error) = refusal(
        alice
            .lookup_users(&types::LookupBody {
                algorithm: "sha256".into(),
                pepper: "stale".into(),
                addresses: vec![],
            })
            .await,
    );
    assert_eq!(status, 400);
    assert_eq!(error.errcode, "M_INVALID_PEPPER");
    assert_eq!(error.algorithm.as_deref(), Some("sha256"));
    assert_eq!(error.lookup_pepper.as_deref(), Some(pepper.as_str()));
    let (status, error) = refusal(
        alice
            .lookup_users(&types::LookupBody {
                algorithm: "md5".into(),
                pepper: pepper.clone(),
                addresses: vec![],
            })
            .await,
    );
    assert_eq!((status, error.errcode.as_str()), (400, "M_INVALID_PARAM"));

    // A v2 token binds its own user only (sydent's 403 M_UNAUTHORIZED).
    let sid = validate(&app, &peers, &alice, "alice@example.org", "secretAlice").await;
    let (status, error) = refusal(
        alice
            .bind_v2(&types::BindRequest {
                sid,
                client_secret: "secretAlice".into(),
                mxid: "@bob:example.org".into(),
            })
            .await,
    );
    assert_eq!((status, error.errcode.as_str()), (403, "M_UNAUTHORIZED"));

    // A remote email is validated here only to start the remote flow: until it is validated on
    // the remote server (remote_sessions.rs), it is bound nowhere.
    let remote = validate(&app, &peers, &alice, "carol@gmail.com", "secretCarol").await;
    let (status, error) = refusal(
        alice
            .bind_v2(&types::BindRequest {
                sid: remote,
                client_secret: "secretCarol".into(),
                mxid: "@alice:example.org".into(),
            })
            .await,
    );
    assert_eq!(
        (status, error.errcode.as_str()),
        (400, "M_SESSION_NOT_VALIDATED")
    );
    // Users are told of the other server; the operator's label (`root`) is for the log.
    assert!(
        error.error.contains("other identity server"),
        "{}",
        error.error
    );
    assert!(!error.error.contains("`root`"), "{}", error.error);
    let carol = hash("carol@gmail.com", "email", &pepper);
    assert_eq!(lookup(&alice, "sha256", &pepper, &[carol]).await, json!({}));

    // An unbind claiming to be signed by the user's homeserver, with a signature that does not
    // check out against the keys that homeserver publishes: refused.
    peers.homeserver.sign_as("example.org");
    let forged = app
        .http
        .post(app.url("/_matrix/identity/v2/3pid/unbind"))
        .header(
            "Authorization",
            "X-Matrix origin=\"example.org\",destination=\"localhost\",key=\"ed25519:fake\",sig=\"AAAA\"",
        )
        .json(&json!({"mxid": "@alice:example.org", "threepid": {"medium": "email", "address": "alice@example.org"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["errcode"], "M_FORBIDDEN");
}

#[tokio::test]
async fn lookups_and_binds_refuse_what_clients_must_be_told_about_on_sqlite() {
    refusals(Backend::Sqlite).await;
}

#[tokio::test]
async fn lookups_and_binds_refuse_what_clients_must_be_told_about_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        refusals(Backend::Postgres).await;
    }
}

/// v1 binds as Synapse drives them: the homeserver-signed unbind, and a restart.
#[path = "lookups_v1.rs"]
mod v1;
