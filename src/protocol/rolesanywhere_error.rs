//! Why a CreateSession call failed (`protocol::rolesanywhere`): a local check of the flags, a
//! request we could not sign, a response we could not read, the service's error answer or no
//! answer at all. Service and transport failures render in the Go SDK's words (which the
//! official tool prints); the service's or the transport's typed error stays the source.

use std::fmt;

use super::http::{exceeded_attempts, TransportError};
use super::rolesanywhere::ServiceError;

/// The official tool's words for a CreateSession answer without usable credentials.
const NO_CREDENTIALS: &str = "unable to obtain temporary security credentials from CreateSession";

/// What went wrong with one CreateSession.
#[derive(Debug)]
pub enum CreateSessionError {
    /// The trust anchor's region (`trust_anchor`) and the profile's (`profile`) differ.
    RegionMismatch {
        trust_anchor: String,
        profile: String,
    },
    /// `--session-duration` is outside the service's 900..=43200 seconds.
    DurationOutOfRange { seconds: i64 },
    /// `flag` holds an ARN of the `found` kind but takes the `wanted` kind (both described).
    /// `swapped_with`: the flag that holds the `wanted` kind instead; `belongs_in`: the flag
    /// that takes the `found` kind.
    WrongKind {
        flag: &'static str,
        found: &'static str,
        wanted: &'static str,
        swapped_with: Option<&'static str>,
        belongs_in: Option<&'static str>,
    },
    /// The identity has no certificate (a key alone cannot sign CreateSession).
    NoCertificate,
    /// The 2xx body is not the JSON we expect.
    Malformed(crate::JsonProblem),
    /// The 2xx body has an empty `credentialSet`.
    NoCredentialSet,
    /// The first `credentialSet` entry has no `credentials`.
    NoCredentials,
    /// `credentials.{field}` is missing or empty.
    MissingField { field: &'static str },
    /// The service answered with an error; `exhausted`: `Some(n)` when it was retryable and
    /// all `n` attempts failed.
    Service {
        error: ServiceError,
        exhausted: Option<u32>,
    },
    /// No HTTP answer from `url` (without its query).
    Transport {
        error: TransportError,
        url: String,
        exhausted: Option<u32>,
    },
}

impl CreateSessionError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            CreateSessionError::RegionMismatch { .. } => {
                "use the trust anchor and profile of the same region"
            }
            CreateSessionError::DurationOutOfRange { .. } => "IAM Roles Anywhere accepts 900 to 43200 seconds (15 minutes to 12 hours), further capped by the profile",
            CreateSessionError::WrongKind {
                flag,
                swapped_with: Some(other),
                ..
            } => return Some(format!("{flag} and {other} look swapped: swap their values")),
            CreateSessionError::WrongKind {
                belongs_in: Some(other),
                ..
            } => return Some(format!("that ARN belongs in {other}")),
            CreateSessionError::NoCertificate => "pass --certificate",
            CreateSessionError::Service { error, .. } => return error.hint().map(String::from),
            CreateSessionError::Transport { error, .. } => {
                return Some(error.hint("--endpoint, --region"))
            }
            CreateSessionError::WrongKind { .. }
            | CreateSessionError::Malformed(_)
            | CreateSessionError::NoCredentialSet
            | CreateSessionError::NoCredentials
            | CreateSessionError::MissingField { .. } => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for CreateSessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreateSessionError::RegionMismatch { trust_anchor, profile } => write!(
                f,
                "trust anchor and profile regions don't match: --trust-anchor-arn is in {trust_anchor:?}, --profile-arn in {profile:?}"
            ),
            CreateSessionError::DurationOutOfRange { seconds } => {
                write!(f, "--session-duration {seconds} is out of range")
            }
            CreateSessionError::WrongKind {
                flag,
                found,
                wanted,
                ..
            } => write!(f, "{flag} holds {found}, but {flag} takes {wanted}"),
            CreateSessionError::NoCertificate => f.write_str(
                "unable to find certificate: CreateSession needs the certificate of the private key",
            ),
            CreateSessionError::Malformed(e) => {
                write!(f, "malformed CreateSession response ({e}): {NO_CREDENTIALS}")
            }
            CreateSessionError::NoCredentialSet => f.write_str(NO_CREDENTIALS),
            CreateSessionError::NoCredentials => {
                write!(f, "CreateSession response has no credentials: {NO_CREDENTIALS}")
            }
            CreateSessionError::MissingField { field } => write!(
                f,
                "CreateSession response lacks credentials.{field}: {NO_CREDENTIALS}"
            ),
            CreateSessionError::Service { error, exhausted } => {
                let modeled = matches!(
                    error.code.as_str(),
                    "AccessDeniedException" | "ResourceNotFoundException" | "ValidationException"
                );
                write!(
                    f,
                    "operation error RolesAnywhere: CreateSession, {}https response error StatusCode: {}, RequestID: {}, {}{}: {}",
                    exceeded_attempts(*exhausted),
                    error.status,
                    error.request_id,
                    if modeled { "" } else { "api error " },
                    error.code,
                    error.message
                )
            }
            CreateSessionError::Transport {
                error,
                url,
                exhausted,
            } => write!(
                f,
                "operation error RolesAnywhere: CreateSession, {}https response error StatusCode: 0, RequestID: , request send failed, Post \"{url}\": {}",
                exceeded_attempts(*exhausted),
                error.message
            ),
        }
    }
}

