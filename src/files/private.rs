//! The one atomic writer for every file we write: credentials, cache entries, keys, tokens,
//! certificates.
//!
//! A write
//! - refuses a target that is a symbolic link (it is `lstat`'ed, never followed) or exists and
//!   is not a regular file (FIFO, device, socket, directory): `AWS_SHARED_CREDENTIALS_FILE=
//!   /dev/null` as root fails and leaves `/dev/null` alone;
//! - writes a new temporary file `.<name>.tmp.<random>` in the same directory (created with
//!   `O_EXCL | O_NOFOLLOW`, so it is always a fresh inode of ours), sets its mode explicitly
//!   (0600 private, 0644 public, whatever the umask), gives it the old file's owner and group
//!   when root replaces a file of another user, fsyncs it, renames it over the target and
//!   fsyncs the directory: readers and crashes see the old file or the new one, never half;
//! - tightens a private file that had a loose mode (0644, 0666, …) to 0600 with one warning;
//! - removes temporary files a killed writer left: all of ours under the target's lock (see
//!   [`Lock`]), else those older than a minute.
//!
//! Every step is relative to the directory's descriptor ([`Dir`]), so a directory swapped for a
//! link halfway through does not redirect the write.
//!
//! Locks: read-modify-write callers (the credentials file, the caches) hold [`Lock`] on a
//! separate `<name>.lock` beside the target, opened with `O_NOFOLLOW`, mode 0600. The file we
//! rename over is never the one locked: a rename replaces the inode, so a lock on the old one
//! would protect nothing. One-shot writes ([`write_private`], [`write_public`]) take no lock:
//! the rename alone makes them atomic, and they leave no `.lock` files beside certificates.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, Mode, OFlags};

use super::dir::{euid, parent_of, Dir};
use super::Error;

/// Mode of private files: keys, credentials, cache entries, tokens.
pub const PRIVATE: u32 = 0o600;
/// Mode of public files: certificates.
pub const PUBLIC: u32 = 0o644;

/// Temporary files older than this are taken as left by a killed writer even without the lock.
const STALE: Duration = Duration::from_secs(60);

/// An exclusive lock on `<name>.lock`, released on drop.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

fn temp_prefix(name: &OsStr) -> OsString {
    let mut p = OsString::from(".");
    p.push(name);
    p.push(".tmp.");
    p
}

fn lstat(dir: &Dir, name: &OsStr) -> Result<Option<rustix::fs::Stat>, Error> {
    match rustix::fs::statat(dir.fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(Error::io(dir.path().join(name), "inspect", e.into())),
    }
}

/// `st_mode` is `u32` on Linux, narrower elsewhere.
#[allow(clippy::unnecessary_cast)]
fn raw_mode(st: &rustix::fs::Stat) -> u32 {
    st.st_mode as u32
}

fn kind_of_mode(mode: u32) -> Option<&'static str> {
    use rustix::fs::FileType;
    match FileType::from_raw_mode(mode as _) {
        FileType::RegularFile => None,
        FileType::Symlink => Some("symbolic link"),
        FileType::Directory => Some("directory"),
        FileType::Fifo => Some("FIFO (named pipe)"),
        FileType::CharacterDevice => Some("character device"),
        FileType::BlockDevice => Some("block device"),
        FileType::Socket => Some("socket"),
        _ => Some("special file"),
    }
}

/// The existing target's status, refusing links and non-regular files.
fn existing_target(dir: &Dir, name: &OsStr) -> Result<Option<rustix::fs::Stat>, Error> {
    let path = dir.path().join(name);
    let Some(st) = lstat(dir, name)? else {
        return Ok(None);
    };
    match kind_of_mode(raw_mode(&st)) {
        None => Ok(Some(st)),
        Some("symbolic link") => Err(Error::Symlink { path }),
        Some(kind) => Err(Error::NotRegular {
            path,
            what: "file",
            kind,
        }),
    }
}

