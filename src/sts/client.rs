//! Signing and sending one STS Query API call (see the module doc of [`crate::sts`]).

use jiff::Timestamp;
use zeroize::Zeroizing;

use super::endpoint::Endpoint;
use super::error::{QueryError, ServiceError};
use crate::credentials::Credentials;
use crate::error::Result;
use crate::protocol::http::{self, HttpClient, HttpResponse, Outgoing, RetryPolicy, SendError};
use crate::protocol::sigv4;

/// The Query API version of STS.
pub const API_VERSION: &str = "2011-06-15";

/// An AWS service spoken to over the Query API (form-encoded POST, XML answers): STS, IAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryService {
    /// The SigV4 signing name (`sts`, `iam`).
    pub signing_name: &'static str,
    /// The name in error messages (`STS`, `IAM`), as the Go SDK prints it.
    pub label: &'static str,
    /// The `Version` parameter.
    pub version: &'static str,
    /// Where the user sets its endpoint, for hints.
    pub endpoint_settings: &'static str,
}

/// AWS STS.
pub const STS: QueryService = QueryService {
    signing_name: "sts",
    label: "STS",
    version: API_VERSION,
    endpoint_settings: "--endpoint / AWS_ENDPOINT_URL_STS, --region",
};

/// The keys a request is signed with: long-term (`AKIA…`) or temporary (with a session token).
#[derive(Clone)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<Zeroizing<String>>,
}

impl AccessKeys {
    /// What identifies these keys in a cache key: the id and a digest of the secret, so that
    /// the id with a wrong or rotated secret never finds credentials cached for the right one.
    /// (A SHA-256 prefix of a 40-character random secret reveals nothing usable.)
    pub fn cache_identity(&self) -> String {
        let digest = crate::protocol::sigv4::sha256_hex(self.secret_access_key.as_bytes());
        format!("{}:{}", self.access_key_id, &digest[..16])
    }
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

/// One Query API call: the service, the action and its parameters (values may be secret,
/// e.g. `TokenCode`).
#[derive(Clone)]
pub struct Call {
    pub service: QueryService,
    pub action: &'static str,
    pub params: Vec<(String, Zeroizing<String>)>,
}

impl Call {
    /// An STS call of `action` with no parameters yet.
    pub fn new(action: &'static str) -> Call {
        Call::to(STS, action)
    }

