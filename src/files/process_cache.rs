//! An opt-in cache for `credential-process` (`--cache` / `AWS_SIGNING_HELPER_CACHE=1`).
//!
//! The AWS CLI runs `credential_process` for every command, and each run would otherwise make a
//! new CreateSession. With the cache, a run reuses unexpired credentials obtained earlier for the
//! same inputs, and asks for new ones when less than a margin (default 15 minutes) remains.
//!
//! * Key: SHA-256 over the bytes of the certificate, private key and intermediates files, the
//!   key password, the three ARNs, the resolved endpoint and signing region, the duration and
//!   the session name. Any other certificate or key (even a re-encoded one) gives another key,
//!   so credentials are never handed to a different certificate or key. Hashing the key *file*
//!   rather than its public key means a hit never decrypts the key or asks for its password.
//! * Files: `<dir>/<hex key>.json` and `<dir>/<hex key>.lock`, kept by the one cache store
//!   ([`super::cache::Store`]): the directory must pass the trusted-directory checks (a missing
//!   one is created 0700, an open one is refused, never chmod'ed), entries are written
//!   atomically with mode 0600 and store the key they were written for, which is compared on
//!   read; entries with empty credentials are ignored.
//! * Concurrency: a run that misses takes the key's lock file exclusively, reads the entry again
//!   (another run may have just refreshed it) and only then calls CreateSession. N parallel runs
//!   therefore make one CreateSession; the others wait on the lock and read its result.
//! * The entry also records the certificate's notAfter: an expired certificate is never
//!   "extended" by its cached credentials.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::cache::{usable, CacheError, Store};

/// The default refresh margin: 15 minutes.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(900);

/// Where and how to cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    pub dir: PathBuf,
    /// Refresh when less than this remains before the credentials expire.
    pub margin: Duration,
}

/// What identifies one set of cached credentials: the fields are hashed, never stored.
#[derive(Default)]
pub struct KeyInputs<'a> {
    pub certificate: &'a [u8],
    pub private_key: &'a [u8],
    pub intermediates: &'a [u8],
    pub password: &'a str,
    pub trust_anchor_arn: &'a str,
    pub profile_arn: &'a str,
    pub role_arn: &'a str,
    /// `scheme://authority` of the endpoint and its path.
    pub endpoint: &'a str,
    pub region: &'a str,
    pub duration_seconds: i64,
    pub role_session_name: &'a str,
}

impl KeyInputs<'_> {
    /// The cache key, as 64 lower-case hex digits (also the file name).
    pub fn key(&self) -> String {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let duration = self.duration_seconds.to_string();
        for field in [
            b"aws-signing-helper credential-process cache v1".as_slice(),
            self.certificate,
            self.private_key,
            self.intermediates,
            self.password.as_bytes(),
            self.trust_anchor_arn.as_bytes(),
            self.profile_arn.as_bytes(),
            self.role_arn.as_bytes(),
            self.endpoint.as_bytes(),
            self.region.as_bytes(),
            duration.as_bytes(),
            self.role_session_name.as_bytes(),
        ] {
            // Length-prefixed, so no two different field lists hash the same bytes.
            ctx.update(&(field.len() as u64).to_be_bytes());
            ctx.update(field);
        }
        hex::encode(ctx.finish().as_ref())
    }
}

/// One cache file.
#[derive(Serialize, Deserialize)]
struct Entry {
    version: u8,
    /// The key the entry was written for (also its file name), compared on read.
    #[serde(default)]
    key: String,
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Zeroizing<String>,
    expiration: String,
    account_id: Option<String>,
    /// The certificate's notAfter (Unix seconds), when known.
    certificate_not_after: Option<i64>,
}

const VERSION: u8 = 1;

impl Entry {
    fn new(key: &str, creds: &Credentials, certificate_not_after: Option<Timestamp>) -> Entry {
        Entry {
            version: VERSION,
            key: key.to_string(),
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: creds.session_token.clone(),
            expiration: creds.expiration.clone(),
            account_id: creds.account_id.clone(),
            certificate_not_after: certificate_not_after.map(|t| t.as_second()),
        }
    }

