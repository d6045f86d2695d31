//! Concurrent changes of one session, on a pool of several connections: none may undo another
//! (issue 13, "Atomic session state"). Generic rather than `&dyn` because each task needs its own
//! (cloned) handle.
use pretty_assertions::assert_eq;
use tokio::task::JoinSet;
use verity_application::ports::driven::{Change, Counted, SessionStore};
use verity_domain::{RemoteSession, SendAttempt, Timestamp, ValidationToken};

use super::sessions::{parts, remote_part, remote_pending, session, sid};

const GUESSES: u32 = 40;
const RESENDS: u64 = 20;

/// Spawns `GUESSES` counted submissions and `RESENDS` resends (send_attempt 2, 3, ...),
/// interleaved, plus `extra`; returns the counts the submissions got.
async fn guesses_and_resends<S, F>(store: &S, id: &str, extra: F) -> Vec<u32>
where
    S: SessionStore + Clone + 'static,
    F: FnOnce(&mut JoinSet<Option<u32>>),
{
    let mut tasks = JoinSet::new();
    for n in 0..GUESSES {
        let (guesser, guessed) = (store.clone(), sid(id));
        tasks.spawn(async move { guesser.count_token_attempt(&guessed).await.expect("count") });
        if u64::from(n) < RESENDS {
            let (store, id) = (store.clone(), sid(id));
            let attempt = SendAttempt::new(2 + u64::from(n));
            tasks.spawn(async move {
                let _change = store.record_resend(&id, attempt).await.expect("resend");
                None
            });
        }
    }
    extra(&mut tasks);
    let mut counts: Vec<u32> = tasks.join_all().await.into_iter().flatten().collect();
    counts.sort_unstable();
    counts
}

pub(crate) async fn resends_racing_token_attempts_never_undo_a_count<S>(store: &S)
where
    S: SessionStore + Clone + 'static,
{
    let pending = session(parts("raced", 1_000));
    store.insert(&pending).await.unwrap();
    let counts = guesses_and_resends(store, "raced", |_| {}).await;
    assert_eq!(counts, (1..=GUESSES).collect::<Vec<_>>(), "distinct counts");
    let stored = store.find(&sid("raced")).await.unwrap().unwrap();
    assert_eq!(
        stored.parts().token_attempts,
        GUESSES,
        "a resend reset the attempts: the lockout could be bypassed"
    );
    assert_eq!(stored.parts().send_attempt, SendAttempt::new(1 + RESENDS));
    assert_eq!(stored.token(), pending.token(), "a resend keeps the token");
}

pub(crate) async fn a_validation_racing_resends_and_guesses_applies_once_and_keeps_every_count<S>(
    store: &S,
) where
    S: SessionStore + Clone + 'static,
{
    const VALIDATIONS: u64 = 8;
    let pending = session(parts("clicked", 1_000));
    store.insert(&pending).await.unwrap();
    let (applied_tx, mut applied_rx) = tokio::sync::mpsc::unbounded_channel();
    let counts = guesses_and_resends(store, "clicked", |tasks| {
        for n in 0..VALIDATIONS {
            let (store, token, tx) = (store.clone(), pending.token().clone(), applied_tx.clone());
            tasks.spawn(async move {
                let at = Timestamp::from_millis(2_000 + n);
                let change = store
                    .mark_validated(&sid("clicked"), &token, at, None)
                    .await;
                if change.expect("validate") == Change::Applied {
                    tx.send(at).expect("receiver alive");
                }
                None
            });
        }
    })
    .await;
    drop(applied_tx);
    let mut applied = Vec::new();
    while let Some(at) = applied_rx.recv().await {
        applied.push(at);
    }
    assert_eq!(applied.len(), 1, "exactly one validation applies");
    assert_eq!(counts.len(), GUESSES as usize);
    let stored = store.find(&sid("clicked")).await.unwrap().unwrap();
    assert_eq!(stored.parts().validated_at, applied.first().copied());
    assert_eq!(stored.parts().token_attempts, GUESSES);
    assert_eq!(stored.parts().send_attempt, SendAttempt::new(1 + RESENDS));
    let stale = ValidationToken::parse("StaleToken").unwrap();
    let late = store
        .mark_validated(&sid("clicked"), &stale, Timestamp::from_millis(9), None)
        .await;
    assert_eq!(late.unwrap(), Change::Stale);
}

pub(crate) async fn concurrent_remote_starts_from_one_state_apply_exactly_once<S>(store: &S)
where
    S: SessionStore + Clone + 'static,
{
    const STARTS: usize = 10;
    store
        .insert(&remote_pending("started", None))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for n in 0..STARTS {
        let store = store.clone();
        let remote = RemoteSession {
            sid: sid(&format!("remote{n}")),
            ..remote_part(None)
        };
        tasks.spawn(async move {
            let change = store
                .record_remote_start(&sid("started"), None, &remote)
                .await;
            (change.expect("start"), remote)
        });
    }
    let applied: Vec<RemoteSession> = tasks
        .join_all()
        .await
        .into_iter()
        .filter(|(change, _)| *change == Change::Applied)
        .map(|(_, remote)| remote)
        .collect();
    assert_eq!(applied.len(), 1, "exactly one start from 'not started'");
    let stored = store.find(&sid("started")).await.unwrap().unwrap();
    assert_eq!(stored.remote(), applied.first());
}

