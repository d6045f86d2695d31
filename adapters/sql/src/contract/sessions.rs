//! What every [`SessionStore`] must do, whatever the database behind it.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{Change, SessionStore, StoreError};
use verity_domain::{
    ClientSecret, Medium, RemoteSession, SendAttempt, ServerLabel, SessionId, SessionMode,
    SessionParts, ThreePid, Timestamp, ValidationSession, ValidationToken,
};

/// The largest time a signed 64-bit millisecond column holds.
const LAST_STORABLE_MS: u64 = i64::MAX as u64;

pub(crate) fn sid(raw: &str) -> SessionId {
    SessionId::parse(raw).unwrap()
}

pub(crate) fn secret(raw: &str) -> ClientSecret {
    ClientSecret::parse(raw).unwrap()
}

pub(crate) fn threepid(medium: &str, address: &str) -> ThreePid {
    ThreePid::parse(Medium::parse(medium).unwrap(), address).unwrap()
}

pub(crate) fn label(raw: &str) -> ServerLabel {
    ServerLabel::parse(raw).unwrap()
}

/// A pending local email session created at `created_at`; tests change what they exercise.
pub(crate) fn parts(id: &str, created_at: u64) -> SessionParts {
    SessionParts {
        id: sid(id),
        client_secret: secret("s3cret"),
        threepid: threepid("email", "alice@example.org"),
        token: ValidationToken::parse("AbCdEfGhIjKlMnOpQrStUvWxYz012345").unwrap(),
        send_attempt: SendAttempt::new(1),
        next_link: None,
        mode: SessionMode::Local,
        created_at: Timestamp::from_millis(created_at),
        validated_at: None,
        token_attempts: 0,
        remote: None,
        bound_to: None,
    }
}

pub(crate) fn session(parts: SessionParts) -> ValidationSession {
    ValidationSession::from_parts(parts)
}

pub(crate) async fn insert_all(store: &dyn SessionStore, sessions: &[ValidationSession]) {
    for session in sessions {
        store.insert(session).await.unwrap();
    }
}

pub(crate) async fn a_session_round_trips_every_field(store: &dyn SessionStore) {
    let email = session(parts("email-local", 1_000));
    let msisdn = session(SessionParts {
        threepid: threepid("msisdn", "447911123456"),
        token: ValidationToken::parse("012345").unwrap(),
        next_link: Some("https://app.example.org/done?x=1&y=%20".to_owned()),
        mode: SessionMode::LocalOfferRemote(label("root")),
        send_attempt: SendAttempt::new(LAST_STORABLE_MS),
        validated_at: Some(Timestamp::from_millis(LAST_STORABLE_MS)),
        token_attempts: 3,
        ..parts("msisdn.offer_remote", 0)
    });
    let other = session(SessionParts {
        threepid: threepid("matrix.id", "Some-ID with spaces"),
        client_secret: secret("Other.Secret=_-9"),
        mode: SessionMode::RemotePending(label("matrix-org")),
        validated_at: Some(Timestamp::from_millis(2_001)),
        ..parts("other-remote", 2_000)
    });
    let all = [email, msisdn, other];
    insert_all(store, &all).await;
    for expected in &all {
        let found = store.find(expected.id()).await.unwrap();
        assert_eq!(found.as_ref(), Some(expected));
    }
}

pub(crate) async fn inserting_an_existing_sid_is_a_conflict_and_keeps_the_original(
    store: &dyn SessionStore,
) {
    let original = session(parts("dup", 1_000));
    store.insert(&original).await.unwrap();
    let intruder = session(SessionParts {
        client_secret: secret("another"),
        threepid: threepid("email", "mallory@example.org"),
        ..parts("dup", 5_000)
    });
    let err = store.insert(&intruder).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(store.find(&sid("dup")).await.unwrap(), Some(original));
}

pub(crate) async fn finding_an_unknown_sid_returns_none(store: &dyn SessionStore) {
    store.insert(&session(parts("known", 1_000))).await.unwrap();
    assert_eq!(store.find(&sid("unknown")).await.unwrap(), None);
}

pub(crate) async fn find_latest_picks_the_newest_session_of_the_3pid_and_secret(
    store: &dyn SessionStore,
) {
    let newest = session(parts("b-newest", 3_000));
    let later_but_elsewhere = 9_000;
    insert_all(
        store,
        &[
            session(parts("a-old", 1_000)),
            newest.clone(),
            session(parts("c-middle", 2_000)),
            session(SessionParts {
                client_secret: secret("other-secret"),
                ..parts("other-secret", later_but_elsewhere)
            }),
            session(SessionParts {
                threepid: threepid("email", "bob@example.org"),
                ..parts("other-address", later_but_elsewhere)
            }),
            session(SessionParts {
                threepid: threepid("matrix.id", "alice@example.org"),
                ..parts("other-medium", later_but_elsewhere)
            }),
        ],
    )
    .await;
    let alice = threepid("email", "alice@example.org");
    let found = store.find_latest(&alice, &secret("s3cret")).await.unwrap();
    assert_eq!(found, Some(newest));
    let none = store.find_latest(&alice, &secret("nobody")).await.unwrap();
    assert_eq!(none, None);
}

pub(crate) async fn find_latest_breaks_a_tie_in_creation_time_by_the_greatest_sid(
    store: &dyn SessionStore,
) {
    insert_all(
        store,
        &[
            session(parts("tie-a", 1_000)),
            session(parts("tie-c", 1_000)),
            session(parts("tie-b", 1_000)),
        ],
    )
    .await;
    let found = store
        .find_latest(&threepid("email", "alice@example.org"), &secret("s3cret"))
        .await
        .unwrap();
    assert_eq!(found.as_ref().map(|s| s.id().as_str()), Some("tie-c"));
}

