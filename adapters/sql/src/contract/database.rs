//! Cases that need the database itself: rows no store would write, and the health check.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{AccountStore, SessionStore, StoreError, TermsStore};
use verity_domain::Timestamp;

use super::accounts::{fingerprint, user};
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

/// An INSERT of an account for `token` with the given SQL literals.
pub(crate) fn account_sql(
    token: &str,
    user_id: &str,
    created_at: &str,
    expires_at: &str,
) -> String {
    format!(
        "INSERT INTO verity_account (token, user_id, created_at, expires_at) \
         VALUES ('{}', {user_id}, {created_at}, {expires_at})",
        fingerprint(token).as_str()
    )
}

pub(crate) async fn an_account_row_that_does_not_parse_is_reported_as_corrupt(db: &TestDb) {
    let store = db.accounts();
    let bad_rows = [
        ("bad-user", "'not a user id'", "1000", "NULL", "user_id"),
        ("no-server", "'@alice'", "1000", "500", "user_id"),
        (
            "negative-created",
            "'@a:example.org'",
            "-5",
            "NULL",
            "created_at",
        ),
        (
            "negative-expiry",
            "'@a:example.org'",
            "1000",
            "-1",
            "expires_at",
        ),
    ];
    for (token, user_id, created_at, expires_at, _) in bad_rows {
        db.execute(&account_sql(token, user_id, created_at, expires_at))
            .await;
    }
    for (token, _, _, _, named) in bad_rows {
        let result = store.find(&fingerprint(token)).await;
        assert!(
            matches!(&result, Err(StoreError::Corrupt(what)) if what.contains(named)),
            "{token}: {result:?}"
        );
        // The message names the row by its fingerprint and never echoes the bad user ID.
        let message = result.unwrap_err().to_string();
        assert!(message.contains(fingerprint(token).as_str()), "{message}");
        assert!(!message.contains("not a user id"), "{message}");
    }
    // Corrupt rows must not block the purge that removes the expired ones, nor their deletion.
    let purged = store.purge_expired(Timestamp::from_millis(1_000)).await;
    assert_eq!(purged.unwrap(), 2);
    assert!(store.delete(&fingerprint("bad-user")).await.unwrap());
}

pub(crate) async fn accepting_again_keeps_the_first_acceptance_time(db: &TestDb) {
    let terms = db.terms();
    let alice = user("@alice:example.org");
    let tos = ["https://example.org/tos".to_owned()];
    terms
        .accept(&alice, &tos, Timestamp::from_millis(1_000))
        .await
        .unwrap();
    terms
        .accept(&alice, &tos, Timestamp::from_millis(9_000))
        .await
        .unwrap();
    let times = db
        .query_i64("SELECT accepted_at FROM verity_terms_acceptance")
        .await;
    assert_eq!(times, vec![1_000]);
}

pub(crate) async fn the_health_check_passes_while_the_database_answers(db: &TestDb) {
    let health = db.health();
    assert_eq!(health.name(), "store");
    health.check().await.unwrap();
}

pub(crate) async fn a_closed_database_is_reported_unavailable(db: &TestDb) {
    let health = db.health();
    let sessions = db.sessions();
    let (accounts, terms) = (db.accounts(), db.terms());
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
    let account = accounts.find(&fingerprint("any")).await;
    assert!(
        matches!(account, Err(StoreError::Unavailable(_))),
        "{account:?}"
    );
    let accepted = terms.accepted(&user("@any:example.org")).await;
    assert!(
        matches!(accepted, Err(StoreError::Unavailable(_))),
        "{accepted:?}"
    );
}
