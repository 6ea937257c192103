//! The AWS shared files, `~/.aws/config` and `~/.aws/credentials`: where they are (one place
//! for every reader and writer) and the one trusted read every reader of them uses.
//!
//! Both files can run commands (`credential_process`) and hold keys, so whoever can write them
//! controls what we run and whose credentials we use. A read therefore trusts the file only
//! when, on top of the bounded reader's rules,
//! - the file (opened, then checked on the descriptor) belongs to us or root and is writable by
//!   nobody else (a group-writable file in its owner's private group is fine), and
//! - every directory above it, as written and with links resolved, is trusted as
//!   [`super::dir`] trusts directories (ours or root's, writable by nobody else unless sticky).
//!
//! Root running us through `sudo` may also read the files of the user who ran `sudo`
//! (`$SUDO_UID`), as git does for repositories: `sudo -E aws_signing_helper update` keeps
//! working for its user, while a file of any other user is refused.
//!
//! The same trust rules ([`read_trusted_capped`], [`read_trusted_file`], [`check_trusted_path`])
//! serve every other input that decides what we run, whom we trust or who gets which
//! credentials (`serve --bindings`, the accounts files, the CA bundle, PKCS#11 modules).
//!
//! `/dev/null` reads as an empty file (`AWS_CONFIG_FILE=/dev/null` is the usual way to turn the
//! file off); a missing file reads as `None`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::dir::{check_ancestors, distrust, euid};
use super::Error;

/// One of the two shared files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedFile {
    /// `$AWS_CONFIG_FILE`, else `~/.aws/config`.
    Config,
    /// `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    Credentials,
}

impl SharedFile {
    /// The variable that names the file.
    pub fn env_var(self) -> &'static str {
        match self {
            SharedFile::Config => "AWS_CONFIG_FILE",
            SharedFile::Credentials => "AWS_SHARED_CREDENTIALS_FILE",
        }
    }

    /// What the file is called in messages.
    pub fn what(self) -> &'static str {
        match self {
            SharedFile::Config => "AWS config file",
            SharedFile::Credentials => "credentials file",
        }
    }

    /// Where the file is: its variable (when set and not empty), else under `$HOME/.aws`;
    /// `None` when neither is set.
    pub fn path(self) -> Option<PathBuf> {
        let name = match self {
            SharedFile::Config => "config",
            SharedFile::Credentials => "credentials",
        };
        crate::env::var_os(self.env_var())
            .map(PathBuf::from)
            .or_else(|| super::aws_config::home_dir().map(|h| h.join(".aws").join(name)))
    }

    /// [`SharedFile::path`], or the error naming what to set.
    pub fn path_required(self) -> Result<PathBuf, Error> {
        self.path().ok_or(Error::NoHome {
            var: self.env_var(),
        })
    }

    /// The file's text (`None`: no file, or no path at all), read by [`read_trusted`].
    pub fn read(self) -> Result<Option<Zeroizing<String>>, Error> {
        match self.path() {
            Some(p) => read_trusted(&p, self.what()),
            None => Ok(None),
        }
    }
}

/// The user who ran `sudo`, whose files root may read.
fn sudo_user() -> Option<u32> {
    if euid() != 0 {
        return None;
    }
    crate::env::var("SUDO_UID")?.trim().parse().ok()
}

/// Reads the shared file `path` (see the module doc): `None` when it does not exist.
pub fn read_trusted(path: &Path, what: &'static str) -> Result<Option<Zeroizing<String>>, Error> {
    read_trusted_capped(path, super::CAP_CONFIG, what)
}

