//! What the operator's invite commands need (`verity admin invites`): every invite page by page,
//! and expiring one.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::InviteStore;
use verity_domain::{InviteToken, Timestamp};

use super::invites::invite;
use super::sessions::threepid;

pub(crate) async fn every_invite_is_paged_in_token_order_expired_and_bound_ones_included(
    store: &dyn InviteStore,
) {
    let mut bound = invite("c-bound", "b@example.org", 1_000, None);
    bound.delivery = super::invites::delivery_for_admin("@b:example.org");
    for i in [
        invite("b-expired", "a@example.org", 1_000, Some(1_500)),
        bound,
        invite("a-live", "a@example.org", 1_000, Some(9_000)),
    ] {
        store.insert(&i).await.unwrap();
    }
    let first = store.page(None, 2).await.unwrap();
    let tokens = |page: &[verity_domain::Invite]| -> Vec<String> {
        page.iter().map(|i| i.token.as_str().to_owned()).collect()
    };
    assert_eq!(tokens(&first), ["a-live", "b-expired"]);
    let rest = store.page(Some(first[1].token.clone()), 2).await.unwrap();
    assert_eq!(tokens(&rest), ["c-bound"]);
    assert!(
        store
            .page(Some(rest[0].token.clone()), 2)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn an_expired_invite_is_gone_from_every_query_and_an_earlier_expiry_is_kept(
    store: &dyn InviteStore,
) {
    let token = |raw: &str| InviteToken::parse(raw).unwrap();
    store
        .insert(&invite("live", "a@example.org", 1_000, None))
        .await
        .unwrap();
    store
        .insert(&invite("early", "a@example.org", 1_000, Some(2_000)))
        .await
        .unwrap();
    let now = Timestamp::from_millis(5_000);

    assert!(store.expire(&token("live"), now).await.unwrap());
    assert!(store.expire(&token("early"), now).await.unwrap());
    assert!(!store.expire(&token("missing"), now).await.unwrap());

    let live = store.find(&token("live")).await.unwrap().unwrap();
    assert_eq!(live.expires_at, Some(now));
    let early = store.find(&token("early")).await.unwrap().unwrap();
    assert_eq!(early.expires_at, Some(Timestamp::from_millis(2_000)));
    assert!(
        store
            .unbound(&threepid("email", "a@example.org"), now)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.purge_expired(now).await.unwrap(), 2);
}
