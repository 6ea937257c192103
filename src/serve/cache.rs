//! The credential cache and its background refresher.
//!
//! Responses are rendered once per refresh and shared by reference count, so a request costs a
//! read lock and two `Bytes` clones. The rendered bodies hold secrets and are zeroized when the
//! last response using them is dropped. Exactly one thread ever calls the refresher, so requests
//! never trigger CreateSession and refreshes never overlap.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper::body::Bytes;
use jiff::{Timestamp, Zoned};
use serde::Serialize;
use zeroize::Zeroizing;

use super::ServeError;
use crate::credentials::refresh::{self, Backoff, SERVE_BACKOFF};
use crate::credentials::Credentials;
use crate::error::Result;

/// Fetches a fresh set of credentials (one CreateSession in the real command).
pub type Refresher = Box<dyn Fn() -> Result<Credentials> + Send + Sync>;

/// Longest single sleep, so that clock jumps and suspends are noticed.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Response bodies for one set of credentials.
#[derive(Clone)]
pub struct Rendered {
    /// The IMDS credentials JSON (the official tool's key order) plus `\n`.
    pub imds: Bytes,
    /// The container-provider JSON.
    pub container: Bytes,
    /// When the credentials expire.
    pub expires: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsBody<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    code: &'a str,
    #[serde(rename = "Type")]
    kind: &'a str,
    expiration: &'a str,
    last_updated: &'a str,
    /// Not in the official tool's answer; added last, when known, as on the container route.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerBody<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

/// Serializes `value` into a buffer sized up front (so secrets are not left behind in freed,
/// smaller buffers) that is zeroized when the last `Bytes` sharing it is dropped.
fn secret_json<T: Serialize>(value: &T, size_hint: usize, newline: bool) -> Result<Bytes> {
    let mut buf = Zeroizing::new(Vec::with_capacity(size_hint));
    serde_json::to_writer(&mut *buf, value).map_err(|_| ServeError::Encode)?;
    if newline {
        buf.push(b'\n');
    }
    Ok(Bytes::from_owner(buf))
}

/// Renders both bodies. `now` is the refresh time (its zone gives `LastUpdated`'s offset).
/// Fails if the expiration is not an RFC 3339 time.
pub fn render(creds: &Credentials, now: &Zoned) -> Result<Rendered> {
    let expires: Timestamp = creds
        .expiration_time()
        .ok_or_else(|| ServeError::Expiration {
            value: creds.expiration.to_string(),
        })?;
    let expiration = expires.to_string();
    // Go's RFC 3339 layout writes a zero offset as `Z`.
    let last_updated = if now.offset() == jiff::tz::Offset::UTC {
        now.timestamp().to_string()
    } else {
        now.timestamp()
            .display_with_offset(now.offset())
            .to_string()
    };
    let size_hint = creds.access_key_id.len()
        + creds.secret_access_key.len()
        + creds.session_token.len()
        + expiration.len()
        + last_updated.len()
        + 256;
    let imds = secret_json(
        &ImdsBody {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            token: &creds.session_token,
            code: "Success",
            kind: "AWS-HMAC",
            expiration: &expiration,
            last_updated: &last_updated,
            account_id: creds.account_id.as_deref(),
        },
        size_hint,
        true,
    )?;
    let container = secret_json(
        &ContainerBody {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            token: &creds.session_token,
            expiration: &expiration,
            account_id: creds.account_id.as_deref(),
        },
        size_hint,
        false,
    )?;
    Ok(Rendered {
        imds,
        container,
        expires,
    })
}

/// The current credentials, shared between the refresher and the request handlers.
#[derive(Default)]
pub struct CredentialCache {
    current: RwLock<Option<Rendered>>,
}

impl CredentialCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The credentials if they are still valid at `now`.
    pub fn get(&self, now: Timestamp) -> Option<Rendered> {
        // A poisoned lock only means a writer panicked mid-swap of an Option; the value is fine.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|r| now < r.expires).cloned()
    }

    /// Replaces the credentials.
    pub fn set(&self, rendered: Rendered) {
        let old = {
            let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
            guard.replace(rendered)
        };
        // Dropped outside the lock.
        drop(old);
    }
}

/// Calls the refresher, turning a panic into an error, and renders the result.
pub fn fetch_and_render(refresher: &Refresher) -> Result<Rendered> {
    let creds = std::panic::catch_unwind(AssertUnwindSafe(refresher))
        .map_err(|_| ServeError::RefresherPanicked)??;
    let now = Zoned::now();
    let rendered = render(&creds, &now)?;
    if rendered.expires <= now.timestamp() {
        return Err(ServeError::AlreadyExpired {
            at: rendered.expires,
        }
        .into());
    }
    Ok(rendered)
}

