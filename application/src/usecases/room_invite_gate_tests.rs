//! The invite policy: a 3PID invite goes through only when its sender, as the homeserver names
//! them, holds a required role in some store; a user invite, or any invite without a policy,
//! goes straight to the homeserver; an outage never lets an invite through.
use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{Profile, Requester};

use super::*;
use crate::ports::driven::{BackendError, ProfileSource};
use crate::ports::driven::{
    ClientApiVersion, HomeserverAsUserError, HomeserverUser, MockClock, MockHomeserverAsUser,
    MockProfileSource, MockRoomInviteRelay, RelayedRequest,
};
use crate::usecases::test_support::user;
use crate::usecases::{DEFAULT_WHOAMI_CACHE_CAPACITY, DEFAULT_WHOAMI_CACHE_LIFETIME};
use verity_domain::{SenderRoles, Timestamp};

const ROOM: &str = "!room:example.org";

fn route() -> HomeserverRoute {
    HomeserverRoute {
        host: None,
        version: ClientApiVersion::V3,
    }
}

fn token() -> HomeserverAccessToken {
    HomeserverAccessToken::parse("syt_alice_token").unwrap()
}

fn request(target: InviteTarget) -> RoomInviteRequest {
    RoomInviteRequest {
        room_id: ROOM.into(),
        target,
        relayed: RelayedRequest {
            body: br#"{"medium":"email","address":"bob@example.org","id_server":"id.example.org"}"#
                .to_vec(),
            requester: Requester::new(Some("203.0.113.7".parse().unwrap()), [] as [&str; 0]),
        },
    }
}

fn answer() -> RelayedAnswer {
    RelayedAnswer {
        status: 200,
        body: b"{}".to_vec(),
    }
}

fn staff() -> SenderRoles {
    SenderRoles::new(["staff".to_owned()])
}

/// `homeserver`'s `whoami` behind the cache, with the clock standing still.
fn cached(homeserver: MockHomeserverAsUser) -> Arc<CachedWhoami> {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Timestamp::from_millis(1_700_000_000_000));
    Arc::new(CachedWhoami::new(
        Arc::new(homeserver),
        Arc::new(clock),
        DEFAULT_WHOAMI_CACHE_LIFETIME,
        DEFAULT_WHOAMI_CACHE_CAPACITY,
    ))
}

/// A homeserver that names `user_id` once: asked again, the mock fails the test.
fn whoami(user_id: &str) -> Arc<CachedWhoami> {
    let mut homeserver = MockHomeserverAsUser::new();
    let user_id = user(user_id);
    homeserver
        .expect_whoami()
        .withf(|_, token| token.expose() == "syt_alice_token")
        .times(1)
        .returning(move |_, _| {
            Ok(HomeserverUser {
                user_id: user_id.clone(),
                is_guest: false,
            })
        });
    cached(homeserver)
}

fn never_asked() -> Arc<CachedWhoami> {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver.expect_whoami().never();
    cached(homeserver)
}

fn roles(name: &'static str, roles: &'static [&'static str]) -> Arc<dyn ProfileSource> {
    let mut source = MockProfileSource::new();
    source.expect_name().return_const(name);
    source.expect_profile().returning(move |_| {
        let mut profile = Profile::default();
        for role in roles {
            profile.add_role(role);
        }
        Ok(Some(profile))
    });
    Arc::new(source)
}

fn failing(name: &'static str) -> Arc<dyn ProfileSource> {
    let mut source = MockProfileSource::new();
    source.expect_name().return_const(name);
    source
        .expect_profile()
        .returning(|_| Err(BackendError::Corrupt("broken".into())));
    Arc::new(source)
}

fn relayed_once() -> Arc<dyn RoomInviteRelay> {
    let mut relay = MockRoomInviteRelay::new();
    relay
        .expect_invite()
        .with(
            eq(route()),
            mockall::predicate::always(),
            eq(ROOM),
            eq(request(InviteTarget::ThreePid).relayed),
        )
        .times(1)
        .returning(|_, _, _, _| Ok(answer()));
    Arc::new(relay)
}

fn never_relayed() -> Arc<dyn RoomInviteRelay> {
    let mut relay = MockRoomInviteRelay::new();
    relay.expect_invite().never();
    Arc::new(relay)
}

#[tokio::test]
async fn a_sender_holding_a_required_role_in_any_store_invites_by_3pid() {
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(
            staff(),
            vec![roles("ldap", &["guests"]), roles("memory", &["staff"])],
        ),
        whoami("@alice:example.org"),
        relayed_once(),
    );
    let answered = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap();
    assert_eq!(answered, answer());
}

