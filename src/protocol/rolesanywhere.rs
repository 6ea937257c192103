//! The IAM Roles Anywhere client: [`fetch`] loads the identity and calls `CreateSession`; the
//! request is built and signed here, sent with the one retry loop of [`http`], and the response
//! or the service error read back in the official tool's terms.
//!
//! Wire contract: `POST /sessions?profileArn=…&roleArn=…&trustAnchorArn=…` with body
//! `{"durationSeconds":N[,"roleSessionName":"…"]}`, headers `Content-Type`, `Host`,
//! `X-Amz-Date`, `X-Amz-X509` (base64 DER leaf), `X-Amz-X509-Chain` (comma-joined base64 DER),
//! signed as SigV4 with the certificate's key: `Authorization: AWS4-X509-{RSA,ECDSA}-SHA256 |
//! AWS4-X509-MLDSA Credential=<decimal serial>/<scope>, SignedHeaders=…, Signature=<hex>`.

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::files::aws_config;
use crate::identity::{source, Digest, Identity, KeySpec};
use crate::protocol::arn::Arn;
use crate::protocol::endpoint::{self, Target};
use crate::protocol::http::{
    self, HttpClient, HttpOptions, HttpResponse, Outgoing, RetryPolicy, SendError,
};
use crate::protocol::rolesanywhere_error::CreateSessionError;
use crate::protocol::sigv4;

/// The service's accepted range for `durationSeconds`.
pub const DURATION_RANGE: std::ops::RangeInclusive<i64> = 900..=43200;

/// What we ask CreateSession for.
#[derive(Debug, Clone)]
pub struct SessionParams {
    pub role_arn: String,
    pub profile_arn: String,
    pub trust_anchor_arn: String,
    pub duration_seconds: i64,
    pub role_session_name: Option<String>,
}

/// The ARNs of [`SessionParams`], parsed and checked against each other.
#[derive(Debug, Clone)]
pub struct CheckedArns {
    pub trust_anchor: Arn,
    pub profile: Arn,
    pub role: Arn,
}

impl SessionParams {
    /// Local checks the official tool leaves to the service: ARN syntax, each ARN of the kind
    /// its flag takes, matching regions, a role ARN at all, and the duration range.
    pub fn check(&self) -> Result<CheckedArns> {
        let trust_anchor =
            Arn::parse_flag(&self.trust_anchor_arn, "trust anchor", "--trust-anchor-arn")?;
        let profile = Arn::parse_flag(&self.profile_arn, "profile", "--profile-arn")?;
        let role = Arn::parse_flag(&self.role_arn, "role", "--role-arn")?;
        check_kinds(&[
            ("--trust-anchor-arn", &trust_anchor, ArnKind::TrustAnchor),
            ("--profile-arn", &profile, ArnKind::Profile),
            ("--role-arn", &role, ArnKind::Role),
        ])?;
        if trust_anchor.region != profile.region {
            return Err(CreateSessionError::RegionMismatch {
                trust_anchor: trust_anchor.region,
                profile: profile.region,
            }
            .into());
        }
        if !DURATION_RANGE.contains(&self.duration_seconds) {
            return Err(CreateSessionError::DurationOutOfRange {
                seconds: self.duration_seconds,
            }
            .into());
        }
        Ok(CheckedArns {
            trust_anchor,
            profile,
            role,
        })
    }

    fn query(&self) -> String {
        sigv4::canonical_query(&[
            ("profileArn", self.profile_arn.as_str()),
            ("roleArn", self.role_arn.as_str()),
            ("trustAnchorArn", self.trust_anchor_arn.as_str()),
        ])
    }

    fn body(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            duration_seconds: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            role_session_name: Option<&'a str>,
        }
        // A struct of a number and a string always serializes.
        serde_json::to_vec(&Body {
            duration_seconds: self.duration_seconds,
            role_session_name: self.role_session_name.as_deref().filter(|s| !s.is_empty()),
        })
        .unwrap_or_default()
    }
}

