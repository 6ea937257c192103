//! STS error answers, read as the SDKs read them, with a hint for the common ones.

use super::xml::xml_values;
use crate::error::Error;
use crate::protocol::http::{exceeded_attempts, HttpResponse, TransportError};

/// An STS service error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// `STS`, `IAM`: the service's name in the message.
    pub service: &'static str,
    pub action: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: String,
}

impl ServiceError {
    /// Reads an `<ErrorResponse>` (or anything else) from a non-2xx response.
    pub fn from_response(
        service: super::client::QueryService,
        action: &str,
        resp: &HttpResponse,
    ) -> ServiceError {
        // `<ErrorResponse><Error>` (AWS) or `<ErrorResponse><Errors><Error>` (some
        // STS-compatible servers): whichever holds a code.
        let fields = xml_values(
            &resp.body,
            &[
                "ErrorResponse/Error/Code",
                "ErrorResponse/Error/Message",
                "ErrorResponse/RequestId",
                "ErrorResponse/Errors/Error/Code",
                "ErrorResponse/Errors/Error/Message",
                "ErrorResponse/Errors/RequestId",
            ],
        )
        .unwrap_or_else(|_| vec![None; 6]);
        let field = |i: usize| fields.get(i).cloned().flatten().map(|s| s.to_string());
        let nested = field(0).is_none() && field(3).is_some();
        let get = |i: usize| {
            if nested {
                field(i + 3).or_else(|| field(i))
            } else {
                field(i).or_else(|| field(i + 3))
            }
        };
        let message = get(1).unwrap_or_else(|| {
            String::from_utf8_lossy(&resp.body)
                .chars()
                .take(200)
                .collect()
        });
        ServiceError {
            service: service.label,
            action: action.to_string(),
            status: resp.status,
            code: get(0).unwrap_or_else(|| "UnknownError".into()),
            message,
            request_id: get(2)
                .or_else(|| resp.header("x-amzn-requestid").map(str::to_string))
                .unwrap_or_default(),
        }
    }

    /// Whether trying again may help (5xx, throttling, IdP hiccups).
    pub fn retryable(&self) -> bool {
        matches!(self.status, 500 | 502 | 503 | 504)
            || self.code.contains("Throttl")
            || matches!(
                self.code.as_str(),
                "RequestLimitExceeded" | "IDPCommunicationError" | "RequestTimeout"
            )
    }

    fn hint(&self) -> Option<&'static str> {
        let m = self.message.to_ascii_lowercase();
        let sts = self.service == super::client::STS.label;
        match self.code.as_str() {
            "InvalidClientTokenId" | "UnrecognizedClientException" => Some("the access key id is not known to AWS: check the long-term keys (env or --profile), or that the session has not been revoked"),
            "SignatureDoesNotMatch" if m.contains("expired") || m.contains("time") => Some("this machine's clock is off; synchronise it (e.g. with NTP)"),
            "SignatureDoesNotMatch" => Some("the secret access key does not belong to the access key id"),
            "ExpiredToken" => Some("the source session has expired: get fresh source credentials (and clear stale variables from the environment)"),
            _ if !sts => None,
            "AccessDenied" if m.contains("multifactor") || m.contains("mfa") => Some("pass --serial-number with your MFA device and --token-code with a fresh code"),
            "AccessDenied" if self.action == "GetSessionToken" => Some("your IAM policies must allow sts:GetSessionToken (and an MFA device must be yours)"),
            "AccessDenied" => Some("the role's trust policy must allow your identity to call sts:AssumeRole (with the external id and MFA it requires), and your policy must allow it too"),
            "ValidationError" if m.contains("duration") => Some("ask for a shorter --duration: the role's maximum session duration caps it, and role chaining caps it at 3600 seconds"),
            _ => None,
        }
    }

    /// The error shown to the user (`exhausted`: all `n` attempts failed on a retryable one).
    pub fn into_error(self, exhausted: Option<u32>) -> Error {
        QueryError::Service {
            error: self,
            exhausted,
        }
        .into()
    }

    /// The service error somewhere in `e`'s causes, if it is one.
    pub fn in_chain(e: &Error) -> Option<&ServiceError> {
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            if let Some(se) = c.downcast_ref::<ServiceError>() {
                return Some(se);
            }
            cause = c.source();
        }
        None
    }
}

crate::protocol::http::service_error_impls!(ServiceError);

