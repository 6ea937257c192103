//! Why `serve` could not start or hand out credentials. Messages name the flag, binding, file or
//! address involved (never a token); the official tool's wording is kept where it has one.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What went wrong in `serve`.
#[derive(Debug)]
pub enum ServeError {
    /// `LISTEN_FDS` (this value) is not a number.
    ListenFds { value: String },
    /// systemd passed `n` sockets.
    SocketCount { n: u32 },
    /// The socket systemd passed is not a listening TCP stream socket (`why`).
    NotOurs { why: String },
    /// Credentials could not be encoded as JSON.
    Encode,
    /// The credentials' `Expiration` (this) is not an RFC 3339 time.
    Expiration { value: String },
    /// The refresher panicked.
    RefresherPanicked,
    /// Freshly fetched credentials had already expired at `at`.
    AlreadyExpired { at: jiff::Timestamp },
    /// No random bytes for a token.
    Token,
    /// The token file could not be written.
    TokenFile(crate::files::Error),
    /// The token file `path` names a directory.
    TokenFileDir { path: PathBuf },
    /// A binding name that cannot be a path segment.
    BindingName { name: String },
    /// A binding name given twice.
    BindingTwice { name: String },
    /// Binding `name` shares its token file `path`.
    BindingFile { name: String, path: PathBuf },
    /// `--hop-limit 0`.
    HopLimit,
    /// A role name that cannot be a metadata path segment.
    RoleName { name: String },
    /// The first fetch failed (the cause as the user sees it).
    FirstCredentials(crate::Error),
    /// The server runtime could not start.
    Runtime(std::io::Error),
    /// The socket systemd passed could not be used.
    PassedSocket(std::io::Error),
    /// Listening on `addr` failed; `bind`: binding it (else reading its address).
    Listen {
        addr: SocketAddr,
        bind: bool,
        source: std::io::Error,
    },
    /// A thread (`what`: "refresher thread", "server thread") could not start.
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
    /// Something about binding `name`.
    Binding {
        name: String,
        source: Box<ServeError>,
    },
}

impl ServeError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            ServeError::ListenFds { .. } => {
                "start serve from a systemd .socket unit, or unset LISTEN_PID and LISTEN_FDS"
            }
            ServeError::SocketCount { .. } => "give the .socket unit a single ListenStream=",
            ServeError::NotOurs { .. } => "use ListenStream=127.0.0.1:PORT in the .socket unit",
            ServeError::TokenFile(_) => {
                "pass --container-token-file with a path in a private directory you own"
            }
            ServeError::BindingName { .. } => {
                "use letters, digits, '.', '_' and '-' (it becomes /v1/credentials/NAME)"
            }
            ServeError::BindingFile { .. } => "give every binding its own container-token-file",
            ServeError::HopLimit => "use a value from 1 to 255",
            ServeError::FirstCredentials(e) => return e.hint_text().map(String::from),
            ServeError::Listen { bind: true, .. } => {
                "pick another --port (0 picks a free one) or --bind address"
            }
            ServeError::Binding { source, .. } => return source.hint(),
            ServeError::Encode
            | ServeError::Expiration { .. }
            | ServeError::RefresherPanicked
            | ServeError::AlreadyExpired { .. }
            | ServeError::Token
            | ServeError::TokenFileDir { .. }
            | ServeError::BindingTwice { .. }
            | ServeError::RoleName { .. }
            | ServeError::Runtime(_)
            | ServeError::PassedSocket(_)
            | ServeError::Listen { bind: false, .. }
            | ServeError::Thread { .. } => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::ListenFds { value } => {
                write!(f, "LISTEN_FDS={value:?} is not a number of sockets")
            }
            ServeError::SocketCount { n } => {
                write!(
                    f,
                    "systemd passed {n} sockets; serve listens on exactly one"
                )
            }
            ServeError::NotOurs { why } => {
                write!(f, "the socket systemd passed (descriptor 3) {why}")
            }
            ServeError::Encode => f.write_str("failed to encode credentials"),
            ServeError::Expiration { value } => write!(
                f,
                "the credentials' Expiration {value:?} is not an RFC 3339 time"
            ),
            ServeError::RefresherPanicked => f.write_str("the credential refresher panicked"),
            ServeError::AlreadyExpired { at } => {
                write!(f, "the new credentials already expired at {at}")
            }
            ServeError::Token => {
                f.write_str("unable to generate the container authorization token")
            }
            ServeError::TokenFile(e) => write!(f, "cannot write the container token file: {e}"),
            ServeError::TokenFileDir { path } => write!(
                f,
                "cannot write the container token file {}: it names a directory",
                path.display()
            ),
            ServeError::BindingName { name } => write!(f, "invalid binding name {name:?}"),
            ServeError::BindingTwice { name } => write!(f, "binding {name:?} is defined twice"),
            ServeError::BindingFile { name, path } => write!(
                f,
                "binding {name:?}: its token file {} is already used by another route",
                path.display()
            ),
            ServeError::HopLimit => f.write_str("--hop-limit 0 is out of range"),
            ServeError::RoleName { name } => {
                write!(f, "invalid role name {name:?} for the metadata routes")
            }
            ServeError::FirstCredentials(e) => {
                write!(f, "unable to obtain the first credentials: {}", e.message())
            }
            ServeError::Runtime(e) => write!(f, "cannot start the server runtime: {e}"),
            ServeError::PassedSocket(e) => write!(f, "cannot use the socket systemd passed: {e}"),
            ServeError::Listen { addr, source, .. } => {
                write!(f, "failed to create listener on {addr}: {source}")
            }
            ServeError::Thread { what, source } => write!(f, "cannot start the {what}: {source}"),
            ServeError::Binding { name, source } => write!(f, "binding {name:?}: {source}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::TokenFile(e) => Some(e),
            ServeError::FirstCredentials(e) => Some(e),
            ServeError::Runtime(e) | ServeError::PassedSocket(e) => Some(e),
            ServeError::Listen { source, .. } | ServeError::Thread { source, .. } => Some(source),
            ServeError::Binding { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

crate::error::typed_error!(ServeError);
