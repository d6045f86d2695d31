//! A session store for the remote-step tests: a mock holding one session, which applies each
//! conditional change as the port describes it (only from the state it names) and records the
//! session after every applied change.
use std::sync::{Arc, Mutex};

use verity_domain::{RemoteSession, SessionParts, ValidationSession};

use crate::ports::driven::{Change, MockSessionStore};

/// The sessions written, oldest first.
pub(crate) type Written = Arc<Mutex<Vec<ValidationSession>>>;

/// A store holding `found` (under its own sid); `find` returns its current state.
pub(crate) fn holding(found: ValidationSession) -> (MockSessionStore, Written) {
    let current = Arc::new(Mutex::new(found));
    let written: Written = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockSessionStore::new();
    let state = current.clone();
    store.expect_find().returning(move |id| {
        let session = state.lock().unwrap().clone();
        Ok((session.id() == id).then_some(session))
    });
    let log = written.clone();
    let apply = move |change: &dyn Fn(&mut SessionParts) -> bool| {
        let mut session = current.lock().unwrap();
        let mut parts = session.parts().clone();
        if !change(&mut parts) {
            return Change::Stale;
        }
        *session = ValidationSession::from_parts(parts);
        log.lock().unwrap().push(session.clone());
        Change::Applied
    };
    let apply = Arc::new(apply);
    let on = apply.clone();
    store
        .expect_record_remote_start()
        .returning(move |_, previous, remote| {
            let remote = remote.clone();
            Ok(on(&|parts| {
                if parts.remote.as_ref().map(|r| r.send_attempt) != previous {
                    return false;
                }
                let validated_at = parts.remote.as_ref().and_then(|r| r.validated_at);
                parts.remote = Some(RemoteSession {
                    validated_at,
                    ..remote.clone()
                });
                true
            }))
        });
    let on = apply.clone();
    store
        .expect_mark_remote_validated()
        .returning(move |_, remote_sid, at| {
            Ok(on(&|parts| match parts.remote.as_mut() {
                Some(r) if &r.sid == remote_sid && r.validated_at.is_none() => {
                    r.validated_at = Some(at);
                    true
                }
                _ => false,
            }))
        });
    let on = apply.clone();
    store.expect_record_local_bind().returning(move |_, user| {
        Ok(on(&|parts| {
            parts.bound_to = Some(user.clone());
            true
        }))
    });
    let on = apply;
    store.expect_forget_local_bind().returning(move |_, user| {
        Ok(on(&|parts| {
            if parts.bound_to.as_ref() != Some(user) {
                return false;
            }
            parts.bound_to = None;
            true
        }))
    });
    (store, written)
}