pub(crate) async fn purge_deletes_exactly_the_sessions_last_modified_before_the_cutoff(
    store: &dyn SessionStore,
) {
    let validated = |id, created, validated| {
        session(SessionParts {
            validated_at: Some(Timestamp::from_millis(validated)),
            ..parts(id, created)
        })
    };
    insert_all(
        store,
        &[
            session(parts("old-pending", 5_000)),
            validated("old-validated", 1_000, 9_999),
            validated("old-but-recently-validated", 1_000, 12_000),
            session(parts("created-at-cutoff", 10_000)),
            session(parts("validated-later-by-update", 1_000)),
        ],
    )
    .await;
    // The validation is recorded after the insert: it must move "last modified" too.
    let pending = session(parts("validated-later-by-update", 1_000));
    let recorded = store
        .mark_validated(
            pending.id(),
            pending.token(),
            Timestamp::from_millis(20_000),
            None,
        )
        .await
        .unwrap();
    assert_eq!(recorded, Change::Applied);

    let purged = store
        .purge_modified_before(Timestamp::from_millis(10_000))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    for (id, kept) in [
        ("old-pending", false),
        ("old-validated", false),
        ("old-but-recently-validated", true),
        ("created-at-cutoff", true),
        ("validated-later-by-update", true),
    ] {
        let found = store.find(&sid(id)).await.unwrap();
        assert_eq!(found.is_some(), kept, "{id}");
    }
    let again = store.purge_modified_before(Timestamp::from_millis(10_000));
    assert_eq!(again.await.unwrap(), 0);
}

pub(crate) async fn a_cutoff_past_every_storable_time_purges_everything(store: &dyn SessionStore) {
    insert_all(
        store,
        &[
            session(parts("early", 0)),
            session(parts("last", LAST_STORABLE_MS)),
        ],
    )
    .await;
    let purged = store.purge_modified_before(Timestamp::from_millis(u64::MAX));
    assert_eq!(purged.await.unwrap(), 2);
}

pub(crate) async fn a_time_past_the_storable_range_is_refused_rather_than_wrapped(
    store: &dyn SessionStore,
) {
    let too_late = session(parts("too-late", LAST_STORABLE_MS + 1));
    let err = store.insert(&too_late).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(what) if what.contains("created_at")),
        "{err:?}"
    );
    assert_eq!(store.find(&sid("too-late")).await.unwrap(), None);
}

/// Several tasks, each inserting its own sessions, as concurrent requests do. Generic rather than
/// `&dyn` because each task needs its own (cloned) handle.
pub(crate) async fn concurrent_inserts_of_distinct_sessions_all_land<S>(store: &S)
where
    S: SessionStore + Clone + 'static,
{
    const TASKS: u64 = 8;
    const EACH: u64 = 10;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            for n in 0..EACH {
                let id = format!("task{task}-n{n}");
                store.insert(&session(parts(&id, task * 100 + n))).await?;
            }
            Ok::<_, StoreError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("insert");
    }
    for task in 0..TASKS {
        for n in 0..EACH {
            let id = sid(&format!("task{task}-n{n}"));
            assert!(store.find(&id).await.unwrap().is_some(), "{id}");
        }
    }
}

pub(crate) async fn concurrent_token_attempts_each_get_their_own_count<S>(store: &S)
where
    S: SessionStore + Clone + 'static,
{
    const ATTEMPTS: u32 = 20;
    store.insert(&session(parts("guessed", 1))).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..ATTEMPTS {
        let store = store.clone();
        tasks.spawn(async move { store.count_token_attempt(&sid("guessed")).await });
    }
    let mut counts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        counts.push(
            done.expect("task")
                .expect("count")
                .expect("the session exists"),
        );
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=ATTEMPTS).collect::<Vec<_>>(),
        "every attempt got a distinct number"
    );
    let stored = store.find(&sid("guessed")).await.unwrap().unwrap();
    assert_eq!(stored.parts().token_attempts, ATTEMPTS);
    assert_eq!(
        store.count_token_attempt(&sid("nobody")).await.unwrap(),
        None
    );
}

/// A locally validated remote-pending session whose remote part is `remote`.
pub(crate) fn remote_pending(id: &str, remote: Option<RemoteSession>) -> ValidationSession {
    session(SessionParts {
        threepid: threepid("email", "bob@gmail.com"),
        mode: SessionMode::RemotePending(label("central")),
        validated_at: Some(Timestamp::from_millis(1_500)),
        remote,
        ..parts(id, 1_000)
    })
}

pub(crate) fn remote_part(validated_at: Option<u64>) -> RemoteSession {
    RemoteSession {
        server: label("central"),
        base_url: "https://central.example.net:8443/prefix".to_owned(),
        sid: sid("remote-Sid_1.="),
        client_secret: secret("VerityRemote0123"),
        send_attempt: SendAttempt::new(3),
        validated_at: validated_at.map(Timestamp::from_millis),
    }
}

pub(crate) async fn a_session_round_trips_with_and_without_its_remote_part(
    store: &dyn SessionStore,
) {
    let without = remote_pending("no-remote", None);
    let started = remote_pending("started", Some(remote_part(None)));
    let validated = remote_pending("validated", Some(remote_part(Some(2_000))));
    insert_all(
        store,
        &[without.clone(), started.clone(), validated.clone()],
    )
    .await;
    for expected in [without, started, validated] {
        assert_eq!(store.find(expected.id()).await.unwrap(), Some(expected));
    }
}
