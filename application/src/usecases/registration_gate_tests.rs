//! The registration gate: the policy decides, the pending invites are read only when they can
//! change the answer, and only an allowed request reaches the homeserver.
use std::collections::BTreeMap;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{DomainRule, Invite, InviteToken, Medium, MediumRules, Requester, Timestamp};

use super::*;
use crate::ports::driven::{
    ClientApiVersion, HomeserverAsUserError, HomeserverRoute, MockClock, MockInviteStore,
    MockRegistrationRelay, StoreError,
};
use crate::usecases::test_support::{email, user};

const NOW: u64 = 1_700_000_000_000;

fn invite_for(threepid: &ThreePid) -> Invite {
    Invite {
        token: InviteToken::parse("tok00001").unwrap(),
        threepid: threepid.clone(),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: None,
        created_at: Timestamp::from_millis(NOW),
        expires_at: None,
        delivery: None,
    }
}

fn request() -> RelayedRequest {
    RelayedRequest {
        body: br#"{"client_secret":"s3cret","email":"alice@example.org","send_attempt":1}"#
            .to_vec(),
        requester: Requester::new(Some("203.0.113.7".parse().unwrap()), ["198.51.100.1"]),
    }
}

fn route() -> HomeserverRoute {
    HomeserverRoute {
        host: None,
        version: ClientApiVersion::V3,
    }
}

fn clock() -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(Timestamp::from_millis(NOW));
    Arc::new(clock)
}

fn answer() -> RelayedAnswer {
    RelayedAnswer {
        status: 200,
        body: br#"{"sid":"abc"}"#.to_vec(),
    }
}

fn relay_once() -> MockRegistrationRelay {
    let mut relay = MockRegistrationRelay::new();
    relay
        .expect_request_token()
        .with(eq(route()), eq(Medium::Email), eq(request()))
        .times(1)
        .returning(|_, _, _| Ok(answer()));
    relay
}

fn never_relayed() -> MockRegistrationRelay {
    let mut relay = MockRegistrationRelay::new();
    relay.expect_request_token().never();
    relay
}

fn invites(pending: Vec<Invite>) -> MockInviteStore {
    let mut store = MockInviteStore::new();
    store
        .expect_unbound()
        .withf(|_, now| *now == Timestamp::from_millis(NOW))
        .times(1)
        .returning(move |_, _| Ok(pending.clone()));
    store
}

fn gate(
    policy: RegistrationPolicy,
    store: MockInviteStore,
    relay: MockRegistrationRelay,
) -> RegistrationGateService {
    RegistrationGateService::new(
        policy,
        verity_domain::MatrixDomain::parse("example.org").unwrap(),
        Arc::new(store),
        Arc::new(relay),
        clock(),
    )
}

#[tokio::test]
async fn an_invite_from_another_homeservers_user_does_not_open_registration() {
    let alice = email("alice@example.org");
    let mut from_elsewhere = invite_for(&alice);
    from_elsewhere.sender = user("@anyone:elsewhere.example");
    let gate = gate(
        RegistrationPolicy::default(),
        invites(vec![from_elsewhere]),
        never_relayed(),
    );
    let error = gate
        .request_token(&route(), &alice, &request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationGateError::Refused(Medium::Email)),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_address_with_a_pending_invite_is_passed_on_and_the_homeservers_answer_returned() {
    let alice = email("alice@example.org");
    let gate = gate(
        RegistrationPolicy::default(),
        invites(vec![invite_for(&alice)]),
        relay_once(),
    );
    assert_eq!(
        gate.request_token(&route(), &alice, &request())
            .await
            .unwrap(),
        answer()
    );
}

#[tokio::test]
async fn an_address_without_an_invite_is_refused_by_default_and_the_homeserver_never_asked() {
    let gate = gate(
        RegistrationPolicy::default(),
        invites(vec![]),
        never_relayed(),
    );
    let error = gate
        .request_token(&route(), &email("alice@example.org"), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationGateError::Refused(Medium::Email)),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "Your email address cannot be used for registration"
    );
}

#[tokio::test]
async fn a_whitelisted_domain_registers_without_asking_for_invites_when_invites_are_off() {
    let policy = RegistrationPolicy {
        invite: false,
        rules: BTreeMap::from([(
            Medium::Email,
            MediumRules {
                whitelisted_domains: vec![DomainRule::parse("*example.org").unwrap()],
                ..MediumRules::default()
            },
        )]),
        ..RegistrationPolicy::default()
    };
    let mut store = MockInviteStore::new();
    store.expect_unbound().never();
    let gate = gate(policy, store, relay_once());
    assert_eq!(
        gate.request_token(&route(), &email("alice@example.org"), &request())
            .await
            .unwrap(),
        answer()
    );
}

#[tokio::test]
async fn when_the_invites_cannot_be_read_nothing_is_passed_on() {
    let mut store = MockInviteStore::new();
    store
        .expect_unbound()
        .returning(|_, _| Err(StoreError::Unavailable("down".into())));
    let gate = gate(RegistrationPolicy::default(), store, never_relayed());
    let error = gate
        .request_token(&route(), &email("alice@example.org"), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationGateError::Store(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_homeserver_that_cannot_be_asked_is_an_error_not_an_answer() {
    let mut relay = MockRegistrationRelay::new();
    relay
        .expect_request_token()
        .returning(|_, _, _| Err(HomeserverAsUserError::InvalidResponse("not JSON".into())));
    let policy = RegistrationPolicy {
        allowed: true,
        ..RegistrationPolicy::default()
    };
    let gate = gate(policy, invites(vec![]), relay);
    let error = gate
        .request_token(&route(), &email("alice@example.org"), &request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationGateError::Homeserver(_)),
        "{error:?}"
    );
}
