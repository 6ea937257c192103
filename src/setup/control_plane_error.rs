//! Why a call to Roles Anywhere's control plane failed, in the AWS SDK for Go's wording
//! (`operation error RolesAnywhere: OP, …`). The service's error or the transport's stays the
//! source, so callers decide on its code, never on the text.

use std::fmt;

use crate::protocol::http::{exceeded_attempts, TransportError};
use crate::protocol::rolesanywhere::ServiceError;

/// The flags that choose the control plane's endpoint, for hints.
const ENDPOINT_FLAGS: &str =
    "--endpoint-url-rolesanywhere / AWS_ENDPOINT_URL_ROLESANYWHERE, --region";

/// A failed control-plane call.
#[derive(Debug)]
pub enum ControlPlaneError {
    /// The service refused `operation`; `exhausted`: every one of that many attempts failed.
    Service {
        operation: &'static str,
        exhausted: Option<u32>,
        source: ServiceError,
    },
    /// No answer to `method url` (the URL without its query) for `operation`.
    Transport {
        operation: &'static str,
        method: &'static str,
        url: String,
        exhausted: Option<u32>,
        source: TransportError,
    },
    /// A List operation kept handing out page tokens.
    TooManyPages { operation: &'static str },
    /// A successful answer to `operation` is not JSON.
    NotJson {
        operation: String,
        source: serde_json::Error,
    },
}

impl ControlPlaneError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        match self {
            ControlPlaneError::Service { source, .. } => match source.code.as_str() {
                "AccessDeniedException" => Some("the caller's credentials need the rolesanywhere:* permissions setup uses (see the README's setup section)"),
                "UnrecognizedClientException" | "InvalidSignatureException" => Some("check the caller's keys (environment, --profile)"),
                _ => None,
            }
            .map(str::to_string),
            ControlPlaneError::Transport { source, .. } => Some(source.hint(ENDPOINT_FLAGS)),
            ControlPlaneError::TooManyPages { .. } => None,
            ControlPlaneError::NotJson { .. } => Some(
                "check the endpoint URL (--endpoint-url-rolesanywhere / AWS_ENDPOINT_URL_ROLESANYWHERE)"
                    .into(),
            ),
        }
    }

    /// The service's error, when it answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            ControlPlaneError::Service { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl fmt::Display for ControlPlaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlPlaneError::Service {
                operation,
                exhausted,
                source: e,
            } => write!(
                f,
                "operation error RolesAnywhere: {operation}, {}https response error StatusCode: {}, RequestID: {}, api error {}: {}",
                exceeded_attempts(*exhausted),
                e.status,
                e.request_id,
                e.code,
                e.message
            ),
            ControlPlaneError::Transport {
                operation,
                method,
                url,
                exhausted,
                source,
            } => write!(
                f,
                "operation error RolesAnywhere: {operation}, {}request send failed, {method} {url:?}: {}",
                exceeded_attempts(*exhausted),
                source.message
            ),
            ControlPlaneError::TooManyPages { operation } => write!(
                f,
                "operation error RolesAnywhere: {operation}: more than 1000 pages"
            ),
            ControlPlaneError::NotJson { operation, source } => write!(
                f,
                "operation error RolesAnywhere: {operation}, the answer is not JSON: {source}"
            ),
        }
    }
}

impl std::error::Error for ControlPlaneError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ControlPlaneError::Service { source, .. } => Some(source),
            ControlPlaneError::Transport { source, .. } => Some(source),
            ControlPlaneError::NotJson { source, .. } => Some(source),
            ControlPlaneError::TooManyPages { .. } => None,
        }
    }
}

crate::error::typed_error!(ControlPlaneError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http::TransportKind;
    use crate::setup::rolesanywhere_api::{is_not_found, parse_answer};

    fn typed(e: &crate::Error) -> &ControlPlaneError {
        std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<ControlPlaneError>())
            .expect("a ControlPlaneError source")
    }

    fn service(code: &str) -> ServiceError {
        ServiceError {
            status: 403,
            request_id: "r-1".into(),
            code: code.into(),
            message: "no".into(),
        }
    }

    #[test]
    fn control_plane_errors_render_the_sdk_line_and_keep_the_service_error() {
        let e: crate::Error = ControlPlaneError::Service {
            operation: "ListProfiles",
            exhausted: Some(3),
            source: service("AccessDeniedException"),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "operation error RolesAnywhere: ListProfiles, exceeded maximum number of attempts, 3, https response error StatusCode: 403, RequestID: r-1, api error AccessDeniedException: no (hint: the caller's credentials need the rolesanywhere:* permissions setup uses (see the README's setup section))"
        );
        assert_eq!(
            typed(&e).service_error(),
            Some(&service("AccessDeniedException"))
        );
        assert!(!is_not_found(&e));
        let e: crate::Error = ControlPlaneError::Service {
            operation: "GetProfile",
            exhausted: None,
            source: service("ResourceNotFoundException"),
        }
        .into();
        assert!(is_not_found(&e));
        assert!(e.hint_text().is_none());

        let e: crate::Error = ControlPlaneError::Transport {
            operation: "ListTrustAnchors",
            method: "GET",
            url: "https://127.0.0.1:9/trustanchors".into(),
            exhausted: None,
            source: TransportError {
                message: "timed out".into(),
                kind: TransportKind::Timeout,
            },
        }
        .into();
        assert_eq!(
            e.to_string(),
            "operation error RolesAnywhere: ListTrustAnchors, request send failed, GET \"https://127.0.0.1:9/trustanchors\": timed out (hint: the endpoint accepted the connection but did not answer; check --endpoint-url-rolesanywhere / AWS_ENDPOINT_URL_ROLESANYWHERE, --region, proxies, or raise --timeout)"
        );
        assert!(std::error::Error::source(typed(&e)).is_some_and(|c| c.is::<TransportError>()));

        let e: crate::Error = parse_answer("ListTagsForResource", b"<html>")
            .unwrap_err()
            .into();
        assert!(
            e.message().starts_with(
                "operation error RolesAnywhere: ListTagsForResource, the answer is not JSON: "
            ),
            "{e}"
        );
        assert_eq!(
            e.hint_text(),
            Some("check the endpoint URL (--endpoint-url-rolesanywhere / AWS_ENDPOINT_URL_ROLESANYWHERE)")
        );
        assert!(matches!(typed(&e), ControlPlaneError::NotJson { .. }));
        assert!(std::error::Error::source(typed(&e)).is_some_and(|c| c.is::<serde_json::Error>()));

        let e: crate::Error = ControlPlaneError::TooManyPages {
            operation: "ListProfiles",
        }
        .into();
        assert_eq!(
            e.to_string(),
            "operation error RolesAnywhere: ListProfiles: more than 1000 pages"
        );
    }
}