/// Sleeps until `when` (wall clock) or until `stop` fires. Returns false when told to stop.
fn sleep_until(when: Timestamp, stop: &Receiver<()>) -> bool {
    loop {
        let left = Timestamp::now().duration_until(when);
        if !left.is_positive() {
            return true;
        }
        let nap = Duration::try_from(left).unwrap_or(MAX_SLEEP).min(MAX_SLEEP);
        match stop.recv_timeout(nap) {
            Err(RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

/// The refresher loop, run on its own thread: refresh at a jittered point before expiry
/// ([`refresh::refresh_at`]), retry failures with [`SERVE_BACKOFF`] (longer for throttling)
/// while the old credentials are kept, never give up; stop when `stop` fires or is dropped.
/// `label` prefixes its log lines (e.g. `binding NAME: `; empty for the main role).
pub fn refresh_loop(
    label: &str,
    cache: Arc<CredentialCache>,
    refresher: Refresher,
    first_refresh: Timestamp,
    stop: Receiver<()>,
) {
    let mut next = first_refresh;
    let mut backoff = Backoff::new(SERVE_BACKOFF);
    while sleep_until(next, &stop) {
        match fetch_and_render(&refresher) {
            Ok(rendered) => {
                let fetched = Timestamp::now();
                next = refresh::refresh_at(fetched, rendered.expires, refresh::jitter());
                log::debug!(
                    "{label}refreshed credentials; they expire at {}, next refresh at {next}",
                    rendered.expires
                );
                cache.set(rendered);
                backoff.reset();
            }
            Err(e) => {
                let failure = refresh::classify(&e);
                let delay = backoff.next_delay(failure, refresh::jitter());
                let serving = match cache.get(Timestamp::now()) {
                    Some(r) => format!("serving the previous credentials until {}", r.expires),
                    None => "no valid credentials to serve".to_string(),
                };
                let throttled = if failure == refresh::Failure::Throttled {
                    " (throttled: backing off longer)"
                } else {
                    ""
                };
                log::warn!(
                    "{label}Error generating credentials: {e}; {serving}; retrying in {}s{throttled}",
                    delay.as_secs()
                );
                let now = Timestamp::now();
                next = now.checked_add(delay).unwrap_or(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(expiration: &str) -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Zeroizing::new("se\"cret".into()),
            session_token: Zeroizing::new("tok".into()),
            expiration: expiration.into(),
            account_id: Some("111122223333".into()),
        }
    }

    #[test]
    fn imds_json_has_the_official_key_order() {
        let now: Zoned = "2024-05-01T10:11:12.5+02:00[+02:00]".parse().unwrap();
        let r = render(&creds("2024-05-01T11:00:00.000Z"), &now).unwrap();
        assert_eq!(
            std::str::from_utf8(&r.imds).unwrap(),
            "{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"se\\\"cret\",\"Token\":\"tok\",\
             \"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"Expiration\":\"2024-05-01T11:00:00Z\",\
             \"LastUpdated\":\"2024-05-01T10:11:12.5+02:00\",\"AccountId\":\"111122223333\"}\n"
        );
        assert_eq!(
            std::str::from_utf8(&r.container).unwrap(),
            "{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"se\\\"cret\",\"Token\":\"tok\",\
             \"Expiration\":\"2024-05-01T11:00:00Z\",\"AccountId\":\"111122223333\"}"
        );
        let utc: Zoned = "2024-05-01T10:11:12Z[UTC]".parse().unwrap();
        let r = render(&creds("2024-05-01T11:00:00Z"), &utc).unwrap();
        assert!(std::str::from_utf8(&r.imds)
            .unwrap()
            .contains("\"LastUpdated\":\"2024-05-01T10:11:12Z\""));
        // Unknown account: the official tool's answer exactly, no AccountId.
        let mut c = creds("2024-05-01T11:00:00Z");
        c.account_id = None;
        let r = render(&c, &utc).unwrap();
        assert!(std::str::from_utf8(&r.imds)
            .unwrap()
            .ends_with("\"LastUpdated\":\"2024-05-01T10:11:12Z\"}\n"));
    }

    #[test]
    fn bad_expiration_is_an_error() {
        let now = Zoned::now();
        assert!(render(&creds("tomorrow"), &now).is_err());
    }

    #[test]
    fn cache_serves_only_valid_credentials() {
        let cache = CredentialCache::new();
        let t: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        assert!(cache.get(t).is_none());
        let r = render(&creds("2024-05-01T11:00:00Z"), &Zoned::now()).unwrap();
        cache.set(r);
        assert!(cache.get(t).is_some());
        assert!(cache.get("2024-05-01T11:00:00Z".parse().unwrap()).is_none());
    }
}