impl std::error::Error for CreateSessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CreateSessionError::Malformed(e) => Some(e),
            CreateSessionError::Service { error, .. } => Some(error),
            CreateSessionError::Transport { error, .. } => Some(error),
            _ => None,
        }
    }
}

crate::error::typed_error!(CreateSessionError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::protocol::http::TransportKind;

    fn typed(e: &Error) -> Option<&CreateSessionError> {
        std::error::Error::source(e).and_then(|s| s.downcast_ref::<CreateSessionError>())
    }

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = CreateSessionError::MissingField {
            field: "sessionToken",
        }
        .into();
        assert_eq!(
            e.to_string(),
            "CreateSession response lacks credentials.sessionToken: unable to obtain temporary security credentials from CreateSession"
        );
        assert!(matches!(
            typed(&e),
            Some(CreateSessionError::MissingField {
                field: "sessionToken"
            })
        ));
        let e: Error = CreateSessionError::Transport {
            error: TransportError {
                message: "Connection refused (os error 111)".into(),
                kind: TransportKind::Connection,
            },
            url: "https://127.0.0.1:1/sessions".into(),
            exhausted: Some(3),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "operation error RolesAnywhere: CreateSession, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://127.0.0.1:1/sessions\": Connection refused (os error 111) (hint: check network access to the endpoint (--endpoint, --region, HTTPS_PROXY/NO_PROXY))"
        );
        let transport = typed(&e)
            .and_then(|t| std::error::Error::source(t))
            .and_then(|s| s.downcast_ref::<TransportError>());
        assert_eq!(transport.map(|t| t.kind), Some(TransportKind::Connection));
        let e: Error = CreateSessionError::DurationOutOfRange { seconds: 60 }.into();
        assert_eq!(
            e.to_string(),
            "--session-duration 60 is out of range (hint: IAM Roles Anywhere accepts 900 to 43200 seconds (15 minutes to 12 hours), further capped by the profile)"
        );
        assert!(matches!(
            typed(&e),
            Some(CreateSessionError::DurationOutOfRange { seconds: 60 })
        ));
    }

    #[test]
    fn local_checks_and_responses_render_todays_text() {
        use crate::protocol::rolesanywhere::{parse_response, SessionParams};
        let ta = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/a";
        let profile = "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p";
        let role = "arn:aws:iam::111122223333:role/r";
        let params = |ta: &str, p: &str, r: &str| SessionParams {
            role_arn: r.into(),
            profile_arn: p.into(),
            trust_anchor_arn: ta.into(),
            duration_seconds: 3600,
            role_session_name: None,
        };
        let e = params(ta, role, profile).check().unwrap_err();
        assert_eq!(
            e.to_string(),
            "--profile-arn holds an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), but --profile-arn takes a Roles Anywhere profile ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:profile/ID) (hint: --profile-arn and --role-arn look swapped: swap their values)"
        );
        assert!(matches!(
            typed(&e),
            Some(CreateSessionError::WrongKind {
                flag: "--profile-arn",
                swapped_with: Some("--role-arn"),
                ..
            })
        ));
        let e = params(profile, profile, role).check().unwrap_err();
        assert_eq!(
            e.to_string(),
            "--trust-anchor-arn holds a Roles Anywhere profile ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:profile/ID), but --trust-anchor-arn takes a Roles Anywhere trust anchor ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID) (hint: that ARN belongs in --profile-arn)"
        );
        let west = "arn:aws:rolesanywhere:us-west-2:111122223333:profile/p";
        let e = params(ta, west, role).check().unwrap_err();
        assert_eq!(
            e.to_string(),
            "trust anchor and profile regions don't match: --trust-anchor-arn is in \"us-east-1\", --profile-arn in \"us-west-2\" (hint: use the trust anchor and profile of the same region)"
        );
        assert!(matches!(
            typed(&e),
            Some(CreateSessionError::RegionMismatch { .. })
        ));
        let e = parse_response(b"nope", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed CreateSession response (not valid JSON (line 1, column 2)): unable to obtain temporary security credentials from CreateSession"
        );
        assert!(typed(&e)
            .and_then(|t| std::error::Error::source(t))
            .is_some_and(|s| s.is::<crate::JsonProblem>()));
        // A secret in the wrong place is never quoted (serde_json's own message would).
        let e = parse_response(
            br#"{"credentialSet":[{"credentials":"SECRETKEYTEXT"}]}"#,
            None,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("SECRETKEYTEXT"), "{e}");
        let e = parse_response(br#"{"credentialSet":[]}"#, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to obtain temporary security credentials from CreateSession"
        );
        let e = parse_response(br#"{"credentialSet":[{}]}"#, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CreateSession response has no credentials: unable to obtain temporary security credentials from CreateSession"
        );
    }
}
