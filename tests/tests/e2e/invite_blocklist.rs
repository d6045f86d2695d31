//! `invite.blocklist.*` and the characters refused in invite text, through the real server: a
//! refused invite is answered 403 (or 400), leaves no row in the store and sends no mail.
use std::time::Duration;

use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::{Value, json};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

/// The abuse limits are off: this test sends more invites from one sender than they allow
/// (they have their own tests).
const BLOCKLIST: &str = "
ratelimit:
  enabled: false
invite:
  blocklist:
    keywords: [Casino, https]
    rooms: ['!spam:example.org']
    homeservers: [evil.example]
";

fn invite(change: &Value) -> Value {
    let mut body = json!({
        "medium": "email",
        "address": "ginger@example.org",
        "room_id": "!room:example.org",
        "sender": "@inviter:example.org",
        "room_name": "Tea",
        "sender_display_name": "Inviter",
        "org.matrix.web_client_location": "https://app.element.io",
    });
    for (key, value) in change.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// POSTs a v1 store-invite (no token needed) and returns the status and body.
async fn store_invite(app: &TestApp, body: &Value) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url("/_matrix/identity/api/v1/store-invite"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The invites in the server's SQLite store.
async fn stored_invites(app: &TestApp) -> i64 {
    let path = app.dir.path().join("data/verity.db");
    let db = Database::connect(format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM verity_invite",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn a_blocklisted_invite_is_403_stores_nothing_and_sends_no_mail() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{BLOCKLIST}", peers.yaml())).await;
    for change in [
        json!({"room_name": "Big CASINO night"}),
        json!({"sender_display_name": "casino bot"}),
        json!({"room_id": "!spam:example.org"}),
        json!({"room_avatar_url": "https://cdn.example/a.png"}),
        json!({"sender": "@bot:evil.example"}),
    ] {
        let (status, body) = store_invite(&app, &invite(&change)).await;
        assert_eq!(status, 403, "{change}: {body}");
        assert_eq!(
            body,
            json!({"errcode": "M_UNAUTHORIZED", "error": "Invite not allowed"}),
            "{change}"
        );
    }
    for change in [
        json!({"sender_display_name": "Bob\u{1b}[2J"}),
        json!({"room_name": "Tea\u{7}\u{8}"}),
        json!({"room_name": "\u{202e}gnp.exe"}),
    ] {
        let (status, body) = store_invite(&app, &invite(&change)).await;
        assert_eq!(status, 400, "{change}: {body}");
        assert_eq!(body["errcode"], "M_INVALID_PARAM", "{change}");
    }
    assert_eq!(stored_invites(&app).await, 0);
    assert!(peers.smtp.received().is_empty());

    // The same server still takes an invite the blocklist does not name (the scheme of the web
    // client URL is not matched), which proves the count and the mailbox above could change.
    let (status, body) = store_invite(&app, &invite(&json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        peers
            .smtp
            .wait_for_mail(Duration::from_secs(10))
            .await
            .is_some()
    );
    assert_eq!(stored_invites(&app).await, 1);
}
