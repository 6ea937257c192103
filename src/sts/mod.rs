//! AWS STS over its Query API: GetSessionToken, AssumeRole, GetCallerIdentity.
//!
//! Wire contract: `POST {endpoint path or /}` with `Content-Type:
//! application/x-www-form-urlencoded; charset=utf-8` and the form body
//! `Action=…&Version=2011-06-15&Param=…` (RFC 3986 percent-encoding, parameters sorted), signed
//! with classic SigV4 (`AWS4-HMAC-SHA256`, service `sts`) using the caller's access keys; a
//! session token goes in `X-Amz-Security-Token` (signed). Success is XML
//! `<{Action}Response><{Action}Result>…`; failure is
//! `<ErrorResponse><Error><Code>…</Code><Message>…</Message></Error><RequestId>…`.
//!
//! Endpoint: `--endpoint`, else `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the
//! `$AWS_PROFILE` profile's `services` → `sts` → `endpoint_url`, else its `endpoint_url` (none of
//! these four with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls`),
//! else `https://sts.{region}.amazonaws.com` when a region is set (`--region`, `AWS_REGION`,
//! `AWS_DEFAULT_REGION`, the profile's `region`), else the global `https://sts.amazonaws.com`
//! signed for us-east-1.
//!
//! Secrets (secret keys, session tokens, MFA codes) stay in `Zeroizing` buffers and never reach
//! logs or errors: `--debug` shows the canonical request with the body's hash only.

pub mod accounts;
pub mod aws_keys;

use std::ops::RangeInclusive;

use jiff::Timestamp;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::files::aws_config;
use crate::protocol::http::{
    self, split_url, HttpClient, HttpResponse, Outgoing, RetryPolicy, SendError, ServiceFailure,
};
use crate::protocol::sigv4;

/// The Query API version of STS.
pub const API_VERSION: &str = "2011-06-15";
/// What GetSessionToken accepts for `DurationSeconds` (IAM users).
pub const SESSION_TOKEN_DURATION: RangeInclusive<i64> = 900..=129_600;
/// What AssumeRole accepts for `DurationSeconds` (further capped by the role's maximum, and at
/// one hour when chaining from another role session).
pub const ASSUME_ROLE_DURATION: RangeInclusive<i64> = 900..=43_200;

/// The keys a request is signed with: long-term (`AKIA…`) or temporary (with a session token).
#[derive(Clone)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl From<&Credentials> for AccessKeys {
    fn from(c: &Credentials) -> Self {
        AccessKeys {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.clone(),
            session_token: Some(c.session_token.clone()).filter(|t| !t.is_empty()),
        }
    }
}

/// Where STS requests go and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://authority`.
    pub origin: String,
    /// The `Host` header (port only when not the scheme's default).
    pub host: String,
    /// The request path and canonical URI (`/` at least).
    pub path: String,
    /// The signing region.
    pub region: String,
}

impl Endpoint {
    /// The full URL of the endpoint.
    pub fn url(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Resolves the endpoint from the flags, the environment and the shared config (see the
/// module doc).
pub fn resolve_endpoint(
    region_flag: &str,
    endpoint_flag: &str,
    settings: &aws_config::Settings,
) -> Result<Endpoint> {
    let region = Some(region_flag.to_string())
        .filter(|r| !r.is_empty())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| settings.region.clone());
    if let Some(r) = &region {
        if !r
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Error::new(format!(
                "invalid region {r:?} (--region / AWS_REGION / region in ~/.aws/config)"
            ))
            .hint("a region looks like us-east-1"));
        }
    }
    // The SDKs' order: the flag, the environment (service, then global), then the shared
    // config (service, then global); the settings already drop ignored ones.
    let from_env = || {
        (!settings.ignore_endpoint_urls)
            .then(|| env("AWS_ENDPOINT_URL_STS").or_else(|| env("AWS_ENDPOINT_URL")))
            .flatten()
    };
    let custom = Some(endpoint_flag.to_string())
        .filter(|e| !e.is_empty())
        .or_else(from_env)
        .or_else(|| settings.sts_endpoint_url.clone())
        .or_else(|| settings.global_endpoint_url.clone());
    let (base, region) = match (custom, region) {
        (Some(url), region) => (url, region.unwrap_or_else(|| "us-east-1".to_string())),
        (None, Some(region)) => {
            let dns = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            (format!("https://sts.{region}.{dns}"), region)
        }
        (None, None) => ("https://sts.amazonaws.com".to_string(), "us-east-1".into()),
    };
    let bad = || {
        Error::new(format!(
            "invalid STS endpoint URL {base:?} (--endpoint / AWS_ENDPOINT_URL_STS)"
        ))
        .hint("use a URL such as https://sts.eu-west-1.amazonaws.com or http://127.0.0.1:5000")
    };
    let (scheme, authority, path) = split_url(&base).ok_or_else(bad)?;
    if scheme != "https" && scheme != "http" {
        return Err(bad());
    }
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let path = if path.is_empty() { "/" } else { path };
    Ok(Endpoint {
        origin: format!("{scheme}://{authority}"),
        host: authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_string(),
        path: path.to_string(),
        region,
    })
}

