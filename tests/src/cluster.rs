//! Several `verity` processes on one database, reached through the tests' own round-robin
//! client: each call goes to the next instance still running, as a load balancer spreads
//! requests, so a flow of several calls crosses instances. An instance can be killed (SIGKILL)
//! mid-flow; the round robin then skips it, as a load balancer's health check would.
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::process::{Deployment, Verity};

/// `count` instances of one [`Deployment`] (one configuration, key directory and database).
pub struct Cluster {
    deployment: Deployment,
    instances: Vec<Option<Verity>>,
    turn: AtomicUsize,
}

impl Cluster {
    /// Starts `count` processes of `deployment` one after the other: the first makes the signing
    /// key and the lookup pepper, as an operator starts the first instance before the others.
    pub async fn start(deployment: Deployment, count: usize) -> Self {
        let mut instances = Vec::with_capacity(count);
        for _ in 0..count {
            instances.push(Some(deployment.start().await));
        }
        Self {
            deployment,
            instances,
            turn: AtomicUsize::new(0),
        }
    }

    /// The deployment the instances run.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The next running instance in turn and its index: the round robin.
    pub fn next(&self) -> (usize, &Verity) {
        let count = self.instances.len();
        for _ in 0..count {
            let index = self.turn.fetch_add(1, Ordering::Relaxed) % count;
            if let Some(verity) = &self.instances[index] {
                return (index, verity);
            }
        }
        panic!("no instance is running");
    }

    /// Instance `index`; panics when it was killed.
    pub fn instance(&self, index: usize) -> &Verity {
        self.instances[index]
            .as_ref()
            .unwrap_or_else(|| panic!("instance {index} was killed"))
    }

    /// The running instances and their indexes.
    pub fn running(&self) -> impl Iterator<Item = (usize, &Verity)> {
        self.instances
            .iter()
            .enumerate()
            .filter_map(|(index, verity)| verity.as_ref().map(|verity| (index, verity)))
    }

    /// Kills instance `index` with SIGKILL (see [`Verity::kill`]); the round robin skips it
    /// from now on.
    pub fn kill(&mut self, index: usize) {
        if let Some(verity) = self.instances[index].take() {
            verity.kill();
        }
    }

    /// Everything each instance logged, for a failing test's message.
    pub fn logs(&self) -> String {
        self.running()
            .map(|(index, verity)| format!("--- instance {index}\n{}", verity.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
