//! The one credential cache store on disk, for both caches: STS (`session-token`,
//! `assume-role`, keyed by [`Key`]) and `credential-process --cache` (see
//! [`super::process_cache`], keyed by a hash of its inputs). One JSON file per entry.
//!
//! - The directory must pass the trusted-directory checks ([`super::Dir`]): ours or root's,
//!   writable by nobody else, not a link. A missing one is created 0700; an existing one is
//!   never chmod'ed. Entries are only ever read from a directory that passed.
//! - Entries are written by the one atomic writer ([`super::private`]): 0600, temp file in the
//!   same directory, fsync, rename, so readers see the old entry or the new one, never half.
//!   Entries are read without following links and bounded in size.
//! - A key is the list of everything that identifies the credentials (source identity, role,
//!   external id, MFA device, endpoint, …); the file name is a readable label plus a hash of
//!   the whole key, and the key is stored in the file and compared on read, so different
//!   source identities never share an entry.
//! - [`Store::lock`] takes an exclusive lock on `<entry>.lock` so that concurrent invocations
//!   for the same key wait for one another (one MFA prompt, one STS call) instead of racing.
//! - An entry is reused only while it stays valid for longer than the margin; unreadable,
//!   foreign, empty or expiring entries are ignored (and overwritten on the next put).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::private::PRIVATE;
use crate::files::{Dir, Error as FilesError, Lock, CAP_CACHE_ENTRY};

/// How long before expiry a cached entry stops being reused, unless configured.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The environment variable overriding the STS cache directory.
pub const DIR_ENV: &str = "AWS_SIGNING_HELPER_CACHE_DIR";

/// Identifies one cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// A readable label for the file name (sanitized), e.g. `assume-role-MyRole`.
    pub label: String,
    /// Everything the credentials depend on. Not secret: access key ids, ARNs, URLs.
    pub parts: Vec<String>,
}

impl Key {
    /// A key from a label and its identifying parts.
    pub fn new(label: &str, parts: &[&str]) -> Key {
        Key {
            label: label.to_string(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn digest(&self) -> String {
        let joined = self.parts.join("\u{0}");
        crate::protocol::sigv4::sha256_hex(joined.as_bytes())
    }

    /// The entry's file name.
    pub fn file_name(&self) -> String {
        let label: String = self
            .label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        format!("{label}-{}.json", &self.digest()[..16])
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    version: u8,
    key: Vec<String>,
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Zeroizing<String>,
    expiration: String,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    mfa: bool,
    #[serde(default)]
    arn: Option<String>,
}

/// The cache directory (checked when opened, and held open).
#[derive(Debug, Clone)]
pub struct Store {
    dir: Arc<Dir>,
    margin: Duration,
}

/// `$AWS_SIGNING_HELPER_CACHE_DIR`, else `$XDG_CACHE_HOME/aws-signing-helper/sts`, else
/// `~/.cache/aws-signing-helper/sts`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = crate::env::var_os(DIR_ENV) {
        return Some(PathBuf::from(d));
    }
    Some(cache_home()?.join("aws-signing-helper").join("sts"))
}

/// A held lock on one key; released on drop.
pub struct KeyLock {
    lock: Lock,
}

/// Why the cache could not be used. Each names the directory or entry and says what to do.
#[derive(Debug)]
pub enum CacheError {
    /// The cache directory cannot be opened or trusted.
    Dir(FilesError),
    /// An entry's lock cannot be taken.
    Lock(FilesError),
    /// The entry `path` cannot be encoded.
    Encode {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The entry cannot be written.
    Write(FilesError),
    /// The entry cannot be removed.
    Remove(FilesError),
    /// Neither `$XDG_CACHE_HOME` nor `$HOME` says where the cache is.
    NoHome,
}

impl CacheError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            CacheError::Dir(_) => "pass --cache-dir (or AWS_SIGNING_HELPER_CACHE_DIR) naming a private directory of yours, or run without the cache".into(),
            CacheError::Lock(_) => "run without the cache, or use a --cache-dir on a local file system".into(),
            CacheError::Encode { .. } => return None,
            CacheError::Write(_) => "check the cache directory (--cache-dir / AWS_SIGNING_HELPER_CACHE_DIR), or pass --no-cache".into(),
            CacheError::Remove(e) => return e.hint(),
            CacheError::NoHome => "set HOME, XDG_CACHE_HOME or --cache-dir".into(),
        })
    }
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Dir(e) => match e.untrusted_dir() {
                Some((path, reason)) => write!(
                    f,
                    "refusing to use the cache directory {}: {reason}",
                    path.display()
                ),
                None => write!(f, "cannot use the cache directory: {e}"),
            },
            CacheError::Lock(e) | CacheError::Remove(e) => write!(f, "{e}"),
            CacheError::Encode { path, source } => {
                write!(f, "cannot encode cache entry {}: {source}", path.display())
            }
            CacheError::Write(e) => write!(f, "cannot write cache entry: {e}"),
            CacheError::NoHome => {
                f.write_str("cannot find a directory for the credential cache: HOME is not set")
            }
        }
    }
}

