//! A gate a fake peer's handler passes through: open, it lets every call by; closed, it holds
//! each call until the gate opens again (or the caller goes away) and counts the calls it holds.
//! A test closes it to keep the code under test in the middle of a call, waits until the calls
//! it expects are held (no sleeping: the count is watched), then does what it wants to do to the
//! caller, e.g. kill it.
use std::time::Duration;

use tokio::sync::watch;

/// Holds calls while closed. Starts open.
#[derive(Debug)]
pub struct Gate {
    open: watch::Sender<bool>,
    held: watch::Sender<usize>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            open: watch::Sender::new(true),
            held: watch::Sender::new(0),
        }
    }
}

impl Gate {
    /// From now on, calls are held.
    pub fn close(&self) {
        self.open.send_replace(false);
    }

    /// Lets the held calls and every later one through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// How many calls are held now.
    pub fn held(&self) -> usize {
        *self.held.borrow()
    }

    /// Passes at once while open; else waits, counted as held, until the gate opens.
    pub async fn pass(&self) {
        let mut open = self.open.subscribe();
        if *open.borrow_and_update() {
            return;
        }
        self.held.send_modify(|held| *held += 1);
        // Counted down even when the call is dropped while held (its caller hung up).
        let _release = Release(&self.held);
        let _ = open.wait_for(|open| *open).await;
    }

    /// Waits until at least `count` calls are held; panics after `timeout`.
    pub async fn wait_for_held(&self, count: usize, timeout: Duration) {
        let mut held = self.held.subscribe();
        let reached = tokio::time::timeout(timeout, held.wait_for(|held| *held >= count)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "{count} held call(s) expected within {timeout:?}, {} held",
            self.held()
        );
    }
}

struct Release<'a>(&'a watch::Sender<usize>);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|held| *held = held.saturating_sub(1));
    }
}
