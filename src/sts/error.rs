//! STS error answers, read as the SDKs read them, with a hint for the common ones.

use super::xml::xml_values;
use crate::error::Error;
use crate::protocol::http::HttpResponse;

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

    /// The error shown to the user.
    pub fn into_error(self, exhausted: Option<u32>) -> Error {
        let exceeded = crate::protocol::http::exceeded_attempts(exhausted);
        let hint = self.hint();
        let e = Error::new(format!(
            "operation error {}: {}, {exceeded}https response error StatusCode: {}, RequestID: {}, api error {}: {}",
            self.service,
            self.action, self.status, self.request_id, self.code, self.message
        ));
        let e = match hint {
            Some(h) => e.hint(h),
            None => e,
        };
        e.with_source(self)
    }
}

crate::protocol::http::service_error_impls!(ServiceError);

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
}
