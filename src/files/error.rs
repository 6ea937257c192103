//! The safe-file layer's errors. Each names the file (never its contents) and carries a hint;
//! `impl From<Error> for crate::Error` renders one line, so callers keep using `?`.

use std::fmt;
use std::path::PathBuf;

/// What the layer refused or failed to do.
#[derive(Debug)]
pub enum Error {
    /// The OS refused an operation (`op`, e.g. "open", "rename") on `path`.
    Io {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    /// `path` exists but is a FIFO, device, socket or directory (`kind`).
    NotRegular {
        path: PathBuf,
        what: &'static str,
        kind: &'static str,
    },
    /// `path` holds more than `cap` bytes.
    TooLarge {
        path: PathBuf,
        what: &'static str,
        cap: u64,
    },
    /// `path` is a symbolic link and we never write through one.
    Symlink { path: PathBuf },
    /// The directory `path` cannot be trusted (`reason` says why: owner, mode, link).
    UnsafeDir { path: PathBuf, reason: String },
    /// The directory `path` sits below `ancestor`, which cannot be trusted (`reason`): whoever
    /// can write there can swap what is below it.
    UnsafeAncestor {
        path: PathBuf,
        ancestor: PathBuf,
        reason: String,
    },
    /// The shared file `path` (`what`) cannot be trusted: it, or `ancestor` above it, is
    /// another user's or writable by others (`reason`).
    UntrustedFile {
        path: PathBuf,
        what: &'static str,
        ancestor: Option<PathBuf>,
        reason: String,
    },
    /// Neither `$HOME` nor `var` says where a shared file is.
    NoHome { var: &'static str },
    /// `path` is not UTF-8 text.
    NotText { path: PathBuf },
    /// The secret `what` at `path` is another user's, or readable by others.
    NotPrivate { path: PathBuf, what: &'static str },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// The OS error, when the failure was one (missing file, permission denied, …).
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Renders an OS error with the caller's wording (kept from the official tool's messages)
    /// and every other refusal with ours.
    pub fn or_io(self, f: impl FnOnce(&std::io::Error) -> crate::Error) -> crate::Error {
        match &self {
            Error::Io { source, .. } => {
                let out = f(source);
                out.with_source(self)
            }
            _ => self.into(),
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Io { op, .. } if *op == "open" || *op == "read" => None,
            Error::Io { .. } => Some("check the permissions and free space of its directory".into()),
            Error::NotRegular { .. } => Some("name a regular file".into()),
            Error::TooLarge { what, .. } => Some(format!("this is not a {what}; check the path")),
            Error::Symlink { .. } => Some(
                "we never write through a symbolic link; remove the link or name its target".into(),
            ),
            Error::UnsafeDir { path, .. } => Some(format!(
                "use a directory that only you can write to (chmod go-w {}; chown it to yourself), or name another one",
                path.display()
            )),
            Error::UnsafeAncestor { ancestor, .. } => Some(format!(
                "make {} writable only by you or root (chmod go-w; chown), or name a directory elsewhere",
                ancestor.display()
            )),
            Error::UntrustedFile {
                path,
                what,
                ancestor,
                ..
            } => {
                let fix = ancestor.as_deref().unwrap_or(path).display();
                Some(match *what {
                    "credentials file" | "AWS config file" => format!(
                        "this file can run commands (credential_process) and hold keys: make it yours and writable only by you (chown; chmod go-w {fix}), or point {} elsewhere",
                        if *what == "credentials file" {
                            "AWS_SHARED_CREDENTIALS_FILE"
                        } else {
                            "AWS_CONFIG_FILE"
                        }
                    ),
                    _ => format!(
                        "whoever can write it decides what we run or whose credentials we hand out: make it yours (or root's) and writable only by its owner (chown; chmod go-w {fix}), or name another file"
                    ),
                })
            }
            Error::NoHome { var } => Some(format!("set HOME or {var}")),
            Error::NotText { .. } | Error::NotPrivate { .. } => None,
        }
    }

    /// For a directory that cannot be trusted (itself or one above it): the directory given, and
    /// why it is refused.
    pub fn untrusted_dir(&self) -> Option<(&std::path::Path, String)> {
        match self {
            Error::UnsafeDir { path, reason } => Some((path, reason.clone())),
            Error::UnsafeAncestor {
                path,
                ancestor,
                reason,
            } => Some((
                path,
                format!(
                    "{}, above it, cannot be trusted: {reason}",
                    ancestor.display()
                ),
            )),
            _ => None,
        }
    }
}

/// `No such file or directory` rather than `No such file or directory (os error 2)`.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A binary size as people write it: `1 MiB`, `64 KiB`, `100 bytes`.
pub(crate) fn size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, op, source } => {
                write!(f, "cannot {op} {}: {}", path.display(), io_reason(source))
            }
            Error::NotRegular { path, what, kind } => write!(
                f,
                "cannot use {what} {}: it is a {kind}, not a regular file",
                path.display()
            ),
            Error::TooLarge { path, what, cap } => write!(
                f,
                "{what} {} is larger than {}, the most we read",
                path.display(),
                size(*cap)
            ),
            Error::Symlink { path } => {
                write!(
                    f,
                    "refusing to write {}: it is a symbolic link",
                    path.display()
                )
            }
            Error::UnsafeDir { path, reason } => {
                write!(f, "refusing to use directory {}: {reason}", path.display())
            }
            Error::UnsafeAncestor {
                path,
                ancestor,
                reason,
            } => write!(
                f,
                "refusing to use directory {}: {}, above it, cannot be trusted: {reason}",
                path.display(),
                ancestor.display()
            ),
            Error::UntrustedFile {
                path,
                what,
                ancestor,
                reason,
            } => {
                write!(f, "refusing to read {what} {}: ", path.display())?;
                match ancestor {
                    Some(a) => write!(f, "{}, above it, cannot be trusted: {reason}", a.display()),
                    None => f.write_str(reason),
                }
            }
            Error::NoHome { .. } => f.write_str("unable to locate the home directory"),
            Error::NotText { path } => {
                write!(f, "cannot read {}: it is not UTF-8 text", path.display())
            }
            Error::NotPrivate { path, what } => write!(
                f,
                "cannot trust {}: the {what} must be yours and mode 0600 (chmod 600 it)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_with_hint_and_source() {
        let e = Error::TooLarge {
            path: "/x/cert.pem".into(),
            what: "certificate file",
            cap: 1 << 20,
        };
        let c: crate::Error = e.into();
        assert_eq!(
            c.to_string(),
            "certificate file /x/cert.pem is larger than 1 MiB, the most we read (hint: this is not a certificate file; check the path)"
        );
        let e = Error::io("/x/y", "rename", std::io::Error::from_raw_os_error(28));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.to_string(), "cannot rename /x/y: No space left on device");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
