//! Profiles from the SQL and exec stores through the real service: roles from an organisation's
//! own table (`sql.profile.role`, a real SQLite file) and from the operator's program
//! (`exec.profile.role`, a real `sh` script) decide `invite.policy.ifSender.hasRole` at
//! `store-invite`, and `GET /_matrix-internal/profile/v1/{userId}` answers both stores' roles
//! together.
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::room_invites::store_invite;

/// alice is staff in the table; mallory is sales there; carol is staff by the program only; dave
/// is in both (staff in the table, ops by the program).
async fn staff_table(dir: &Path) -> String {
    let path = dir.join("people.db");
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    for sql in [
        "CREATE TABLE staff (login TEXT NOT NULL, team TEXT)",
        "INSERT INTO staff VALUES ('alice', 'staff'), ('mallory', 'sales'), ('dave', 'staff')",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    db.close().await.unwrap();
    path.display().to_string()
}

fn role_program(dir: &Path) -> String {
    let path = dir.join("roles.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\ncase \"$1\" in\n  carol) echo '{\"profile\": {\"roles\": [\"staff\"]}}' ;;\n  \
         dave) echo '{\"profile\": {\"roles\": [\"ops\"]}}' ;;\n  *) exit 1 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

struct World {
    peers: Peers,
    app: TestApp,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let table = staff_table(dir.path()).await;
    let program = role_program(dir.path());
    let peers = Peers::start().await;
    let stores = format!(
        "
invite:
  policy:
    ifSender:
      hasRole: [staff]
sql:
  enabled: true
  type: sqlite
  connection: '{table}'
  identity: {{enabled: false}}
  lookup: {{query: ''}}
  directory: {{enabled: false}}
  profile:
    role: {{type: localpart, query: 'SELECT team FROM staff WHERE login = ?'}}
exec:
  profile:
    enabled: true
    role: {{command: '{program}', args: ['{{localpart}}']}}
"
    );
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{stores}", peers.yaml())).await;
    World {
        peers,
        app,
        _dir: dir,
    }
}

#[tokio::test]
async fn roles_from_a_table_and_from_a_program_decide_who_may_invite_by_3pid() {
    let world = world().await;
    for (sender, address) in [
        ("@alice:example.org", "bob@example.org"),
        ("@carol:example.org", "erin@example.org"),
    ] {
        let (status, answer) = store_invite(&world.app, sender, address).await;
        assert_eq!(status, 200, "{sender}: {answer}");
        let mail = world
            .peers
            .smtp
            .wait_for_mail(Duration::from_secs(10))
            .await;
        assert!(mail.is_some(), "{sender}'s invite is mailed");
    }
    let (status, answer) =
        store_invite(&world.app, "@mallory:example.org", "victim@example.org").await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (403, Some("M_UNAUTHORIZED")),
        "sales may not invite: {answer}"
    );
}

#[tokio::test]
async fn the_internal_profile_answers_the_roles_of_every_store_that_knows_the_user() {
    let world = world().await;
    let roles = |user: &str| {
        let url = world
            .app
            .internal_url(&format!("/_matrix-internal/profile/v1/{user}"));
        async move {
            let answer: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            answer
        }
    };
    assert_eq!(
        roles("@dave:example.org").await,
        json!({"roles": ["ops", "staff"]}),
        "the program's, then the table's (exec is asked first, as in ma1sd)"
    );
    assert_eq!(
        roles("@mallory:example.org").await,
        json!({"roles": ["sales"]})
    );
    assert_eq!(roles("@nobody:example.org").await, json!({"roles": []}));
}
