//! Trusted directories: the checks made before anything is read, created or chmod'ed in a
//! directory we are given (cache directories, `~/.aws`, the serve token directory).
//!
//! A trusted directory is one that
//! - is not a symbolic link (it is opened with `O_NOFOLLOW | O_DIRECTORY`, and every later
//!   operation is made relative to that descriptor, so swapping the path afterwards changes
//!   nothing);
//! - is owned by the effective user, or by root (or, for root updating a user's file, by the
//!   owner of that file);
//! - is writable by nobody else: neither group- nor world-writable (group-writable is fine in
//!   its owner's private group, see [`super::groups`]). Sticky shared directories such as
//!   `/tmp` are refused too: anyone may create names in them;
//! - sits below directories that are all trusted too, checked from the root down (as OpenSSH's
//!   `safe_path` does): each is owned by us or root and writable by nobody else, except that a
//!   sticky one (`/tmp`) may be shared, since others cannot rename or remove what we make in it.
//!   The path is checked as written (a symbolic link on the way must be ours or root's, so
//!   nobody else can repoint it) and as resolved (the directories the links lead to).
//!
//! A missing directory is created mode 0700 (and its missing parents too, each checked), then
//! verified. We only ever chmod a directory we have just created; one we were given and that
//! fails the checks is refused with an error naming it, its owner and mode, never "fixed".

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use zeroize::Zeroizing;

use super::Error;

