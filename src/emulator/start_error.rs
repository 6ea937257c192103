//! Why the emulator could not start (`emulator::server`, `emulator::tls`): a bad knob, a port
//! we cannot listen on, no runtime or thread, an unreadable state file, or no TLS identity.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What stopped [`super::Emulator::start`].
#[derive(Debug)]
pub enum StartError {
    /// `--fail-status` is not an HTTP status code.
    FailStatus { status: u16 },
    /// Binding (or setting up) the listener on `bind` failed.
    Listen {
        bind: SocketAddr,
        source: std::io::Error,
    },
    /// The tokio runtime could not be built.
    Runtime(std::io::Error),
    /// The server thread could not be spawned.
    Thread(std::io::Error),
    /// The state file at `path` is not JSON of an emulator state.
    StateFile {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// rcgen could not make the throwaway CA or server certificate.
    Certificate(rcgen::Error),
    /// rustls refused the server configuration.
    Tls(rustls::Error),
}

impl StartError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            StartError::StateFile { .. } => Some("remove it to start from an empty state"),
            _ => None,
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::FailStatus { status } => write!(
                f,
                "invalid fail status {status}: must be an HTTP status code (100-999)"
            ),
            StartError::Listen { bind, source } => {
                write!(f, "could not listen on {bind}: {source}")
            }
            StartError::Runtime(e) => write!(f, "could not start the emulator runtime: {e}"),
            StartError::Thread(e) => write!(f, "could not start the emulator thread: {e}"),
            StartError::StateFile { path, source } => write!(
                f,
                "{}: not an emulator state file: {source}",
                path.display()
            ),
            StartError::Certificate(e) => {
                write!(f, "could not generate the emulator's TLS certificate: {e}")
            }
            StartError::Tls(e) => write!(f, "could not configure TLS: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::FailStatus { .. } => None,
            StartError::Listen { source, .. } => Some(source),
            StartError::Runtime(e) | StartError::Thread(e) => Some(e),
            StartError::StateFile { source, .. } => Some(source),
            StartError::Certificate(e) => Some(e),
            StartError::Tls(e) => Some(e),
        }
    }
}

crate::error::typed_error!(StartError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn typed(e: &Error) -> Option<&StartError> {
        std::error::Error::source(e).and_then(|s| s.downcast_ref::<StartError>())
    }

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let config = super::super::Config {
            fail_status: 5,
            ..Default::default()
        };
        let e = super::super::Emulator::start(config, "127.0.0.1:0".parse().unwrap(), false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid fail status 5: must be an HTTP status code (100-999)"
        );
        assert!(matches!(
            typed(&e),
            Some(StartError::FailStatus { status: 5 })
        ));

        // A port taken by another listener.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let bind = taken.local_addr().unwrap();
        let e = super::super::Emulator::start(Default::default(), bind, false).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("could not listen on {bind}: ")),
            "{e}"
        );
        let io = typed(&e)
            .and_then(|t| std::error::Error::source(t))
            .and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(|io| io.kind()), Some(std::io::ErrorKind::AddrInUse));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"{not json").unwrap();
        let config = super::super::Config {
            state_file: Some(path.clone()),
            ..Default::default()
        };
        let e = super::super::Emulator::start(config, "127.0.0.1:0".parse().unwrap(), false)
            .unwrap_err();
        let json_err = serde_json::from_slice::<serde_json::Value>(b"{not json").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: not an emulator state file: {json_err} (hint: remove it to start from an empty state)",
                path.display()
            )
        );
        assert!(matches!(typed(&e), Some(StartError::StateFile { .. })));
    }
}
