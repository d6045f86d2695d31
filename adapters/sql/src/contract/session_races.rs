//! Concurrent changes of one session, on a pool of several connections: none may undo another
//! (issue 13, "Atomic session state"). Generic rather than `&dyn` because each task needs its own
//! (cloned) handle.
use pretty_assertions::assert_eq;
use tokio::task::JoinSet;
use verity_application::ports::driven::{Change, SessionStore};
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