impl std::error::Error for CacheError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CacheError::Dir(e)
            | CacheError::Lock(e)
            | CacheError::Write(e)
            | CacheError::Remove(e) => Some(e),
            CacheError::Encode { source, .. } => Some(source),
            CacheError::NoHome => None,
        }
    }
}

crate::error::typed_error!(CacheError);

/// `$XDG_CACHE_HOME` (when absolute), else `~/.cache`: where both caches live.
pub(crate) fn cache_home() -> Option<PathBuf> {
    crate::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| crate::files::aws_config::home_dir().map(|h| h.join(".cache")))
}

/// Whether credentials read back from a cache are complete enough to hand out.
pub(crate) fn usable(c: &Credentials) -> bool {
    !c.access_key_id.is_empty() && !c.secret_access_key.is_empty() && !c.session_token.is_empty()
}

impl Store {
    /// Opens (creating it 0700 if needed) the cache in `dir`, after checking it can be trusted.
    pub fn open(dir: &Path, margin: Duration) -> Result<Store, CacheError> {
        let dir = Dir::create_private(dir).map_err(CacheError::Dir)?;
        Ok(Store {
            dir: Arc::new(dir),
            margin,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The entry file of `key`.
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.path().join(key.file_name())
    }

    /// Locks `key` against other processes until the returned guard is dropped.
    pub fn lock(&self, key: &Key) -> Result<KeyLock, CacheError> {
        self.lock_name(&key.file_name())
    }

    /// Locks the entry `name` (`<name>.lock`).
    pub(crate) fn lock_name(&self, name: &str) -> Result<KeyLock, CacheError> {
        let lock = self.dir.lock(OsStr::new(name)).map_err(CacheError::Lock)?;
        Ok(KeyLock { lock })
    }

    /// The entry `name` parsed, if it is there, a regular file, small and valid JSON.
    pub(crate) fn read_json<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let shown = self.dir.path().join(name);
        let bytes = match self
            .dir
            .read(OsStr::new(name), CAP_CACHE_ENTRY, "cache entry")
        {
            Ok(b) => b,
            Err(e) => {
                if e.io_error().map(|e| e.kind()) != Some(std::io::ErrorKind::NotFound) {
                    log::debug!("ignoring cache entry: {e}");
                }
                return None;
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                // Entries hold secrets: the parser's own text could quote one.
                let why = crate::JsonProblem::from(e);
                log::debug!("ignoring unreadable cache entry {}: {why}", shown.display());
                None
            }
        }
    }

    /// Writes the entry `name` atomically, mode 0600.
    pub(crate) fn write_json<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        lock: Option<&KeyLock>,
    ) -> Result<(), CacheError> {
        let json =
            Zeroizing::new(
                serde_json::to_vec(value).map_err(|source| CacheError::Encode {
                    path: self.dir.path().join(name),
                    source,
                })?,
            );
        self.dir
            .write(OsStr::new(name), &json, PRIVATE, lock.map(|l| &l.lock))
            .map_err(CacheError::Write)
    }

    /// The cached credentials of `key`, if present, ours, and valid for longer than the margin.
    pub fn get(&self, key: &Key) -> Option<(Credentials, Meta)> {
        self.get_at(key, Timestamp::now())
    }

    fn get_at(&self, key: &Key, now: Timestamp) -> Option<(Credentials, Meta)> {
        let path = self.path(key);
        let entry: Entry = self.read_json(&key.file_name())?;
        if entry.version != 1 || entry.key != key.parts {
            log::debug!("ignoring cache entry {} of another key", path.display());
            return None;
        }
        let expiration: Timestamp = entry.expiration.parse().ok()?;
        let left = expiration.duration_since(now);
        let margin = jiff::SignedDuration::try_from(self.margin).unwrap_or_default();
        if left <= margin {
            log::debug!(
                "cache entry {} expires in {} s, not reused",
                path.display(),
                left.as_secs()
            );
            return None;
        }
        let creds = Credentials {
            access_key_id: entry.access_key_id,
            secret_access_key: entry.secret_access_key,
            session_token: entry.session_token,
            expiration: entry.expiration,
            account_id: entry.account_id,
        };
        if !usable(&creds) {
            log::debug!(
                "ignoring cache entry {} with empty credentials",
                path.display()
            );
            return None;
        }
        log::debug!(
            "reusing cached credentials {} (valid {} s more)",
            path.display(),
            left.as_secs()
        );
        Some((
            creds,
            Meta {
                source: entry.source,
                mfa: entry.mfa,
                arn: entry.arn,
            },
        ))
    }