    fn credentials(self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id,
            secret_access_key: self.secret_access_key,
            session_token: self.session_token,
            expiration: self.expiration,
            account_id: self.account_id,
        }
    }

    /// Usable for `key` at `now`: written for it, complete, more than `margin` left and the
    /// certificate still valid.
    fn fresh(&self, key: &str, now: Timestamp, margin: Duration) -> bool {
        if self.key != key
            || self.access_key_id.is_empty()
            || self.secret_access_key.is_empty()
            || self.session_token.is_empty()
        {
            return false;
        }
        let Ok(expiration) = self.expiration.parse::<Timestamp>() else {
            return false;
        };
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
        let left = expiration.as_second().saturating_sub(now.as_second());
        let cert_ok = self
            .certificate_not_after
            .is_none_or(|t| now.as_second() < t);
        self.version == VERSION && left > margin && cert_ok
    }
}

/// The default directory: `$XDG_CACHE_HOME/aws-signing-helper/process`, else
/// `$HOME/.cache/aws-signing-helper/process`.
pub fn default_dir() -> Result<PathBuf, CacheError> {
    let base = crate::files::cache::cache_home().ok_or(CacheError::NoHome)?;
    Ok(base.join("aws-signing-helper").join("process"))
}

/// What [`get_or_fetch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Served from the cache without waiting.
    Hit,
    /// Another run refreshed the entry while we waited for the lock.
    HitAfterWait,
    /// We called `fetch`.
    Fetched,
}