/// The kinds of ARN CreateSession takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArnKind {
    TrustAnchor,
    Profile,
    Role,
}

impl ArnKind {
    fn of(arn: &Arn) -> Option<ArnKind> {
        match (arn.service.as_str(), arn.resource.split('/').next()) {
            ("rolesanywhere", Some("trust-anchor")) => Some(ArnKind::TrustAnchor),
            ("rolesanywhere", Some("profile")) => Some(ArnKind::Profile),
            ("iam", Some("role")) => Some(ArnKind::Role),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ArnKind::TrustAnchor => "a Roles Anywhere trust anchor ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID)",
            ArnKind::Profile => "a Roles Anywhere profile ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:profile/ID)",
            ArnKind::Role => "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        }
    }
}

/// Refuses an ARN of one known kind given for another (the common mix-up is `--profile-arn`
/// and `--role-arn` swapped), saying which flag takes which kind. ARNs of no known kind are
/// left to the service.
fn check_kinds(flags: &[(&'static str, &Arn, ArnKind)]) -> Result<()> {
    for (flag, arn, wanted) in flags {
        let Some(found) = ArnKind::of(arn) else {
            continue;
        };
        if found == *wanted {
            continue;
        }
        let owner = flags
            .iter()
            .find(|(_, _, k)| *k == found)
            .map(|(f, _, _)| *f);
        let swapped = flags
            .iter()
            .find_map(|(f, a, k)| (*k == found && ArnKind::of(a) == Some(*wanted)).then_some(*f));
        return Err(CreateSessionError::WrongKind {
            flag,
            found: found.describe(),
            wanted: wanted.describe(),
            swapped_with: swapped,
            belongs_in: owner,
        }
        .into());
    }
    Ok(())
}

/// A signed request, ready to send, plus what `--debug` shows.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// The key could not sign the request: the signer's error, kept whole as the cause.
#[derive(Debug)]
pub struct SignFailed(pub Error);

impl SignFailed {
    /// The signer's hint.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint_text()
    }
}

impl std::fmt::Display for SignFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not sign request: {}", self.0.message())
    }
}

impl std::error::Error for SignFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

crate::error::typed_error!(SignFailed);

/// Builds and signs the CreateSession request at time `now`.
pub fn sign_request(
    identity: &Identity,
    target: &Target,
    params: &SessionParams,
    now: Timestamp,
    extra_unsigned: &[(String, String)],
) -> Result<SignedRequest> {
    let cert = identity
        .certificate
        .as_ref()
        .ok_or(CreateSessionError::NoCertificate)?;
    let query = params.query();
    let body = params.body();
    let date = sigv4::amz_date(now);
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Host".into(), target.host.clone()),
        ("X-Amz-Date".into(), date.clone()),
        ("X-Amz-X509".into(), cert.base64()),
    ];
    if !identity.chain.is_empty() {
        let chain = identity
            .chain
            .iter()
            .map(|c| c.base64())
            .collect::<Vec<_>>()
            .join(",");
        headers.push(("X-Amz-X509-Chain".into(), chain));
    }
    let canonical_headers = sigv4::canonical_headers(&headers);
    let canonical_request = sigv4::canonical_request(
        "POST",
        &target.path,
        &query,
        &canonical_headers,
        &sigv4::sha256_hex(&body),
    );
    let algorithm = identity.signer.key_type().sigv4_algorithm();
    let scope = sigv4::credential_scope(now, &target.region, "rolesanywhere");
    let string_to_sign = sigv4::string_to_sign(algorithm, &date, &scope, &canonical_request);
    let signature = identity
        .signer
        .sign(string_to_sign.as_bytes(), Digest::Sha256)
        .map_err(SignFailed)?;
    headers.push((
        "Authorization".into(),
        sigv4::authorization(
            algorithm,
            &cert.serial_decimal(),
            &scope,
            &canonical_headers.signed,
            &signature,
        ),
    ));
    headers.extend(extra_unsigned.iter().cloned());
    Ok(SignedRequest {
        url: format!("{}{}?{query}", target.origin, target.path),
        headers,
        body,
        canonical_request,
        string_to_sign,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionResponse {
    #[serde(default)]
    credential_set: Vec<CredentialSetEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialSetEntry {
    credentials: Option<WireCredentials>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<Zeroizing<String>>,
    session_token: Option<Zeroizing<String>>,
    expiration: Option<String>,
}

/// Reads the credentials out of a 2xx CreateSession body.
pub fn parse_response(body: &[u8], account_id: Option<&str>) -> Result<Credentials> {
    let resp: SessionResponse =
        serde_json::from_slice(body).map_err(|e| CreateSessionError::Malformed(e.into()))?;
    let entry = resp
        .credential_set
        .into_iter()
        .next()
        .ok_or(CreateSessionError::NoCredentialSet)?;
    let c = entry.credentials.ok_or(CreateSessionError::NoCredentials)?;
    let missing = |field: &'static str| CreateSessionError::MissingField { field };
    Ok(Credentials {
        access_key_id: c
            .access_key_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("accessKeyId"))?,
        secret_access_key: c
            .secret_access_key
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("secretAccessKey"))?,
        session_token: c
            .session_token
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("sessionToken"))?,
        expiration: c
            .expiration
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("expiration"))?,
        account_id: account_id.map(str::to_string),
    })
}

