//! A remote step whose conditional change finds the session changed by a concurrent request:
//! nothing is overwritten, and the answer is what the store holds.
use mockall::Sequence;

use super::*;
use crate::ports::driven::Change;

/// A store whose first read finds `before` and later reads find `after` (what a concurrent
/// request stored meanwhile).
fn changed_meanwhile(before: ValidationSession, after: ValidationSession) -> MockSessionStore {
    let mut store = MockSessionStore::new();
    let mut reads = Sequence::new();
    store
        .expect_find()
        .times(1)
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(before.clone())));
    store
        .expect_find()
        .in_sequence(&mut reads)
        .returning(move |_| Ok(Some(after.clone())));
    store
}

#[tokio::test]
async fn a_start_another_request_recorded_first_shows_the_stored_remote_session() {
    let validated_there = started(Some(NOW - 1));
    let mut store = changed_meanwhile(
        session(forced(), true, None),
        session(forced(), true, Some(validated_there)),
    );
    store
        .expect_record_remote_start()
        .times(1)
        .returning(|_, _, _| Ok(Change::Stale));
    let mut remote = MockRemoteIdentityServers::new();
    remote.expect_resolve().returning(|_| Ok(server()));
    remote
        .expect_request_token()
        .returning(|_, _| Ok(SessionId::parse("lost-remote-sid").unwrap()));
    let shown = service(store, remote)
        .start(&sid(), &secret())
        .await
        .unwrap();
    assert!(shown.started);
    assert!(shown.validated, "the stored state, not this request's");
}

#[tokio::test]
async fn a_check_another_request_recorded_first_shows_the_stored_validation() {
    let mut store = changed_meanwhile(
        session(forced(), true, Some(started(None))),
        session(forced(), true, Some(started(Some(NOW - 1)))),
    );
    store
        .expect_mark_remote_validated()
        .times(1)
        .returning(|_, _, _| Ok(Change::Stale));
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_validated_3pid()
        .returning(|_, _, _| Ok(Some(email("bob@gmail.com"))));
    let shown = service(store, remote)
        .check(&sid(), &secret())
        .await
        .unwrap();
    assert!(shown.validated);
}
