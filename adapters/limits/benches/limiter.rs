//! `cargo bench -p verity-adapter-limits --bench limiter`: what one check costs and how much
//! memory the limiter holds when an attacker rotates through a million addresses (figures in
//! docs/benchmarks.md). Run by `cargo test --benches`, it does a smoke pass of a few keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use verity_adapter_limits::{GovernorLimiter, Limit, LimitSettings};
use verity_application::ports::driven::RateLimiter;
use verity_domain::{EmailAddress, LimitClass, LimitKey, RequesterKey, ThreePid, UserId};

fn limit(burst: u32, secs: f64) -> Limit {
    Limit::new(
        NonZeroU32::new(burst).unwrap(),
        Duration::from_secs_f64(secs),
    )
}

/// Verity's defaults (infrastructure's `ratelimit::defaults`), with `max_keys` as given.
fn settings(max_keys: usize) -> LimitSettings {
    LimitSettings {
        email_requester: limit(5, 300.0),
        email_destination: limit(5, 300.0),
        msisdn_requester: limit(10, 60.0),
        msisdn_destination: limit(5, 3600.0),
        msisdn_country: limit(50, 60.0),
        sms_hourly_budget: NonZeroU32::new(1000).unwrap(),
        invite: limit(5, 300.0),
        register: limit(20, 30.0),
        submit_token: limit(30, 2.0),
        bind: limit(20, 10.0),
        lookup: limit(1_000_000_000, 0.000_001),
        login_source: limit(1000, 0.1),
        directory: limit(60, 0.25),
        login_user: limit(5, 60.0),
        max_keys,
    }
}

/// This process's resident memory, in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn ns_per(elapsed: Duration, n: usize) -> f64 {
    elapsed.as_nanos() as f64 / n as f64
}

fn main() {
    let benching = std::env::args().any(|arg| arg == "--bench");
    let n: usize = if benching { 1_000_000 } else { 1_000 };
    println!("## limiter bench ({n} checks per row)\n");
    println!("| scenario | ns/check | keys held after | RSS growth |");
    println!("|---|---:|---:|---:|");

    // One account looking up 100 addresses a request, never refused: the hot path of a lookup.
    let limiter = GovernorLimiter::new(&settings(100_000));
    let account = LimitKey::Requester(
        LimitClass::Lookup,
        RequesterKey::Account(UserId::parse("@bench:example.org").unwrap()),
    );
    let started = Instant::now();
    for _ in 0..n {
        limiter.check(&account, 100).unwrap();
    }
    row(
        "one account, lookup of 100 (cost 100)",
        started.elapsed(),
        n,
        &limiter,
        0,
    );

    for max_keys in [100_000, 1_000_000] {
        // A client rotating through IPv4 addresses, one email requestToken each.
        let before = rss_kib();
        let limiter = GovernorLimiter::new(&settings(max_keys));
        let started = Instant::now();
        for i in 0..n {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000_u32 + i as u32));
            let key = LimitKey::Requester(LimitClass::EmailToken, RequesterKey::address(ip));
            let _ = limiter.check(&key, 1);
        }
        let label = format!("{n} client addresses, maxKeys {max_keys}");
        row(&label, started.elapsed(), n, &limiter, before);

        // Requests to a million victims: the destination keys (parsing included).
        let before = rss_kib();
        let limiter = GovernorLimiter::new(&settings(max_keys));
        let started = Instant::now();
        for i in 0..n {
            let email = EmailAddress::parse(&format!("victim{i}@example.org")).unwrap();
            let _ = limiter.check(&LimitKey::Destination(ThreePid::Email(email)), 1);
        }
        let label = format!("{n} email destinations, maxKeys {max_keys}");
        row(&label, started.elapsed(), n, &limiter, before);
    }
}

fn row(label: &str, elapsed: Duration, n: usize, limiter: &GovernorLimiter, before_kib: u64) {
    let growth = if before_kib == 0 {
        "-".to_owned()
    } else {
        format!(
            "{:.1} MiB",
            rss_kib().saturating_sub(before_kib) as f64 / 1024.0
        )
    };
    println!(
        "| {label} | {:.0} | {} | {growth} |",
        ns_per(elapsed, n),
        limiter.keys()
    );
}
