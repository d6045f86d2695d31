//! SIGKILL while a pending invite is being delivered (`3pid/onbind`): the homeserver has the call
//! but Verity has not seen its answer.
use pretty_assertions::assert_eq;
use verity_tests::Backend;
use verity_tests::client::types;

use super::{Store, WAIT, deployment_with, validate};

/// The killed process's claim on the delivery lasts four times `federation.timeout`
/// (docs/instances.md): 4 s here, so the restarted one delivers within [`REDELIVERY`].
const SHORT_LEASE: &str = "federation:\n  timeout: 1s\n";
const REDELIVERY: std::time::Duration = std::time::Duration::from_secs(20);

const INVITEE: &str = "ginger@example.org";
const MXID: &str = "@ginger:example.org";

async fn delivery_killed_mid_onbind(backend: Backend) {
    let (deployment, peers) = deployment_with(backend, SHORT_LEASE).await;
    let verity = deployment.start().await;
    let stored = verity
        .client()
        .store_invite_v1(&crate::invites::invite_request(INVITEE))
        .await
        .expect("store-invite")
        .into_inner();
    peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    let sid = validate(&verity, &peers, INVITEE, "secretGinger").await;

    peers.homeserver.hold_onbind();
    verity
        .client()
        .bind_v1(&types::BindRequest {
            sid,
            client_secret: "secretGinger".into(),
            mxid: MXID.into(),
        })
        .await
        .expect("bind");
    // The homeserver has the invite; Verity waits for its answer and is killed.
    peers.homeserver.wait_for_held_onbind(1, WAIT).await;
    let first = peers.homeserver.onbind_calls();
    assert_eq!(
        first[0]["invites"][0]["signed"]["token"],
        stored.token.as_str()
    );
    verity.kill();
    peers.homeserver.release_onbind();

    let store = Store::open(&deployment).await;
    store.assert_intact().await;
    let invite = format!(
        "SELECT token, bound_mxid, delivery_state FROM verity_invite WHERE address = '{INVITEE}'"
    );
    let columns = ["token", "bound_mxid", "delivery_state"];
    let row = |state: &str| {
        vec![vec![
            Some(stored.token.clone()),
            Some(MXID.to_owned()),
            Some(state.to_owned()),
        ]]
    };
    // Not known to be delivered: still due (claimed by the dead process until its claim runs
    // out).
    assert_eq!(store.rows(&invite, &columns).await, row("due"));

    let verity = deployment.start().await;
    // Delivered again (at least once) once the claim ran out: the same call, which the
    // homeserver can recognise by the invite's token.
    let calls = peers.homeserver.wait_for_onbind(2, REDELIVERY).await;
    assert_eq!(calls[1], calls[0]);
    assert_eq!(
        calls[1]["invites"][0]["signed"]["token"],
        stored.token.as_str()
    );
    // Recorded as delivered, in the one row of the invite.
    store
        .wait_for_rows(&invite, &columns, &row("delivered"))
        .await;
    verity.kill();
    assert_eq!(peers.homeserver.onbind_calls().len(), 2);
}

#[tokio::test]
async fn sigkill_during_invite_delivery_delivers_it_again_after_the_restart_and_records_it_once() {
    delivery_killed_mid_onbind(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigkill_during_invite_delivery_on_postgresql_delivers_it_again_and_records_it_once() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    delivery_killed_mid_onbind(Backend::Postgres).await;
}
