//! Sydent's invites and ephemeral keys, written as `JoinTokenStore` writes them.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::ImportSource;
use verity_domain::{KeyId, SigningKey, Timestamp};

use super::all;
use super::harness::SydentDb;

const TOKEN: &str = "pendingInviteTokenAAAA";

/// `JoinTokenStore.storeToken` (seconds).
async fn store_token(db: &SydentDb, address: &str, sender: &str, token: &str, received: &str) {
    db.execute(&format!(
        "INSERT INTO invite_tokens ('medium', 'address', 'room_id', 'sender', 'token', \
         'received_ts') VALUES ('email', '{address}', '!room:example.org', '{sender}', \
         '{token}', {received})"
    ))
    .await;
}

#[tokio::test]
async fn pending_invites_are_read_with_their_time_in_seconds_and_delivered_ones_only_counted() {
    let db = SydentDb::new().await;
    store_token(
        &db,
        "sent@example.org",
        "@a:example.org",
        "sentToken",
        "1700000000",
    )
    .await;
    // `markTokensAsSent`, as a bind of that address does.
    db.execute("UPDATE invite_tokens SET sent_ts = 1700000100 WHERE address = 'sent@example.org'")
        .await;
    store_token(
        &db,
        "guest@example.org",
        "@a:example.org",
        TOKEN,
        "1700000200",
    )
    .await;
    let key = SigningKey::from_seed(KeyId::ephemeral(), &[7; 32]).public_key();
    db.execute(&format!(
        "INSERT INTO ephemeral_public_keys (public_key, persistence_ts) VALUES ('{}', 1700000200)",
        key.to_base64_url()
    ))
    .await;
    let source = db.source().await;

    let counts = source.counts().await.unwrap();
    assert_eq!(
        (
            counts.invites,
            counts.delivered_invites,
            counts.ephemeral_keys
        ),
        (1, 1, 1)
    );
    let rows = all(1, |after, limit| source.invites(after, limit)).await;
    assert_eq!(rows.len(), 1);
    let invite = rows[0].record.as_ref().unwrap();
    assert_eq!(invite.token.as_str(), TOKEN);
    assert_eq!(invite.threepid.address(), "guest@example.org");
    assert_eq!(invite.created_at, Timestamp::from_millis(1_700_000_200_000));
    assert_eq!(invite.ephemeral_key, None);
    assert_eq!(rows[0].label, "invite of email g***@example.org");
    let keys = all(1, |after, limit| source.ephemeral_keys(after, limit)).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].record, Ok(key));
    db.finish().await;
}

#[tokio::test]
async fn invite_and_key_rows_that_cannot_be_imported_are_reported_without_the_token() {
    let db = SydentDb::new().await;
    store_token(&db, "a@example.org", "not-a-user", "tokenOne", "1700000000").await;
    store_token(
        &db,
        "b@example.org",
        "@a:example.org",
        "token two",
        "1700000000",
    )
    .await;
    store_token(&db, "c@example.org", "@a:example.org", "tokenThree", "NULL").await;
    store_token(&db, "d@example.org", "@a:example.org", "tokenFour", "-5").await;
    db.execute(
        "INSERT INTO ephemeral_public_keys (public_key, persistence_ts) VALUES ('short', 1)",
    )
    .await;
    let source = db.source().await;

    let rows = all(100, |after, limit| source.invites(after, limit)).await;
    let reasons: Vec<_> = rows
        .iter()
        .map(|row| row.record.as_ref().expect_err("refused").clone())
        .collect();
    assert_eq!(
        reasons,
        [
            "`sender` is not a Matrix user ID",
            "the token is not 1 to 255 characters of [0-9a-zA-Z.=_-]",
            "`received_ts` is NULL",
            "`received_ts` is negative",
        ]
    );
    let printed = format!("{rows:?}");
    for token in ["tokenOne", "token two", "tokenThree", "tokenFour"] {
        assert!(!printed.contains(token), "a token was printed");
    }
    let keys = all(100, |after, limit| source.ephemeral_keys(after, limit)).await;
    assert_eq!(
        keys[0].record,
        Err("`public_key` is not a base64 ed25519 public key".to_owned())
    );
    db.finish().await;
}
