//! The figures, collected as the bench goes (one progress line each on stderr) and printed at the
//! end as Markdown tables on stdout, ready for `docs/benchmarks.md`.
use std::time::Duration;

use crate::load::Run;

/// One cold start: `Application::build`, and from its call to the first 200 on `GET /status`.
pub struct Start {
    pub build: Duration,
    pub first_ok: Duration,
}

/// Memory of this process (server and bench client together), from `/proc/self/status`.
pub struct Memory {
    pub when: String,
    pub rss_kib: Option<u64>,
    pub hwm_kib: Option<u64>,
}

impl Memory {
    /// Reads `VmRSS` (resident now) and `VmHWM` (peak resident); `None` off Linux.
    pub fn now(when: impl Into<String>) -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        };
        Self {
            when: when.into(),
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        }
    }
}

#[derive(Default)]
pub struct Report {
    starts: Vec<(&'static str, Vec<Start>)>,
    loads: Vec<(&'static str, String, Run)>,
    memory: Vec<Memory>,
}

impl Report {
    pub fn starts(&mut self, backend: &'static str, mut starts: Vec<Start>) {
        starts.sort_by_key(|s| s.first_ok);
        eprintln!(
            "  start-up {backend}: median {} ms to the first 200",
            ms(median(&starts, |s| s.first_ok))
        );
        self.starts.push((backend, starts));
    }

    pub fn load(&mut self, backend: &'static str, scenario: &str, run: Run) {
        eprintln!(
            "  {backend} {scenario} c={}: {:.0} req/s, p50 {} ms, p99 {} ms",
            run.concurrency,
            run.throughput(),
            ms(run.percentile(50.0)),
            ms(run.percentile(99.0)),
        );
        self.loads.push((backend, scenario.to_owned(), run));
    }

    pub fn memory(&mut self, memory: Memory) {
        self.memory.push(memory);
    }

    /// Prints the requests table alone.
    pub fn print_loads(&self) {
        println!("\n### Requests (closed loop, keep-alive, client in the same process)\n");
        self.print_load_rows();
    }

    /// Prints every table.
    pub fn print(&self) {
        println!("\n### Start-up (cold: fresh data directory, migrations run)\n");
        println!("| store | runs | build median | first 200 median | min | max |");
        println!("|---|--:|--:|--:|--:|--:|");
        for (backend, starts) in &self.starts {
            println!(
                "| {backend} | {} | {} ms | {} ms | {} ms | {} ms |",
                starts.len(),
                ms(median(starts, |s| s.build)),
                ms(median(starts, |s| s.first_ok)),
                ms(starts.first().map(|s| s.first_ok).unwrap_or_default()),
                ms(starts.last().map(|s| s.first_ok).unwrap_or_default()),
            );
        }
        println!("\n### Requests (closed loop, keep-alive, client in the same process)\n");
        self.print_load_rows();
        println!("\n### Memory of the bench process (server + client + SMTP server + fakes)\n");
        println!("| when | VmRSS | VmHWM (peak) |");
        println!("|---|--:|--:|");
        for memory in &self.memory {
            println!(
                "| {} | {} | {} |",
                memory.when,
                mib(memory.rss_kib),
                mib(memory.hwm_kib)
            );
        }
    }

    fn print_load_rows(&self) {
        println!("| store | request | conc. | N | wall | req/s | p50 | p90 | p99 | max |");
        println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (backend, scenario, run) in &self.loads {
            println!(
                "| {backend} | {scenario} | {} | {} | {:.2} s | {:.0} | {} ms | {} ms | {} ms | {} ms |",
                run.concurrency,
                run.n,
                run.wall.as_secs_f64(),
                run.throughput(),
                ms(run.percentile(50.0)),
                ms(run.percentile(90.0)),
                ms(run.percentile(99.0)),
                ms(run.max()),
            );
        }
    }
}

fn median<T>(sorted: &[T], key: impl Fn(&T) -> Duration) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let mut values: Vec<Duration> = sorted.iter().map(key).collect();
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// Milliseconds with a precision that suits the value.
fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}