    /// A call of `action` of `service` with no parameters yet.
    pub fn to(service: QueryService, action: &'static str) -> Call {
        Call {
            service,
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
        let mut all: Vec<(&str, &str)> =
            vec![("Action", self.action), ("Version", self.service.version)];
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
    let signed = sign_hmac(
        keys,
        &HmacRequest {
            method: "POST",
            canonical_uri: &endpoint.path,
            query: "",
            headers: vec![
                ("Content-Type".into(), CONTENT_TYPE.into()),
                ("Host".into(), endpoint.host.clone()),
            ],
            body: body.as_bytes(),
            region: &endpoint.region,
            service: call.service.signing_name,
        },
        now,
    );
    SignedRequest {
        url: endpoint.url(),
        headers: signed.headers,
        body,
        canonical_request: signed.canonical_request,
        string_to_sign: signed.string_to_sign,
    }
}

/// One request to sign with classic SigV4 (`AWS4-HMAC-SHA256`): the Query API calls above
/// and `setup`'s REST-JSON control-plane calls.
pub(crate) struct HmacRequest<'a> {
    pub method: &'a str,
    /// Already in canonical form (encoded as the service expects).
    pub canonical_uri: &'a str,
    /// The canonical query string (may be empty).
    pub query: &'a str,
    /// The headers to sign besides `X-Amz-Date` and the session token, which are added.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
}

/// A signed request's headers (with `X-Amz-Date`, the token and `Authorization`) and what
/// `--debug` may show.
pub(crate) struct HmacSigned {
    pub headers: Vec<(String, String)>,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// Signs `req` with `keys` at `now`: the one HMAC SigV4 signer.
pub(crate) fn sign_hmac(keys: &AccessKeys, req: &HmacRequest<'_>, now: Timestamp) -> HmacSigned {
    let date = sigv4::amz_date(now);
    let mut headers = req.headers.clone();
    headers.push(("X-Amz-Date".into(), date.clone()));
    if let Some(token) = &keys.session_token {
        headers.push(("X-Amz-Security-Token".into(), token.to_string()));
    }
    let canonical = sigv4::canonical_headers(&headers);
    let canonical_request = sigv4::canonical_request(
        req.method,
        req.canonical_uri,
        req.query,
        &canonical,
        &sigv4::sha256_hex(req.body),
    );
    let scope = sigv4::credential_scope(now, req.region, req.service);
    let string_to_sign =
        sigv4::string_to_sign("AWS4-HMAC-SHA256", &date, &scope, &canonical_request);
    let signature = sigv4::hmac_signature(
        &keys.secret_access_key,
        now,
        req.region,
        req.service,
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
    HmacSigned {
        headers,
        canonical_request,
        string_to_sign,
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
            "{} {} attempt {attempt} of {max}: POST {}\ncanonical request (body hashed):\n{}\nstring to sign:\n{}",
            call.service.label,
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
        let se = ServiceError::from_response(call.service, call.action, resp);
        log::debug!(
            "{} {}: HTTP {} {} {}",
            call.service.label,
            call.action,
            resp.status,
            se.code,
            se.message
        );
        se
    };
    match http::send_with_retries(client, policy, build, parse_error) {
        Ok(resp) => {
            log::debug!(
                "{} {}: HTTP {}",
                call.service.label,
                call.action,
                resp.status
            );
            Ok(Zeroizing::new(resp.body))
        }
        Err(SendError::Build(e)) => Err(e),
        Err(SendError::Service { error, exhausted }) => Err(error.into_error(exhausted)),
        Err(SendError::Transport {
            error,
            url,
            exhausted,
        }) => Err(QueryError::Transport {
            service: call.service.label,
            action: call.action,
            url,
            settings: call.service.endpoint_settings,
            error,
            exhausted,
        }
        .into()),
    }
}

/// The canonical request with the session token's value hidden (for `--debug`).
pub(crate) fn redact_token(canonical_request: &str) -> String {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::super::endpoint::resolve_endpoint;
    use super::*;
    use crate::files::aws_config;
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

    /// The `Authorization` header the AWS SDK's own signer (aws-sigv4) computes for a request
    /// we signed (its `Authorization`, token and date headers left out): the reference the
    /// HMAC signer is cross-checked against, for the Query API calls and `setup`'s REST calls.
    pub(crate) fn reference_authorization(
        keys: &AccessKeys,
        (region, service): (&str, &str),
        (method, url): (&str, &str),
        headers: &[(String, String)],
        body: &[u8],
        now: Timestamp,
    ) -> String {
        use aws_sigv4::http_request::{
            sign as aws_sign, SignableBody, SignableRequest, SigningSettings,
        };
        let creds = aws_credential_types::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.to_string(),
            keys.session_token.as_ref().map(|t| t.to_string()),
            None,
            "test",
        );
        let identity = creds.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(
                std::time::SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_secs(now.as_second().unsigned_abs()),
            )
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let unsigned = headers
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "Authorization" | "X-Amz-Security-Token" | "X-Amz-Date"
                )
            })
            .map(|(n, v)| (n.as_str(), v.as_str()));
        let req = SignableRequest::new(method, url, unsigned, SignableBody::Bytes(body)).unwrap();
        let (instructions, _) = aws_sign(req, &params).unwrap().into_parts();
        let auth = instructions
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.to_string())
            .unwrap();
        auth
    }

    /// Cross-check against the AWS SDK's own signer (aws-sigv4) on the same request.
    #[test]
    fn signature_matches_aws_sigv4_crate() {
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
                let theirs = reference_authorization(
                    &k,
                    ("us-east-1", "sts"),
                    ("POST", &ours.url),
                    &ours.headers,
                    ours.body.as_bytes(),
                    now,
                );
                let mine = ours
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.clone())
                    .unwrap();
                assert_eq!(mine, theirs, "token {token:?} url {url}");
            }
        }
    }
}