    /// Stores `creds` under `key`, atomically, mode 0600.
    pub fn put(&self, key: &Key, creds: &Credentials, meta: &Meta) -> Result<(), CacheError> {
        let entry = Entry {
            version: 1,
            key: key.parts.clone(),
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.clone(),
            session_token: creds.session_token.clone(),
            expiration: creds.expiration.clone(),
            account_id: creds.account_id.clone(),
            source: meta.source.clone(),
            mfa: meta.mfa,
            arn: meta.arn.clone(),
        };
        self.write_json(&key.file_name(), &entry, None)
    }

    /// Whether an entry of `key` is there, valid or not (its link, if any, is not followed).
    pub fn exists(&self, key: &Key) -> bool {
        self.dir
            .modified(OsStr::new(&key.file_name()))
            .is_ok_and(|m| m.is_some())
    }

    /// Removes the entry of `key` (missing is fine).
    pub fn remove(&self, key: &Key) -> Result<(), CacheError> {
        self.dir
            .remove(OsStr::new(&key.file_name()))
            .map_err(CacheError::Remove)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(exp: &str) -> Credentials {
        Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: Zeroizing::new("s".into()),
            session_token: Zeroizing::new("t".into()),
            expiration: exp.into(),
            account_id: Some("123456789012".into()),
        }
    }

    #[test]
    fn put_get_margin_and_modes() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let store = Store::open(&dir, Duration::from_secs(300)).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let key = Key::new("assume-role/x", &["AKIA1", "arn:role"]);
        let meta = Meta {
            source: "test".into(),
            mfa: true,
            arn: None,
        };
        store
            .put(&key, &creds("2030-01-01T01:00:00Z"), &meta)
            .unwrap();
        assert_eq!(
            std::fs::metadata(store.path(&key))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert!(key.file_name().starts_with("assume-role_x-"));
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let (c, m) = store.get_at(&key, now).unwrap();
        assert_eq!(c.secret_access_key.as_str(), "s");
        assert_eq!(m, meta);
        // Within the margin, or expired: not reused.
        let late: Timestamp = "2030-01-01T00:55:01Z".parse().unwrap();
        assert!(store.get_at(&key, late).is_none());
        // Another key never reads it, even with a colliding file name.
        let other = Key::new("assume-role/x", &["AKIA2", "arn:role"]);
        assert!(store.get_at(&other, now).is_none());
        std::fs::copy(store.path(&key), store.path(&other)).unwrap();
        assert!(store.get_at(&other, now).is_none());
        // Garbage is ignored.
        std::fs::write(store.path(&key), b"{not json").unwrap();
        assert!(store.get_at(&key, now).is_none());
        let _guard = store.lock(&key).unwrap();
        store.remove(&key).unwrap();
        store.remove(&key).unwrap();
    }

    #[test]
    fn unsafe_directories_are_refused_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        crate::files::groups::share_with_group(&dir);
        for mode in [0o777, 0o1777, 0o775] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = Store::open(&dir, DEFAULT_MARGIN).unwrap_err();
            assert!(matches!(e, CacheError::Dir(_)), "{e}");
            let line = crate::Error::from(e).to_string();
            assert!(
                line.starts_with(&format!(
                    "refusing to use the cache directory {}: other users can write to it (mode {mode:04o}",
                    dir.display()
                )) && line.ends_with("(hint: pass --cache-dir (or AWS_SIGNING_HELPER_CACHE_DIR) naming a private directory of yours, or run without the cache)"),
                "{line}"
            );
            assert_eq!(
                std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777,
                mode
            );
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        // Readable, not writable, by others: used as is.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&dir, DEFAULT_MARGIN).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[test]
    fn empty_credentials_and_linked_entries_are_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("s"), DEFAULT_MARGIN).unwrap();
        let key = Key::new("k", &["AKIA1"]);
        let meta = Meta {
            source: "test".into(),
            mfa: false,
            arn: None,
        };
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let mut c = creds("2030-01-01T01:00:00Z");
        c.session_token = Zeroizing::new(String::new());
        store.put(&key, &c, &meta).unwrap();
        assert!(store.get_at(&key, now).is_none());
        // A good entry elsewhere, linked in: never read.
        let other = Store::open(&tmp.path().join("o"), DEFAULT_MARGIN).unwrap();
        other
            .put(&key, &creds("2030-01-01T01:00:00Z"), &meta)
            .unwrap();
        assert!(other.get_at(&key, now).is_some());
        std::fs::remove_file(store.path(&key)).unwrap();
        std::os::unix::fs::symlink(other.path(&key), store.path(&key)).unwrap();
        assert!(store.get_at(&key, now).is_none());
        // And never written through.
        assert!(store
            .put(&key, &creds("2030-01-01T01:00:00Z"), &meta)
            .is_err());
    }
}