impl Dir {
    /// Refuses a `name` that is a symbolic link or exists and is not a regular file (what
    /// [`Dir::write`] checks first), for callers that must refuse before taking a lock.
    pub fn check_target(&self, name: &OsStr) -> Result<(), Error> {
        existing_target(self, name).map(|_| ())
    }

    /// Locks `<name>.lock` in this directory exclusively, waiting for other holders.
    pub fn lock(&self, name: &OsStr) -> Result<Lock, Error> {
        let mut lock_name = name.to_os_string();
        lock_name.push(".lock");
        let shown = self.path().join(&lock_name);
        let fd = rustix::fs::openat(
            self.fd(),
            lock_name.as_os_str(),
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(PRIVATE as _),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => Error::Symlink {
                path: shown.clone(),
            },
            e => Error::io(shown.clone(), "open lock file", e.into()),
        })?;
        let file = File::from(fd);
        let meta = file
            .metadata()
            .map_err(|e| Error::io(shown.clone(), "inspect", e))?;
        if let Some(kind) = super::read::kind_of(&meta) {
            return Err(Error::NotRegular {
                path: shown,
                what: "lock file",
                kind,
            });
        }
        file.lock().map_err(|e| Error::io(shown, "lock", e))?;
        Ok(Lock { _file: file })
    }

    /// Writes `contents` to `name` in this directory atomically with `mode` (see the module
    /// doc). `lock` is the caller's lock on `name`, if it holds one.
    pub fn write(
        &self,
        name: &OsStr,
        contents: &[u8],
        mode: u32,
        lock: Option<&Lock>,
    ) -> Result<(), Error> {
        let path = self.path().join(name);
        let existing = existing_target(self, name)?;
        self.remove_stale_temps(name, lock.is_some());
        let mut random = [0u8; 8];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| {
            Error::io(
                path.clone(),
                "name a temporary file for",
                std::io::Error::other("the system random number generator failed"),
            )
        })?;
        let mut tmp_name = temp_prefix(name);
        tmp_name.push(hex::encode(random));
        let fd = rustix::fs::openat(
            self.fd(),
            tmp_name.as_os_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(PRIVATE as _),
        )
        .map_err(|e| Error::io(path.clone(), "create a temporary file beside", e.into()))?;
        let mut file = File::from(fd);
        let result = (|| {
            file.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| {
                    Error::io(path.clone(), "set the mode of the temporary file for", e)
                })?;
            if let Some(old) = &existing {
                let meta = file
                    .metadata()
                    .map_err(|e| Error::io(path.clone(), "inspect the temporary file for", e))?;
                let (uid, gid) = (old.st_uid, old.st_gid);
                if euid() == 0 && (meta.uid() != uid || meta.gid() != gid) {
                    std::os::unix::fs::fchown(&file, Some(uid), Some(gid))
                        .map_err(|e| Error::io(path.clone(), "give the old owner to the new", e))?;
                }
            }
            file.write_all(contents)
                .map_err(|e| Error::io(path.clone(), "write", e))?;
            file.sync_all()
                .map_err(|e| Error::io(path.clone(), "sync", e))?;
            rustix::fs::renameat(self.fd(), tmp_name.as_os_str(), self.fd(), name)
                .map_err(|e| Error::io(path.clone(), "rename a temporary file over", e.into()))
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(self.fd(), tmp_name.as_os_str(), AtFlags::empty());
            return result;
        }
        if let Some(old) = existing {
            let old_mode = raw_mode(&old) & 0o7777;
            if mode == PRIVATE && old_mode & 0o077 != 0 {
                log::warn!(
                    "{} had mode {old_mode:04o}, open to other users; it is now {PRIVATE:04o}",
                    path.display()
                );
            }
        }
        // The new file is in place either way; this only makes the rename durable.
        let _ = rustix::fs::fsync(self.fd());
        Ok(())
    }

    /// Removes `.<name>.tmp.*` files: all when we hold the lock on `name`, else stale ones.
    fn remove_stale_temps(&self, name: &OsStr, locked: bool) {
        let prefix = temp_prefix(name);
        let Ok(mut entries) = rustix::fs::Dir::read_from(self.fd()) else {
            return;
        };
        let now = SystemTime::now();
        while let Some(Ok(entry)) = entries.next() {
            let entry_name = OsStr::from_bytes(entry.file_name().to_bytes());
            if !entry_name.as_bytes().starts_with(prefix.as_bytes()) {
                continue;
            }
            let old_enough = || {
                let Ok(Some(st)) = lstat(self, entry_name) else {
                    return false;
                };
                let mtime = SystemTime::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(st.st_mtime).unwrap_or(0));
                now.duration_since(mtime).is_ok_and(|age| age > STALE)
            };
            if locked || old_enough() {
                log::debug!(
                    "removing {}, left by an interrupted write",
                    self.path().join(entry_name).display()
                );
                let _ = rustix::fs::unlinkat(self.fd(), entry_name, AtFlags::empty());
            }
        }
    }
}

