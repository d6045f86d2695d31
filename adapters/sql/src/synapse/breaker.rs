//! After a query backend's database could not be reached, calls fail at once for
//! [`Breaker::HOLD`] instead of each waiting out the pool's connect timeout: a database that is
//! down costs lookups one timeout every few seconds, not one each.
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(crate) struct Breaker {
    /// Until when calls fail without trying.
    open_until: Mutex<Option<Instant>>,
}

/// The error a call gets while the breaker is open.
#[derive(Debug, thiserror::Error)]
#[error("the database could not be reached less than {} s ago; not retried yet", Breaker::HOLD.as_secs())]
pub(crate) struct Held;

impl Breaker {
    /// How long calls fail at once after the database could not be reached.
    pub(crate) const HOLD: Duration = Duration::from_secs(10);

    /// `Err` while the breaker is open.
    pub(crate) fn pass(&self) -> Result<(), Held> {
        let mut open_until = self.open_until.lock().unwrap_or_else(|e| e.into_inner());
        match *open_until {
            Some(until) if Instant::now() < until => Err(Held),
            Some(_) => {
                *open_until = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The database could not be reached: open the breaker.
    pub(crate) fn trip(&self) {
        let mut open_until = self.open_until.lock().unwrap_or_else(|e| e.into_inner());
        *open_until = Some(Instant::now() + Self::HOLD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tripped_breaker_holds_calls_and_a_fresh_one_passes_them() {
        let breaker = Breaker::default();
        assert!(breaker.pass().is_ok());
        breaker.trip();
        assert!(breaker.pass().is_err());
        *breaker.open_until.lock().unwrap() = Some(Instant::now());
        assert!(breaker.pass().is_ok());
        assert!(breaker.pass().is_ok());
    }
}
