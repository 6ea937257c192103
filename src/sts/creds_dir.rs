//! aws-sts-helpers' credential directory, read as that tool writes it, so that its users keep
//! their keys where they are.
//!
//! `~/aws-creds` (or `$AWS_SIGNING_HELPER_CREDS_DIR`) holds, per account name, `NAME.access_key`
//! and `NAME.secret_key` (one value each, surrounding white space ignored) and optionally
//! `NAME.user` (the IAM user name; the seed tool used `$USER`). Names are matched in lower
//! case, as the seed tool lowercases its argument (`ec2switch Work` reads `work.access_key`).
//! The directory must pass the safe-file layer's checks (ours or root's, not group- or
//! world-writable) before a key is read from it; files are read without following symlinks.
//!
//! The seed tool also caches an MFA session there: `.cache.NAME.access_key`, `.secret_key`,
//! `.session_token` and `.expiration`, the last holding the session's lifetime in whole
//! minutes, counted from that file's modification time. [`read_cache`] reads it (we never
//! write or remove these files: our own sessions go to our STS cache).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::{self, Dir};
use crate::sts::seed_error::SeedError;
use crate::sts::sts_error::StsError;
use crate::sts::AccessKeys;

/// The environment variable naming the directory.
pub const DIR_ENV: &str = "AWS_SIGNING_HELPER_CREDS_DIR";

/// The cap on one key file (a key is 20 to 128 bytes).
const CAP_KEY_FILE: u64 = 4 << 10;

/// One account's long-term keys from the directory.
pub struct SeedKey {
    /// The account name, in lower case (the file names' stem).
    pub name: String,
    pub keys: AccessKeys,
    /// `NAME.user`, when present and not empty.
    pub user: Option<String>,
}

/// `$AWS_SIGNING_HELPER_CREDS_DIR`, else `~/aws-creds`.
pub fn default_dir() -> Option<PathBuf> {
    crate::env::var_os(DIR_ENV)
        .map(PathBuf::from)
        .or_else(|| files::aws_config::home_dir().map(|h| h.join("aws-creds")))
}