/// The effective user id of this process.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A directory that passed the checks, held open.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// `path` without a trailing `/` (which would make `O_NOFOLLOW` follow a final link), and `.`
/// for the empty path.
fn normalized(path: &Path) -> PathBuf {
    let p: PathBuf = path.components().collect();
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match normalized(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn describe_mode(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// Why a directory or file with this owner, group and mode is not trusted, if it is not.
pub(crate) fn distrust(uid: u32, gid: u32, mode: u32, also: Option<u32>) -> Option<String> {
    let me = euid();
    if uid != me && uid != 0 && Some(uid) != also {
        return Some(format!(
            "it belongs to user id {uid}, not to you (user id {me}) or root (mode {})",
            describe_mode(mode)
        ));
    }
    // Group-writable is fine when the group is its owner's private group (umask 002 systems).
    let mode = if mode & 0o022 == 0o020 && super::groups::is_private_group(uid, gid) {
        mode & !0o020
    } else {
        mode
    };
    if mode & 0o022 != 0 {
        let shared = if mode & 0o1000 != 0 {
            ", a shared directory like /tmp"
        } else {
            ""
        };
        return Some(format!(
            "other users can write to it (mode {}{shared})",
            describe_mode(mode)
        ));
    }
    None
}

/// Why a directory above the one we use, with this owner and mode, is not trusted, if it is
/// not. A sticky shared directory (`/tmp`) lets others add names, not take ours.
fn distrust_above(uid: u32, gid: u32, mode: u32, also: Option<u32>) -> Option<String> {
    let mode = if mode & 0o1000 != 0 {
        mode & !0o022
    } else {
        mode
    };
    distrust(uid, gid, mode, also)
}

/// Checks every directory above `path` from the root down (see the module doc). Stops at the
/// first one missing: what is created there is checked as it is made.
pub(crate) fn check_ancestors(path: &Path, also: Option<u32>) -> Result<(), Error> {
    let abs = std::path::absolute(path).map_err(|e| Error::io(path, "resolve", e))?;
    let refuse = |ancestor: &Path, reason: String| Error::UnsafeAncestor {
        path: path.to_path_buf(),
        ancestor: ancestor.to_path_buf(),
        reason,
    };
    let stat = |p: &Path, follow: bool| {
        let m = if follow {
            std::fs::metadata(p)
        } else {
            std::fs::symlink_metadata(p)
        };
        match m {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(p, "inspect", e)),
        }
    };
    // Every directory `p` resolves to, and every one above those.
    let check_resolved = |p: &Path| -> Result<(), Error> {
        let real = std::fs::canonicalize(p).map_err(|e| Error::io(p, "resolve", e))?;
        let resolved: Vec<&Path> = real.ancestors().collect();
        for ancestor in resolved.into_iter().rev() {
            let Some(meta) = stat(ancestor, false)? else {
                break;
            };
            if let Some(reason) = distrust_above(meta.uid(), meta.gid(), meta.mode(), also) {
                return Err(refuse(ancestor, reason));
            }
        }
        Ok(())
    };
    let written: Vec<&Path> = abs.ancestors().skip(1).collect();
    let mut deepest = None;
    for ancestor in written.into_iter().rev() {
        let Some(mut meta) = stat(ancestor, false)? else {
            break;
        };
        if meta.file_type().is_symlink() {
            let (uid, me) = (meta.uid(), euid());
            if uid != me && uid != 0 && Some(uid) != also {
                return Err(refuse(
                    ancestor,
                    format!("it is a symbolic link owned by user id {uid}, not by you (user id {me}) or root"),
                ));
            }
            let Some(target) = stat(ancestor, true)? else {
                break;
            };
            // Where it leads, and everything above that (another link's directory included).
            check_resolved(ancestor)?;
            meta = target;
        }
        if let Some(reason) = distrust_above(meta.uid(), meta.gid(), meta.mode(), also) {
            return Err(refuse(ancestor, reason));
        }
        deepest = Some(ancestor);
    }
    match deepest {
        Some(deepest) => check_resolved(deepest),
        None => Ok(()),
    }
}

impl Dir {
    /// Opens the existing directory `path` and checks it (and every directory above it). `also`
    /// is one more owner accepted besides the effective user and root.
    pub fn open(path: &Path, also: Option<u32>) -> Result<Dir, Error> {
        let path = normalized(path);
        check_ancestors(&path, also)?;
        let fd = rustix::fs::openat(
            CWD,
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| {
            let e = std::io::Error::from(e);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => Error::UnsafeDir {
                    path: path.clone(),
                    reason: "it is a symbolic link".into(),
                },
                Ok(m) if !m.is_dir() => Error::UnsafeDir {
                    path: path.clone(),
                    reason: "it is not a directory".into(),
                },
                _ => Error::io(path.clone(), "open directory", e),
            }
        })?;
        let dir = Dir { fd, path };
        let meta = dir.metadata()?;
        if let Some(reason) = distrust(meta.uid(), meta.gid(), meta.mode(), also) {
            return Err(Error::UnsafeDir {
                path: dir.path,
                reason,
            });
        }
        Ok(dir)
    }

    /// Opens `path`, creating it (and missing parents) mode 0700 when it does not exist.
    pub fn create_private(path: &Path) -> Result<Dir, Error> {
        Dir::create_private_with(path, None)
    }

    /// [`Dir::create_private`] accepting one more owner (see [`Dir::open`]).
    pub fn create_private_with(path: &Path, also: Option<u32>) -> Result<Dir, Error> {
        let path = normalized(path);
        match Dir::open(&path, also) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        let parent = parent_of(&path);
        let name = match path.components().next_back() {
            Some(Component::Normal(n)) => n.to_os_string(),
            _ => {
                return Err(Error::UnsafeDir {
                    path,
                    reason: "it cannot be created".into(),
                })
            }
        };
        let parent = open_parent(&parent, also)?;
        match rustix::fs::mkdirat(&parent, name.as_os_str(), Mode::from_raw_mode(0o700)) {
            Ok(()) => {
                let dir = Dir::open(&path, also)?;
                // Ours: we just made it. The umask may have taken bits we need.
                rustix::fs::fchmod(&dir.fd, Mode::from_raw_mode(0o700))
                    .map_err(|e| Error::io(path.clone(), "chmod", e.into()))?;
                Ok(dir)
            }
            // Someone made it meanwhile: it is checked like any existing directory.
            Err(rustix::io::Errno::EXIST) => Dir::open(&path, also),
            Err(e) => Err(Error::io(path, "create directory", e.into())),
        }
    }

    /// Opens the directory `path` (following links, as a shell would) without the trust checks:
    /// for outputs the user names explicitly (`pki --out`, `demo --dir`), where the file itself
    /// is still written by the no-follow, regular-files-only rules.
    pub(crate) fn open_unchecked(path: &Path) -> Result<Dir, Error> {
        let path = normalized(path);
        let fd = rustix::fs::openat(
            CWD,
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(path.clone(), "open directory", e.into()))?;
        Ok(Dir { fd, path })
    }

    /// The path it was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn metadata(&self) -> Result<std::fs::Metadata, Error> {
        let f = File::from(
            self.fd
                .try_clone()
                .map_err(|e| Error::io(self.path.clone(), "inspect", e))?,
        );
        f.metadata()
            .map_err(|e| Error::io(self.path.clone(), "inspect", e))
    }

    /// Reads the file `name` in this directory (never through a symbolic link), bounded like
    /// [`super::read_file`].
    pub fn read(
        &self,
        name: &OsStr,
        cap: u64,
        what: &'static str,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let shown = self.path.join(name);
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => Error::Symlink {
                path: shown.clone(),
            },
            e => Error::io(shown.clone(), "open", e.into()),
        })?;
        super::read::read_opened(File::from(fd), &shown, cap, what)
    }

    /// The names of the entries of this directory (`.` and `..` left out), sorted.
    pub fn names(&self) -> Result<Vec<std::ffi::OsString>, Error> {
        // `read_from` opens the directory afresh (`openat(fd, ".")`): our descriptor's offset
        // is not moved.
        let list = rustix::fs::Dir::read_from(&self.fd)
            .map_err(|e| Error::io(self.path.clone(), "list", e.into()))?;
        let mut names = Vec::new();
        for entry in list {
            let entry = entry.map_err(|e| Error::io(self.path.clone(), "list", e.into()))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                use std::os::unix::ffi::OsStrExt;
                names.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// When the regular file `name` was last modified (its link is not followed); `None` when
    /// it does not exist.
    pub fn modified(&self, name: &OsStr) -> Result<Option<std::time::SystemTime>, Error> {
        let shown = self.path.join(name);
        let st = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(Error::io(shown, "inspect", e.into())),
        };
        if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink {
            return Err(Error::Symlink { path: shown });
        }
        let since = std::time::Duration::new(
            u64::try_from(st.st_mtime).unwrap_or(0),
            u32::try_from(st.st_mtime_nsec).unwrap_or(0),
        );
        Ok(Some(std::time::UNIX_EPOCH + since))
    }

    /// Removes the file `name` (a missing one is fine).
    pub fn remove(&self, name: &OsStr) -> Result<(), Error> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
            Err(e) => Err(Error::io(self.path.join(name), "remove", e.into())),
        }
    }
}