/// A service error, as the SDK reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub request_id: String,
    pub code: String,
    pub message: String,
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl ServiceError {
    /// Reads a non-2xx response: code from `X-Amzn-ErrorType` (text after `:` and from `#` on
    /// dropped) or JSON `code`/`__type`; message from JSON `message`/`Message`.
    pub fn from_response(resp: &HttpResponse) -> ServiceError {
        let json: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
        let field = |names: &[&str]| {
            json.as_ref().and_then(|j| {
                names
                    .iter()
                    .find_map(|n| j.get(*n).and_then(|v| v.as_str()).map(str::to_string))
            })
        };
        let sanitize = |s: &str| {
            let s = s.split(':').next().unwrap_or(s);
            let s = s.rsplit('#').next().unwrap_or(s);
            s.trim().to_string()
        };
        let code = resp
            .header("x-amzn-errortype")
            .map(sanitize)
            .filter(|s| !s.is_empty())
            .or_else(|| {
                field(&["code", "__type"])
                    .map(|s| sanitize(&s))
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "UnknownError".to_string());
        let message = field(&["message", "Message"]).unwrap_or_else(|| {
            if resp.body.is_empty() {
                "UnknownError".to_string()
            } else {
                String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(200)
                    .collect()
            }
        });
        ServiceError {
            status: resp.status,
            request_id: resp.header("x-amzn-requestid").unwrap_or("").to_string(),
            code,
            message,
        }
    }

    /// Whether the SDK's standard retryer would try again.
    pub fn retryable(&self) -> bool {
        matches!(self.status, 500 | 502 | 503 | 504)
            || THROTTLING_CODES.contains(&self.code.as_str())
            || matches!(
                self.code.as_str(),
                "RequestTimeout" | "RequestTimeoutException"
            )
    }

    /// What the user can do about the common refusals. The service's own message is read
    /// here (as the SDKs read it), never one of ours.
    pub(crate) fn hint(&self) -> Option<&'static str> {
        let m = self.message.to_ascii_lowercase();
        if m.contains("untrusted certificate") || m.contains("insufficient certificate") {
            Some("the leaf certificate needs keyUsage digitalSignature and extendedKeyUsage clientAuth, its chain (--intermediates) must lead to the trust anchor's CA, and that CA needs basicConstraints CA:TRUE; run `aws_signing_helper doctor` to check offline")
        } else if m.contains("signature")
            && (m.contains("expired") || m.contains("skew") || m.contains("date"))
        {
            Some("this machine's clock is off; synchronise it (e.g. with NTP)")
        } else if m.contains("signature") {
            Some("the request signature did not verify: check that --private-key belongs to --certificate")
        } else if self.code == "ResourceNotFoundException" {
            Some("check the trust anchor and profile ARNs, and that they are enabled, in this region")
        } else if self.code == "AccessDeniedException" && m.contains("role") {
            Some("the role's trust policy must allow rolesanywhere.amazonaws.com to call sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity, and the profile must list the role")
        } else if self.code == "ValidationException" && m.contains("duration") {
            Some("the profile's duration caps --session-duration; ask for less")
        } else {
            None
        }
    }

    /// The error shown to the user (`exhausted`: all `n` attempts failed on a retryable one).
    fn into_error(self, exhausted: Option<u32>) -> Error {
        CreateSessionError::Service {
            error: self,
            exhausted,
        }
        .into()
    }
}

