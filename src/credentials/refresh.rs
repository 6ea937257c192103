//! When the long-running modes (`serve`, `update`) refresh credentials, and how they retry.
//!
//! Hosts that started together (a deploy, a power cut) would otherwise refresh together every
//! session and trip the account's CreateSession rate limit. So, as the AWS SDKs jitter their
//! refreshes, each refresh happens at a random point of a window that ends 15 minutes before
//! expiry; retries are jittered too, and throttling (HTTP 429, `ThrottlingException`,
//! `TooManyRequestsException`, …) backs off longer than other failures. Nothing here ends a
//! long-running mode: callers retry for ever while they keep serving what they have.
//! `examples/refresh_sim.rs` runs these same functions for a simulated fleet.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::error::Error;
use crate::protocol::rolesanywhere::ServiceError;

/// The latest refresh point before expiry: when SDKs start treating credentials as stale.
pub const REFRESH_BEFORE_EXPIRY: SignedDuration = SignedDuration::from_mins(15);
/// The widest refresh window (it is a sixth of the session for sessions under an hour).
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// When to refresh credentials fetched at `fetched` that expire at `expires`. `jitter` in
/// `[0, 1)` picks the point in the window: 0 is its end, 15 minutes before expiry (or half-life
/// for sessions under 30 minutes), which is the un-jittered schedule; the window is a sixth of
/// the lifetime, at most [`MAX_WINDOW`].
pub fn refresh_at(fetched: Timestamp, expires: Timestamp, jitter: f64) -> Timestamp {
    let lifetime = expires.duration_since(fetched);
    if !lifetime.is_positive() {
        return fetched;
    }
    let latest = if lifetime >= REFRESH_BEFORE_EXPIRY * 2 {
        expires.checked_sub(REFRESH_BEFORE_EXPIRY)
    } else {
        fetched.checked_add(lifetime / 2)
    };
    let window = (lifetime / 6).min(MAX_WINDOW);
    let early = window.mul_f64(jitter.clamp(0.0, 1.0));
    latest
        .and_then(|t| t.checked_sub(early))
        .unwrap_or(fetched)
        .max(fetched)
}

/// A random number in `[0, 1)` for [`refresh_at`] and [`Backoff::next_delay`].
pub fn jitter() -> f64 {
    let mut b = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // No randomness: the un-jittered schedule is still correct, just not spread.
        return 0.0;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Why a refresh failed, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The service asked us to slow down.
    Throttled,
    /// Anything else (network, service error, bad certificate…).
    Other,
}

/// Error codes that mean "slow down".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
];

/// Whether `e` is throttling: a Roles Anywhere or STS service error with status 429 or a
/// throttling code anywhere in its causes. The message text is never read.
pub fn classify(e: &Error) -> Failure {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(s) = c.downcast_ref::<ServiceError>() {
            if s.status == 429 || THROTTLING.contains(&s.code.as_str()) {
                return Failure::Throttled;
            }
        }
        if let Some(s) = c.downcast_ref::<crate::sts::ServiceError>() {
            if s.status == 429 || THROTTLING.contains(&s.code.as_str()) {
                return Failure::Throttled;
            }
        }
        cause = c.source();
    }
    // Only the typed cause counts: a message is never read for its meaning.
    Failure::Other
}

/// Delays between retries: doubling from a first to a longest delay, separately for throttling
/// and other failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub first: Duration,
    pub max: Duration,
    pub throttled_first: Duration,
    pub throttled_max: Duration,
}

/// `serve`: a failed refresh is retried quickly (it keeps serving the previous credentials).
pub const SERVE_BACKOFF: BackoffPolicy = BackoffPolicy {
    first: Duration::from_secs(1),
    max: Duration::from_secs(60),
    throttled_first: Duration::from_secs(30),
    throttled_max: Duration::from_secs(15 * 60),
};

/// `update`: 5 s up to 5 minutes.
pub const UPDATE_BACKOFF: BackoffPolicy = BackoffPolicy {
    first: Duration::from_secs(5),
    max: Duration::from_secs(300),
    throttled_first: Duration::from_secs(30),
    throttled_max: Duration::from_secs(15 * 60),
};

