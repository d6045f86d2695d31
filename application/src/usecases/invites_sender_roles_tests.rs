//! `invite.policy.ifSender.hasRole` at `store-invite`: a sender without a required role is
//! refused before anything is stored or sent; an outage of the stores refuses too.
use std::sync::Arc;

use pretty_assertions::assert_eq;
use verity_domain::{Profile, SenderRoles};

use super::*;
use crate::ports::driven::{BackendError, MockProfileSource, ProfileSource};

/// A store that knows `@inviter:example.org` (the tests' sender) with `roles`.
fn inviter_with(roles: &'static [&'static str]) -> Arc<dyn ProfileSource> {
    let mut source = MockProfileSource::new();
    source.expect_name().return_const("memory");
    source.expect_profile().returning(move |user| {
        Ok((user.as_str() == "@inviter:example.org").then(|| {
            let mut profile = Profile::default();
            for role in roles {
                profile.add_role(role);
            }
            profile
        }))
    });
    Arc::new(source)
}

fn staff_only(source: Arc<dyn ProfileSource>) -> SenderRoleCheck {
    SenderRoleCheck::new(SenderRoles::new(["staff".to_owned()]), vec![source])
}

#[tokio::test]
async fn a_sender_holding_a_required_role_stores_and_sends_the_invite() {
    let (service, store, _, _) = World::new().sending().service();
    let service = service.with_sender_roles(staff_only(inviter_with(&["staff"])));
    service
        .store_invite(request("ginger@example.com"))
        .await
        .unwrap();
    assert_eq!(store.all().len(), 1);
}

#[tokio::test]
async fn a_sender_without_the_role_is_refused_before_anything_is_stored_or_sent() {
    let (service, store, _, _) = World::new().service();
    let service = service.with_sender_roles(staff_only(inviter_with(&["guests"])));
    let error = service
        .store_invite(request("ginger@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(error, InviteError::NotAllowed), "{error:?}");
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn stores_that_cannot_be_asked_refuse_the_invite_rather_than_let_it_through() {
    let mut down = MockProfileSource::new();
    down.expect_name().return_const("rest");
    down.expect_profile()
        .returning(|_| Err(BackendError::Corrupt("down".into())));
    let (service, store, _, _) = World::new().service();
    let service = service.with_sender_roles(staff_only(Arc::new(down)));
    let error = service
        .store_invite(request("ginger@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(error, InviteError::Backend(_)), "{error:?}");
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn without_required_roles_the_stores_are_never_asked() {
    let mut never = MockProfileSource::new();
    never.expect_name().return_const("memory");
    never.expect_profile().never();
    let (service, store, _, _) = World::new().sending().service();
    let service = service.with_sender_roles(SenderRoleCheck::new(
        SenderRoles::default(),
        vec![Arc::new(never)],
    ));
    service
        .store_invite(request("ginger@example.com"))
        .await
        .unwrap();
    assert_eq!(store.all().len(), 1);
}
