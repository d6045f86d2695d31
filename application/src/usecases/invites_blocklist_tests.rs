use pretty_assertions::assert_eq;
use verity_domain::InviteBlocklist;

use super::*;

fn blocklist() -> InviteBlocklist {
    InviteBlocklist::new(
        ["casino".to_owned(), "http".to_owned()],
        ["!spam:example.org".to_owned()],
        ["evil.example".to_owned()],
    )
}

/// A service whose mailer and connector expect no call: one would fail the test.
fn guarded() -> (InviteService, Arc<FakeInviteStore>) {
    let mut world = World::new();
    world.blocklist = blocklist();
    let (service, store, _, _) = world.service();
    (service, store)
}

#[tokio::test]
async fn a_refused_invite_never_reaches_the_store_or_the_mailer() {
    let mut from_evil = request("ginger@example.com");
    from_evil.sender = user("@spammer:evil.example");
    from_evil.requester = None;
    let mut in_spam_room = request("ginger@example.com");
    in_spam_room.room_id = "!spam:example.org".into();
    let mut keyword = request("ginger@example.com");
    keyword.details.room_name = Some("Big CASINO night".into());
    let mut keyword_in_address = request("casino-fan@example.com");
    keyword_in_address.details = InviteDetails::default();
    for refused in [from_evil, in_spam_room, keyword, keyword_in_address] {
        let (service, store) = guarded();
        let error = service.store_invite(refused.clone()).await.unwrap_err();
        assert!(
            matches!(error, InviteError::NotAllowed),
            "{refused:?}: {error:?}"
        );
        assert!(store.all().is_empty(), "{refused:?}");
    }
}

#[tokio::test]
async fn the_web_client_location_scheme_does_not_match_a_keyword_but_its_host_does() {
    let mut world = World::new().sending();
    world.blocklist = blocklist();
    let (service, store, _, _) = world.service();
    let mut plain = request("ginger@example.com");
    plain.details.web_client_location = Some("https://app.element.io".into());
    service.store_invite(plain).await.unwrap();
    assert_eq!(store.all().len(), 1);

    let (service, store) = guarded();
    let mut named = request("ginger@example.com");
    named.details.web_client_location = Some("https://http-casino.example".into());
    assert!(matches!(
        service.store_invite(named).await,
        Err(InviteError::NotAllowed)
    ));
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn without_a_blocklist_the_same_invite_is_stored_and_sent() {
    let (service, store, _, _) = World::new().sending().service();
    let mut keyword = request("ginger@example.com");
    keyword.details.room_name = Some("Big CASINO night".into());
    service.store_invite(keyword).await.unwrap();
    assert_eq!(store.all().len(), 1);
}
