//! Why running a profile chain failed (`sts::chain`): the base credentials (a
//! `credential_process`, the environment, instance metadata, container credentials) or one of
//! its roles. `what` names the source ("credential_process of profile \"p\"",
//! "credential_source = Ec2InstanceMetadata").

use std::fmt;

use crate::protocol::http::TransportError;

/// A chain that did not produce credentials.
#[derive(Debug)]
pub enum ChainError {
    /// AssumeRole of the role `profile` names failed (`chain`: the chain described).
    Role {
        profile: String,
        chain: String,
        source: crate::error::Error,
    },
    /// `credential_source = Environment` without the keys in the environment.
    EnvKeysUnset,
    /// A `credential_process` that does not split into a command line.
    CommandLine { what: String, command: String },
    /// The program could not be started.
    CannotRun {
        what: String,
        program: String,
        source: std::io::Error,
    },
    /// The program exited unsuccessfully.
    Failed {
        what: String,
        status: std::process::ExitStatus,
    },
    /// The program printed more than we read.
    TooMuchOutput { what: String },
    /// The program's output is not the credentials JSON.
    NotJson {
        what: String,
        source: crate::JsonProblem,
    },
    /// The output's `Version` is not 1.
    Version { what: String, version: Option<i64> },
    /// The answer lacks `field`.
    Lacks { what: String, field: &'static str },
    /// A metadata request (`method` `url`) failed on the way.
    Transport {
        what: String,
        method: &'static str,
        url: String,
        source: TransportError,
    },
    /// A metadata request (`method` `url`) was answered with `status`.
    Status {
        what: String,
        method: &'static str,
        url: String,
        status: u16,
    },
    /// The metadata answer is not credentials JSON.
    NotCredentials {
        what: String,
        source: crate::JsonProblem,
    },
    /// Instance metadata lists no role.
    NoInstanceRole { what: String },
    /// No container credentials endpoint is set.
    NoContainerUri { what: String },
}

impl ChainError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ChainError::Role {
                profile,
                chain,
                source,
            } => {
                let whence = format!("the role comes from profile {profile:?} (chain: {chain})");
                match source.hint_text() {
                    Some(h) => format!("{h}; {whence}"),
                    None => whence,
                }
            }
            ChainError::EnvKeysUnset => "export both, or use source_profile".into(),
            ChainError::CannotRun { .. } => {
                "use an absolute path, or put the program on PATH".into()
            }
            ChainError::Failed { .. } => "run the command by hand to see why".into(),
            ChainError::Transport { method: "PUT", .. } => {
                "this machine has no reachable instance metadata endpoint; set AWS_EC2_METADATA_SERVICE_ENDPOINT or use another credential_source".into()
            }
            ChainError::NoContainerUri { .. } => {
                "run inside a container with a task role, or use another credential_source".into()
            }
            ChainError::CommandLine { .. }
            | ChainError::TooMuchOutput { .. }
            | ChainError::NotJson { .. }
            | ChainError::Version { .. }
            | ChainError::Lacks { .. }
            | ChainError::Transport { .. }
            | ChainError::Status { .. }
            | ChainError::NotCredentials { .. }
            | ChainError::NoInstanceRole { .. } => return None,
        })
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Role { source, .. } => f.write_str(source.message()),
            ChainError::EnvKeysUnset => f.write_str(
                "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            ),
            ChainError::CommandLine { what, command } => {
                write!(f, "{what} is not a valid command line: {command:?}")
            }
            ChainError::CannotRun {
                what,
                program,
                source,
            } => write!(f, "{what}: cannot run {program:?}: {source}"),
            ChainError::Failed { what, status } => write!(f, "{what} failed ({status})"),
            ChainError::TooMuchOutput { what } => write!(f, "{what} printed more than 1 MiB"),
            ChainError::NotJson { what, source } => {
                write!(f, "{what} did not print credentials JSON: {source}")
            }
            ChainError::Version { what, version } => write!(
                f,
                "{what} printed Version {version:?}; only Version 1 is defined"
            ),
            ChainError::Lacks { what, field } => write!(f, "{what}: the answer lacks {field}"),
            ChainError::Transport {
                what,
                method,
                url,
                source,
            } => write!(f, "{what}: {method} {url}: {source}"),
            ChainError::Status {
                what,
                method,
                url,
                status,
            } => write!(f, "{what}: {method} {url}: HTTP {status}"),
            ChainError::NotCredentials { what, source } => {
                write!(f, "{what}: not a credentials answer: {source}")
            }
            ChainError::NoInstanceRole { what } => write!(f, "{what}: the instance has no role"),
            ChainError::NoContainerUri { what } => write!(
                f,
                "{what}: neither AWS_CONTAINER_CREDENTIALS_FULL_URI nor AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set"
            ),
        }
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChainError::Role { source, .. } => Some(source),
            ChainError::CannotRun { source, .. } => Some(source),
            ChainError::NotJson { source, .. } | ChainError::NotCredentials { source, .. } => {
                Some(source)
            }
            ChainError::Transport { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(ChainError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = ChainError::Role {
            profile: "admin".into(),
            chain: "admin -> base".into(),
            source: Error::new("AssumeRole failed").hint("check the role"),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "AssumeRole failed (hint: check the role; the role comes from profile \"admin\" (chain: admin -> base))"
        );
        let typed = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ChainError>());
        assert!(matches!(typed, Some(ChainError::Role { profile, .. }) if profile == "admin"));
        let e: Error = ChainError::Transport {
            what: "credential_source = Ec2InstanceMetadata".into(),
            method: "GET",
            url: "http://127.0.0.1:1/x".into(),
            source: TransportError {
                message: "refused".into(),
                kind: crate::protocol::http::TransportKind::Connection,
            },
        }
        .into();
        assert_eq!(
            e.to_string(),
            "credential_source = Ec2InstanceMetadata: GET http://127.0.0.1:1/x: refused"
        );
        let e = crate::sts::chain::credential_process("", "p").unwrap_err();
        assert_eq!(
            e.to_string(),
            "credential_process of profile \"p\" is not a valid command line: \"\""
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<ChainError>()));
    }
}
