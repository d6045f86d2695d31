//! Pending invites survive the move from Sydent (issue 12): after `verity import sydent` of a
//! deployment made by the real Sydent 2.6.1, its ephemeral public keys still answer
//! `valid: true` at `/pubkey/ephemeral/isvalid` (in Sydent's URL-safe spelling, as homeservers
//! got it), and once the pending invite's address is validated and bound on Verity, the
//! homeserver receives `3pid/onbind` with the invite's token signed by Sydent's `ed25519:0`.
//! The invite Sydent already delivered is not imported.
//!
//! Needs `VERITY_TEST_SYDENT` (scripts/test sets it); without it the test passes with a note,
//! except under CI where it fails.
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{KeyId, PublicKey, verify_json};
use verity_testkit::sydent::{Options, SydentDeployment, python};
use verity_tests::{
    Backend, HOMESERVER, Peers, TestApp, spawn_app_with, stdout_of_success, verity_binary,
};

use super::import_sydent::{SERVER_NAME, get, import, post, sqlite_storage, verity_config};

#[tokio::test]
async fn a_pending_sydent_invite_is_delivered_signed_by_sydents_key_once_its_address_is_bound_on_verity()
 {
    let Some(python) = python() else { return };
    let deployment = SydentDeployment::make(
        &python,
        &Options {
            server_name: SERVER_NAME.to_owned(),
        },
    );
    let summary = deployment.summary().clone();
    let pending: Vec<_> = summary
        .invites
        .iter()
        .filter(|invite| invite.sent_ts.is_none())
        .collect();
    let delivered = summary.invites.len() - pending.len();
    assert_eq!(pending.len(), 1, "the fixture has one pending invite");
    assert!(delivered > 0, "and one Sydent delivered");
    let invite = pending[0];
    let keys_count = summary.ephemeral_public_keys.len();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("verity.db");
    let storage = sqlite_storage(&db);
    let (keys, config) = verity_config(dir.path(), &storage);
    let binary = verity_binary();
    let first = stdout_of_success(&import(&binary, &deployment, &config, dir.path(), &[]));
    assert!(
        first.contains(&format!(
            "ephemeral keys: {keys_count} read, {keys_count} added, 0 unchanged, 0 conflicts, 0 rejected"
        )),
        "{first}"
    );
    assert!(
        first.contains("invites: 1 read, 1 added, 0 unchanged, 0 conflicts, 0 rejected"),
        "{first}"
    );
    assert!(
        !first.contains(invite.token.expose()),
        "the output never shows an invite token"
    );

    let peers = Peers::start().await;
    let extra = format!(
        "{}server:\n  name: {SERVER_NAME}\nkey:\n  path: '{}'\n{storage}",
        peers.yaml(),
        keys.display()
    );
    let app = spawn_app_with(Backend::SqliteAt(dir.path().join("unused.db")), &extra).await;

    ephemeral_keys_are_valid(&app, &summary.ephemeral_public_keys).await;

    let mxid = format!("@invited:{HOMESERVER}");
    bind(&app, &peers, &invite.address, &mxid).await;

    // The homeserver gets the imported invite, signed by Sydent's key under its id.
    let calls = peers
        .homeserver
        .wait_for_onbind(1, Duration::from_secs(10))
        .await;
    let call = &calls[0];
    assert_eq!(call["medium"], "email");
    assert_eq!(call["address"], invite.address);
    assert_eq!(call["mxid"], mxid);
    let invites = call["invites"].as_array().expect("the onbind invites");
    assert_eq!(invites.len(), 1, "only the pending invite: {call}");
    let delivered_invite = &invites[0];
    assert_eq!(delivered_invite["room_id"], invite.room_id);
    assert_eq!(delivered_invite["sender"], invite.sender);
    let signed = &delivered_invite["signed"];
    assert_eq!(signed["mxid"], mxid);
    assert!(
        signed["token"] == invite.token.expose(),
        "the invite's token"
    );
    let sydent_key = PublicKey::parse(&summary.signing_key.public_key).unwrap();
    verify_json(
        signed,
        SERVER_NAME,
        &KeyId::parse("ed25519:0").unwrap(),
        &sydent_key,
    )
    .unwrap_or_else(|error| panic!("{error}: {signed}"));
    app.stop().await.unwrap();

    // Imported again: nothing changes (the invite is bound and delivered since).
    let second = stdout_of_success(&import(&binary, &deployment, &config, dir.path(), &[]));
    assert!(
        second.contains(&format!(
            "ephemeral keys: {keys_count} read, 0 added, {keys_count} unchanged"
        )),
        "{second}"
    );
    assert!(
        second.contains("invites: 1 read, 0 added, 1 unchanged"),
        "{second}"
    );
}

/// Every ephemeral key Sydent made is valid, in the spelling Sydent handed out; another is not.
async fn ephemeral_keys_are_valid(app: &TestApp, keys: &[String]) {
    for key in keys {
        let path = format!("/_matrix/identity/v2/pubkey/ephemeral/isvalid?public_key={key}");
        let (status, answer) = get(app, &path, None).await;
        assert_eq!((status, answer), (200, json!({"valid": true})), "{key}");
    }
    let (_, unknown) = get(
        app,
        "/_matrix/identity/v2/pubkey/ephemeral/isvalid?public_key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        None,
    )
    .await;
    assert_eq!(unknown, json!({"valid": false}));
}

/// Validates `address` over v1 by its emailed link and binds it to `mxid`.
async fn bind(app: &TestApp, peers: &Peers, address: &str, mxid: &str) {
    let body = json!({"client_secret": "secretInv", "email": address, "send_attempt": 1});
    let (status, session) = post(
        app,
        "/_matrix/identity/api/v1/validate/email/requestToken",
        None,
        &body,
    )
    .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(peers.open_emailed_link(app).await, 200);
    let body = json!({"sid": session["sid"], "client_secret": "secretInv", "mxid": mxid});
    let (status, bound) = post(app, "/_matrix/identity/api/v1/3pid/bind", None, &body).await;
    assert_eq!(status, 200, "{bound}");
}
