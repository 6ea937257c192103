//! aws-sts-helpers' credential directory, read as that tool writes it, so that its users keep
//! their keys where they are.
//!
//! `~/aws-creds` (or `$AWS_SIGNING_HELPER_CREDS_DIR`) holds, per account name, `NAME.access_key`
//! and `NAME.secret_key` (one value each, surrounding white space ignored) and optionally
//! `NAME.user` (the IAM user name; the seed tool used `$USER`). Names are matched in lower
//! case, as the seed tool lowercases its argument (`ec2switch Work` reads `work.access_key`).
//! The directory must pass the safe-file layer's checks (ours or root's, not group- or
//! world-writable) before a key is read from it; files are read without following symlinks.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::files::{self, Dir};
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
    std::env::var_os(DIR_ENV)
        .filter(|v| !v.is_empty())
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
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::new(format!(
            "cannot read {}: not UTF-8 text",
            dir.path().join(&file).display()
        ))
    })?;
    Ok(Some(Zeroizing::new(text.trim().to_string())).filter(|v| !v.is_empty()))
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
    let secret = value(&d, &name, "secret_key")?.ok_or_else(|| {
        Error::new(format!(
            "missing {}: {} has an access key but no secret key",
            d.path().join(format!("{name}.secret_key")).display(),
            name
        ))
        .hint(
            "write the secret access key into that file (one line), or remove the .access_key file",
        )
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

/// The account names of the directory (stems of its `*.access_key` files, hidden cache files
/// left out), sorted; empty when the directory does not exist.
pub fn names(dir: &Path) -> Result<Vec<String>> {
    let Some(d) = open(dir)? else {
        return Ok(Vec::new());
    };
    Ok(d.names()?
        .iter()
        .filter_map(|n| n.to_str()?.strip_suffix(".access_key").map(str::to_string))
        .filter(|n| plain(n))
        .collect())
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