/// Opens `dir` when it exists (`None` when it does not), checked by the safe-file layer.
fn open(dir: &Path) -> Result<Option<Dir>> {
    match Dir::open(dir, None) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads `NAME.SUFFIX` (trimmed), `None` when the file does not exist.
fn value(dir: &Dir, name: &str, suffix: &str) -> Result<Option<Zeroizing<String>>> {
    let file = format!("{name}.{suffix}");
    let bytes = match dir.read(OsStr::new(&file), CAP_KEY_FILE, "aws-creds key file") {
        Ok(b) => b,
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    parse_value(&bytes).map_err(|_| {
        StsError::NotUtf8 {
            path: dir.path().join(&file),
        }
        .into()
    })
}

/// The value of a key or cache file: its text, surrounding white space removed; `None` when
/// nothing is left.
pub fn parse_value(
    bytes: &[u8],
) -> std::result::Result<Option<Zeroizing<String>>, std::str::Utf8Error> {
    let text = std::str::from_utf8(bytes)?;
    Ok(Some(Zeroizing::new(text.trim().to_string())).filter(|v| !v.is_empty()))
}

/// When the seed tool's cached session ends: `minutes` (the `.expiration` file's value) after
/// `modified` (that file's time); `None` when it is not a whole number of minutes, or the end
/// is past what a credentials' expiration can show (year 9999).
pub fn parse_cache_end(
    minutes: &str,
    modified: std::time::SystemTime,
) -> Option<std::time::SystemTime> {
    let seconds = minutes.parse::<u64>().ok()?.checked_mul(60)?;
    let end = modified.checked_add(std::time::Duration::from_secs(seconds))?;
    jiff::Timestamp::try_from(end).ok()?;
    Some(end)
}

/// Whether `name` can be a file stem here (no path separators, no hidden files).
fn plain(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains('/') && !name.contains('\0')
}

/// The keys of account `name` (matched in lower case), `None` when the directory or the
/// account's `.access_key` file does not exist.
pub fn read(dir: &Path, name: &str) -> Result<Option<SeedKey>> {
    let name = name.to_lowercase();
    if !plain(&name) {
        return Ok(None);
    }
    let Some(d) = open(dir)? else { return Ok(None) };
    let Some(id) = value(&d, &name, "access_key")? else {
        return Ok(None);
    };
    let secret = value(&d, &name, "secret_key")?.ok_or_else(|| SeedError::NoSecret {
        path: d.path().join(format!("{name}.secret_key")),
        name: name.clone(),
    })?;
    let user = value(&d, &name, "user")?.map(|u| u.to_string());
    Ok(Some(SeedKey {
        keys: AccessKeys {
            access_key_id: id.to_string(),
            secret_access_key: secret,
            session_token: None,
        },
        name,
        user,
    }))
}

/// The keys of account `name` in `dir`, else in [`default_dir`]; `None` when there is no
/// such account (or no directory).
pub fn find(dir: Option<&Path>, name: &str) -> Result<Option<SeedKey>> {
    match dir.map(Path::to_path_buf).or_else(default_dir) {
        Some(d) => read(&d, name),
        None => Ok(None),
    }
}

/// The account names of the directory (stems of its `*.access_key` files, hidden cache files
/// left out), sorted; empty when the directory does not exist.
pub fn names(dir: &Path) -> Result<Vec<String>> {
    Ok(names_if_exists(dir)?.unwrap_or_default())
}

/// [`names`], `None` when the directory does not exist.
pub fn names_if_exists(dir: &Path) -> Result<Option<Vec<String>>> {
    let Some(d) = open(dir)? else {
        return Ok(None);
    };
    Ok(Some(
        d.names()?
            .iter()
            .filter_map(|n| n.to_str()?.strip_suffix(".access_key").map(str::to_string))
            .filter(|n| plain(n))
            .collect(),
    ))
}

/// The seed tool's cached MFA session of an account.
pub enum SeedCache {
    /// No `.cache.NAME.expiration` file (the seed tool says "Cache not present").
    Absent,
    /// Expired, unreadable or incomplete ("Cache invalid or not present").
    Invalid,
    /// Valid: the session's credentials, `expiration` computed from the file's time.
    Valid(Credentials),
}

/// The seed tool's cached session of account `name` (matched in lower case) at `now`.
pub fn read_cache(dir: &Path, name: &str, now: std::time::SystemTime) -> Result<SeedCache> {
    let name = name.to_lowercase();
    if !plain(&name) {
        return Ok(SeedCache::Absent);
    }
    let Some(d) = open(dir)? else {
        return Ok(SeedCache::Absent);
    };
    let stem = format!(".cache.{name}");
    let expiration_file = format!("{stem}.expiration");
    let Some(modified) = d.modified(OsStr::new(&expiration_file))? else {
        return Ok(SeedCache::Absent);
    };
    let until = value(&d, &stem, "expiration")?.and_then(|m| parse_cache_end(&m, modified));
    let Some(until) = until else {
        log::debug!(
            "{}: not a number of minutes",
            d.path().join(&expiration_file).display()
        );
        return Ok(SeedCache::Invalid);
    };
    if until <= now {
        return Ok(SeedCache::Invalid);
    }
    let (Some(id), Some(secret), Some(token)) = (
        value(&d, &stem, "access_key")?,
        value(&d, &stem, "secret_key")?,
        value(&d, &stem, "session_token")?,
    ) else {
        return Ok(SeedCache::Invalid);
    };
    let expiration = jiff::Timestamp::try_from(until)
        .map(|t| t.round(jiff::Unit::Second).unwrap_or(t).to_string())
        .unwrap_or_default();
    Ok(SeedCache::Valid(Credentials {
        access_key_id: id.to_string(),
        secret_access_key: secret,
        session_token: token,
        expiration,
        account_id: None,
    }))
}

/// Every account of the directory with its keys.
pub fn list(dir: &Path) -> Result<Vec<SeedKey>> {
    let mut out = Vec::new();
    for name in names(dir)? {
        if let Some(k) = read(dir, &name)? {
            out.push(k);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn reads_the_seed_tools_cached_session() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("aws-creds");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let now = std::time::SystemTime::now();
        assert!(matches!(
            read_cache(&dir, "work", now).unwrap(),
            SeedCache::Absent
        ));
        std::fs::write(dir.join(".cache.work.access_key"), "ASIAWORK\n").unwrap();
        std::fs::write(dir.join(".cache.work.secret_key"), "sec").unwrap();
        std::fs::write(dir.join(".cache.work.session_token"), "tok").unwrap();
        std::fs::write(dir.join(".cache.work.expiration"), "120").unwrap();
        let SeedCache::Valid(c) = read_cache(&dir, "WORK", now).unwrap() else {
            panic!("valid for 120 minutes after the file was written")
        };
        assert_eq!(c.access_key_id, "ASIAWORK");
        assert_eq!(c.session_token.as_str(), "tok");
        let left = c
            .expiration_time()
            .unwrap()
            .duration_since(now.try_into().unwrap());
        assert!(left.as_secs() > 7000 && left.as_secs() <= 7201, "{left:?}");
        let later = now + std::time::Duration::from_secs(121 * 60);
        assert!(matches!(
            read_cache(&dir, "work", later).unwrap(),
            SeedCache::Invalid
        ));
        std::fs::remove_file(dir.join(".cache.work.session_token")).unwrap();
        assert!(matches!(
            read_cache(&dir, "work", now).unwrap(),
            SeedCache::Invalid
        ));
        // A link in the seed tool's place is refused, not followed.
        std::fs::write(tmp.path().join("elsewhere"), "120").unwrap();
        std::fs::remove_file(dir.join(".cache.work.expiration")).unwrap();
        std::os::unix::fs::symlink(
            tmp.path().join("elsewhere"),
            dir.join(".cache.work.expiration"),
        )
        .unwrap();
        assert!(read_cache(&dir, "work", now).is_err());
        std::fs::remove_file(dir.join(".cache.work.expiration")).unwrap();
        std::fs::write(dir.join(".cache.work.expiration"), "soon").unwrap();
        assert!(matches!(
            read_cache(&dir, "work", now).unwrap(),
            SeedCache::Invalid
        ));
    }

    /// Found by the `aws_creds_dir` fuzzer: an end past year 9999 gave credentials with no
    /// expiration (never stale), and a larger one overflowed the time and panicked.
    #[test]
    fn a_cache_end_past_any_showable_time_is_invalid() {
        let now = std::time::SystemTime::now();
        assert!(parse_cache_end("120", now).is_some());
        assert!(parse_cache_end("99999999999999", now).is_none());
        assert!(parse_cache_end("18446744073709551615", now).is_none());
        let far = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_000);
        assert!(parse_cache_end("1", far).is_none());
        assert!(parse_cache_end("-1", now).is_none());
    }

    #[test]
    fn reads_the_seed_tools_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("aws-creds");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(dir.join("work.access_key"), "AKIAWORK\n").unwrap();
        std::fs::write(dir.join("work.secret_key"), " s3cret \n").unwrap();
        std::fs::write(dir.join("work.user"), "alice\n").unwrap();
        std::fs::write(dir.join("play.access_key"), "AKIAPLAY").unwrap();
        std::fs::write(dir.join("play.secret_key"), "p").unwrap();
        std::fs::write(dir.join("half.access_key"), "AKIAHALF").unwrap();
        std::fs::write(dir.join(".cache.work.access_key"), "ASIA").unwrap();
        assert_eq!(names(&dir).unwrap(), ["half", "play", "work"]);
        let k = read(&dir, "Work").unwrap().unwrap();
        assert_eq!(k.name, "work");
        assert_eq!(k.keys.access_key_id, "AKIAWORK");
        assert_eq!(k.keys.secret_access_key.as_str(), "s3cret");
        assert_eq!(k.user.as_deref(), Some("alice"));
        assert!(read(&dir, "play").unwrap().unwrap().user.is_none());
        assert!(read(&dir, "nobody").unwrap().is_none());
        assert!(read(&dir, "../work").unwrap().is_none());
        let e = read(&dir, "half").err().unwrap().to_string();
        assert!(
            e.contains("half.secret_key") && !e.contains("AKIAHALF"),
            "{e}"
        );
        assert!(list(&dir).is_err(), "a half-written account is reported");
        assert!(names(&tmp.path().join("none")).unwrap().is_empty());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            read(&dir, "work").is_err(),
            "a world-writable directory is refused"
        );
    }
}
