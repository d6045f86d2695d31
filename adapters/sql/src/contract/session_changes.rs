//! The conditional changes of a stored session: each writes only its own fields, and only while
//! the session is in the state it was computed from (issue 13, "Atomic session state").
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{Change, Counted, SessionStore};
use verity_domain::{
    RemoteSession, SendAttempt, SessionId, SessionMode, SessionParts, Timestamp, UserId,
    ValidationToken,
};

use super::sessions::{label, parts, remote_part, remote_pending, session, sid};

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn token() -> ValidationToken {
    ValidationToken::parse("AbCdEfGhIjKlMnOpQrStUvWxYz012345").unwrap()
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

async fn stored(store: &dyn SessionStore, id: &str) -> SessionParts {
    store.find(&sid(id)).await.unwrap().unwrap().parts().clone()
}

pub(crate) async fn changes_to_an_unknown_sid_are_stale_and_create_nothing(
    store: &dyn SessionStore,
) {
    let ghost = sid("ghost");
    let user = user("@alice:example.org");
    let remote = remote_part(None);
    let changes = [
        store.record_resend(&ghost, SendAttempt::new(2)).await,
        store.mark_validated(&ghost, &token(), at(5), None).await,
        store.record_remote_start(&ghost, None, &remote).await,
        store
            .mark_remote_validated(&ghost, &remote.sid, at(5))
            .await,
        store.record_local_bind(&ghost, &user).await,
        store.forget_local_bind(&ghost, &user).await,
    ];
    for change in changes {
        assert_eq!(change.unwrap(), Change::Stale);
    }
    assert_eq!(store.find(&ghost).await.unwrap(), None);
}

pub(crate) async fn a_resend_raises_send_attempt_only_and_never_lowers_it(
    store: &dyn SessionStore,
) {
    store
        .insert(&session(parts("resent", 1_000)))
        .await
        .unwrap();
    store.insert(&session(parts("other", 1_000))).await.unwrap();
    let counted = store.count_token_attempt(&sid("resent")).await.unwrap();
    assert_eq!(counted, Some(1));
    let id = sid("resent");
    for (attempt, expected, now_stored) in [
        (3, Change::Applied, 3),
        (3, Change::Stale, 3),
        (2, Change::Stale, 3),
        (4, Change::Applied, 4),
    ] {
        let change = store.record_resend(&id, SendAttempt::new(attempt)).await;
        assert_eq!(change.unwrap(), expected, "attempt {attempt}");
        assert_eq!(
            stored(store, "resent").await.send_attempt,
            SendAttempt::new(now_stored)
        );
    }
    let expected = SessionParts {
        send_attempt: SendAttempt::new(4),
        token_attempts: 1,
        ..parts("resent", 1_000)
    };
    assert_eq!(
        stored(store, "resent").await,
        expected,
        "nothing else moved"
    );
    assert_eq!(stored(store, "other").await, parts("other", 1_000));
}

pub(crate) async fn a_validation_is_recorded_once_with_its_remote_part_and_keeps_the_count(
    store: &dyn SessionStore,
) {
    store.insert(&session(parts("plain", 1_000))).await.unwrap();
    let forced = SessionParts {
        mode: SessionMode::RemotePending(label("central")),
        ..parts("forced", 1_000)
    };
    store.insert(&session(forced.clone())).await.unwrap();
    let _ = store.count_token_attempt(&sid("plain")).await.unwrap();

    let wrong = ValidationToken::parse("AnotherToken").unwrap();
    let change = store
        .mark_validated(&sid("plain"), &wrong, at(1_500), None)
        .await
        .unwrap();
    assert_eq!(change, Change::Stale, "another token");
    let change = store
        .mark_validated(&sid("plain"), &token(), at(1_500), None)
        .await
        .unwrap();
    assert_eq!(change, Change::Applied);
    let change = store
        .mark_validated(&sid("plain"), &token(), at(9_000), None)
        .await
        .unwrap();
    assert_eq!(change, Change::Stale, "validated already");
    let expected = SessionParts {
        validated_at: Some(at(1_500)),
        token_attempts: 1,
        ..parts("plain", 1_000)
    };
    assert_eq!(stored(store, "plain").await, expected);

    let remote = remote_part(None);
    let change = store
        .mark_validated(&sid("forced"), &token(), at(1_600), Some(&remote))
        .await
        .unwrap();
    assert_eq!(change, Change::Applied);
    let expected = SessionParts {
        validated_at: Some(at(1_600)),
        remote: Some(remote),
        ..forced
    };
    assert_eq!(stored(store, "forced").await, expected);
}

pub(crate) async fn a_counted_submission_validates_only_with_the_right_token_within_the_cap(
    store: &dyn SessionStore,
) {
    store
        .insert(&session(parts("counted", 1_000)))
        .await
        .unwrap();
    store.insert(&session(parts("other", 1_000))).await.unwrap();
    let id = sid("counted");
    let wrong = ValidationToken::parse("AnotherToken").unwrap();
    let submit = |token: ValidationToken, cap: u32, when: u64| {
        let id = id.clone();
        async move {
            store
                .count_and_validate(&id, &token, cap, at(when))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        submit(wrong.clone(), 3, 1_100).await,
        Counted::Refused { attempt: 1 },
        "another token"
    );
    assert_eq!(
        submit(token(), 1, 1_200).await,
        Counted::Refused { attempt: 2 },
        "the right token past the cap"
    );
    assert_eq!(stored(store, "counted").await.validated_at, None);
    assert_eq!(
        submit(token(), 3, 1_300).await,
        Counted::Validated { attempt: 3 },
        "the right token, third of at most three"
    );
    for (token, when) in [(token(), 1_400), (wrong, 1_500)] {
        assert_eq!(
            submit(token, 3, when).await,
            Counted::Stale,
            "validated already: nothing counted"
        );
    }
    let expected = SessionParts {
        validated_at: Some(at(1_300)),
        token_attempts: 3,
        ..parts("counted", 1_000)
    };
    assert_eq!(stored(store, "counted").await, expected);
    assert_eq!(stored(store, "other").await, parts("other", 1_000));
    let ghost = store
        .count_and_validate(&sid("ghost"), &token(), 3, at(5))
        .await;
    assert_eq!(ghost.unwrap(), Counted::Stale);
    assert_eq!(store.find(&sid("ghost")).await.unwrap(), None);
}

pub(crate) async fn a_remote_start_and_its_validation_apply_only_on_the_state_they_follow(
    store: &dyn SessionStore,
) {
    store.insert(&remote_pending("remote", None)).await.unwrap();
    let id = sid("remote");
    let first = remote_part(None);
    let again = RemoteSession {
        send_attempt: SendAttempt::new(4),
        ..first.clone()
    };
    let moved = RemoteSession {
        sid: sid("remote-moved"),
        send_attempt: SendAttempt::new(5),
        ..first.clone()
    };
    let start = |previous: Option<u64>, remote: &RemoteSession| {
        let remote = remote.clone();
        let id = id.clone();
        async move {
            store
                .record_remote_start(&id, previous.map(SendAttempt::new), &remote)
                .await
                .unwrap()
        }
    };
    assert_eq!(start(Some(3), &first).await, Change::Stale, "none yet");
    assert_eq!(start(None, &first).await, Change::Applied);
    assert_eq!(start(None, &again).await, Change::Stale, "started already");
    assert_eq!(start(Some(3), &again).await, Change::Applied);
    assert_eq!(stored(store, "remote").await.remote, Some(again.clone()));

    let validate = |remote_sid: SessionId, when: u64| {
        let id = id.clone();
        async move {
            store
                .mark_remote_validated(&id, &remote_sid, at(when))
                .await
                .unwrap()
        }
    };
    assert_eq!(validate(sid("elsewhere"), 2_000).await, Change::Stale);
    assert_eq!(validate(first.sid.clone(), 2_000).await, Change::Applied);
    assert_eq!(validate(first.sid.clone(), 3_000).await, Change::Stale);
    // A later start (asked again) keeps the validation the remote server confirmed.
    assert_eq!(start(Some(4), &moved).await, Change::Applied);
    let expected = RemoteSession {
        validated_at: Some(at(2_000)),
        ..moved
    };
    assert_eq!(stored(store, "remote").await.remote, Some(expected));
}

pub(crate) async fn a_bind_is_recorded_and_forgotten_only_for_the_user_it_names(
    store: &dyn SessionStore,
) {
    let offered = SessionParts {
        mode: SessionMode::LocalOfferRemote(label("central")),
        validated_at: Some(at(1_500)),
        ..parts("bound", 1_000)
    };
    store.insert(&session(offered.clone())).await.unwrap();
    let (id, alice, bob) = (
        sid("bound"),
        user("@alice:example.org"),
        user("@bob:other.example"),
    );
    let change = store.record_local_bind(&id, &alice).await.unwrap();
    assert_eq!(change, Change::Applied);
    assert_eq!(stored(store, "bound").await.bound_to, Some(alice.clone()));
    let change = store.record_local_bind(&id, &bob).await.unwrap();
    assert_eq!(change, Change::Applied, "the latest bind wins");
    let change = store.forget_local_bind(&id, &alice).await.unwrap();
    assert_eq!(change, Change::Stale, "bound to bob now: kept");
    assert_eq!(stored(store, "bound").await.bound_to, Some(bob.clone()));
    let change = store.forget_local_bind(&id, &bob).await.unwrap();
    assert_eq!(change, Change::Applied);
    assert_eq!(stored(store, "bound").await, offered);
}
