//! Logins checked by every kind of store at once, through the real service: the operator's
//! program (`exec.auth`, a real `sh` script), the `memory` list and the REST service (the
//! testkit's fake), asked in ma1sd's order (exec, ldap, memory, rest) until one accepts; the
//! profile roles of `GET /_matrix-internal/profile/v1/{userId}`.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::rest_backend::{Account, FakeRestBackend};
use verity_tests::{Backend, spawn_app_with};

use crate::login::check;

/// `exec`'s users: erin (plain in, plain out).
fn exec_yaml(dir: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let users = dir.join("users.tsv");
    std::fs::write(&users, "erin\terin-pw\tErin from exec\n").unwrap();
    let program = dir.join("login.sh");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\n{}\n",
            verity_testkit::exec_programs::LOGIN_OVER_USERS
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "
exec:
  auth:
    enabled: true
    command: '{}'
    env: {{USERS: '{}'}}
    input: {{type: plain}}
    output: {{type: plain}}
",
        program.display(),
        users.display()
    )
}

/// `memory`'s users: frank, with a password and roles, and grace, with a role but no password.
const MEMORY: &str = "
memory:
  enabled: true
  identities:
    - username: frank
      password: 'frank-pw'
      displayName: Frank from memory
      roles: [staff, admins]
      threepids: [{medium: email, address: frank@example.org}]
    - username: grace
      roles: [staff]
";

#[tokio::test]
async fn every_store_logs_in_its_own_users_and_the_first_to_accept_wins() {
    let dir = tempfile::tempdir().unwrap();
    let rest = FakeRestBackend::start().await;
    rest.add_account(Account {
        localpart: "heidi".into(),
        password: "heidi-pw".into(),
        display_name: Some("Heidi from rest".into()),
        threepids: vec![("msisdn".into(), "+44 7911 123456".into())],
        roles: vec!["contractors".into()],
    });
    // frank in the REST service too, with another password: memory is asked first.
    rest.add_account(Account {
        localpart: "frank".into(),
        password: "frank-rest-pw".into(),
        display_name: Some("Frank from rest".into()),
        ..Account::default()
    });
    let yaml = format!(
        "{}{MEMORY}rest: {{enabled: true, host: '{}'}}\n",
        exec_yaml(dir.path()),
        rest.url()
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;

    let name = |body: &Value| body["auth"]["profile"]["display_name"].clone();
    let (status, erin) = check(&app, "@erin:example.org", "erin-pw").await;
    assert_eq!((status, name(&erin)), (200, json!("Erin from exec")));
    let (_, frank) = check(&app, "@frank:example.org", "frank-pw").await;
    assert_eq!(name(&frank), json!("Frank from memory"));
    assert_eq!(
        frank["auth"]["profile"]["three_pids"],
        json!([{"medium": "email", "address": "frank@example.org"}])
    );
    // Memory refuses frank's other password, the REST service accepts it: a refusal by one
    // store does not stop the next (as ma1sd). The accepting store's name comes first.
    let (_, frank) = check(&app, "@frank:example.org", "frank-rest-pw").await;
    assert_eq!(frank["auth"]["success"], json!(true));
    assert_eq!(name(&frank), json!("Frank from rest"));
    let (_, heidi) = check(&app, "@heidi:example.org", "heidi-pw").await;
    assert_eq!(name(&heidi), json!("Heidi from rest"));
    assert_eq!(
        heidi["auth"]["profile"]["three_pids"],
        json!([{"medium": "msisdn", "address": "447911123456"}])
    );
    for (user, password) in [
        ("@erin:example.org", "frank-pw"),
        ("@grace:example.org", "anything"),
        ("@heidi:example.org", "erin-pw"),
    ] {
        let (status, body) = check(&app, user, password).await;
        assert_eq!(
            (status, body["auth"]["success"].clone()),
            (200, json!(false)),
            "{user}"
        );
    }
    // The REST service was asked in ma1sd's contract, with the password in the body only.
    let login = rest
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("auth/login"))
        .unwrap();
    assert_eq!(login.path, "_ma1sd/backend/api/v1/auth/login");
    assert_eq!(login.body["auth"]["localpart"], json!("frank"));

    // The roles of every store that knows the user.
    let roles = |user: &'static str| {
        let url = app.internal_url(&format!("/_matrix-internal/profile/v1/{user}"));
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        roles("@frank:example.org").await,
        json!({"roles": ["staff", "admins"]})
    );
    assert_eq!(
        roles("@grace:example.org").await,
        json!({"roles": ["staff"]})
    );
    assert_eq!(
        roles("@heidi:example.org").await,
        json!({"roles": ["contractors"]})
    );
    assert_eq!(roles("@nobody:example.org").await, json!({"roles": []}));
}