/// Returns fresh cached credentials for `key`, or calls `fetch` (at most one caller per key at a
/// time) and caches what it returns. `fetch` gives the credentials and the certificate's
/// notAfter. A failure to store the entry after a successful fetch is only a warning.
pub fn get_or_fetch(
    opts: &CacheOptions,
    key: &str,
    now: impl Fn() -> Timestamp,
    fetch: impl FnOnce() -> Result<(Credentials, Option<Timestamp>)>,
) -> Result<(Credentials, Outcome)> {
    // Only a directory that passes the checks is read from (and it is opened once, so the
    // checks hold for every later step).
    let store = Store::open(&opts.dir, opts.margin)?;
    let name = format!("{key}.json");
    let read = |outcome| {
        let e: Entry = store.read_json(&name)?;
        if !e.fresh(key, now(), opts.margin) {
            return None;
        }
        let creds = e.credentials();
        usable(&creds).then_some((creds, outcome))
    };
    // Fast path: no lock. The rename-based writes make a read see a whole entry; a file we
    // cannot read or parse is just a miss.
    if let Some(hit) = read(Outcome::Hit) {
        return Ok(hit);
    }
    let lock = store.lock_name(key)?;
    if let Some(hit) = read(Outcome::HitAfterWait) {
        return Ok(hit);
    }
    let (creds, not_after) = fetch()?;
    if let Err(e) = store.write_json(&name, &Entry::new(key, &creds, not_after), Some(&lock)) {
        log::warn!("could not store the credentials in the cache: {e}");
    }
    // The lock is released when `lock` is dropped.
    drop(lock);
    Ok((creds, Outcome::Fetched))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn creds(id: &str, expiration: Timestamp) -> Credentials {
        Credentials {
            access_key_id: id.into(),
            secret_access_key: Zeroizing::new("secret".into()),
            session_token: Zeroizing::new("token".into()),
            expiration: expiration.to_string(),
            account_id: Some("111122223333".into()),
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn key_depends_on_every_input() {
        let base = KeyInputs {
            certificate: b"cert",
            private_key: b"key",
            role_arn: "r",
            duration_seconds: 3600,
            ..KeyInputs::default()
        };
        let k = base.key();
        assert_eq!(k.len(), 64);
        assert_ne!(
            k,
            KeyInputs {
                private_key: b"key2",
                ..base
            }
            .key()
        );
        let base = KeyInputs {
            certificate: b"cert",
            private_key: b"key",
            role_arn: "r",
            duration_seconds: 3600,
            ..KeyInputs::default()
        };
        assert_ne!(
            k,
            KeyInputs {
                duration_seconds: 900,
                ..base
            }
            .key()
        );
        // Field boundaries matter: "ab"+"c" differs from "a"+"bc".
        let a = KeyInputs {
            certificate: b"ab",
            private_key: b"c",
            ..KeyInputs::default()
        };
        let b = KeyInputs {
            certificate: b"a",
            private_key: b"bc",
            ..KeyInputs::default()
        };
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn hit_margin_and_certificate_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let opts = CacheOptions {
            dir: dir.path().join("c"),
            margin: Duration::from_secs(900),
        };
        let calls = AtomicU32::new(0);
        let fetch = |exp: Timestamp, not_after: Option<Timestamp>| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok((creds("ASIAFIRST", exp), not_after))
        };
        let (c, o) =
            get_or_fetch(&opts, "k", || at(0), || fetch(at(3600), Some(at(2000)))).unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), o),
            ("ASIAFIRST", Outcome::Fetched)
        );
        // 1000 s later: 2600 s left > 900 margin, certificate valid: hit.
        let (_, o) = get_or_fetch(&opts, "k", || at(1000), || fetch(at(9999), None)).unwrap();
        assert_eq!(o, Outcome::Hit);
        // Past the certificate's notAfter: refresh even though the credentials last.
        let (_, o) = get_or_fetch(&opts, "k", || at(2000), || fetch(at(5600), None)).unwrap();
        assert_eq!(o, Outcome::Fetched);
        // Exactly the margin left: refresh.
        let (_, o) = get_or_fetch(&opts, "k", || at(4700), || fetch(at(8000), None)).unwrap();
        assert_eq!(o, Outcome::Fetched);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Another key never sees this entry.
        let (_, o) = get_or_fetch(&opts, "other", || at(4700), || fetch(at(8000), None)).unwrap();
        assert_eq!(o, Outcome::Fetched);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&opts.dir), 0o700);
            assert_eq!(mode(&opts.dir.join("k.json")), 0o600);
            assert_eq!(mode(&opts.dir.join("k.lock")), 0o600);
        }
    }

    #[test]
    fn failed_fetch_caches_nothing_and_corrupt_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let opts = CacheOptions {
            dir: dir.path().to_path_buf(),
            margin: DEFAULT_MARGIN,
        };
        let r = get_or_fetch(&opts, "k", || at(0), || Err(Error::new("boom")));
        assert_eq!(r.unwrap_err().message(), "boom");
        assert!(!dir.path().join("k.json").exists());
        std::fs::write(dir.path().join("k.json"), b"{not json").unwrap();
        let (_, o) =
            get_or_fetch(&opts, "k", || at(0), || Ok((creds("A", at(3600)), None))).unwrap();
        assert_eq!(o, Outcome::Fetched);
    }

    #[cfg(unix)]
    #[test]
    fn open_directory_is_refused_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        let opts = CacheOptions {
            dir: dir.path().to_path_buf(),
            margin: DEFAULT_MARGIN,
        };
        let r = get_or_fetch(&opts, "k", || at(0), || Ok((creds("A", at(3600)), None)));
        let e = r.unwrap_err();
        assert!(e.message().contains("cache directory"), "{e}");
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o1777);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn foreign_and_empty_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let opts = CacheOptions {
            dir: dir.path().join("c"),
            margin: DEFAULT_MARGIN,
        };
        let ok = || Ok((creds("A", at(3600)), None));
        get_or_fetch(&opts, "k", || at(0), ok).unwrap();
        // An entry copied under another key's name is not that key's.
        std::fs::copy(opts.dir.join("k.json"), opts.dir.join("other.json")).unwrap();
        let (_, o) = get_or_fetch(&opts, "other", || at(0), ok).unwrap();
        assert_eq!(o, Outcome::Fetched);
        // Empty credentials are never handed out.
        let empty = || Ok((creds("", at(3600)), None));
        get_or_fetch(&opts, "e", || at(0), empty).unwrap();
        let (c, o) = get_or_fetch(&opts, "e", || at(0), ok).unwrap();
        assert_eq!((c.access_key_id.as_str(), o), ("A", Outcome::Fetched));
    }
}
