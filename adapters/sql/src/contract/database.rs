//! Cases that need the database itself: rows no store would write, and the health check.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{SessionStore, StoreError};
use verity_domain::Timestamp;

use super::harness::TestDb;
use super::sessions::{secret, sid, threepid};

/// Every column of a valid pending session, as SQL literals.
const VALID_ROW: [(&str, &str); 13] = [
    ("sid", "'to-be-replaced'"),
    ("client_secret", "'s3cret'"),
    ("medium", "'email'"),
    ("address", "'alice@example.org'"),
    ("token", "'123456'"),
    ("send_attempt", "1"),
    ("next_link", "NULL"),
    ("mode", "'local'"),
    ("mode_server", "NULL"),
    ("created_at", "1000"),
    ("validated_at", "NULL"),
    ("modified_at", "1000"),
    ("failed_attempts", "0"),
];

/// An INSERT of a valid row with sid `id` and `column` set to the literal `value`.
pub(crate) fn insert_sql(id: &str, column: &str, value: &str) -> String {
    let (names, values): (Vec<_>, Vec<_>) = VALID_ROW
        .iter()
        .map(|&(name, literal)| match name {
            "sid" => (name, format!("'{id}'")),
            _ if name == column => (name, value.to_owned()),
            _ => (name, literal.to_owned()),
        })
        .unzip();
    format!(
        "INSERT INTO verity_session ({}) VALUES ({})",
        names.join(", "),
        values.join(", ")
    )
}

pub(crate) async fn a_row_that_does_not_parse_is_reported_as_corrupt(db: &TestDb) {
    let store = db.sessions();
    let bad_rows = [
        ("bad-medium", "medium", "'Bad Medium'", "medium"),
        ("bad-address", "address", "'not-an-email'", "address"),
        (
            "bad-secret",
            "client_secret",
            "'has space'",
            "client_secret",
        ),
        ("bad-token", "token", "''", "token"),
        ("bad-mode", "mode", "'teleport'", "mode"),
        (
            "remote-without-server",
            "mode",
            "'remote_pending'",
            "mode_server",
        ),
        ("negative-time", "created_at", "-5", "created_at"),
        ("negative-count", "failed_attempts", "-1", "failed_attempts"),
    ];
    for (id, column, value, _) in bad_rows {
        db.execute(&insert_sql(id, column, value)).await;
    }
    for (id, _, _, named) in bad_rows {
        let result = store.find(&sid(id)).await;
        assert!(
            matches!(&result, Err(StoreError::Corrupt(what)) if what.contains(named)),
            "{id}: {result:?}"
        );
    }
    // The newest matching row is corrupt: find_latest must say so rather than skip it.
    let latest = store
        .find_latest(&threepid("email", "alice@example.org"), &secret("s3cret"))
        .await;
    assert!(matches!(latest, Err(StoreError::Corrupt(_))), "{latest:?}");
    // Corrupt rows must not block the purge that eventually removes them.
    let purged = store
        .purge_modified_before(Timestamp::from_millis(2_000))
        .await
        .unwrap();
    assert_eq!(purged, bad_rows.len() as u64);
}

pub(crate) async fn the_health_check_passes_while_the_database_answers(db: &TestDb) {
    let health = db.health();
    assert_eq!(health.name(), "store");
    health.check().await.unwrap();
}

pub(crate) async fn a_closed_database_is_reported_unavailable(db: &TestDb) {
    let health = db.health();
    let sessions = db.sessions();
    db.store.clone().close().await.unwrap();
    let checked = health.check().await;
    assert!(
        matches!(checked, Err(StoreError::Unavailable(_))),
        "{checked:?}"
    );
    let found = sessions.find(&sid("any")).await;
    assert!(
        matches!(found, Err(StoreError::Unavailable(_))),
        "{found:?}"
    );
}
