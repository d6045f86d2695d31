//! What the operator's reads of the bindings need (`verity admin bindings`): a binding with when
//! it was made, and the bindings of one user.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BindingStore, StoredBinding};
use verity_domain::Timestamp;

use super::accounts::user;
use super::bindings::binding;
use super::sessions::threepid;

pub(crate) async fn a_binding_is_read_with_when_it_was_made_and_the_bindings_of_a_user_in_order(
    store: &dyn BindingStore,
) {
    let alice = "@alice:example.org";
    store
        .bind(
            &binding("msisdn", "447911123456", alice),
            Timestamp::from_millis(2_000),
        )
        .await
        .unwrap();
    store
        .bind(
            &binding("email", "z@example.org", alice),
            Timestamp::from_millis(1_000),
        )
        .await
        .unwrap();
    store
        .bind(
            &binding("email", "a@example.org", alice),
            Timestamp::from_millis(3_000),
        )
        .await
        .unwrap();
    store
        .bind(
            &binding("email", "bob@example.org", "@bob:example.org"),
            Timestamp::from_millis(4_000),
        )
        .await
        .unwrap();

    assert_eq!(
        store
            .stored(&threepid("email", "z@example.org"))
            .await
            .unwrap(),
        Some(StoredBinding {
            binding: binding("email", "z@example.org", alice),
            bound_at: Timestamp::from_millis(1_000),
            imported: false,
        })
    );
    assert_eq!(
        store
            .stored(&threepid("email", "nobody@example.org"))
            .await
            .unwrap(),
        None
    );
    let of_alice: Vec<(String, u64)> = store
        .of_user(&user(alice))
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.binding.threepid.address().to_owned(),
                s.bound_at.as_millis(),
            )
        })
        .collect();
    assert_eq!(
        of_alice,
        [
            ("a@example.org".to_owned(), 3_000),
            ("z@example.org".to_owned(), 1_000),
            ("447911123456".to_owned(), 2_000),
        ]
    );
    assert!(
        store
            .of_user(&user("@carol:example.org"))
            .await
            .unwrap()
            .is_empty()
    );
}
