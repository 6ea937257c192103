//! The context of STS calls: the endpoint, the HTTPS client, the retry policy and the cache,
//! plus the MFA code (given, or asked for on the terminal).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::files::aws_config;
use crate::files::cache::{self, Key, Store};
use crate::protocol::http::{self, HttpClient, HttpOptions, RetryPolicy};
use crate::sts::{self, Endpoint};

/// Where and how STS is called.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Empty: from the environment or the shared config.
    pub region: String,
    /// Empty: from the environment or the shared config, else AWS's.
    pub endpoint: String,
    /// Upper bound on one request.
    pub timeout: Duration,
    pub no_verify_ssl: bool,
    /// The profile of the shared config to take settings from (`None`: `$AWS_PROFILE`).
    pub profile: Option<String>,
}

/// The credentials cache.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// `None`: the default directory.
    pub dir: Option<PathBuf>,
    /// Cached credentials are reused only while valid for longer than this.
    pub margin: Duration,
}

/// An MFA device and, maybe, its current code.
#[derive(Debug, Clone, Default)]
pub struct Mfa {
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
}

impl Mfa {
    /// The device, if one is given.
    pub fn serial(&self) -> Option<&str> {
        self.serial_number.as_deref().filter(|s| !s.is_empty())
    }
}

/// A client and endpoint for STS, the retry policy and the cache.
pub struct Sts {
    pub endpoint: Endpoint,
    pub client: HttpClient,
    pub policy: RetryPolicy,
    pub store: Option<Store>,
    /// MFA codes typed in this process, per device: one code serves every role reached
    /// through the device.
    codes: std::sync::Mutex<std::collections::HashMap<String, Zeroizing<String>>>,
}

impl Sts {
    /// Builds the context; `cache` is `None` when nothing is cached.
    pub fn new(opts: &ClientOptions, cache: Option<&CacheOptions>) -> Result<Sts> {
        let settings = aws_config::load_for(opts.profile.as_deref())?;
        let endpoint = sts::resolve_endpoint(&opts.region, &opts.endpoint, &settings)?;
        let client = HttpClient::new(
            &endpoint.url(),
            &HttpOptions {
                no_verify_ssl: opts.no_verify_ssl,
                ca_bundle: settings.ca_bundle.clone(),
                timeout: opts.timeout,
                user_agent: http::user_agent(),
            },
        )?;
        let store = match cache {
            Some(c) => {
                let dir = c.dir.clone().or_else(cache::default_dir).ok_or_else(|| {
                    Error::new("cannot find a cache directory: HOME is not set")
                        .hint("pass --cache-dir DIR or --no-cache")
                })?;
                Some(Store::open(&dir, c.margin)?)
            }
            None => None,
        };
        Ok(Sts {
            endpoint,
            client,
            policy: RetryPolicy {
                max_attempts: settings.max_attempts.unwrap_or(3),
                ..RetryPolicy::default()
            },
            store,
            codes: Default::default(),
        })
    }

    /// The MFA code for `serial`: the flag's, one typed earlier in this process, or asked for.
    pub fn mfa_code(&self, flag: Option<&str>, serial: &str) -> Result<Zeroizing<String>> {
        if flag.is_some() {
            return token_code(flag, serial);
        }
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(code) = codes.get(serial) {
            return Ok(code.clone());
        }
        let code = token_code(None, serial)?;
        codes.insert(serial.to_string(), code.clone());
        Ok(code)
    }

    /// Returns the cached credentials of `key`, or makes them with `make` and caches them.
    /// The key stays locked meanwhile, so concurrent runs make them once. Credentials that
    /// were obtained but cannot be cached (disk full, read-only) are returned all the same,
    /// with a warning: an MFA code is never spent for nothing.
    pub(crate) fn cached(
        &self,
        key: &Key,
        make: impl FnOnce() -> Result<(Credentials, Meta)>,
    ) -> Result<(Credentials, Meta)> {
        cached_in(self.store.as_ref(), key, make)
    }
}

/// [`Sts::cached`] for any store (or none).
fn cached_in(
    store: Option<&Store>,
    key: &Key,
    make: impl FnOnce() -> Result<(Credentials, Meta)>,
) -> Result<(Credentials, Meta)> {
    let Some(store) = store else {
        return make();
    };
    let _lock = store.lock(key)?;
    if let Some(hit) = store.get(key) {
        return Ok(hit);
    }
    let (creds, meta) = make()?;
    if let Err(e) = store.put(key, &creds, &meta) {
        log::warn!("warning: the credentials are not cached: {e}");
    }
    Ok((creds, meta))
}

/// The MFA code: the flag's, else asked for on the terminal.
pub fn token_code(flag: Option<&str>, serial: &str) -> Result<Zeroizing<String>> {
    if let Some(code) = flag {
        sts::check_token_code(code)?;
        return Ok(Zeroizing::new(code.to_string()));
    }
    if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
        return Err(Error::new(format!(
            "--token-code is needed for MFA device {serial}, and there is no terminal to ask on"
        ))
        .hint("pass --token-code with the 6-digit code your device shows"));
    }
    let code = rpassword::prompt_password(format!("MFA code for {serial}: "))
        .map(Zeroizing::new)
        .map_err(|e| Error::new(format!("cannot read the MFA code from the terminal: {e}")))?;
    let trimmed = Zeroizing::new(code.trim().to_string());
    sts::check_token_code(&trimmed)?;
    Ok(trimmed)
}

pub(crate) fn check_duration(
    flag: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    what: &str,
) -> Result<()> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(Error::new(format!(
        "{flag} {value} is out of range: {what} accepts {} to {} seconds",
        range.start(),
        range.end()
    ))
    .hint(format!(
        "pass {flag} between {} and {}",
        range.start(),
        range.end()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn creds() -> (Credentials, Meta) {
        let expiration = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        (
            Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: Zeroizing::new("secret".into()),
                session_token: Zeroizing::new("token".into()),
                expiration: expiration.to_string(),
                account_id: None,
            },
            Meta::default(),
        )
    }

    #[test]
    fn credentials_that_cannot_be_cached_are_returned_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let store = Store::open(&cache_dir, Duration::from_secs(300)).unwrap();
        let key = Key::new("session-token", &["session-token", "AKIAEXAMPLE"]);
        // The entry's place is taken by a directory, so the write fails.
        std::fs::create_dir(store.path(&key)).unwrap();
        let mut calls = 0;
        let (got, _) = cached_in(Some(&store), &key, || {
            calls += 1;
            Ok(creds())
        })
        .expect("credentials despite the failed cache write");
        assert_eq!(got.access_key_id, "ASIAEXAMPLE");
        assert_eq!(calls, 1);
        assert!(store.path(&key).is_dir(), "the directory is left alone");
        // A working cache is reused: the second call makes nothing.
        let key2 = Key::new("session-token", &["session-token", "AKIAOTHER"]);
        cached_in(Some(&store), &key2, || Ok(creds())).unwrap();
        let (hit, _) = cached_in(Some(&store), &key2, || {
            Err(Error::new("must not be called: the entry is cached"))
        })
        .unwrap();
        assert_eq!(hit.access_key_id, "ASIAEXAMPLE");
    }
}