/// One STS call: the action and its parameters (values may be secret, e.g. `TokenCode`).
pub struct Call {
    pub action: &'static str,
    pub params: Vec<(String, Zeroizing<String>)>,
}

impl Call {
    /// A call of `action` with no parameters yet.
    pub fn new(action: &'static str) -> Call {
        Call {
            action,
            params: Vec::new(),
        }
    }

    /// Adds a parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Call {
        self.params
            .push((name.into(), Zeroizing::new(value.into())));
        self
    }

    /// Adds a parameter when there is a value.
    pub fn opt(self, name: &str, value: Option<&str>) -> Call {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    /// The form body, `Action` and `Version` included.
    pub fn body(&self) -> Zeroizing<String> {
        let mut all: Vec<(&str, &str)> = vec![("Action", self.action), ("Version", API_VERSION)];
        all.extend(self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Zeroizing::new(sigv4::canonical_query(&all))
    }
}

/// A signed request, ready to send, plus what `--debug` may show (no secrets).
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Zeroizing<String>,
    pub canonical_request: String,
    pub string_to_sign: String,
}

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Signs `call` for `endpoint` with `keys` at time `now`.
pub fn sign(keys: &AccessKeys, endpoint: &Endpoint, call: &Call, now: Timestamp) -> SignedRequest {
    let body = call.body();
    let date = sigv4::amz_date(now);
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), CONTENT_TYPE.into()),
        ("Host".into(), endpoint.host.clone()),
        ("X-Amz-Date".into(), date.clone()),
    ];
    if let Some(token) = &keys.session_token {
        headers.push(("X-Amz-Security-Token".into(), token.to_string()));
    }
    let canonical = sigv4::canonical_headers(&headers);
    let canonical_request = sigv4::canonical_request(
        "POST",
        &endpoint.path,
        "",
        &canonical,
        &sigv4::sha256_hex(body.as_bytes()),
    );
    let scope = sigv4::credential_scope(now, &endpoint.region, "sts");
    let string_to_sign =
        sigv4::string_to_sign("AWS4-HMAC-SHA256", &date, &scope, &canonical_request);
    let signature = sigv4::hmac_signature(
        &keys.secret_access_key,
        now,
        &endpoint.region,
        "sts",
        &string_to_sign,
    );
    headers.push((
        "Authorization".into(),
        sigv4::authorization(
            "AWS4-HMAC-SHA256",
            &keys.access_key_id,
            &scope,
            &canonical.signed,
            &signature,
        ),
    ));
    SignedRequest {
        url: endpoint.url(),
        headers,
        body,
        canonical_request,
        string_to_sign,
    }
}

