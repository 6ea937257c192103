//! A credentials cache on disk: one JSON file per key in a private directory.
//!
//! - The directory is created 0700 (an existing one with group/other access is tightened to
//!   0700 when we own it); files are 0600.
//! - A key is the list of everything that identifies the credentials (source identity, role,
//!   external id, MFA device, endpoint, …); the file name is a readable label plus a hash of
//!   the whole key, and the key is stored in the file and compared on read, so different
//!   source identities never share an entry.
//! - Writes go to a temporary file in the same directory, are fsynced, then renamed over the
//!   entry, so readers see the old entry or the new one, never half.
//! - [`Store::lock`] takes an exclusive lock on `<entry>.lock` so that concurrent invocations
//!   for the same key wait for one another (one MFA prompt, one STS call) instead of racing.
//! - An entry is reused only while it stays valid for longer than the margin; unreadable,
//!   foreign or expiring entries are ignored (and overwritten on the next put).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::{Error, Result};

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

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    margin: Duration,
}

/// `$AWS_SIGNING_HELPER_CACHE_DIR`, else `$XDG_CACHE_HOME/aws-signing-helper/sts`, else
/// `~/.cache/aws-signing-helper/sts`.
pub fn default_dir() -> Option<PathBuf> {
    let env = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    if let Some(d) = env(DIR_ENV) {
        return Some(PathBuf::from(d));
    }
    let base = env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| crate::files::aws_config::home_dir().map(|h| h.join(".cache")))?;
    Some(base.join("aws-signing-helper").join("sts"))
}

/// A held lock on one key; released on drop.
pub struct KeyLock {
    _file: File,
}

impl Store {
    /// Opens (creating it 0700 if needed) the cache in `dir`.
    pub fn open(dir: &Path, margin: Duration) -> Result<Store> {
        create_private_dir(dir)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            margin,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file of `key`.
    pub fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Locks `key` against other processes until the returned guard is dropped.
    pub fn lock(&self, key: &Key) -> Result<KeyLock> {
        let path = self.dir.join(format!("{}.lock", key.file_name()));
        let file = open_private(&path).map_err(|e| {
            Error::new(format!(
                "cannot open cache lock file {}: {e}",
                path.display()
            ))
        })?;
        file.lock()
            .map_err(|e| Error::new(format!("cannot lock {}: {e}", path.display())))?;
        Ok(KeyLock { _file: file })
    }

    /// The cached credentials of `key`, if present, ours, and valid for longer than the margin.
    pub fn get(&self, key: &Key) -> Option<(Credentials, Meta)> {
        self.get_at(key, Timestamp::now())
    }

    fn get_at(&self, key: &Key, now: Timestamp) -> Option<(Credentials, Meta)> {
        let path = self.path(key);
        let bytes = Zeroizing::new(std::fs::read(&path).ok()?);
        let entry: Entry = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                log::debug!("ignoring unreadable cache entry {}: {e}", path.display());
                return None;
            }
        };
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
        log::debug!(
            "reusing cached credentials {} (valid {} s more)",
            path.display(),
            left.as_secs()
        );
        Some((
            Credentials {
                access_key_id: entry.access_key_id,
                secret_access_key: entry.secret_access_key,
                session_token: entry.session_token,
                expiration: entry.expiration,
                account_id: entry.account_id,
            },
            Meta {
                source: entry.source,
                mfa: entry.mfa,
                arn: entry.arn,
            },
        ))
    }

    /// Stores `creds` under `key`, atomically, mode 0600.
    pub fn put(&self, key: &Key, creds: &Credentials, meta: &Meta) -> Result<()> {
        let path = self.path(key);
        let fail = |what: &str, e: std::io::Error| {
            Error::new(format!(
                "cannot write cache entry {}: {what}: {e}",
                path.display()
            ))
            .hint("check the cache directory (--cache-dir / AWS_SIGNING_HELPER_CACHE_DIR), or pass --no-cache")
        };
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
        // A struct of strings, options and a bool always serializes.
        let json = Zeroizing::new(serde_json::to_vec(&entry).unwrap_or_default());
        let mut tmp = tempfile::Builder::new()
            .prefix(".entry.")
            .tempfile_in(&self.dir)
            .map_err(|e| fail("cannot create a temporary file", e))?;
        set_private(tmp.as_file()).map_err(|e| fail("cannot set mode 0600", e))?;
        tmp.write_all(&json)
            .map_err(|e| fail("cannot write the temporary file", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| fail("cannot sync the temporary file", e))?;
        tmp.persist(&path)
            .map_err(|e| fail("cannot rename the temporary file", e.error))?;
        if let Ok(d) = File::open(&self.dir) {
            // The entry is correct either way; this only makes the rename durable.
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Removes the entry of `key` (missing is fine).
    pub fn remove(&self, key: &Key) -> Result<()> {
        match std::fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::new(format!(
                "cannot remove cache entry {}: {e}",
                self.path(key).display()
            ))),
        }
    }
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(unix)]
fn set_private(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_: &File) -> std::io::Result<()> {
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::new(format!("cannot create cache directory {}: {e}", dir.display()))
            .hint("pass --cache-dir (or AWS_SIGNING_HELPER_CACHE_DIR) naming a writable directory, or --no-cache")
    };
    if !dir.is_dir() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir).map_err(fail)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir).map_err(fail)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
                Error::new(format!(
                    "cache directory {} is readable by others and cannot be made private: {e}",
                    dir.display()
                ))
                .hint("chmod 700 it, or pass --cache-dir naming a private directory")
            })?;
        }
    }
    Ok(())
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
    fn loose_directory_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Store::open(&dir, DEFAULT_MARGIN).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
