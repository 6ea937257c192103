//! Why console sign-in failed (`sts::signin`, `sts::handoff`): the federation endpoint's
//! exchange, or the loopback hand-off to the browser. No token, key or sign-in URL is ever kept
//! here (the transport's message has the URL replaced by the endpoint).

use std::fmt;

use crate::protocol::http::TransportError;

/// A sign-in that did not happen.
#[derive(Debug)]
pub enum SigninError {
    /// Long-term keys, which the console does not take.
    LongTermKeys,
    /// The session JSON could not be encoded.
    Encode { source: serde_json::Error },
    /// getSigninToken at `endpoint` failed on the way.
    Transport {
        endpoint: String,
        source: TransportError,
    },
    /// getSigninToken at `endpoint` answered `status`.
    Status { endpoint: String, status: u16 },
    /// getSigninToken's answer is not JSON of the expected shape.
    NotAnswer {
        endpoint: String,
        source: crate::JsonProblem,
    },
    /// getSigninToken's answer has no token.
    NoToken { endpoint: String },
    /// No loopback port for the hand-off.
    Listen { source: std::io::Error },
    /// The system RNG failed.
    Random,
    /// The loopback port cannot be read back.
    LocalAddr { source: std::io::Error },
    /// The loopback server cannot start.
    Start { source: std::io::Error },
    /// The browser did not come within `secs` seconds.
    NotFetched { secs: u64 },
}

impl SigninError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            SigninError::LongTermKeys => {
                "sign in with a role profile, or let login get a federation token from the keys"
            }
            SigninError::Transport { .. } => {
                "check --federation-endpoint / AWS_SIGNING_HELPER_FEDERATION_ENDPOINT and the network"
            }
            SigninError::Status {
                status: 400 | 401 | 403,
                ..
            } => {
                "the endpoint refused these credentials: the console takes a role's or a federated user's (not a GetSessionToken session's), and a --session-duration only with a role's"
            }
            SigninError::Status { .. } => "the federation endpoint failed; try again later",
            SigninError::Listen { .. } | SigninError::NotFetched { .. } => {
                "run login without --open and open the URL yourself"
            }
            SigninError::Encode { .. }
            | SigninError::NotAnswer { .. }
            | SigninError::NoToken { .. }
            | SigninError::Random
            | SigninError::LocalAddr { .. }
            | SigninError::Start { .. } => return None,
        })
    }
}

impl fmt::Display for SigninError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigninError::LongTermKeys => f.write_str(
                "the console accepts only temporary credentials (a role's or a federated user's), and these are long-term keys",
            ),
            SigninError::Encode { source } => {
                write!(f, "cannot encode the sign-in session: {source}")
            }
            SigninError::Transport { endpoint, source } => {
                write!(f, "getSigninToken at {endpoint}: {source}")
            }
            SigninError::Status { endpoint, status } => {
                write!(f, "getSigninToken at {endpoint}: HTTP {status}")
            }
            SigninError::NotAnswer { endpoint, source } => write!(
                f,
                "getSigninToken at {endpoint}: not a sign-in token answer: {source}"
            ),
            SigninError::NoToken { endpoint } => {
                write!(f, "getSigninToken at {endpoint}: the answer lacks SigninToken")
            }
            SigninError::Listen { source } => write!(
                f,
                "cannot listen on 127.0.0.1 to hand the sign-in URL to the browser: {source}"
            ),
            SigninError::Random => f.write_str("cannot get random bytes from the system"),
            SigninError::LocalAddr { source } => {
                write!(f, "cannot read the loopback port: {source}")
            }
            SigninError::Start { source } => {
                write!(f, "cannot start the loopback server: {source}")
            }
            SigninError::NotFetched { secs } => write!(
                f,
                "the browser did not fetch the sign-in page within {secs} s"
            ),
        }
    }
}

impl std::error::Error for SigninError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SigninError::Encode { source } => Some(source),
            SigninError::NotAnswer { source, .. } => Some(source),
            SigninError::Transport { source, .. } => Some(source),
            SigninError::Listen { source }
            | SigninError::LocalAddr { source }
            | SigninError::Start { source } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(SigninError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = SigninError::Status {
            endpoint: "http://127.0.0.1:1/federation".into(),
            status: 403,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "getSigninToken at http://127.0.0.1:1/federation: HTTP 403 (hint: the endpoint refused these credentials: the console takes a role's or a federated user's (not a GetSessionToken session's), and a --session-duration only with a role's)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<SigninError>()),
            Some(SigninError::Status { status: 403, .. })
        ));
        let e: Error = SigninError::NotFetched { secs: 30 }.into();
        assert_eq!(
            e.to_string(),
            "the browser did not fetch the sign-in page within 30 s (hint: run login without --open and open the URL yourself)"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<SigninError>()));
    }
}