/// `GUESSES` wrong tokens and `rights` right ones submitted through
/// [`SessionStore::count_and_validate`] with `cap`, interleaved with `RESENDS` resends; returns
/// what each submission got, with the time it would have validated at.
async fn submissions_and_resends<S>(
    store: &S,
    id: &str,
    rights: u64,
    cap: u32,
) -> Vec<(Counted, Timestamp)>
where
    S: SessionStore + Clone + 'static,
{
    let right = session(parts(id, 1_000)).token().clone();
    let wrong = ValidationToken::parse("WrongToken").unwrap();
    let mut tasks = JoinSet::new();
    for n in 0..u64::from(GUESSES) {
        let token = if n % 5 == 4 && n / 5 < rights {
            right.clone()
        } else {
            wrong.clone()
        };
        let (submitter, submitted, at) =
            (store.clone(), sid(id), Timestamp::from_millis(2_000 + n));
        tasks.spawn(async move {
            let counted = submitter
                .count_and_validate(&submitted, &token, cap, at)
                .await;
            Some((counted.expect("count"), at))
        });
        if n < RESENDS {
            let (store, id) = (store.clone(), sid(id));
            tasks.spawn(async move {
                let _change = store.record_resend(&id, SendAttempt::new(2 + n)).await;
                None
            });
        }
    }
    tasks.join_all().await.into_iter().flatten().collect()
}

/// The submission numbers the store handed out, sorted.
fn numbers(answers: &[(Counted, Timestamp)]) -> Vec<u32> {
    let mut numbers: Vec<u32> = answers
        .iter()
        .filter_map(|(counted, _)| match counted {
            Counted::Validated { attempt } | Counted::Refused { attempt } => Some(*attempt),
            Counted::Stale => None,
        })
        .collect();
    numbers.sort_unstable();
    numbers
}

pub(crate) async fn wrong_tokens_racing_resends_are_each_counted_once_and_never_validate<S>(
    store: &S,
) where
    S: SessionStore + Clone + 'static,
{
    store
        .insert(&session(parts("guessed", 1_000)))
        .await
        .unwrap();
    let answers = submissions_and_resends(store, "guessed", 0, 5).await;
    assert_eq!(numbers(&answers), (1..=GUESSES).collect::<Vec<_>>());
    assert!(
        answers
            .iter()
            .all(|(counted, _)| matches!(counted, Counted::Refused { .. })),
        "{answers:?}"
    );
    // Past the cap, the right token counts and is refused like any other.
    let pending = session(parts("guessed", 1_000));
    let late = store
        .count_and_validate(
            &sid("guessed"),
            pending.token(),
            5,
            Timestamp::from_millis(9),
        )
        .await
        .unwrap();
    assert_eq!(
        late,
        Counted::Refused {
            attempt: GUESSES + 1
        }
    );
    let stored = store.find(&sid("guessed")).await.unwrap().unwrap();
    assert_eq!(stored.parts().validated_at, None);
    assert_eq!(stored.parts().token_attempts, GUESSES + 1);
    assert_eq!(stored.parts().send_attempt, SendAttempt::new(1 + RESENDS));
}

pub(crate) async fn the_right_token_racing_wrong_ones_and_resends_validates_once_and_ends_the_count<
    S,
>(
    store: &S,
) where
    S: SessionStore + Clone + 'static,
{
    store.insert(&session(parts("raced", 1_000))).await.unwrap();
    // A cap no submission reaches: the first right token to run validates.
    let answers = submissions_and_resends(store, "raced", 8, 1_000).await;
    let validated: Vec<(u32, Timestamp)> = answers
        .iter()
        .filter_map(|(counted, at)| match counted {
            Counted::Validated { attempt } => Some((*attempt, *at)),
            _ => None,
        })
        .collect();
    let [(attempt, at)] = validated[..] else {
        panic!("exactly one validation applies: {answers:?}");
    };
    assert_eq!(
        numbers(&answers),
        (1..=attempt).collect::<Vec<_>>(),
        "distinct numbers, and none after the validation"
    );
    let stored = store.find(&sid("raced")).await.unwrap().unwrap();
    assert_eq!(stored.parts().validated_at, Some(at));
    assert_eq!(stored.parts().token_attempts, attempt);
    assert_eq!(stored.parts().send_attempt, SendAttempt::new(1 + RESENDS));
    assert_eq!(stored.token(), session(parts("raced", 1_000)).token());
}

pub(crate) async fn concurrent_submissions_to_many_sessions_each_count_and_validate_their_own<S>(
    store: &S,
) where
    S: SessionStore + Clone + 'static,
{
    const SESSIONS: u64 = 24;
    let ids: Vec<String> = (0..SESSIONS).map(|n| format!("many{n}")).collect();
    for id in &ids {
        store.insert(&session(parts(id, 1_000))).await.unwrap();
    }
    let right = session(parts("many0", 1_000)).token().clone();
    let wrong = ValidationToken::parse("WrongToken").unwrap();
    // Each session: one wrong token, then the right one, racing every other session's (on
    // SQLite they share commits).
    let mut tasks = JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let (store, id, right, wrong) = (store.clone(), sid(id), right.clone(), wrong.clone());
        tasks.spawn(async move {
            let at = Timestamp::from_millis(2_000 + n as u64);
            let first = store.count_and_validate(&id, &wrong, 5, at).await;
            let second = store.count_and_validate(&id, &right, 5, at).await;
            (first.expect("count"), second.expect("count"))
        });
    }
    for answers in tasks.join_all().await {
        assert_eq!(
            answers,
            (
                Counted::Refused { attempt: 1 },
                Counted::Validated { attempt: 2 }
            )
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let stored = store.find(&sid(id)).await.unwrap().unwrap();
        assert_eq!(stored.parts().token_attempts, 2, "{id}");
        assert_eq!(
            stored.parts().validated_at,
            Some(Timestamp::from_millis(2_000 + n as u64)),
            "{id}"
        );
    }
}