/// Collects the text of the elements at the given `/`-separated local-name paths (from the
/// root), e.g. `AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId`. Entity and
/// character references are resolved; every collected value is zeroized on drop.
pub fn xml_values(body: &[u8], paths: &[&str]) -> Result<Vec<Option<Zeroizing<String>>>> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).map_err(|_| Error::new("the response is not UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut out: Vec<Option<Zeroizing<String>>> = vec![None; paths.len()];
    let mut current = Zeroizing::new(String::new());
    let bad =
        |e: &dyn std::fmt::Display| Error::new(format!("malformed XML in the response ({e})"));
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) => {
                stack.push(e.local_name().into_inner().to_string());
                current.clear();
            }
            Event::Empty(e) => {
                stack.push(e.local_name().into_inner().to_string());
                store(&stack, paths, &mut out, "");
                stack.pop();
            }
            Event::Text(t) => current.push_str(&t.xml10_content()),
            Event::CData(t) => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                    current.push(c);
                } else {
                    let name = r.xml10_content();
                    let value = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| bad(&format!("unknown entity &{name};")))?;
                    current.push_str(value);
                }
            }
            Event::End(_) => {
                store(&stack, paths, &mut out, &current);
                current.clear();
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.is_empty() {
        Ok(out)
    } else {
        Err(bad(&"unexpected end of document"))
    }
}

fn store(stack: &[String], paths: &[&str], out: &mut [Option<Zeroizing<String>>], text: &str) {
    for (i, p) in paths.iter().enumerate() {
        if out[i].is_none()
            && p.split('/').count() == stack.len()
            && p.split('/').zip(stack).all(|(a, b)| a == b)
        {
            out[i] = Some(Zeroizing::new(text.trim().to_string()));
        }
    }
}

/// An STS service error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub action: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: String,
}

