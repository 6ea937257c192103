//! The one bounded reader for every input file.
//!
//! A file is opened with `O_NONBLOCK` (so opening a FIFO never blocks) and close-on-exec, the
//! opened descriptor is `fstat`'ed, and anything but a regular file (FIFO, character or block
//! device, socket, directory) is refused before a byte is read. At most `cap + 1` bytes are read,
//! so `/dev/zero` or a 100 MB PEM fails at once with an error naming the file and the cap,
//! instead of growing memory. The bytes come back in [`Zeroizing`]: key files are secrets.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use super::Error;

/// Certificates, private keys, intermediates, CSRs, trust anchors, TPM key files, PIN files and
/// certificate selectors.
pub const CAP_PEM: u64 = 1 << 20;
/// The shared config and credentials files, the accounts file, key stores.
pub const CAP_CONFIG: u64 = 4 << 20;
/// A CA bundle (system bundles are 200 KB to 1 MB).
pub const CAP_CA_BUNDLE: u64 = 16 << 20;
/// One credential cache entry.
pub const CAP_CACHE_ENTRY: u64 = 64 << 10;

/// What a file that is not a regular file is, for error messages.
pub(crate) fn kind_of(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("directory")
    } else if t.is_fifo() {
        Some("FIFO (named pipe)")
    } else if t.is_char_device() {
        Some("character device")
    } else if t.is_block_device() {
        Some("block device")
    } else if t.is_socket() {
        Some("socket")
    } else if t.is_symlink() {
        Some("symbolic link")
    } else {
        Some("special file")
    }
}

/// Reads the whole of `path`, refusing non-regular files and files over `cap` bytes. `what`
/// names the file in errors (`"certificate file"`).
pub fn read_file(path: &Path, cap: u64, what: &'static str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let file = open_nonblocking(path).map_err(|e| Error::io(path, "open", e))?;
    read_opened(file, path, cap, what)
}

/// Opens `path` for reading without blocking (opening a FIFO with no writer returns at once).
pub(crate) fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
}

/// Like [`read_file`], for text: a file that is not UTF-8 is an error naming it.
pub fn read_text(path: &Path, cap: u64, what: &'static str) -> Result<Zeroizing<String>, Error> {
    into_text(read_file(path, cap, what)?, path)
}

/// The bytes read from `path` as text: a file that is not UTF-8 is an error naming it.
pub fn into_text(mut bytes: Zeroizing<Vec<u8>>, path: &Path) -> Result<Zeroizing<String>, Error> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            // Wipe the bytes handed back inside the error too.
            drop(Zeroizing::new(e.into_bytes()));
            Err(Error::NotText {
                path: path.to_path_buf(),
            })
        }
    }
}

/// Like [`read_file`], for a file holding a secret we are told to trust (a key store's
/// passphrase file): it must not be a symbolic link, must be ours and must be readable by
/// nobody else (mode 0600 or stricter), checked on the opened descriptor. `/dev/fd/N` (or
/// `/proc/self/fd/N`) names a descriptor we inherited, e.g. a pipe from the shell
/// (`3< <(pass show aws)`): it is reopened, and may be a pipe, with the same owner and mode
/// checks (a pipe is 0600 and its creator's).
pub fn read_private_file(
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::os::unix::fs::MetadataExt;
    let inherited = inherited_fd(path);
    let flags = match inherited {
        // A pipe is read to its end, blocking; the magic link is followed on purpose.
        Some(_) => rustix::fs::OFlags::empty(),
        None => rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW,
    };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(inherited.as_deref().unwrap_or(path))
        .map_err(|e| match e.raw_os_error() {
            Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => Error::io(
                path,
                "open",
                std::io::Error::other("it is a symbolic link, which we do not follow"),
            ),
            _ => Error::io(path, "open", e),
        })?;
    let meta = file.metadata().map_err(|e| Error::io(path, "inspect", e))?;
    if meta.uid() != super::dir::euid() || meta.mode() & 0o077 != 0 {
        return Err(Error::NotPrivate {
            path: path.to_path_buf(),
            what,
        });
    }
    if inherited.is_some() && meta.file_type().is_fifo() {
        let mut data = Zeroizing::new(Vec::with_capacity(cap as usize + 1));
        file.take(cap + 1)
            .read_to_end(&mut data)
            .map_err(|e| Error::io(path, "read", e))?;
        if data.len() as u64 > cap {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                what,
                cap,
            });
        }
        return Ok(data);
    }
    read_opened(file, path, cap, what)
}

/// `/proc/self/fd/N` for `/dev/fd/N` and `/proc/self/fd/N`.
fn inherited_fd(path: &Path) -> Option<std::path::PathBuf> {
    let s = path.to_str()?;
    let n = s
        .strip_prefix("/dev/fd/")
        .or_else(|| s.strip_prefix("/proc/self/fd/"))?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| std::path::PathBuf::from(format!("/proc/self/fd/{n}")))
}

/// The bounded read of an already opened file (shared with [`super::dir::Dir::read`]).
pub(crate) fn read_opened(
    file: File,
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let meta = file.metadata().map_err(|e| Error::io(path, "inspect", e))?;
    if let Some(kind) = kind_of(&meta) {
        return Err(Error::NotRegular {
            path: path.to_path_buf(),
            what,
            kind,
        });
    }
    let too_large = || Error::TooLarge {
        path: path.to_path_buf(),
        what,
        cap,
    };
    if meta.len() > cap {
        return Err(too_large());
    }
    // Sized from fstat, so a file that fits is read without reallocating (a reallocation would
    // leave unwiped copies of a key behind).
    let mut data = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
    file.take(cap + 1)
        .read_to_end(&mut data)
        .map_err(|e| Error::io(path, "read", e))?;
    if data.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_enforces_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pem");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(&read_file(&p, 5, "certificate file").unwrap()[..], b"hello");
        let e = read_file(&p, 4, "certificate file").unwrap_err();
        assert!(matches!(e, Error::TooLarge { cap: 4, .. }), "{e}");
        // A sparse 100 MB file fails from fstat, before any read.
        let big = dir.path().join("big.pem");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(100 << 20)
            .unwrap();
        let e = read_file(&big, CAP_PEM, "certificate file").unwrap_err();
        assert!(e.to_string().contains("is larger than 1 MiB"), "{e}");
        assert!(e.to_string().contains("big.pem"), "{e}");
        let e = read_file(&dir.path().join("missing"), CAP_PEM, "x").unwrap_err();
        assert_eq!(
            e.io_error().map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn refuses_directories_fifos_and_devices_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_file(dir.path(), CAP_PEM, "certificate file").unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotRegular {
                    kind: "directory",
                    ..
                }
            ),
            "{e}"
        );
        // A FIFO with no writer: a blocking open would hang this test forever.
        let fifo = dir.path().join("fifo");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(st.success());
        let e = read_file(&fifo, CAP_PEM, "certificate file").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        // /dev/null exists everywhere and opening it for reading is harmless.
        let e = read_file(Path::new("/dev/null"), CAP_PEM, "x").unwrap_err();
        assert!(matches!(
            e,
            Error::NotRegular {
                kind: "character device",
                ..
            }
        ));
    }

    #[test]
    fn text_must_be_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, b"\xff").unwrap();
        assert!(read_text(&p, 10, "config file").is_err());
        std::fs::write(&p, b"ok").unwrap();
        assert_eq!(read_text(&p, 10, "config file").unwrap().as_str(), "ok");
    }
}
