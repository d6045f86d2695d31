//! What the import sink must do with pending invites and ephemeral keys on every backend:
//! invites keyed by token (identical: unchanged; different: a conflict, Verity's kept), keys by
//! value, an imported invite without its key stored with none, a dry run writing nothing.
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{ImportSink, ImportedInvite, InviteStore, PageOutcome};
use verity_domain::{
    InviteToken, KeyId, Medium, PublicKey, SigningKey, ThreePid, Timestamp, UserId,
};

use super::harness::TestDb;

/// Sydent's `received_ts` of the invites, made milliseconds.
const RECEIVED: u64 = 1_767_225_600_000;

fn imported(token: &str, address: &str, key: Option<PublicKey>) -> ImportedInvite {
    ImportedInvite {
        token: InviteToken::parse(token).unwrap(),
        threepid: ThreePid::parse(Medium::Email, address).unwrap(),
        room_id: "!room:example.org".to_owned(),
        sender: UserId::parse("@inviter:example.org").unwrap(),
        created_at: Timestamp::from_millis(RECEIVED),
        ephemeral_key: key,
    }
}

fn ephemeral(n: u8) -> PublicKey {
    SigningKey::from_seed(KeyId::ephemeral(), &[n; 32]).public_key()
}

fn outcome(added: u64, unchanged: u64) -> PageOutcome {
    PageOutcome {
        added,
        unchanged,
        ..PageOutcome::default()
    }
}

pub(crate) async fn an_imported_invite_without_its_key_is_pending_and_its_keys_are_valid(
    db: &TestDb,
) {
    let sink = db
        .store
        .import_sink(Timestamp::from_millis(RECEIVED + 5))
        .with_invite_expiry(Some(Duration::from_secs(3_600)));
    let keys = [ephemeral(1), ephemeral(2)];
    assert_eq!(
        sink.ephemeral_keys(&keys, false).await.unwrap(),
        outcome(2, 0)
    );
    let page = [imported("sydenttoken", "guest@example.org", None)];
    assert_eq!(sink.invites(&page, false).await.unwrap(), outcome(1, 0));

    let invites = db.invites();
    let stored = invites
        .find(&page[0].token)
        .await
        .unwrap()
        .expect("the imported invite");
    assert_eq!(stored.ephemeral_key, None);
    assert_eq!(stored.created_at, Timestamp::from_millis(RECEIVED));
    // Verity's expiry, counted from the time Sydent received it.
    assert_eq!(
        stored.expires_at,
        Some(Timestamp::from_millis(RECEIVED + 3_600_000))
    );
    assert_eq!(stored.delivery, None);
    let pending = invites
        .unbound(&page[0].threepid, Timestamp::from_millis(RECEIVED + 1))
        .await
        .unwrap();
    assert_eq!(pending, vec![stored]);
    for key in keys {
        assert!(invites.imported_ephemeral_key(&key).await.unwrap());
    }
    assert!(!invites.imported_ephemeral_key(&ephemeral(3)).await.unwrap());

    // A second import changes nothing.
    assert_eq!(
        sink.ephemeral_keys(&keys, false).await.unwrap(),
        outcome(0, 2)
    );
    assert_eq!(sink.invites(&page, false).await.unwrap(), outcome(0, 1));
}

pub(crate) async fn an_imported_invite_with_its_key_keeps_it_and_never_expires_without_expiry(
    db: &TestDb,
) {
    let sink = db.store.import_sink(Timestamp::from_millis(RECEIVED));
    let page = [imported(
        "ma1sdtoken",
        "guest@example.org",
        Some(ephemeral(4)),
    )];
    assert_eq!(sink.invites(&page, false).await.unwrap(), outcome(1, 0));
    let invites = db.invites();
    let stored = invites.find(&page[0].token).await.unwrap().unwrap();
    assert_eq!(stored.ephemeral_key, Some(ephemeral(4)));
    assert_eq!(stored.expires_at, None);
    assert!(
        invites
            .ephemeral_key_in_use(&ephemeral(4), Timestamp::from_millis(u64::from(u32::MAX)))
            .await
            .unwrap()
    );
    // Linked to its invite, it is not one of the keys imported apart.
    assert!(!invites.imported_ephemeral_key(&ephemeral(4)).await.unwrap());
}

pub(crate) async fn an_invite_token_verity_holds_differently_is_a_conflict_and_kept(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(RECEIVED));
    let first = imported("sametoken", "guest@example.org", None);
    assert_eq!(
        sink.invites(std::slice::from_ref(&first), false)
            .await
            .unwrap(),
        outcome(1, 0)
    );
    let mut other_room = first.clone();
    other_room.room_id = "!other:example.org".to_owned();
    let new = imported("newtoken", "guest@example.org", None);
    let result = sink
        .invites(&[new.clone(), other_room], false)
        .await
        .unwrap();
    assert_eq!(result.added, 1);
    assert_eq!(result.conflicts.len(), 1);
    assert_eq!(result.conflicts[0].0, 1);
    assert!(result.conflicts[0].1.contains("another room"), "{result:?}");
    assert!(!result.conflicts[0].1.contains("sametoken"), "{result:?}");
    let kept = db.invites().find(&first.token).await.unwrap().unwrap();
    assert_eq!(kept.room_id, "!room:example.org");
    assert!(db.invites().find(&new.token).await.unwrap().is_some());
}

pub(crate) async fn a_dry_run_of_invites_and_keys_reports_the_outcome_and_writes_nothing(
    db: &TestDb,
) {
    let sink = db.store.import_sink(Timestamp::from_millis(RECEIVED));
    let page = [imported("drytoken", "guest@example.org", None)];
    assert_eq!(
        sink.ephemeral_keys(&[ephemeral(5)], true).await.unwrap(),
        outcome(1, 0)
    );
    assert_eq!(sink.invites(&page, true).await.unwrap(), outcome(1, 0));
    let invites = db.invites();
    assert!(invites.find(&page[0].token).await.unwrap().is_none());
    assert!(!invites.imported_ephemeral_key(&ephemeral(5)).await.unwrap());
}