/// Why a Query API call (STS, IAM) got no answer we could use.
#[derive(Debug)]
pub enum QueryError {
    /// The service answered with an error; `exhausted`: `Some(n)` when it was retryable and
    /// all `n` attempts failed.
    Service {
        error: ServiceError,
        exhausted: Option<u32>,
    },
    /// No HTTP answer to `service`'s `action` at `url` (without its query); `settings`: where
    /// the user sets the endpoint, for the hint.
    Transport {
        service: &'static str,
        action: &'static str,
        url: String,
        settings: &'static str,
        error: TransportError,
        exhausted: Option<u32>,
    },
}

impl QueryError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        match self {
            QueryError::Service { error, .. } => error.hint().map(String::from),
            QueryError::Transport {
                settings, error, ..
            } => Some(error.hint(settings)),
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Service { error, exhausted } => write!(
                f,
                "operation error {}: {}, {}https response error StatusCode: {}, RequestID: {}, api error {}: {}",
                error.service,
                error.action,
                exceeded_attempts(*exhausted),
                error.status,
                error.request_id,
                error.code,
                error.message
            ),
            QueryError::Transport {
                service,
                action,
                url,
                error,
                exhausted,
                ..
            } => write!(
                f,
                "operation error {service}: {action}, {}request send failed, Post {url:?}: {}",
                exceeded_attempts(*exhausted),
                error.message
            ),
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            QueryError::Service { error, .. } => Some(error),
            QueryError::Transport { error, .. } => Some(error),
        }
    }
}

crate::error::typed_error!(QueryError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_errors() {
        let resp = HttpResponse {
            status: 403,
            headers: vec![],
            body: br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized &lt;x&gt;</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"#.to_vec(),
        };
        let e = ServiceError::from_response(super::super::client::STS, "AssumeRole", &resp);
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(e.message, "User is not authorized <x>");
        assert_eq!(e.request_id, "r-1");
        assert!(!e.retryable());
        let text = e.into_error(None).to_string();
        assert!(text.contains("AssumeRole") && text.contains("403") && text.contains("hint"));
        let garbage = HttpResponse {
            status: 503,
            headers: vec![],
            body: b"<html>".to_vec(),
        };
        let nested = HttpResponse {
            status: 403,
            headers: vec![],
            body: b"<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors><RequestId>r-2</RequestId></ErrorResponse>".to_vec(),
        };
        let e = ServiceError::from_response(super::super::client::STS, "AssumeRole", &nested);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("AccessDenied", "no")
        );
        assert!(e
            .into_error(None)
            .message()
            .contains("api error AccessDenied: no"));
        let e = ServiceError::from_response(super::super::client::STS, "GetSessionToken", &garbage);
        assert_eq!(e.code, "UnknownError");
        assert!(e.retryable());
    }

    #[test]
    fn query_errors_render_todays_text_and_stay_reachable() {
        let resp = HttpResponse {
            status: 400,
            headers: vec![("x-amzn-RequestId".into(), "r-9".into())],
            body: b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>".to_vec(),
        };
        let se = ServiceError::from_response(super::super::client::STS, "AssumeRole", &resp);
        let e = se.into_error(Some(3));
        assert_eq!(
            e.to_string(),
            "operation error STS: AssumeRole, exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: r-9, api error Throttling: Rate exceeded"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<QueryError>()),
            Some(QueryError::Service {
                exhausted: Some(3),
                ..
            })
        ));
        assert_eq!(
            ServiceError::in_chain(&e).map(|s| s.code.as_str()),
            Some("Throttling")
        );
        let e: Error = QueryError::Transport {
            service: "IAM",
            action: "GetUser",
            url: "http://127.0.0.1:1/".into(),
            settings: "--endpoint-url-iam / AWS_ENDPOINT_URL_IAM",
            error: TransportError {
                message: "Connection refused (os error 111)".into(),
                kind: crate::protocol::http::TransportKind::Connection,
            },
            exhausted: None,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "operation error IAM: GetUser, request send failed, Post \"http://127.0.0.1:1/\": Connection refused (os error 111) (hint: check network access to the endpoint (--endpoint-url-iam / AWS_ENDPOINT_URL_IAM, HTTPS_PROXY/NO_PROXY))"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<QueryError>()));
        assert!(ServiceError::in_chain(&e).is_none());
    }
}