crate::protocol::http::service_error_impls!(ServiceError);

/// Calls CreateSession through the one retry loop ([`http::send_with_retries`]): connection
/// errors, 5xx and throttling are retried with back-off, each attempt signed afresh.
pub fn create_session(
    client: &HttpClient,
    identity: &Identity,
    target: &Target,
    params: &SessionParams,
    policy: RetryPolicy,
) -> Result<Credentials> {
    let arns = params.check()?;
    let mut extra = Vec::new();
    if let (Ok(_), Ok(trace)) = (
        std::env::var("AWS_LAMBDA_FUNCTION_NAME"),
        std::env::var("_X_AMZN_TRACE_ID"),
    ) {
        extra.push(("X-Amzn-Trace-Id".to_string(), trace));
    }
    let build = |now, attempt, max| {
        let req = sign_request(identity, target, params, now, &extra)?;
        log_request(&req, attempt, max);
        Ok(Outgoing {
            url: req.url,
            headers: req.headers,
            body: Zeroizing::new(req.body),
        })
    };
    let parse_error = |resp: &HttpResponse| {
        log::debug!(
            "response: HTTP {} {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        ServiceError::from_response(resp)
    };
    match http::send_with_retries(client, policy, build, parse_error) {
        Ok(resp) => {
            log::debug!("response: HTTP {} {}", resp.status, redact_body(&resp.body));
            parse_response(&resp.body, Some(&arns.role.account))
        }
        Err(SendError::Build(e)) => Err(e),
        Err(SendError::Service { error, exhausted }) => Err(error.into_error(exhausted)),
        Err(SendError::Transport {
            error,
            url,
            exhausted,
        }) => Err(CreateSessionError::Transport {
            error,
            url,
            exhausted,
        }
        .into()),
    }
}

/// Everything one CreateSession needs (the shared AWS config adds the CA bundle, the endpoint
/// from `AWS_ENDPOINT_URL_ROLESANYWHERE` and friends, and `max_attempts`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The certificate, key and chain.
    pub key: KeySpec,
    /// The ARNs, duration and session name.
    pub session: SessionParams,
    /// The signing and endpoint region; empty: the trust anchor's.
    pub region: String,
    /// The base URL of the endpoint; empty: the region's public endpoint (or the config's).
    pub endpoint: String,
    /// Skip TLS certificate verification (warns).
    pub no_verify_ssl: bool,
    /// Upper bound on one attempt.
    pub timeout: Duration,
}

/// The outcome of [`fetch`].
pub struct Fetched {
    pub credentials: Credentials,
    /// The certificate's notAfter (cached credentials must not outlive it).
    pub certificate_not_after: Option<Timestamp>,
}

/// Loads the identity, checks it locally, and calls CreateSession.
pub fn fetch(config: &ClientConfig) -> Result<Fetched> {
    let arns = config.session.check()?;
    let identity = source::load(&config.key)?;
    let not_after = identity.certificate.as_ref().map(|c| c.not_after());
    let settings = aws_config::load()?;
    let target = endpoint::resolve(
        &config.region,
        &arns.trust_anchor.region,
        &config.endpoint,
        &settings,
    )?;
    let client = HttpClient::new(
        &target.origin,
        &HttpOptions {
            no_verify_ssl: config.no_verify_ssl,
            ca_bundle: settings.ca_bundle.clone(),
            timeout: config.timeout,
            user_agent: http::user_agent(),
        },
    )?;
    let policy = RetryPolicy {
        max_attempts: settings.max_attempts.unwrap_or(3),
        ..RetryPolicy::default()
    };
    create_session(&client, &identity, &target, &config.session, policy).map(|credentials| {
        Fetched {
            credentials,
            certificate_not_after: not_after,
        }
    })
}

