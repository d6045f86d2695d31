//! Logins to a real Synapse with the directory's password: Synapse's password provider (a small
//! module of this suite, `modules/verity_password_provider.py`, speaking the kamax module's
//! protocol) asks Verity's internal listener, which binds to a real OpenLDAP as the user. An
//! LDAP user logs in (and is registered with the directory's name and mail at the first login),
//! a wrong password is refused, and so is an account the configured filter excludes.
//!
//! A Synapse of its own: its module must know Verity's internal listener, so Verity starts
//! first (the Synapse of the other steps starts before Verity, which must know its ports).
use std::path::PathBuf;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::slapd::{Options as SlapdOptions, Slapd};
use verity_testkit::synapse::{Options, Synapse};
use verity_tests::{Backend, spawn_app_with};

use super::matrix::{encode, send};
use crate::login::{directory, ldap_login_yaml};

/// `POST /_matrix/client/v3/login` with `m.login.password`: the status and the answer.
async fn login(
    http: &reqwest::Client,
    synapse: &Synapse,
    user: &str,
    password: &str,
) -> (u16, Value) {
    let body = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
    });
    send(
        http.post(format!("{}/_matrix/client/v3/login", synapse.client_url()))
            .json(&body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ldap_user_logs_in_to_a_real_synapse_with_the_directory_password() {
    let Some(python) = verity_testkit::synapse::python() else {
        return;
    };
    let Some(slapd) = Slapd::start(&directory(), &SlapdOptions::default()) else {
        return;
    };
    // Synapse's users are `@<name>:localhost`: Verity authenticates the users of matrix.domain.
    let yaml = format!(
        "matrix: {{domain: localhost}}\n{}",
        ldap_login_yaml(slapd.port())
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/real_synapse/modules");
    let options = Options {
        extra_yaml: Some(format!(
            "modules:\n  - module: verity_password_provider.VerityPasswordProvider\n    \
             config: {{endpoint: '{}'}}\n",
            app.internal_url("")
        )),
        python_path: Some(modules),
        ..Options::default()
    };
    let synapse = Synapse::start(&python, &options).await;
    let http = reqwest::Client::new();

    let (status, logged_in) = login(&http, &synapse, "alice", "alice's pw").await;
    assert_eq!(status, 200, "{logged_in}\n{}", synapse.logs());
    assert_eq!(logged_in["user_id"], "@alice:localhost");
    // Registered at this first login with the directory's name and mail.
    let token = logged_in["access_token"].as_str().unwrap().to_owned();
    let (_, name) = send(http.get(format!(
        "{}/_matrix/client/v3/profile/{}/displayname",
        synapse.client_url(),
        encode("@alice:localhost")
    )))
    .await;
    assert_eq!(name, json!({"displayname": "Alice Liddell"}));
    let (_, threepids) = send(
        http.get(format!(
            "{}/_matrix/client/v3/account/3pid",
            synapse.client_url()
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(
        threepids["threepids"][0]["address"], "alice@example.org",
        "{threepids}"
    );
    // And again, as the user who now exists.
    let (status, again) = login(&http, &synapse, "@alice:localhost", "alice's pw").await;
    assert_eq!(
        (status, again["user_id"].clone()),
        (200, json!("@alice:localhost"))
    );

    // A wrong password, an account the login filter excludes (its password is right), a user
    // the directory does not have: refused as Synapse refuses any wrong password.
    for (user, password) in [
        ("alice", "bob-pw"),
        ("carol", "carol-pw"),
        ("dave", "alice's pw"),
    ] {
        let (status, refused) = login(&http, &synapse, user, password).await;
        assert_eq!(status, 403, "{user}: {refused}");
        assert_eq!(refused["errcode"], "M_FORBIDDEN", "{user}: {refused}");
    }
    // Synapse asked Verity each time (the module logs Verity's refusals).
    assert_eq!(
        synapse.log_lines("Verity refused the login of").len(),
        3,
        "{}",
        synapse.logs()
    );

    // Alice's allowance (5 failures) spent: Verity answers 429 before asking the directory, the
    // module raises on it, and Synapse refuses the login as it refuses a wrong password (403,
    // not 500), even with the right one; it logs the module's failure.
    for _ in 0..4 {
        let (status, _) = login(&http, &synapse, "alice", "wrong").await;
        assert_eq!(status, 403);
    }
    let (status, limited) = login(&http, &synapse, "alice", "alice's pw").await;
    assert_eq!(
        (status, limited["errcode"].clone()),
        (403, json!("M_FORBIDDEN")),
        "{limited}"
    );
    assert!(
        !synapse
            .log_lines("Failed to run module API callback")
            .is_empty(),
        "{}",
        synapse.logs()
    );
}