/// Retry delays for one run of failures; [`Backoff::reset`] after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    other: Option<Duration>,
    throttled: Option<Duration>,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff {
            policy,
            other: None,
            throttled: None,
        }
    }

    /// The delay before the next retry after `failure`: the current step of its sequence,
    /// shortened by up to half by `jitter` in `[0, 1)` (0: the full step, the un-jittered
    /// schedule).
    pub fn next_delay(&mut self, failure: Failure, jitter: f64) -> Duration {
        let p = self.policy;
        let (slot, first, max) = match failure {
            Failure::Throttled => (&mut self.throttled, p.throttled_first, p.throttled_max),
            Failure::Other => (&mut self.other, p.first, p.max),
        };
        let step = slot.map_or(first, |d| (d * 2).min(max));
        *slot = Some(step);
        step.mul_f64(1.0 - jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// After a success: the next failure starts from the first delay again.
    pub fn reset(&mut self) {
        self.other = None;
        self.throttled = None;
    }
}

/// Calls `fetch` until it returns anything but throttling: a long-running mode that starts
/// while its fleet is throttled waits its turn (jittered, with the throttling back-off of
/// `policy`) instead of exiting and being restarted into the same crowd. Other errors are
/// returned at once.
pub fn retry_while_throttled<T>(
    policy: BackoffPolicy,
    mut fetch: impl FnMut() -> crate::error::Result<T>,
) -> crate::error::Result<T> {
    let mut backoff = Backoff::new(policy);
    loop {
        match fetch() {
            Err(e) if classify(&e) == Failure::Throttled => {
                let delay = backoff.next_delay(Failure::Throttled, jitter());
                log::warn!(
                    "throttled while fetching the first credentials ({e}); retrying in {} s",
                    delay.as_secs()
                );
                std::thread::sleep(delay);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        "2024-05-01T10:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_secs(secs)
    }

    #[test]
    fn refresh_window() {
        // Un-jittered: 15 minutes before expiry, half-life under 30 minutes.
        assert_eq!(refresh_at(t(0), t(3600), 0.0), t(2700));
        assert_eq!(refresh_at(t(0), t(1800), 0.0), t(900));
        assert_eq!(refresh_at(t(0), t(600), 0.0), t(300));
        assert_eq!(refresh_at(t(0), t(-5), 0.5), t(0));
        // One hour: anywhere in the 10 minutes before that.
        assert_eq!(refresh_at(t(0), t(3600), 0.5), t(2400));
        assert_eq!(
            refresh_at(t(0), t(3600), 0.999_999),
            t(2100) + SignedDuration::from_micros(600)
        );
        // Twelve hours: the window stays 10 minutes.
        assert_eq!(refresh_at(t(0), t(43200), 1.0), t(43200 - 1500));
        // Ten minutes: a sixth of the lifetime, before half-life.
        assert_eq!(refresh_at(t(0), t(600), 1.0), t(200));
        for j in [0.0, 0.3, 0.7, 0.99] {
            let at = refresh_at(t(0), t(900), j);
            assert!(at >= t(0) && at <= t(450), "{j}: {at}");
        }
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let xs: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn throttling_backs_off_longer() {
        let mut b = Backoff::new(SERVE_BACKOFF);
        let other: Vec<u64> = (0..9)
            .map(|_| b.next_delay(Failure::Other, 0.0).as_secs())
            .collect();
        assert_eq!(other, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let thr: Vec<u64> = (0..7)
            .map(|_| b.next_delay(Failure::Throttled, 0.0).as_secs())
            .collect();
        assert_eq!(thr, [30, 60, 120, 240, 480, 900, 900]);
        b.reset();
        assert_eq!(b.next_delay(Failure::Throttled, 0.0).as_secs(), 30);
        // Jitter shortens by at most half.
        assert_eq!(b.next_delay(Failure::Throttled, 0.999_999).as_secs(), 30);
        let mut u = Backoff::new(UPDATE_BACKOFF);
        let d: Vec<u64> = (0..8)
            .map(|_| u.next_delay(Failure::Other, 0.0).as_secs())
            .collect();
        assert_eq!(d, [5, 10, 20, 40, 80, 160, 300, 300]);
    }

    #[test]
    fn the_first_fetch_waits_out_throttling_only() {
        let fast = BackoffPolicy {
            first: Duration::from_millis(1),
            max: Duration::from_millis(1),
            throttled_first: Duration::from_millis(1),
            throttled_max: Duration::from_millis(4),
        };
        let mut calls = 0;
        let r = retry_while_throttled(fast, || {
            calls += 1;
            if calls < 4 {
                Err(
                    Error::new("https response error StatusCode: 429, RequestID: x").with_source(
                        ServiceError {
                            status: 429,
                            request_id: String::new(),
                            code: "UnknownError".into(),
                            message: String::new(),
                        },
                    ),
                )
            } else {
                Ok(calls)
            }
        });
        assert_eq!(r.unwrap(), 4);
        let mut calls = 0;
        let r: crate::error::Result<()> = retry_while_throttled(fast, || {
            calls += 1;
            Err(Error::new("connection refused"))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1, "other errors are not retried here");
    }

    #[test]
    fn throttling_is_recognised() {
        let service = |status: u16, code: &str| {
            Error::new(format!("operation error RolesAnywhere: CreateSession, https response error StatusCode: {status}, RequestID: , api error {code}: slow")).with_source(ServiceError {
                status,
                request_id: String::new(),
                code: code.into(),
                message: "slow".into(),
            })
        };
        assert_eq!(
            classify(&service(400, "ThrottlingException")),
            Failure::Throttled
        );
        assert_eq!(classify(&service(429, "UnknownError")), Failure::Throttled);
        assert_eq!(
            classify(&service(400, "TooManyRequestsException")),
            Failure::Throttled
        );
        assert_eq!(
            classify(&service(403, "AccessDeniedException")),
            Failure::Other
        );
        assert_eq!(
            classify(&service(503, "ServiceUnavailable")),
            Failure::Other
        );
        // A typed error wrapping it (serve's first fetch) keeps the cause reachable.
        let wrapped: Error =
            crate::serve::ServeError::FirstCredentials(service(400, "ThrottlingException")).into();
        assert_eq!(classify(&wrapped), Failure::Throttled);
        // STS's throttling, typed.
        let sts = crate::sts::ServiceError {
            service: "STS",
            action: "AssumeRole".into(),
            status: 400,
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
            request_id: String::new(),
        };
        assert_eq!(classify(&sts.into_error(None)), Failure::Throttled);
        // Roles Anywhere's, as CreateSession renders it (the service error behind the
        // typed CreateSessionError).
        let ra: Error = crate::protocol::rolesanywhere_error::CreateSessionError::Service {
            error: ServiceError {
                status: 429,
                request_id: String::new(),
                code: "TooManyRequestsException".into(),
                message: "slow".into(),
            },
            exhausted: Some(3),
        }
        .into();
        assert_eq!(classify(&ra), Failure::Throttled);
        // Text alone means nothing: only the typed cause is read.
        assert_eq!(
            classify(&Error::new(
                "https response error StatusCode: 429, RequestID: x"
            )),
            Failure::Other
        );
        assert_eq!(classify(&Error::new("connection refused")), Failure::Other);
    }
}