/// Opens an existing parent of a directory we are about to create, creating it first when it is
/// missing too. A parent must be owned by us or root; unlike the directory itself it may be a
/// sticky shared directory (`/tmp/mine` is fine: others cannot rename or remove what we make in
/// it), and it may be reached through symbolic links (`/var/run` → `/run`).
fn open_parent(parent: &Path, also: Option<u32>) -> Result<OwnedFd, Error> {
    check_ancestors(parent, also)?;
    let open = || {
        rustix::fs::openat(
            CWD,
            parent,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    };
    let fd = match open() {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) if parent != Path::new(".") && parent != Path::new("/") => {
            Dir::create_private_with(parent, also)?;
            open().map_err(|e| Error::io(parent.to_path_buf(), "open directory", e.into()))?
        }
        Err(e) => return Err(Error::io(parent.to_path_buf(), "open directory", e.into())),
    };
    let meta = File::from(
        fd.try_clone()
            .map_err(|e| Error::io(parent.to_path_buf(), "inspect", e))?,
    )
    .metadata()
    .map_err(|e| Error::io(parent.to_path_buf(), "inspect", e))?;
    match distrust_above(meta.uid(), meta.gid(), meta.mode(), also) {
        Some(reason) => Err(Error::UnsafeDir {
            path: parent.to_path_buf(),
            reason: format!("{reason}, so a directory created in it cannot be trusted"),
        }),
        None => Ok(fd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_missing_directories_0700_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        let d = Dir::create_private(&deep).unwrap();
        assert_eq!(d.path(), deep);
        for p in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&tmp.path().join(p)), 0o700, "{p}");
        }
        // Existing and private: accepted as is.
        Dir::create_private(&deep).unwrap();
        // A trailing slash does not change anything.
        Dir::open(Path::new(&format!("{}/", deep.display())), None).unwrap();
    }

    #[test]
    fn open_directories_are_refused_and_never_chmoded() {
        let tmp = tempfile::tempdir().unwrap();
        for m in [0o777, 0o1777, 0o770, 0o720] {
            let d = tmp.path().join(format!("d{m:o}"));
            std::fs::create_dir(&d).unwrap();
            crate::files::groups::share_with_group(&d);
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(m)).unwrap();
            let e = Dir::create_private(&d).unwrap_err();
            assert!(matches!(e, Error::UnsafeDir { .. }), "{m:o}: {e}");
            assert!(e.to_string().contains("other users can write"), "{e}");
            assert_eq!(mode(&d), m, "the mode must not change");
            assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        }
        // Readable by others but writable only by us: trusted (entries are 0600 themselves).
        let d = tmp.path().join("d755");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        Dir::create_private(&d).unwrap();
        assert_eq!(mode(&d), 0o755);
    }

    #[test]
    fn symlinks_and_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = Dir::create_private(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = Dir::open(Path::new(&format!("{}/", link.display())), None).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let file = tmp.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let e = Dir::create_private(&file).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        // Under a sticky shared parent, a new directory of ours is fine.
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Dir::create_private(&shared.join("mine")).unwrap();
        // Under a non-sticky world-writable parent, it is not.
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Dir::create_private(&open.join("mine")).unwrap_err();
        assert!(e.to_string().contains("cannot be trusted"), "{e}");
        assert!(!open.join("mine").exists());
    }

    #[test]
    fn every_directory_above_is_checked_from_the_root_down() {
        let tmp = tempfile::tempdir().unwrap();
        // A private directory two levels below a group-writable one: refused, untouched.
        let deep = tmp.path().join("team/a/cache");
        std::fs::create_dir_all(&deep).unwrap();
        let team = tmp.path().join("team");
        crate::files::groups::share_with_group(&team);
        std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o775)).unwrap();
        for e in [
            Dir::open(&deep, None).unwrap_err(),
            Dir::create_private(&deep.join("new")).unwrap_err(),
        ] {
            assert!(
                matches!(&e, Error::UnsafeAncestor { ancestor, .. } if *ancestor == team),
                "{e}"
            );
            assert!(e.to_string().contains("(mode 0775)"), "{e}");
            assert!(
                e.hint().unwrap().contains(&team.display().to_string()),
                "{e}"
            );
        }
        assert!(!deep.join("new").exists());
        // Relative paths are checked as absolute ones.
        let cwd = std::env::current_dir().unwrap();
        let rel = pathdiff(&deep, &cwd);
        assert!(matches!(
            Dir::open(&rel, None),
            Err(Error::UnsafeAncestor { .. })
        ));
        // Sticky and shared above us (a /tmp): fine.
        std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Dir::open(&deep, None).unwrap();
        // A link of ours on the way is followed, and where it leads is checked too.
        std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o700)).unwrap();
        let alias = tmp.path().join("alias");
        std::os::unix::fs::symlink(tmp.path().join("team/a"), &alias).unwrap();
        Dir::open(&alias.join("cache"), None).unwrap();
        // A chain of links: the directory above the second link's home is checked too.
        let hub = tmp.path().join("hub");
        std::fs::create_dir_all(hub.join("inner")).unwrap();
        std::os::unix::fs::symlink(&alias, hub.join("inner/to-a")).unwrap();
        let front = tmp.path().join("front");
        std::os::unix::fs::symlink(hub.join("inner"), &front).unwrap();
        Dir::open(&front.join("to-a/cache"), None).unwrap();
        std::fs::set_permissions(&hub, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Dir::open(&front.join("to-a/cache"), None).unwrap_err();
        assert!(
            matches!(&e, Error::UnsafeAncestor { ancestor, .. } if *ancestor == hub),
            "{e}"
        );
        std::fs::set_permissions(&hub, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Dir::open(&alias.join("cache"), None).unwrap_err();
        assert!(
            matches!(&e, Error::UnsafeAncestor { ancestor, .. } if *ancestor == team),
            "{e}"
        );
    }

    #[test]
    fn group_writable_is_trusted_only_in_the_owners_private_group() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("aws");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o775)).unwrap();
        let meta = std::fs::metadata(&d).unwrap();
        // `aws configure` under umask 002 makes ~/.aws 0775 in the user's own group.
        if crate::files::groups::is_private_group(meta.uid(), meta.gid()) {
            Dir::open(&d, None).unwrap();
        } else {
            assert!(Dir::open(&d, None).is_err());
        }
        crate::files::groups::share_with_group(&d);
        let e = Dir::open(&d, None).unwrap_err();
        assert!(e.to_string().contains("other users can write"), "{e}");
    }

    /// `to` relative to `from` (`../../x`), for a test of relative paths.
    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let up = from.components().count() - 1;
        let mut p: PathBuf = std::iter::repeat_n("..", up).collect();
        p.push(to.strip_prefix("/").unwrap());
        p
    }

    #[test]
    fn reads_inside_never_follow_links() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir::create_private(&tmp.path().join("c")).unwrap();
        std::fs::write(tmp.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), d.path().join("e.json")).unwrap();
        let e = d.read(OsStr::new("e.json"), 10, "cache entry").unwrap_err();
        assert!(matches!(e, Error::Symlink { .. }), "{e}");
        d.remove(OsStr::new("e.json")).unwrap();
        d.remove(OsStr::new("e.json")).unwrap();
        assert!(tmp.path().join("secret").exists());
    }
}
