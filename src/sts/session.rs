//! The context of STS calls: the endpoint, the HTTPS client, the retry policy and the cache,
//! plus the MFA code (given, from a command, or asked for on the terminal; see [`mfa`]).

use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::aws_config;
use crate::files::cache::{self, Key, Store};
use crate::protocol::http::{self, HttpClient, HttpOptions, RetryPolicy};
use crate::sts::sts_error::StsError;
use crate::sts::{self, mfa, Endpoint};

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

/// An MFA device and where its code comes from.
#[derive(Clone)]
pub struct Mfa {
    pub serial_number: Option<String>,
    /// The code given (`--token-code`): used as is, never asked for again.
    pub token_code: Option<String>,
    /// A command whose stdout is the code (`--mfa-process`, the profile's `mfa_process`).
    pub process: Option<String>,
    /// How long the command may run.
    pub process_timeout: Duration,
}

impl std::fmt::Debug for Mfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfa")
            .field("serial_number", &self.serial_number)
            .field(
                "token_code",
                &self.token_code.as_ref().map(|_| "** redacted **"),
            )
            .field("process", &self.process)
            .field("process_timeout", &self.process_timeout)
            .finish()
    }
}

impl Default for Mfa {
    fn default() -> Mfa {
        Mfa {
            serial_number: None,
            token_code: None,
            process: None,
            process_timeout: mfa::DEFAULT_PROCESS_TIMEOUT,
        }
    }
}

impl Mfa {
    /// The device, if one is given.
    pub fn serial(&self) -> Option<&str> {
        self.serial_number.as_deref().filter(|s| !s.is_empty())
    }

    /// The command, if one is given.
    pub fn process(&self) -> Option<&str> {
        self.process.as_deref().filter(|s| !s.trim().is_empty())
    }
}

/// An MFA code obtained in this process, and whether it was typed at the terminal.
struct Memo {
    code: Zeroizing<String>,
    typed: bool,
}

/// A client and endpoint for STS, the retry policy and the cache.
pub struct Sts {
    pub endpoint: Endpoint,
    pub client: HttpClient,
    pub policy: RetryPolicy,
    pub store: Option<Store>,
    /// MFA codes typed (or a command printed) in this process, per device: one code serves
    /// every role reached through the device.
    codes: std::sync::Mutex<std::collections::HashMap<String, Memo>>,
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
                let dir = c
                    .dir
                    .clone()
                    .or_else(cache::default_dir)
                    .ok_or(StsError::NoCacheDir)?;
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

    /// The MFA code for `serial`: the flag's, one obtained earlier in this process, the
    /// command's, or asked for at the terminal; and whether it was typed there.
    /// `typed_count` counts the codes typed at the terminal so far.
    fn mfa_code(
        &self,
        mfa: &Mfa,
        serial: &str,
        typed_count: &mut u32,
    ) -> Result<(Zeroizing<String>, bool)> {
        if let Some(code) = mfa.token_code.as_deref() {
            sts::check_token_code(code)?;
            return Ok((Zeroizing::new(code.to_string()), false));
        }
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = codes.get(serial) {
            return Ok((m.code.clone(), m.typed));
        }
        let (code, typed) = match mfa.process() {
            Some(command) => (
                mfa::from_process(command, serial, mfa.process_timeout)?,
                false,
            ),
            None => (mfa::prompt(serial, typed_count)?, true),
        };
        codes.insert(
            serial.to_string(),
            Memo {
                code: code.clone(),
                typed,
            },
        );
        Ok((code, typed))
    }

    /// Runs `call` with the MFA code of `serial`. When STS rejects a code typed at the
    /// terminal, the next code is asked for (up to [`mfa::ATTEMPTS`] typed codes in all,
    /// malformed ones included); a code from `--token-code` or a command is not retried.
    pub(crate) fn with_mfa_code<T>(
        &self,
        mfa: &Mfa,
        serial: &str,
        mut call: impl FnMut(&str) -> Result<T>,
    ) -> Result<T> {
        let mut typed_count = 0;
        loop {
            let (code, typed) = self.mfa_code(mfa, serial, &mut typed_count)?;
            match call(&code) {
                // A memo typed earlier in this process counts as one typed code more.
                Err(e) if typed && typed_count.max(1) < mfa::ATTEMPTS && mfa::is_rejected(&e) => {
                    typed_count = typed_count.max(1);
                    self.codes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(serial);
                    log::warn!("STS did not accept the MFA code for {serial}; type the next code your device shows");
                }
                Err(e) if mfa::is_rejected(&e) => {
                    let from = match (typed, mfa.token_code.is_some()) {
                        (true, _) => "typed at the terminal",
                        (false, true) => "of --token-code",
                        (false, false) => "printed by the MFA process",
                    };
                    let hint = format!("the code {from} was refused: wait for the next code (and check that {serial} is the device the code is for)");
                    return Err(e.hint(hint));
                }
                other => return other,
            }
        }
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
    // A cache that cannot even be locked (read-only file system, a foreign lock file) must not
    // cost the user the credentials (and the MFA code): they are made without it.
    let _lock = match store.lock(key) {
        Ok(lock) => lock,
        Err(e) => {
            log::warn!("warning: the credentials are not cached: {e}");
            return make();
        }
    };
    if let Some(hit) = store.get(key) {
        return Ok(hit);
    }
    let (creds, meta) = make()?;
    if let Err(e) = store.put(key, &creds, &meta) {
        log::warn!("warning: the credentials are not cached: {e}");
    }
    Ok((creds, meta))
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
    Err(StsError::Duration {
        flag: flag.into(),
        value,
        what: what.into(),
        min: *range.start(),
        max: *range.end(),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
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
        // Nor does a lock that cannot be taken (its place is a directory).
        let key3 = Key::new("session-token", &["session-token", "AKIATHIRD"]);
        std::fs::create_dir(cache_dir.join(format!("{}.lock", key3.file_name()))).unwrap();
        let (got, _) = cached_in(Some(&store), &key3, || Ok(creds())).unwrap();
        assert_eq!(got.access_key_id, "ASIAEXAMPLE");
        assert!(!store.path(&key3).exists());
    }
}