#[tokio::test]
async fn a_sender_without_a_required_role_is_refused_and_the_homeserver_never_sees_the_invite() {
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![roles("memory", &["guests", "Staff"])]),
        whoami("@mallory:example.org"),
        never_relayed(),
    );
    let refused = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RoomInviteGateError::Refused),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "Your account is not allowed to invite that address"
    );
}

#[tokio::test]
async fn a_sender_no_store_knows_is_refused() {
    let mut unknown = MockProfileSource::new();
    unknown.expect_name().return_const("rest");
    unknown.expect_profile().returning(|_| Ok(None));
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![Arc::new(unknown)]),
        whoami("@stranger:example.org"),
        never_relayed(),
    );
    let refused = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RoomInviteGateError::Refused),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_asked_fails_the_invite_unless_another_grants_the_role() {
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![failing("ldap"), roles("memory", &["guests"])]),
        whoami("@alice:example.org"),
        never_relayed(),
    );
    let failed = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap_err();
    assert!(
        matches!(failed, RoomInviteGateError::Profiles(_)),
        "{failed:?}"
    );

    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![failing("ldap"), roles("memory", &["staff"])]),
        whoami("@alice:example.org"),
        relayed_once(),
    );
    gate.invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_the_homeserver_rejects_is_not_relayed() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_whoami()
        .returning(|_, _| Err(HomeserverAsUserError::TokenRejected));
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![roles("memory", &["staff"])]),
        cached(homeserver),
        never_relayed(),
    );
    let failed = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap_err();
    assert!(
        matches!(
            failed,
            RoomInviteGateError::Homeserver(HomeserverAsUserError::TokenRejected)
        ),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_user_invite_or_an_invite_without_a_policy_goes_straight_to_the_homeserver() {
    let mut relay = MockRoomInviteRelay::new();
    relay
        .expect_invite()
        .times(2)
        .returning(|_, _, _, _| Ok(answer()));
    let relay: Arc<dyn RoomInviteRelay> = Arc::new(relay);
    let by_user = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![failing("ldap")]),
        never_asked(),
        relay.clone(),
    );
    by_user
        .invite(&route(), &token(), &request(InviteTarget::User))
        .await
        .unwrap();
    let no_policy = RoomInviteGateService::new(
        SenderRoleCheck::new(SenderRoles::default(), vec![failing("ldap")]),
        never_asked(),
        relay,
    );
    no_policy
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_homeserver_answer_comes_back_as_it_was() {
    let mut relay = MockRoomInviteRelay::new();
    relay.expect_invite().returning(|_, _, _, _| {
        Ok(RelayedAnswer {
            status: 403,
            body: br#"{"errcode":"M_FORBIDDEN","error":"not in room"}"#.to_vec(),
        })
    });
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![roles("memory", &["staff"])]),
        whoami("@alice:example.org"),
        Arc::new(relay),
    );
    let answered = gate
        .invite(&route(), &token(), &request(InviteTarget::ThreePid))
        .await
        .unwrap();
    assert_eq!(answered.status, 403);
}

#[tokio::test]
async fn a_sender_inviting_several_addresses_costs_the_homeserver_one_whoami() {
    let mut relay = MockRoomInviteRelay::new();
    relay
        .expect_invite()
        .times(3)
        .returning(|_, _, _, _| Ok(answer()));
    // `whoami` answers once; a second question would fail the test.
    let gate = RoomInviteGateService::new(
        SenderRoleCheck::new(staff(), vec![roles("memory", &["staff"])]),
        whoami("@alice:example.org"),
        Arc::new(relay),
    );
    for _ in 0..3 {
        gate.invite(&route(), &token(), &request(InviteTarget::ThreePid))
            .await
            .unwrap();
    }
}