fn split(path: &Path) -> Result<(Dir, OsString), Error> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::NotRegular {
            path: path.to_path_buf(),
            what: "file",
            kind: "directory",
        })?
        .to_os_string();
    Ok((Dir::open_unchecked(&parent_of(path))?, name))
}

/// Writes a private file (0600) atomically; see the module doc.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let (dir, name) = split(path)?;
    dir.write(&name, contents, PRIVATE, None)
}

/// Writes a public file (0644, certificates) atomically; see the module doc.
pub fn write_public(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let (dir, name) = split(path)?;
    dir.write(&name, contents, PUBLIC, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_atomically_with_the_right_mode_whatever_existed() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("key.pem");
        write_private(&p, b"one").unwrap();
        assert_eq!(mode(&p), 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(mode(&p), 0o600, "a loose mode is tightened");
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let c = tmp.path().join("cert.pem");
        write_public(&c, b"cert").unwrap();
        assert_eq!(mode(&c), 0o644);
        assert_eq!(names(tmp.path()), ["cert.pem", "key.pem"]);
    }

    #[test]
    fn refuses_links_and_special_files() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write_private(&link, b"secret").unwrap_err();
        assert!(matches!(e, Error::Symlink { .. }), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // A dangling link is refused too (it would otherwise create its target).
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
        assert!(write_private(&dangling, b"s").is_err());
        assert!(!tmp.path().join("nowhere").exists());
        let fifo = tmp.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = write_private(&fifo, b"s").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let sub = tmp.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let e = write_public(&sub, b"s").unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        assert_eq!(
            names(tmp.path()),
            ["dangling", "fifo", "link", "sub", "target"]
        );
    }

    #[test]
    fn temps_of_a_killed_writer_are_removed_under_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::create_private(tmp.path()).unwrap();
        // What a writer killed between create and rename leaves.
        std::fs::write(tmp.path().join(".credentials.tmp.0011223344556677"), b"x").unwrap();
        std::fs::write(tmp.path().join(".other.tmp.0011223344556677"), b"x").unwrap();
        // Without the lock a fresh one may belong to a live writer: kept.
        dir.write(OsStr::new("credentials"), b"a", PRIVATE, None)
            .unwrap();
        assert!(tmp
            .path()
            .join(".credentials.tmp.0011223344556677")
            .exists());
        let lock = dir.lock(OsStr::new("credentials")).unwrap();
        dir.write(OsStr::new("credentials"), b"b", PRIVATE, Some(&lock))
            .unwrap();
        assert_eq!(
            names(tmp.path()),
            [
                ".other.tmp.0011223344556677",
                "credentials",
                "credentials.lock"
            ]
        );
        assert_eq!(mode(&tmp.path().join("credentials.lock")), 0o600);
    }

    #[test]
    fn lock_files_are_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::create_private(tmp.path()).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), tmp.path().join("f.lock"))
            .unwrap();
        let e = dir.lock(OsStr::new("f")).unwrap_err();
        assert!(matches!(e, Error::Symlink { .. }), "{e}");
        assert!(!tmp.path().join("elsewhere").exists());
    }
}