fn log_request(req: &SignedRequest, attempt: u32, max: u32) {
    if !log::log_enabled!(log::Level::Debug) {
        return;
    }
    log::debug!("canonical request:\n{}", req.canonical_request);
    log::debug!("string to sign:\n{}", req.string_to_sign);
    let mut lines = format!("request (attempt {attempt} of {max}): POST {}", req.url);
    for (name, value) in &req.headers {
        let shown = if name.eq_ignore_ascii_case("authorization") {
            // The signature is a short-lived bearer proof; show everything but it.
            value.split("Signature=").next().unwrap_or("").to_string() + "Signature=** redacted **"
        } else {
            value.clone()
        };
        lines.push_str(&format!("\n  {name}: {shown}"));
    }
    lines.push_str(&format!("\n  body: {}", String::from_utf8_lossy(&req.body)));
    log::debug!("{lines}");
}

/// The response body with secrets replaced, for `--debug`.
pub fn redact_body(body: &[u8]) -> String {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return format!("<{} bytes, not JSON>", body.len());
    };
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    let lk = k.to_ascii_lowercase();
                    if lk.contains("secret") || lk.contains("token") {
                        *val = serde_json::Value::String("** redacted **".into());
                    } else {
                        walk(val);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn arns_of_the_wrong_kind_are_refused_and_a_swap_is_named() {
        let params = |ta: &str, p: &str, r: &str| SessionParams {
            trust_anchor_arn: ta.into(),
            profile_arn: p.into(),
            role_arn: r.into(),
            duration_seconds: 3600,
            role_session_name: None,
        };
        let ta = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/t";
        let profile = "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p";
        let role = "arn:aws:iam::111122223333:role/R";
        assert!(params(ta, profile, role).check().is_ok());
        let e = params(ta, role, profile).check().unwrap_err();
        assert!(
            e.message()
                .starts_with("--profile-arn holds an IAM role ARN"),
            "{e}"
        );
        assert!(
            e.hint_text()
                .unwrap()
                .contains("--profile-arn and --role-arn look swapped"),
            "{e}"
        );
        let e = params(profile, profile, role).check().unwrap_err();
        assert!(
            e.message()
                .contains("--trust-anchor-arn holds a Roles Anywhere profile ARN"),
            "{e}"
        );
        assert!(
            e.hint_text().unwrap().contains("belongs in --profile-arn"),
            "{e}"
        );
        // Shapes we do not know are left to the service.
        let odd = "arn:aws:rolesanywhere:us-east-1:111122223333:something/x";
        assert!(params(ta, odd, role).check().is_ok());
    }

    #[test]
    fn parses_success_and_rejects_incomplete() {
        let ok = r#"{"credentialSet":[{"credentials":{"accessKeyId":"A","secretAccessKey":"S","sessionToken":"T","expiration":"2024-01-01T00:00:00Z"}}]}"#;
        let c = parse_response(ok.as_bytes(), Some("1")).unwrap();
        assert_eq!(c.access_key_id, "A");
        assert_eq!(c.account_id.as_deref(), Some("1"));
        for bad in [
            r#"{}"#,
            r#"{"credentialSet":[]}"#,
            r#"{"credentialSet":[{}]}"#,
            r#"{"credentialSet":[{"credentials":{"accessKeyId":"A"}}]}"#,
            "nope",
        ] {
            let e = parse_response(bad.as_bytes(), None).unwrap_err();
            assert!(
                e.message()
                    .contains("unable to obtain temporary security credentials"),
                "{e}"
            );
        }
    }

    #[test]
    fn service_errors_read_like_the_sdk() {
        let r = resp(
            403,
            &[
                ("X-Amzn-ErrorType", "AccessDeniedException:http://x#y"),
                ("x-amzn-RequestId", "rid"),
            ],
            r#"{"message":"Untrusted certificate. Insufficient certificate"}"#,
        );
        let se = ServiceError::from_response(&r);
        assert_eq!(se.code, "AccessDeniedException");
        assert!(!se.retryable());
        let e = se.into_error(None);
        assert_eq!(e.message(), "operation error RolesAnywhere: CreateSession, https response error StatusCode: 403, RequestID: rid, AccessDeniedException: Untrusted certificate. Insufficient certificate");
        assert!(e.hint_text().unwrap().contains("clientAuth"));
        // The typed service error stays reachable behind the rendered one.
        let cause = std::error::Error::source(&e)
            .and_then(|c| c.downcast_ref::<CreateSessionError>())
            .and_then(std::error::Error::source)
            .and_then(|c| c.downcast_ref::<ServiceError>())
            .expect("the service error is the typed error's source");
        assert_eq!(cause.code, "AccessDeniedException");
        let t = ServiceError::from_response(&resp(
            400,
            &[],
            r#"{"__type":"com.amazon#ThrottlingException","Message":"slow"}"#,
        ));
        assert_eq!(t.code, "ThrottlingException");
        assert!(t.retryable());
        assert!(t.into_error(Some(3)).message().contains("exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: , api error ThrottlingException: slow"));
        let empty = ServiceError::from_response(&resp(503, &[], ""));
        assert_eq!(
            (
                empty.code.as_str(),
                empty.message.as_str(),
                empty.retryable()
            ),
            ("UnknownError", "UnknownError", true)
        );
    }

    /// Found by the `create_session_response` fuzzer: a JSON code that sanitizes to nothing
    /// (`"com.amazon#:x"`) gave an empty code and the message "api error : …".
    #[test]
    fn code_that_sanitizes_to_nothing_is_unknown() {
        for body in [
            r#"{"__type":"com.amazon#:iam::1","message":"m"}"#,
            r#"{"code":"  ","message":"m"}"#,
            r##"{"code":"#","message":"m"}"##,
        ] {
            let se = ServiceError::from_response(&resp(400, &[], body));
            assert_eq!(se.code, "UnknownError", "{body}");
        }
        let header = ServiceError::from_response(&resp(
            400,
            &[("X-Amzn-ErrorType", ":x")],
            r#"{"__type":"a#ValidationException"}"#,
        ));
        assert_eq!(header.code, "ValidationException");
    }

    #[test]
    fn params_are_checked_locally() {
        let good = SessionParams {
            role_arn: "arn:aws:iam::111122223333:role/R".into(),
            profile_arn: "arn:aws:rolesanywhere:us-east-1:111122223333:profile/P".into(),
            trust_anchor_arn: "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/T".into(),
            duration_seconds: 3600,
            role_session_name: None,
        };
        assert!(good.check().is_ok());
        assert_eq!(good.body(), br#"{"durationSeconds":3600}"#);
        let named = SessionParams {
            role_session_name: Some("n".into()),
            ..good.clone()
        };
        assert_eq!(
            named.body(),
            br#"{"durationSeconds":3600,"roleSessionName":"n"}"#
        );
        let region = SessionParams {
            profile_arn: "arn:aws:rolesanywhere:eu-west-1:1:profile/P".into(),
            ..good.clone()
        };
        assert!(region
            .check()
            .unwrap_err()
            .message()
            .starts_with("trust anchor and profile regions don't match"));
        let bad = SessionParams {
            trust_anchor_arn: "nope".into(),
            ..good.clone()
        };
        assert!(bad
            .check()
            .unwrap_err()
            .message()
            .starts_with("failed to parse trust anchor arn: 'arn: invalid prefix'"));
        let short = SessionParams {
            duration_seconds: 899,
            ..good.clone()
        };
        assert!(short
            .check()
            .unwrap_err()
            .message()
            .contains("out of range"));
        assert_eq!(good.query(), "profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A111122223333%3Aprofile%2FP&roleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FR&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A111122223333%3Atrust-anchor%2FT");
    }

    #[test]
    fn debug_body_is_redacted() {
        let s = redact_body(br#"{"credentialSet":[{"credentials":{"accessKeyId":"A","secretAccessKey":"SEKRIT","sessionToken":"TOK"}}]}"#);
        assert!(!s.contains("SEKRIT") && !s.contains("TOK") && s.contains("\"A\""));
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            assert!(p.delay(attempt) <= p.max_delay);
        }
        assert!(p.delay(1) <= Duration::from_secs(1));
    }
}

/// Golden vector: fixed clock and a fixed RSA key (tests/data) give fixed signature bytes. The
/// expected signature was computed independently with `openssl dgst -sha256 -sign`.
#[cfg(test)]
mod golden {
    use super::*;
    use crate::identity::file::{load, FileSource};
    use crate::protocol::endpoint;

    fn identity() -> Identity {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        load(&FileSource {
            certificate: Some(dir.join("golden-rsa.pem")),
            private_key: Some(dir.join("golden-rsa.key")),
            intermediates: None,
            password: None,
        })
        .unwrap()
    }

    #[test]
    fn rsa_request_matches_golden_vector() {
        let id = identity();
        let params = SessionParams {
            role_arn: "arn:aws:iam::111122223333:role/MyRole".into(),
            profile_arn: "arn:aws:rolesanywhere:us-east-1:111122223333:profile/PID".into(),
            trust_anchor_arn: "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/TAID"
                .into(),
            duration_seconds: 3600,
            role_session_name: None,
        };
        let target = endpoint::resolve("", "us-east-1", "", &Default::default()).unwrap();
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let req = sign_request(&id, &target, &params, now, &[]).unwrap();
        let cert_b64 = id.certificate.as_ref().unwrap().base64();
        assert_eq!(
            req.canonical_request,
            format!(
                "POST\n/sessions\nprofileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A111122223333%3Aprofile%2FPID&roleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FMyRole&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A111122223333%3Atrust-anchor%2FTAID\ncontent-type:application/json\nhost:rolesanywhere.us-east-1.amazonaws.com\nx-amz-date:20240101T000000Z\nx-amz-x509:{cert_b64}\n\ncontent-type;host;x-amz-date;x-amz-x509\n1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27"
            )
        );
        assert!(req.string_to_sign.starts_with("AWS4-X509-RSA-SHA256\n20240101T000000Z\n20240101/us-east-1/rolesanywhere/aws4_request\n"));
        let auth = &req
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .unwrap()
            .1;
        let prefix = "AWS4-X509-RSA-SHA256 Credential=123456789/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=";
        assert!(auth.starts_with(prefix), "{auth}");
        assert_eq!(&auth[prefix.len()..], GOLDEN_SIGNATURE);
        assert_eq!(
            req.url,
            format!(
                "https://rolesanywhere.us-east-1.amazonaws.com/sessions?{}",
                params.query()
            )
        );
    }

    const GOLDEN_SIGNATURE: &str = "27f90789db7d2be6f61197852ca8151b9d7bd5f8b87b2aa16522686f32eed9a83d3fe241b5c8554e471a0865a6bced4a1981f9d55fd3024f0418ddc3b193f97c90def835722a1f44f775848bac5e8a8b6fcb52adc32c8a22b58731ebcf6c397b1167c947a16d2181547f11ac3a6e6e97316cbc1b91e0f5d1162d0f2eb5bbd922e286905395b54f20004ceeb97696daf53057acee0494655075fcf96f8a9d47860a27a861d06b806dd0af58028b488354bb90935a4b51eb9121112ebae536ed110b9fd74c708cf2df758e57811d01eb47bd3f9e01b15e84a7b4effb9e9e1b9a81c86d8242fab442a830ea9f11822e9ae1893a35ddc1afedf2ceafa60b07cd58b9";
}
