//! Logins for the homeserver through the real service, against a real OpenLDAP: the internal
//! listener answers `check_credentials` in ma1sd's shapes (a bind as the user's entry, the
//! directory's name and 3PIDs), refuses a wrong password, an empty one without asking the
//! directory, and an account `ldap.auth.filter` excludes; failed attempts are limited per user;
//! the public listener does not serve it; a shared secret guards it when set.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::slapd::{ADMIN_DN, ADMIN_PASSWORD, Options, PEOPLE, Slapd, ldif_line};
use verity_tests::{Backend, TestApp, spawn_app_with};

/// The path of the password check.
pub(crate) const CHECK: &str = "/_matrix-internal/identity/v1/check_credentials";

/// An inetOrgPerson `uid=<uid>` with this password, display name and mail; `disabled` marks it
/// with `employeeType: disabled`, which the login filter excludes.
pub(crate) fn account(uid: &str, password: &str, name: &str, mail: &str, disabled: bool) -> String {
    let mut entry = format!(
        "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
    );
    for (attribute, value) in [
        ("userPassword", password),
        ("displayName", name),
        ("mail", mail),
    ] {
        entry.push_str(&ldif_line(attribute, value));
    }
    if disabled {
        entry.push_str("employeeType: disabled\n");
    }
    entry.push('\n');
    entry
}

/// alice and bob can log in; carol's account is disabled.
pub(crate) fn directory() -> String {
    [
        account(
            "alice",
            "alice's pw",
            "Alice Liddell",
            "Alice@Example.org",
            false,
        ),
        account("bob", "bob-pw", "Bob", "bob@example.org", false),
        account("carol", "carol-pw", "Carol", "carol@example.org", true),
    ]
    .concat()
}

/// The `ldap` section for logins at `port`: OpenLDAP's `uid`, disabled accounts excluded from
/// logins only.
pub(crate) fn ldap_login_yaml(port: u16) -> String {
    format!(
        "
ldap:
  enabled: true
  connection:
    host: 127.0.0.1
    port: {port}
    bindDn: '{ADMIN_DN}'
    bindPassword: '{ADMIN_PASSWORD}'
    baseDNs: ['{PEOPLE}']
    connectTimeout: 2s
  attribute:
    uid: {{type: uid, value: uid}}
  auth:
    filter: '(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))'
"
    )
}

/// `check_credentials` of `user` with `password` on the internal listener: status and body.
pub(crate) async fn check(app: &TestApp, user: &str, password: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(app.internal_url(CHECK))
        .json(&json!({"user": {"id": user, "password": password}}))
        .send()
        .await
        .expect("check_credentials");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

fn refused() -> Value {
    json!({"auth": {"success": false, "profile": {"three_pids": []}}})
}

#[tokio::test]
async fn a_directory_user_logs_in_with_their_password_and_the_rest_is_refused() {
    let Some(mut slapd) = Slapd::start(&directory(), &Options::default()) else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, &ldap_login_yaml(slapd.port())).await;

    assert_eq!(
        check(&app, "@alice:example.org", "alice's pw").await,
        (
            200,
            json!({"auth": {
                "success": true,
                "display_name": "Alice Liddell",
                "profile": {
                    "display_name": "Alice Liddell",
                    "three_pids": [{"medium": "email", "address": "alice@example.org"}],
                },
            }})
        )
    );
    // A wrong password, an unknown user, and an account the login filter excludes, though its
    // password is right.
    for (user, password) in [
        ("@alice:example.org", "bob-pw"),
        ("@dave:example.org", "alice's pw"),
        ("@carol:example.org", "carol-pw"),
        ("@*:example.org", "alice's pw"),
    ] {
        assert_eq!(
            check(&app, user, password).await,
            (200, refused()),
            "{user}"
        );
    }

    // An empty password is refused without asking the directory: with the directory down, it
    // is still a plain refusal, while a password to check meets the outage (503).
    slapd.stop();
    assert_eq!(check(&app, "@bob:example.org", "").await, (200, refused()));
    let (status, body) = check(&app, "@bob:example.org", "bob-pw").await;
    assert_eq!((status, body["errcode"].clone()), (503, json!("M_UNKNOWN")));
    slapd.restart();
    assert_eq!(
        check(&app, "@bob:example.org", "bob-pw").await.1["auth"]["success"],
        json!(true)
    );
}

#[tokio::test]
async fn the_public_listener_does_not_serve_the_password_check() {
    let Some(slapd) = Slapd::start(&directory(), &Options::default()) else {
        return;
    };
    let app = spawn_app_with(Backend::Sqlite, &ldap_login_yaml(slapd.port())).await;
    assert_ne!(app.internal_address, Some(app.address));
    let response = app
        .http
        .post(app.url(CHECK))
        .json(&json!({"user": {"id": "@alice:example.org", "password": "alice's pw"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errcode"], "M_UNRECOGNIZED");
    // Nor the profiles; and the internal listener serves none of the public API.
    let response = app
        .http
        .get(app.url("/_matrix-internal/profile/v1/@alice:example.org"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let response = reqwest::get(app.internal_url("/_matrix/identity/v2"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn failed_logins_are_limited_per_user_and_a_spent_allowance_refuses_even_the_right_password()
{
    let Some(slapd) = Slapd::start(&directory(), &Options::default()) else {
        return;
    };
    let yaml = format!(
        "{}ratelimit: {{login: {{user: {{burst: 3, perSeconds: 3600}}}}}}\n",
        ldap_login_yaml(slapd.port())
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    // A success costs nothing.
    for _ in 0..5 {
        assert_eq!(
            check(&app, "@alice:example.org", "alice's pw").await.1["auth"]["success"],
            json!(true)
        );
    }
    for _ in 0..3 {
        assert_eq!(
            check(&app, "@alice:example.org", "guess").await,
            (200, refused())
        );
    }
    let (status, body) = check(&app, "@alice:example.org", "alice's pw").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errcode"], "M_LIMIT_EXCEEDED");
    assert!(
        body["retry_after_ms"].as_u64().unwrap() > 3_000_000,
        "{body}"
    );
    // Another user has an allowance of their own.
    assert_eq!(
        check(&app, "@bob:example.org", "bob-pw").await.1["auth"]["success"],
        json!(true)
    );
}

#[tokio::test]
async fn with_a_shared_secret_only_a_caller_that_sends_it_is_answered() {
    let Some(slapd) = Slapd::start(&directory(), &Options::default()) else {
        return;
    };
    let yaml = format!(
        "{}server: {{internal: {{secret: 'shared-internal-secret'}}}}\n",
        ldap_login_yaml(slapd.port())
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let (status, body) = check(&app, "@alice:example.org", "alice's pw").await;
    assert_eq!(
        (status, body["errcode"].clone()),
        (401, json!("M_UNAUTHORIZED"))
    );
    let body: Value = reqwest::Client::new()
        .post(app.internal_url(CHECK))
        .bearer_auth("shared-internal-secret")
        .json(&json!({"user": {"id": "@alice:example.org", "password": "alice's pw"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["auth"]["success"], json!(true));
}

#[tokio::test]
async fn without_a_store_that_checks_passwords_no_internal_listener_starts_unless_asked() {
    let app = spawn_app_with(Backend::Sqlite, "").await;
    assert_eq!(app.internal_address, None);
    let app = spawn_app_with(Backend::Sqlite, "server: {internal: {enabled: true}}\n").await;
    // Started, serving nothing yet.
    let response = reqwest::Client::new()
        .post(app.internal_url(CHECK))
        .json(&json!({"user": {"id": "@alice:example.org", "password": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}