impl ServiceError {
    /// Reads an `<ErrorResponse>` (or anything else) from a non-2xx response.
    pub fn from_response(action: &str, resp: &HttpResponse) -> ServiceError {
        let fields = xml_values(
            &resp.body,
            &[
                "ErrorResponse/Error/Code",
                "ErrorResponse/Error/Message",
                "ErrorResponse/RequestId",
            ],
        )
        .unwrap_or_else(|_| vec![None, None, None]);
        let get = |i: usize| fields.get(i).cloned().flatten().map(|s| s.to_string());
        let message = get(1).unwrap_or_else(|| {
            String::from_utf8_lossy(&resp.body)
                .chars()
                .take(200)
                .collect()
        });
        ServiceError {
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
        match self.code.as_str() {
            "InvalidClientTokenId" | "UnrecognizedClientException" => Some("the access key id is not known to AWS: check the long-term keys (env or --profile), or that the session has not been revoked"),
            "SignatureDoesNotMatch" if m.contains("expired") || m.contains("time") => Some("this machine's clock is off; synchronise it (e.g. with NTP)"),
            "SignatureDoesNotMatch" => Some("the secret access key does not belong to the access key id"),
            "ExpiredToken" => Some("the source session has expired: get fresh source credentials (and clear stale variables from the environment)"),
            "AccessDenied" if m.contains("multifactor") || m.contains("mfa") => Some("pass --serial-number with your MFA device and --token-code with a fresh code"),
            "AccessDenied" => Some("the role's trust policy must allow your identity to call sts:AssumeRole (with the external id and MFA it requires), and your policy must allow it too"),
            "ValidationError" if m.contains("duration") => Some("ask for a shorter --duration: the role's maximum session duration caps it, and role chaining caps it at 3600 seconds"),
            _ => None,
        }
    }

    /// The error shown to the user.
    pub fn into_error(self, exhausted: Option<u32>) -> Error {
        let exceeded = exhausted
            .map(|n| format!("exceeded maximum number of attempts, {n}, "))
            .unwrap_or_default();
        let hint = self.hint();
        let e = Error::new(format!(
            "operation error STS: {}, {exceeded}https response error StatusCode: {}, RequestID: {}, api error {}: {}",
            self.action, self.status, self.request_id, self.code, self.message
        ));
        match hint {
            Some(h) => e.hint(h),
            None => e,
        }
    }
}

impl ServiceFailure for ServiceError {
    fn code(&self) -> &str {
        &self.code
    }
    fn message(&self) -> &str {
        &self.message
    }
    fn retryable(&self) -> bool {
        ServiceError::retryable(self)
    }
}

/// Sends `call` through the one retry loop ([`http::send_with_retries`]: fresh signature per
/// attempt, clock-skew correction) and returns the 2xx body.
pub fn send(
    client: &HttpClient,
    keys: &AccessKeys,
    endpoint: &Endpoint,
    call: &Call,
    policy: RetryPolicy,
) -> Result<Zeroizing<Vec<u8>>> {
    let build = |now, attempt, max| {
        let req = sign(keys, endpoint, call, now);
        log::debug!(
            "STS {} attempt {attempt} of {max}: POST {}\ncanonical request (body hashed):\n{}\nstring to sign:\n{}",
            call.action,
            req.url,
            redact_token(&req.canonical_request),
            req.string_to_sign
        );
        Ok(Outgoing {
            url: req.url,
            headers: req.headers,
            body: Zeroizing::new(req.body.as_bytes().to_vec()),
        })
    };
    let parse_error = |resp: &HttpResponse| {
        let se = ServiceError::from_response(call.action, resp);
        log::debug!(
            "STS {}: HTTP {} {} {}",
            call.action,
            resp.status,
            se.code,
            se.message
        );
        se
    };
    match http::send_with_retries(client, policy, build, parse_error) {
        Ok(resp) => {
            log::debug!("STS {}: HTTP {}", call.action, resp.status);
            Ok(Zeroizing::new(resp.body))
        }
        Err(SendError::Build(e)) => Err(e),
        Err(SendError::Service { error, exhausted }) => Err(error.into_error(exhausted)),
        Err(SendError::Transport {
            error,
            url,
            exhausted,
        }) => {
            let exceeded = exhausted
                .map(|n| format!("exceeded maximum number of attempts, {n}, "))
                .unwrap_or_default();
            Err(Error::new(format!(
                "operation error STS: {}, {exceeded}request send failed, Post {url:?}: {}",
                call.action, error.message
            ))
            .hint(error.hint("--endpoint / AWS_ENDPOINT_URL_STS, --region")))
        }
    }
}

fn redact_token(canonical_request: &str) -> String {
    canonical_request
        .lines()
        .map(|l| {
            if l.starts_with("x-amz-security-token:") {
                "x-amz-security-token:** redacted **"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn credentials_from(
    body: &[u8],
    action: &str,
    account_id: Option<String>,
    extra: &[&str],
) -> Result<(Credentials, Vec<Option<String>>)> {
    let prefix = format!("{action}Response/{action}Result/");
    let mut paths: Vec<String> = [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    .iter()
    .map(|f| format!("{prefix}Credentials/{f}"))
    .collect();
    paths.extend(extra.iter().map(|p| format!("{prefix}{p}")));
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let values = xml_values(body, &refs).map_err(|e| e.context(format!("STS {action}")))?;
    let get = |i: usize| -> Result<Zeroizing<String>> {
        values[i].clone().filter(|v| !v.is_empty()).ok_or_else(|| {
            Error::new(format!(
                "STS {action} response lacks Credentials/{}",
                refs[i].rsplit('/').next().unwrap_or("")
            ))
        })
    };
    let expiration = get(3)?;
    let expiration_ok = expiration.parse::<Timestamp>().is_ok();
    if !expiration_ok {
        return Err(Error::new(format!(
            "STS {action} response has an unreadable Expiration {:?}",
            expiration.as_str()
        )));
    }
    let creds = Credentials {
        access_key_id: get(0)?.to_string(),
        secret_access_key: get(1)?,
        session_token: get(2)?,
        expiration: normalize_time(&expiration),
        account_id,
    };
    let extra_values = values[4..]
        .iter()
        .map(|v| v.as_ref().map(|s| s.to_string()))
        .collect();
    Ok((creds, extra_values))
}

/// RFC 3339 in UTC with whole seconds (`2024-01-01T00:00:00Z`), which every SDK parses.
fn normalize_time(s: &str) -> String {
    s.parse::<Timestamp>()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| s.to_string())
}

/// Parses a GetSessionToken response.
pub fn parse_session_token(body: &[u8], account_id: Option<String>) -> Result<Credentials> {
    credentials_from(body, "GetSessionToken", account_id, &[]).map(|(c, _)| c)
}

/// What AssumeRole returned.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    pub assumed_role_arn: Option<String>,
}

/// Parses an AssumeRole response; the account comes from the role ARN.
pub fn parse_assume_role(body: &[u8], account_id: Option<String>) -> Result<AssumedRole> {
    let (credentials, extra) =
        credentials_from(body, "AssumeRole", account_id, &["AssumedRoleUser/Arn"])?;
    Ok(AssumedRole {
        credentials,
        assumed_role_arn: extra.into_iter().next().flatten(),
    })
}

/// What GetCallerIdentity returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// Parses a GetCallerIdentity response.
pub fn parse_caller_identity(body: &[u8]) -> Result<CallerIdentity> {
    let p = "GetCallerIdentityResponse/GetCallerIdentityResult/";
    let v = xml_values(
        body,
        &[
            &format!("{p}Account"),
            &format!("{p}Arn"),
            &format!("{p}UserId"),
        ],
    )?;
    let get = |i: usize| v[i].as_ref().map(|s| s.to_string()).unwrap_or_default();
    if get(0).is_empty() && get(1).is_empty() {
        return Err(Error::new(
            "STS GetCallerIdentity response lacks Account and Arn",
        ));
    }
    Ok(CallerIdentity {
        account: get(0),
        arn: get(1),
        user_id: get(2),
    })
}

/// Checks a value against STS's `[\w+=,.@-]` (plus `extra`) character set and a length range.
pub fn check_text(flag: &str, value: &str, len: RangeInclusive<usize>, extra: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c);
    if !len.contains(&value.chars().count()) || !value.chars().all(ok_char) {
        return Err(Error::new(format!(
            "invalid {flag} {value:?}: it must be {} to {} characters of letters, digits and _+=,.@-{extra}",
            len.start(),
            len.end()
        )));
    }
    Ok(())
}

/// Checks an MFA device: a virtual device ARN (`arn:aws:iam::ACCOUNT:mfa/NAME`) or a hardware
/// serial number. Returns the account of an ARN.
pub fn check_serial_number(value: &str) -> Result<Option<String>> {
    check_text("--serial-number", value, 9..=256, ":/").map_err(|e| {
        e.hint("use your MFA device's ARN, like arn:aws:iam::123456789012:mfa/alice, or a hardware token's serial number")
    })?;
    if value.starts_with("arn:") {
        let arn: crate::protocol::arn::Arn = value.parse().map_err(|e: Error| {
            Error::new(format!(
                "invalid --serial-number {value:?}: {}",
                e.message()
            ))
            .hint("an MFA device ARN looks like arn:aws:iam::123456789012:mfa/alice")
        })?;
        if arn.service != "iam" || !arn.resource.starts_with("mfa/") || arn.account.is_empty() {
            return Err(Error::new(format!(
                "invalid --serial-number {value:?}: not an MFA device ARN"
            ))
            .hint("an MFA device ARN looks like arn:aws:iam::123456789012:mfa/alice"));
        }
        return Ok(Some(arn.account));
    }
    Ok(None)
}

/// Checks an MFA code: six digits.
pub fn check_token_code(code: &str) -> Result<()> {
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        // The code itself is not repeated: it is a (short-lived) secret.
        Err(Error::new("invalid --token-code: an MFA code is 6 digits")
            .hint("type the code your MFA device shows now"))
    }
}

/// Checks a role ARN (`arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`); returns it parsed.
pub fn check_role_arn(value: &str) -> Result<crate::protocol::arn::Arn> {
    let hint =
        "a role ARN looks like arn:aws:iam::123456789012:role/NAME (or use --account and --role)";
    if value.is_empty() {
        return Err(Error::new("--role-arn is empty").hint(hint));
    }
    let arn: crate::protocol::arn::Arn = value.parse().map_err(|e: Error| {
        Error::new(format!("invalid --role-arn {value:?}: {}", e.message())).hint(hint)
    })?;
    let account_ok = arn.account.len() == 12 && arn.account.chars().all(|c| c.is_ascii_digit());
    let name_ok = arn
        .resource
        .strip_prefix("role/")
        .is_some_and(|n| !n.is_empty() && !n.ends_with('/'));
    if arn.service != "iam" || !account_ok || !name_ok || value.len() > 2048 {
        return Err(
            Error::new(format!("invalid --role-arn {value:?}: not an IAM role ARN")).hint(hint),
        );
    }
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(token: Option<&str>) -> AccessKeys {
        AccessKeys {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: token.map(|t| Zeroizing::new(t.to_string())),
        }
    }

    fn ep(url: &str) -> Endpoint {
        resolve_endpoint("us-east-1", url, &aws_config::Settings::default()).unwrap()
    }

    fn resolve(region: &str, url: &str) -> Result<Endpoint> {
        resolve_endpoint(region, url, &aws_config::Settings::default())
    }

    #[test]
    fn endpoint_resolution() {
        let e = resolve("eu-west-1", "").unwrap();
        assert_eq!(e.url(), "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(e.host, "sts.eu-west-1.amazonaws.com");
        assert_eq!(e.region, "eu-west-1");
        let e = resolve("cn-north-1", "").unwrap();
        assert_eq!(e.origin, "https://sts.cn-north-1.amazonaws.com.cn");
        let e = resolve("", "http://127.0.0.1:5000").unwrap();
        assert_eq!(e.host, "127.0.0.1:5000");
        assert_eq!(e.path, "/");
        let e = resolve("us-west-2", "https://h:443/x").unwrap();
        assert_eq!((e.host.as_str(), e.path.as_str()), ("h", "/x"));
        assert!(resolve("", "ftp://h").is_err());
        assert!(resolve("Bad Region", "").is_err());
    }

    #[test]
    fn endpoint_from_shared_config() {
        // (Assumes the test environment sets no AWS_REGION / AWS_ENDPOINT_URL*.)
        let mut settings = aws_config::Settings {
            region: Some("eu-central-1".into()),
            ..Default::default()
        };
        let e = resolve_endpoint("", "", &settings).unwrap();
        assert_eq!(e.url(), "https://sts.eu-central-1.amazonaws.com/");
        assert_eq!(
            resolve_endpoint("us-west-1", "", &settings).unwrap().region,
            "us-west-1"
        );
        settings.global_endpoint_url = Some("http://127.0.0.1:1".into());
        assert_eq!(
            resolve_endpoint("", "", &settings).unwrap().host,
            "127.0.0.1:1"
        );
        settings.sts_endpoint_url = Some("http://127.0.0.1:2".into());
        let e = resolve_endpoint("", "", &settings).unwrap();
        assert_eq!(
            (e.host.as_str(), e.region.as_str()),
            ("127.0.0.1:2", "eu-central-1")
        );
        assert_eq!(
            resolve_endpoint("", "http://127.0.0.1:3", &settings)
                .unwrap()
                .host,
            "127.0.0.1:3"
        );
        settings.region = Some("EU".into());
        assert!(resolve_endpoint("", "", &settings)
            .unwrap_err()
            .message()
            .contains("region in ~/.aws/config"));
    }

    #[test]
    fn body_is_sorted_and_encoded() {
        let c = Call::new("AssumeRole")
            .param("RoleArn", "arn:aws:iam::123456789012:role/a b")
            .param("RoleSessionName", "s");
        assert_eq!(
            c.body().as_str(),
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fa%20b&RoleSessionName=s&Version=2011-06-15"
        );
    }

    /// Cross-check against the AWS SDK's own signer (aws-sigv4) on the same request.
    #[test]
    fn signature_matches_aws_sigv4_crate() {
        use aws_sigv4::http_request::{
            sign as aws_sign, SignableBody, SignableRequest, SigningSettings,
        };
        for token in [None, Some("FQoGZXIvYXdzEBYaD+token/with=chars")] {
            for url in ["https://sts.amazonaws.com", "http://127.0.0.1:5000/prefix"] {
                let k = keys(token);
                let endpoint = ep(url);
                let now: Timestamp = "2024-05-06T07:08:09Z".parse().unwrap();
                let call = Call::new("GetSessionToken")
                    .param("DurationSeconds", "900")
                    .param("SerialNumber", "arn:aws:iam::123456789012:mfa/alice")
                    .param("TokenCode", "123456");
                let ours = sign(&k, &endpoint, &call, now);
                let creds = aws_credential_types::Credentials::new(
                    k.access_key_id.clone(),
                    k.secret_access_key.to_string(),
                    token.map(str::to_string),
                    None,
                    "test",
                );
                let identity = creds.into();
                let params = aws_sigv4::sign::v4::SigningParams::builder()
                    .identity(&identity)
                    .region("us-east-1")
                    .name("sts")
                    .time(
                        std::time::SystemTime::UNIX_EPOCH
                            + std::time::Duration::from_secs(now.as_second().unsigned_abs()),
                    )
                    .settings(SigningSettings::default())
                    .build()
                    .unwrap()
                    .into();
                let unsigned: Vec<(&str, &str)> = ours
                    .headers
                    .iter()
                    .filter(|(n, _)| {
                        !matches!(
                            n.as_str(),
                            "Authorization" | "X-Amz-Security-Token" | "X-Amz-Date"
                        )
                    })
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let req = SignableRequest::new(
                    "POST",
                    ours.url.clone(),
                    unsigned.into_iter(),
                    SignableBody::Bytes(ours.body.as_bytes()),
                )
                .unwrap();
                let (instructions, _) = aws_sign(req, &params).unwrap().into_parts();
                let theirs: Vec<(String, String)> = instructions
                    .headers()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                let auth = |h: &[(String, String)]| {
                    h.iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                        .map(|(_, v)| v.clone())
                        .unwrap()
                };
                assert_eq!(
                    auth(&ours.headers),
                    auth(&theirs),
                    "token {token:?} url {url}"
                );
            }
        }
    }

    const ASSUME: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>dev</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s&amp;1</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLE&#43;x</SessionToken>
      <Expiration>2019-11-09T13:34:41.123456Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn parses_assume_role() {
        let r = parse_assume_role(ASSUME.as_bytes(), Some("123456789012".into())).unwrap();
        assert_eq!(r.credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            r.credentials.session_token.as_str(),
            "AQoDYXdzEPT//////////wEXAMPLE+x"
        );
        assert_eq!(r.credentials.expiration, "2019-11-09T13:34:41Z");
        assert_eq!(
            r.assumed_role_arn.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/demo/s&1")
        );
        assert!(parse_session_token(ASSUME.as_bytes(), None).is_err());
        assert!(parse_assume_role(b"<AssumeRoleResponse><AssumeRoleResult>", None).is_err());
        assert!(parse_assume_role(b"not xml at all", None).is_err());
        assert!(parse_assume_role(b"\xff\xfe", None).is_err());
    }

    #[test]
    fn parses_errors() {
        let resp = HttpResponse {
            status: 403,
            headers: vec![],
            body: br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized &lt;x&gt;</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"#.to_vec(),
        };
        let e = ServiceError::from_response("AssumeRole", &resp);
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
        let e = ServiceError::from_response("GetSessionToken", &garbage);
        assert_eq!(e.code, "UnknownError");
        assert!(e.retryable());
    }

    #[test]
    fn parses_caller_identity() {
        let body = br#"<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>AKIA</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/a</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>"#;
        let id = parse_caller_identity(body).unwrap();
        assert_eq!(id.account, "123456789012");
        assert_eq!(id.arn, "arn:aws:iam::123456789012:user/a");
    }

    #[test]
    fn validates_inputs() {
        assert!(check_role_arn("arn:aws:iam::123456789012:role/x").is_ok());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/path/x").is_ok());
        for bad in [
            "",
            "bad",
            "arn:aws:iam::1:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/x",
        ] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_serial_number("arn:aws:iam::123456789012:mfa/alice").unwrap(),
            Some("123456789012".into())
        );
        assert_eq!(check_serial_number("GAHT12345678").unwrap(), None);
        assert!(check_serial_number("arn:aws:iam::123456789012:user/alice").is_err());
        assert!(check_serial_number("short").is_err());
        assert!(check_token_code("123456").is_ok());
        let e = check_token_code("12345x").unwrap_err().to_string();
        assert!(!e.contains("12345x"));
        assert!(check_text("--role-session-name", "a b", 2..=64, "").is_err());
    }
}
