//! Caps on the outbound calls requests cause, so that hostile server names cannot turn Verity
//! into an amplifier: at most so many calls in flight overall, and so many to any one server.
//! A call over a cap fails at once (nothing queues): waiting callers would be memory and open
//! requests an attacker controls.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a call was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Busy {
    /// `federation.maxConcurrentRequests` calls are in flight already.
    #[error(
        "{0} requests to homeservers are in flight already (federation.maxConcurrentRequests); \
         not calling another one now"
    )]
    Overall(usize),
    /// `federation.maxConcurrentRequestsPerServer` calls to this server are in flight already.
    #[error(
        "{limit} requests to {server} are in flight already \
         (federation.maxConcurrentRequestsPerServer); not calling it again now"
    )]
    Server {
        /// The destination, as the request named it.
        server: String,
        /// The cap.
        limit: usize,
    },
}

/// The permits of one call: released when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    _overall: OwnedSemaphorePermit,
    _server: OwnedSemaphorePermit,
}

/// A global semaphore and one per destination host, in a map that holds no more idle entries
/// than there can be calls in flight.
#[derive(Debug)]
pub(crate) struct OutboundLimit {
    overall: Arc<Semaphore>,
    overall_limit: usize,
    per_server_limit: usize,
    servers: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl OutboundLimit {
    /// At most `overall` calls in flight, `per_server` of them to one destination (both at
    /// least 1; the configuration refuses 0).
    pub(crate) fn new(overall: usize, per_server: usize) -> Self {
        let overall = overall.clamp(1, Semaphore::MAX_PERMITS);
        let per_server = per_server.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            overall: Arc::new(Semaphore::new(overall)),
            overall_limit: overall,
            per_server_limit: per_server,
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// A permit for one call to `server` (a host name or address, compared as given: callers
    /// pass it lower-cased, without the port), or [`Busy`] at once.
    pub(crate) fn try_acquire(&self, server: &str) -> Result<Permit, Busy> {
        let overall = Arc::clone(&self.overall)
            .try_acquire_owned()
            .map_err(|_| Busy::Overall(self.overall_limit))?;
        let semaphore = {
            let mut servers = self.servers.lock().unwrap_or_else(PoisonError::into_inner);
            // Every semaphore in use is held by a permit besides the map, and no more than
            // `overall_limit` permits exist: dropping the idle ones keeps the map that small.
            if servers.len() >= self.overall_limit && !servers.contains_key(server) {
                servers.retain(|_, semaphore| Arc::strong_count(semaphore) > 1);
            }
            Arc::clone(
                servers
                    .entry(server.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_server_limit))),
            )
        };
        let server_permit = semaphore.try_acquire_owned().map_err(|_| Busy::Server {
            server: server.to_owned(),
            limit: self.per_server_limit,
        })?;
        Ok(Permit {
            _overall: overall,
            _server: server_permit,
        })
    }

    /// How many destinations the map remembers (tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.servers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_to_one_server_beyond_its_cap_fail_at_once_and_others_still_pass() {
        let limit = OutboundLimit::new(10, 2);
        let first = limit.try_acquire("a.example").unwrap();
        let _second = limit.try_acquire("a.example").unwrap();
        assert_eq!(
            limit.try_acquire("a.example").unwrap_err(),
            Busy::Server {
                server: "a.example".to_owned(),
                limit: 2
            }
        );
        let _other = limit.try_acquire("b.example").unwrap();
        drop(first);
        assert!(limit.try_acquire("a.example").is_ok());
    }

    #[test]
    fn calls_beyond_the_overall_cap_fail_at_once_whatever_the_server() {
        let limit = OutboundLimit::new(2, 2);
        let _a = limit.try_acquire("a.example").unwrap();
        let b = limit.try_acquire("b.example").unwrap();
        assert_eq!(
            limit.try_acquire("c.example").unwrap_err(),
            Busy::Overall(2)
        );
        drop(b);
        assert!(limit.try_acquire("c.example").is_ok());
    }

    #[test]
    fn a_refused_call_gives_back_the_overall_permit_it_took() {
        let limit = OutboundLimit::new(2, 1);
        let _held = limit.try_acquire("a.example").unwrap();
        assert!(limit.try_acquire("a.example").is_err());
        assert!(limit.try_acquire("b.example").is_ok());
    }

    #[test]
    fn idle_servers_are_forgotten_so_the_map_stays_as_small_as_the_overall_cap() {
        let limit = OutboundLimit::new(3, 1);
        let held = limit.try_acquire("kept.example").unwrap();
        for n in 0..1000 {
            drop(limit.try_acquire(&format!("{n}.example")).unwrap());
            assert!(limit.remembered() <= 3 + 1, "{}", limit.remembered());
        }
        // The server in use is never forgotten: its cap still holds.
        assert!(limit.try_acquire("kept.example").is_err());
        drop(held);
    }
}