/// [`read_trusted`] for any file that decides what we run or whose credentials we hand out
/// (the shared files, `serve --bindings`, the accounts file), read up to `cap` bytes.
pub fn read_trusted_capped(
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Option<Zeroizing<String>>, Error> {
    match read_trusted_file(path, cap, what) {
        Ok(bytes) => super::read::into_text(bytes, path).map(Some),
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bytes of a trusted file that must exist (a CA bundle), read up to `cap` bytes: the rules
/// of [`read_trusted`], a missing file being the open's error.
pub fn read_trusted_file(
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if is_null_device(path) {
        return Ok(Zeroizing::new(Vec::new()));
    }
    let file = super::read::open_nonblocking(path).map_err(|e| Error::io(path, "open", e))?;
    check_trusted(path, &file, what)?;
    super::read::read_opened(file, path, cap, what)
}

/// Checks the file `path` before another program loads it by that path (a PKCS#11 module): the
/// rules of [`check_trusted`]. A path that cannot be opened is not refused here: the loader
/// reports it in its own words.
pub fn check_trusted_path(path: &Path, what: &'static str) -> Result<(), Error> {
    match super::read::open_nonblocking(path) {
        Ok(file) => check_trusted(path, &file, what),
        Err(_) => Ok(()),
    }
}

/// Checks that the file `path`, opened as `file`, can be trusted (see the module doc): it is
/// ours, root's or `sudo`'s user's and writable by nobody else, and so is every directory above
/// it, as named and as resolved.
pub fn check_trusted(path: &Path, file: &std::fs::File, what: &'static str) -> Result<(), Error> {
    let also = sudo_user();
    let untrusted = |ancestor: Option<PathBuf>, reason: String| Error::UntrustedFile {
        path: path.to_path_buf(),
        what,
        ancestor,
        reason,
    };
    let from_ancestor = |e: Error| match e {
        Error::UnsafeAncestor {
            ancestor, reason, ..
        } => untrusted(Some(ancestor), reason),
        other => other,
    };
    // The directories above the file as named, and above the file a link leads to.
    check_ancestors(path, also).map_err(from_ancestor)?;
    let real = std::fs::canonicalize(path).map_err(|e| Error::io(path, "resolve", e))?;
    if real != path {
        check_ancestors(&real, also).map_err(from_ancestor)?;
    }
    let meta = file.metadata().map_err(|e| Error::io(path, "inspect", e))?;
    if meta.file_type().is_file() {
        if let Some(reason) = distrust(meta.uid(), meta.gid(), meta.mode(), also) {
            return Err(untrusted(None, reason));
        }
    }
    Ok(())
}

/// Whether `path` is the null device (character device 1:3), whatever it is called.
fn is_null_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| {
        let (major, minor) = (rustix::fs::major(m.rdev()), rustix::fs::minor(m.rdev()));
        m.file_type().is_char_device() && (major, minor) == (1, 3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, m: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }

    #[test]
    fn reads_a_private_file_and_treats_missing_and_null_as_such() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("config");
        assert!(read_trusted(&p, "AWS config file").unwrap().is_none());
        std::fs::write(&p, "[default]\nregion = eu-west-1\n").unwrap();
        chmod(&p, 0o644);
        assert_eq!(
            read_trusted(&p, "AWS config file")
                .unwrap()
                .unwrap()
                .as_str(),
            "[default]\nregion = eu-west-1\n"
        );
        assert_eq!(
            read_trusted(Path::new("/dev/null"), "AWS config file")
                .unwrap()
                .unwrap()
                .as_str(),
            ""
        );
        // Any other device is still refused.
        let e = read_trusted(Path::new("/dev/zero"), "AWS config file").unwrap_err();
        assert!(matches!(e, Error::NotRegular { .. }), "{e}");
    }

    #[test]
    fn refuses_a_file_others_can_write_or_below_a_directory_they_can() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("config");
        std::fs::write(&p, "[default]\n").unwrap();
        chmod(&p, 0o666);
        let e = read_trusted(&p, "AWS config file").unwrap_err();
        assert!(
            matches!(&e, Error::UntrustedFile { ancestor: None, .. }),
            "{e}"
        );
        assert_eq!(
            crate::Error::from(e).to_string(),
            format!("refusing to read AWS config file {}: other users can write to it (mode 0666) (hint: this file can run commands (credential_process) and hold keys: make it yours and writable only by you (chown; chmod go-w {}), or point AWS_CONFIG_FILE elsewhere)", p.display(), p.display())
        );
        chmod(&p, 0o600);
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        chmod(&shared, 0o777);
        let mine = shared.join("mine");
        std::fs::create_dir(&mine).unwrap();
        let q = mine.join("config");
        std::fs::write(&q, "[default]\n").unwrap();
        let e = read_trusted(&q, "AWS config file").unwrap_err();
        assert!(
            matches!(&e, Error::UntrustedFile { ancestor: Some(a), .. } if *a == shared),
            "{e}"
        );
        // A link to the file from a trusted place is followed, and where it leads is checked.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&q, &link).unwrap();
        let e = read_trusted(&link, "AWS config file").unwrap_err();
        assert!(
            matches!(&e, Error::UntrustedFile { ancestor: Some(a), .. } if *a == shared),
            "{e}"
        );
        let good = tmp.path().join("link2");
        std::os::unix::fs::symlink(&p, &good).unwrap();
        assert!(read_trusted(&good, "AWS config file").unwrap().is_some());
    }
}
