//! SIGKILL while binds are in flight, and (PostgreSQL) after a bind was stored but before the
//! pending invites of its address were queued for delivery.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Verity};

use super::{Store, WAIT, deployment, register, validate};

/// Binds sent at once.
const BINDS: usize = 8;
/// Binds answered when the kill is sent; the others may be anywhere in their bind.
const ANSWERED_BEFORE_KILL: usize = 2;

fn email(i: usize) -> String {
    format!("bound{i}@example.org")
}

fn mxid(i: usize) -> String {
    format!("@user{i}:example.org")
}

async fn bind(client: &Client, sid: &str, secret: &str, mxid: &str) -> Result<Value, String> {
    client
        .bind_v1(&types::BindRequest {
            sid: sid.into(),
            client_secret: secret.into(),
            mxid: mxid.into(),
        })
        .await
        .map(|answer| serde_json::to_value(answer.into_inner()).expect("JSON"))
        .map_err(|error| error.to_string())
}

/// What the v1 lookup and the v2 hashed lookup answer for `address`: the Matrix IDs found.
async fn looked_up(
    verity: &Verity,
    user: &Client,
    address: &str,
) -> (Option<String>, Option<String>) {
    let v1 = verity
        .client()
        .lookup_v1(address, "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    let v1 = serde_json::to_value(v1).expect("JSON")["mxid"]
        .as_str()
        .map(str::to_owned);
    let pepper = user
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner()
        .lookup_pepper;
    let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} email {pepper}")));
    let v2 = user
        .lookup_users(&types::LookupBody {
            algorithm: "sha256".into(),
            pepper,
            addresses: vec![hash.clone()],
        })
        .await
        .expect("v2 lookup")
        .into_inner();
    let v2 = v2.mappings.get(&hash).cloned();
    (v1, v2)
}

async fn binds_killed_in_flight(backend: Backend) {
    let (deployment, peers) = deployment(backend).await;
    let verity = deployment.start().await;
    let mut sessions = Vec::new();
    for i in 0..BINDS {
        let secret = format!("secretBind{i}");
        let sid = validate(&verity, &peers, &email(i), &secret).await;
        sessions.push((sid, secret));
    }
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel();
    let calls: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, (sid, secret))| {
            let client = verity.client().clone();
            let answered = answered_tx.clone();
            tokio::spawn(async move {
                let result = bind(&client, &sid, &secret, &mxid(i)).await;
                if result.is_ok() {
                    let _ = answered.send(i);
                }
                result
            })
        })
        .collect();
    for _ in 0..ANSWERED_BEFORE_KILL {
        answered_rx.recv().await.expect("a bind answered");
    }
    verity.kill();
    let mut answered = Vec::new();
    for call in calls {
        answered.push(call.await.expect("the call's task").is_ok());
    }

    let verity = deployment.start().await;
    // Hashed lookups answer 503 until the table in memory is built from the bindings.
    verity
        .wait_for_log("lookup hash table complete", WAIT)
        .await;
    let store = Store::open(&deployment).await;
    store.assert_intact().await;
    let user = register(&verity, &peers, "looker").await;
    for (i, answered) in answered.into_iter().enumerate() {
        let stored = store
            .rows(
                &format!(
                    "SELECT mxid FROM verity_binding WHERE medium = 'email' AND address = '{}'",
                    email(i)
                ),
                &["mxid"],
            )
            .await;
        let (v1, v2) = looked_up(&verity, &user, &email(i)).await;
        if answered {
            assert_eq!(stored, [[Some(mxid(i))]], "answered bind {i} stored once");
            assert_eq!(
                (v1, v2),
                (Some(mxid(i)), Some(mxid(i))),
                "answered bind {i}"
            );
        } else if stored.is_empty() {
            assert_eq!(
                (v1, v2),
                (None, None),
                "bind {i} cut off before it was stored"
            );
        } else {
            assert_eq!(stored, [[Some(mxid(i))]], "bind {i} stored once");
            assert_eq!(
                (v1, v2),
                (Some(mxid(i)), Some(mxid(i))),
                "bind {i} stored whole"
            );
        }
    }
    verity.kill();
}

#[tokio::test]
async fn sigkill_during_binds_loses_no_answered_binding_and_leaves_none_half_published() {
    binds_killed_in_flight(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigkill_during_binds_on_postgresql_loses_no_answered_binding() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    binds_killed_in_flight(Backend::Postgres).await;
}

/// The invitee's address.
const INVITEE: &str = "ginger@example.org";

/// The bind stores the binding, then records that its address's pending invites are bound (to be
/// delivered). A lock on the invite table holds the bind between the two; the kill comes there.
/// After the restart the invite is delivered all the same: the bind is there whole.
#[tokio::test]
async fn sigkill_between_storing_a_bind_and_queueing_its_invites_still_delivers_them() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    let (deployment, peers) = deployment(Backend::Postgres).await;
    let verity = deployment.start().await;
    let stored = verity
        .client()
        .store_invite_v1(&crate::invites::invite_request(INVITEE))
        .await
        .expect("store-invite")
        .into_inner();
    peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    let sid = validate(&verity, &peers, INVITEE, "secretGinger").await;

    let store = Store::open(&deployment).await;
    let lock = store.db.begin().await.expect("a transaction");
    lock.execute_unprepared("LOCK TABLE verity_invite IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("the invite table locked");
    let client = verity.client().clone();
    let call =
        tokio::spawn(
            async move { bind(&client, &sid, "secretGinger", "@ginger:example.org").await },
        );
    // The bind waits for the lock in the query that reads the address's pending invites: its
    // binding is stored, its invites are not bound yet.
    store
        .wait_for_rows(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE 'SELECT%verity_invite%bound_mxid\" IS NULL%'",
            &["n"],
            &[vec![Some("1".to_owned())]],
        )
        .await;
    assert_eq!(
        store
            .count(&format!(
                "SELECT COUNT(*) AS n FROM verity_binding WHERE address = '{INVITEE}'"
            ))
            .await,
        1
    );
    verity.kill();
    assert!(call.await.expect("the call's task").is_err());
    lock.rollback().await.expect("the lock released");

    let verity = deployment.start().await;
    let calls = peers.homeserver.wait_for_onbind(1, WAIT).await;
    assert_eq!(calls[0]["mxid"], "@ginger:example.org");
    assert_eq!(
        calls[0]["invites"][0]["signed"]["token"],
        stored.token.as_str()
    );
    store
        .wait_for_rows(
            &format!(
                "SELECT bound_mxid, delivery_state FROM verity_invite WHERE token = '{}'",
                stored.token
            ),
            &["bound_mxid", "delivery_state"],
            &[vec![
                Some("@ginger:example.org".to_owned()),
                Some("delivered".to_owned()),
            ]],
        )
        .await;
    let user = register(&verity, &peers, "looker").await;
    verity
        .wait_for_log("lookup hash table complete", WAIT)
        .await;
    let found = looked_up(&verity, &user, INVITEE).await;
    assert_eq!(
        found,
        (
            Some("@ginger:example.org".to_owned()),
            Some("@ginger:example.org".to_owned())
        )
    );
    verity.kill();
}
