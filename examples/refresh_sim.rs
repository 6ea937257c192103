//! Fleet-scale refresh simulation: N hosts running `serve` (or `update`) start within a few
//! seconds of each other and refresh 1-hour sessions against an account-wide CreateSession
//! quota, for a simulated day. It runs the library's own schedule (`credentials::refresh`:
//! `refresh_at`, `Backoff`, `SERVE_BACKOFF`), once with the jitter and once without it (the
//! schedule before it: exactly 15 minutes before expiry, 1 s..60 s back-off whatever the error,
//! and a restart 5 s after a failed first fetch, as systemd's `RestartSec=5s` would do).
//!
//! `cargo run --example refresh_sim -- [hosts 10000] [start window s 60]
//! [session s 3600] [quota req/s 50] [hours 24] [seed 1]`; used by `bench/refresh_sim.sh`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use aws_signing_helper::credentials::refresh::{
    refresh_at, Backoff, BackoffPolicy, Failure, SERVE_BACKOFF,
};
use jiff::{SignedDuration, Timestamp};

/// The schedule before jitter: one back-off for every failure.
const OLD_BACKOFF: BackoffPolicy = BackoffPolicy {
    first: Duration::from_secs(1),
    max: Duration::from_secs(60),
    throttled_first: Duration::from_secs(1),
    throttled_max: Duration::from_secs(60),
};

/// splitmix64: a small deterministic generator, so runs repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Params {
    hosts: u32,
    start_window_s: u64,
    session_s: i64,
    quota: u32,
    hours: u64,
    seed: u64,
}

#[derive(Default)]
struct Outcome {
    requests: u64,
    refused: u64,
    refused_after_first_hour: u64,
    peak_rate: u32,
    peak_rate_after_first_hour: u32,
    /// Host-seconds spent with expired credentials (after the first success).
    seconds_without_credentials: u64,
}

fn simulate(p: &Params, jitter: bool) -> Outcome {
    let mut rng = Rng(p.seed);
    let base: Timestamp = "2030-01-01T00:00:00Z".parse().expect("fixed time");
    let at = |ms: u64| base + SignedDuration::from_millis(ms as i64);
    let ms_of = |t: Timestamp| t.duration_since(base).as_millis().max(0) as u64;
    let end_ms = p.hours * 3_600_000;
    let policy = if jitter { SERVE_BACKOFF } else { OLD_BACKOFF };
    let mut backoff: Vec<Backoff> = (0..p.hosts).map(|_| Backoff::new(policy)).collect();
    let mut expires: Vec<Option<u64>> = vec![None; p.hosts as usize];
    let mut queue = BinaryHeap::new();
    for h in 0..p.hosts {
        let start = (rng.unit() * p.start_window_s as f64 * 1000.0) as u64;
        queue.push(Reverse((start, h)));
    }
    let mut accepted: HashMap<u64, u32> = HashMap::new();
    let mut attempts: HashMap<u64, u32> = HashMap::new();
    let mut out = Outcome::default();
    while let Some(Reverse((t, h))) = queue.pop() {
        if t >= end_ms {
            break;
        }
        let second = t / 1000;
        out.requests += 1;
        let n = attempts.entry(second).or_default();
        *n += 1;
        out.peak_rate = out.peak_rate.max(*n);
        if t >= 3_600_000 {
            out.peak_rate_after_first_hour = out.peak_rate_after_first_hour.max(*n);
        }
        let ok = accepted.entry(second).or_default();
        let j = if jitter { rng.unit() } else { 0.0 };
        let hi = h as usize;
        if *ok < p.quota {
            *ok += 1;
            if let Some(e) = expires[hi] {
                out.seconds_without_credentials += t.saturating_sub(e) / 1000;
            }
            let exp = t + p.session_s as u64 * 1000;
            expires[hi] = Some(exp);
            backoff[hi].reset();
            queue.push(Reverse((ms_of(refresh_at(at(t), at(exp), j)), h)));
        } else {
            out.refused += 1;
            if t >= 3_600_000 {
                out.refused_after_first_hour += 1;
            }
            let delay = if expires[hi].is_none() && !jitter {
                // Before: a failed first fetch ended serve; systemd restarted it 5 s later.
                Duration::from_secs(5)
            } else {
                backoff[hi].next_delay(Failure::Throttled, j)
            };
            queue.push(Reverse((t + delay.as_millis() as u64, h)));
        }
    }
    // Hosts still expired at the end.
    for e in expires.into_iter().flatten() {
        out.seconds_without_credentials += end_ms.saturating_sub(e) / 1000;
    }
    out
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("refresh_sim: {a:?} is not a number; usage: refresh_sim [hosts] [start window s] [session s] [quota req/s] [hours] [seed]");
                std::process::exit(2)
            })
        })
        .collect();
    let arg = |i: usize, d: u64| args.get(i).copied().unwrap_or(d);
    let p = Params {
        hosts: arg(0, 10_000) as u32,
        start_window_s: arg(1, 60),
        session_s: arg(2, 3600) as i64,
        quota: arg(3, 50) as u32,
        hours: arg(4, 24),
        seed: arg(5, 1),
    };
    println!(
        "{} hosts starting within {} s, {} s sessions, CreateSession quota {} req/s, {} simulated hours",
        p.hosts, p.start_window_s, p.session_s, p.quota, p.hours
    );
    println!(
        "{:<16} {:>9} {:>9} {:>16} {:>10} {:>16} {:>14}",
        "schedule",
        "requests",
        "refused",
        "refused after 1h",
        "peak req/s",
        "peak after 1h",
        "host-h expired"
    );
    for (name, jitter) in [("without jitter", false), ("with jitter", true)] {
        let o = simulate(&p, jitter);
        println!(
            "{:<16} {:>9} {:>9} {:>16} {:>10} {:>16} {:>14.1}",
            name,
            o.requests,
            o.refused,
            o.refused_after_first_hour,
            o.peak_rate,
            o.peak_rate_after_first_hour,
            o.seconds_without_credentials as f64 / 3600.0
        );
    }
}
