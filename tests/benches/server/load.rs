//! A closed-loop load driver: `concurrency` tasks share one counter and each sends its next
//! request as soon as its previous answer is read, until `n` requests were sent. Latency is timed
//! per request (send to last body byte), wall time over the whole run.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The outcome of one run.
pub struct Run {
    /// How many requests were sent.
    pub n: usize,
    /// How many were in flight at once.
    pub concurrency: usize,
    /// From the first request to the last answer.
    pub wall: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Run {
    /// Answered requests per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.n as f64 / self.wall.as_secs_f64()
    }

    /// The nearest-rank percentile `p` (0 < p <= 100).
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// The slowest request.
    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// Runs `op(0..n)` with `concurrency` requests in flight. Every request must succeed: a failing
/// one means the bench measures an error path, so the run stops with its message.
pub async fn drive<F, Fut>(n: usize, concurrency: usize, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / concurrency + 1);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return latencies;
                    }
                    let sent = Instant::now();
                    if let Err(error) = op(i).await {
                        panic!("request {i} failed: {error}");
                    }
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for worker in workers {
        latencies.extend(worker.await.expect("a load worker panicked"));
    }
    let wall = started.elapsed();
    latencies.sort_unstable();
    Run {
        n,
        concurrency,
        wall,
        latencies,
    }
}
