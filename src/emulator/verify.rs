//! Pure verification of one CreateSession request: no I/O, no clock, no randomness.
//!
//! The checks run in the order the service runs them, and each failure is a
//! distinct [`ServiceError`] carrying the HTTP status, the AWS error code and the message.

use std::time::Duration;

use base64::Engine;
use jiff::Timestamp;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::control::State;
use super::Config;
use crate::identity::{Certificate, Curve, KeyType, MlDsaLevel};
use crate::protocol::sigv4;

/// The service's text for every chain-building failure.
pub const UNTRUSTED_CERTIFICATE: &str = "Untrusted certificate. Insufficient certificate";

/// The answer to a certificate on an enabled CRL of its trust anchor.
pub const REVOKED_CERTIFICATE: &str = "Certificate is revoked";

/// An error answer of the service: status, `X-Amzn-ErrorType` code and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ServiceError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }

    fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDeniedException", message)
    }

    /// The JSON body `{"message":"..."}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "message": self.message }).to_string()
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

/// A parsed ARN of one of the three kinds the request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// `trust-anchor/ID`, `profile/ID` or `role/PATH/NAME`.
    pub resource: String,
}

/// What a verified request grants; the server turns it into credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionGrant {
    pub role_arn: String,
    pub partition: String,
    /// The role's account.
    pub role_account: String,
    /// The role's name (without path).
    pub role_name: String,
    /// The trust anchor's region and account (for `subjectArn`).
    pub region: String,
    pub account: String,
    pub session_name: String,
    pub duration_seconds: u32,
    /// `CN=...` of the leaf subject (the full subject when it has no CN).
    pub source_identity: String,
    /// The leaf serial in decimal (for logs).
    pub serial: String,
    /// Leaf subject and issuer, for a stable subject id.
    pub subject: String,
    pub issuer: String,
    pub expiration: Timestamp,
}

const ALGORITHMS: [&str; 3] = [
    "AWS4-X509-RSA-SHA256",
    "AWS4-X509-ECDSA-SHA256",
    "AWS4-X509-MLDSA",
];

/// Verifies one request. `query` is the raw query string (without `?`), `headers` the received
/// (name, value) pairs in order, `now` the server's clock.
pub fn verify_request(
    config: &Config,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    now: Timestamp,
) -> Result<SessionGrant, ServiceError> {
    verify_session(config, None, method, path, query, headers, body, now)
}

/// [`verify_request`], checked also against the control plane's `state` when a trust anchor
/// was created through it: the anchor and profile must exist and be enabled, the profile must
/// list the role, bound `durationSeconds` and allow `roleSessionName`, and the certificate
/// must chain to that anchor's bundle and not be on its enabled CRLs.
#[allow(clippy::too_many_arguments)] // the request's parts, as in verify_request, plus state
pub fn verify_session(
    config: &Config,
    state: Option<&State>,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    now: Timestamp,
) -> Result<SessionGrant, ServiceError> {
    // 1. Operation.
    if method != "POST" || path != "/sessions" {
        return Err(ServiceError::new(
            404,
            "UnknownOperationException",
            format!("Unknown operation {method} {path}"),
        ));
    }

    // 2. Query parameters.
    let params = parse_query(query)?;
    // The ARNs may come in the query string (the official helper) or in the JSON body
    // (iam-rolesanywhere-session, needroleshere); the service accepts both. The query wins.
    let body_fields = body_arns(body);
    let param = |name: &str| -> Result<&str, ServiceError> {
        let mut values = params.iter().filter(|(k, _)| k == name);
        match (values.next(), values.next()) {
            (Some((_, v)), None) => Ok(v.as_str()),
            (Some(_), Some(_)) => Err(ServiceError::validation(format!(
                "Query parameter '{name}' given more than once"
            ))),
            (None, _) => body_fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| {
                    ServiceError::validation(format!(
                        "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
                    ))
                }),
        }
    };
    let profile_arn = param("profileArn")?;
    let role_arn = param("roleArn")?;
    let trust_anchor_arn = param("trustAnchorArn")?;

    // 3. ARN syntax.
    let trust_anchor = parse_rolesanywhere_arn(trust_anchor_arn, "trust-anchor", "trustAnchorArn")?;
    let profile = parse_rolesanywhere_arn(profile_arn, "profile", "profileArn")?;
    let role = parse_role_arn(role_arn)?;

    // 4. Same region for trust anchor and profile.
    if trust_anchor.region != profile.region {
        return Err(ServiceError::validation(format!(
            "Profile region {} does not match trust anchor region {}",
            profile.region, trust_anchor.region
        )));
    }
    let region = trust_anchor.region.as_str();

    // 4b. The control plane's resources, when it created any trust anchor.
    let policy = match state {
        Some(state) if state.governs_sessions() => {
            Some(state.session_policy(trust_anchor_arn, profile_arn, role_arn)?)
        }
        _ => None,
    };

    // 5. Authorization header.
    let auth_value = single_header(headers, "authorization")?
        .ok_or_else(|| ServiceError::access_denied("Missing Authorization header"))?;
    let auth = sigv4::parse_authorization(&auth_value)
        .ok_or_else(|| ServiceError::access_denied("Malformed Authorization header"))?;
    if !ALGORITHMS.contains(&auth.algorithm.as_str()) {
        return Err(ServiceError::access_denied(format!(
            "Unsupported signing algorithm {}",
            truncate(&auth.algorithm)
        )));
    }

    // 6. Credential scope.
    let amz_date_text = single_header(headers, "x-amz-date")?
        .ok_or_else(|| ServiceError::access_denied("Missing X-Amz-Date header"))?;
    let amz_date = parse_amz_date(&amz_date_text).ok_or_else(|| {
        ServiceError::access_denied(format!(
            "Invalid X-Amz-Date {}: expected YYYYMMDDTHHMMSSZ",
            truncate(&amz_date_text)
        ))
    })?;
    let scope_parts: Vec<&str> = auth.scope.split('/').collect();
    let [scope_date, scope_region, scope_service, terminator] = scope_parts.as_slice() else {
        return Err(ServiceError::access_denied(
            "Credential should be scoped to a valid region, service and date",
        ));
    };
    if *terminator != "aws4_request" {
        return Err(ServiceError::access_denied(
            "Credential should be scoped with a valid terminator: 'aws4_request'",
        ));
    }
    if *scope_region != region {
        return Err(ServiceError::access_denied(format!(
            "Credential should be scoped to a valid region, not '{}'",
            truncate(scope_region)
        )));
    }
    if *scope_service != "rolesanywhere" {
        return Err(ServiceError::access_denied(
            "Credential should be scoped to correct service: 'rolesanywhere'",
        ));
    }
    let date_stamp = sigv4::date_stamp(amz_date);
    if *scope_date != date_stamp {
        return Err(ServiceError::access_denied(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{date_stamp}'",
            truncate(scope_date)
        )));
    }

    // 7. Clock skew.
    check_skew(amz_date, &amz_date_text, now, config.clock_skew)?;

    // 8. Signed headers.
    let chain_value = single_header(headers, "x-amz-x509-chain")?;
    let mut required = vec!["host", "x-amz-date", "x-amz-x509"];
    if chain_value.is_some() {
        required.push("x-amz-x509-chain");
    }
    for name in required {
        if !auth.signed_headers.iter().any(|h| h == name) {
            return Err(ServiceError::access_denied(format!(
                "Header '{name}' must be signed"
            )));
        }
    }
    let mut signed_pairs: Vec<(String, String)> = Vec::new();
    for name in &auth.signed_headers {
        if name.is_empty() || *name != name.to_ascii_lowercase() || name == "authorization" {
            return Err(ServiceError::access_denied(format!(
                "Invalid signed header name '{}'",
                truncate(name)
            )));
        }
        let before = signed_pairs.len();
        signed_pairs.extend(
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(n, v)| (n.clone(), v.clone())),
        );
        if signed_pairs.len() == before {
            return Err(ServiceError::access_denied(format!(
                "Signed header '{}' is not present in the request",
                truncate(name)
            )));
        }
    }

    // 9. Leaf certificate.
    let leaf_b64 = single_header(headers, "x-amz-x509")?
        .ok_or_else(|| ServiceError::access_denied("Missing X-Amz-X509 header"))?;
    let leaf = decode_cert(&leaf_b64)
        .ok_or_else(|| ServiceError::access_denied("Invalid certificate in X-Amz-X509"))?;

    // 10. Serial number.
    if auth.credential_id != leaf.serial_decimal() {
        return Err(ServiceError::access_denied(
            "Credential serial number does not match the X-Amz-X509 certificate",
        ));
    }

    // 11. Signature.
    let canonical_headers = sigv4::canonical_headers(&signed_pairs);
    let canonical_query = sigv4::canonical_query(&params);
    let canonical_request = sigv4::canonical_request(
        "POST",
        "/sessions",
        &canonical_query,
        &canonical_headers,
        &sigv4::sha256_hex(body),
    );
    let scope = auth.scope.as_str();
    let string_to_sign =
        sigv4::string_to_sign(&auth.algorithm, &amz_date_text, scope, &canonical_request);
    verify_signature(
        &leaf,
        &auth.algorithm,
        string_to_sign.as_bytes(),
        &auth.signature,
    )?;

    // 12. Chain to a configured trust anchor.
    let mut chain = Vec::new();
    if let Some(value) = &chain_value {
        for part in value.split(',') {
            let cert = decode_cert(part.trim()).ok_or_else(|| {
                ServiceError::access_denied("Invalid certificate in X-Amz-X509-Chain")
            })?;
            chain.push(cert);
        }
    }
    let anchors = policy
        .as_ref()
        .map_or(&config.trust_anchors, |p| &p.anchors);
    check_chain(anchors, &leaf, &chain, now)
        .map_err(|_| ServiceError::access_denied(UNTRUSTED_CERTIFICATE))?;
    if let Some(policy) = &policy {
        // A CRL entry names a certificate by its issuer and serial.
        use der::Encode;
        let issuer = leaf
            .parsed()
            .tbs_certificate()
            .issuer()
            .to_der()
            .unwrap_or_default();
        if policy
            .revoked
            .iter()
            .any(|(i, s)| *i == issuer && s == leaf.serial_bytes())
        {
            return Err(ServiceError::access_denied(REVOKED_CERTIFICATE));
        }
    }

    // 13. Body.
    let (duration_seconds, role_session_name) = parse_body(body)?;
    let max_duration = policy
        .as_ref()
        .map_or(config.max_duration_seconds, |p| p.max_duration_seconds);
    // Absent, it is an hour, or the profile's duration when that is shorter.
    let duration_seconds = duration_seconds.unwrap_or(match &policy {
        Some(p) => u64::from(p.max_duration_seconds.min(3600)),
        None => 3600,
    });
    if !(900..=u64::from(max_duration)).contains(&duration_seconds) {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{duration_seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and {max_duration}"
        )));
    }
    if role_session_name.is_some() && policy.as_ref().is_some_and(|p| !p.accept_role_session_name) {
        return Err(ServiceError::access_denied(
            "The profile does not accept a roleSessionName (acceptRoleSessionName is false)",
        ));
    }
    let duration_seconds = u32::try_from(duration_seconds)
        .map_err(|_| ServiceError::validation("durationSeconds out of range"))?;
    let session_name = match role_session_name {
        Some(name) => {
            if !valid_session_name(&name) {
                return Err(ServiceError::validation(
                    "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 1 and 64 and match [\\w+=,.@-]*",
                ));
            }
            name
        }
        None => leaf.serial_hex_upper().to_ascii_lowercase(),
    };

    let lifetime = match config.credential_lifetime {
        Some(l) => jiff::SignedDuration::try_from(l).unwrap_or(jiff::SignedDuration::MAX),
        None => jiff::SignedDuration::from_secs(i64::from(duration_seconds)),
    };
    let expiration = now
        .checked_add(lifetime)
        .map_err(|_| ServiceError::validation("durationSeconds out of range"))?;
    let role_name = role
        .resource
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(SessionGrant {
        role_arn: role_arn.to_string(),
        partition: trust_anchor.partition.clone(),
        role_account: role.account.clone(),
        role_name,
        region: region.to_string(),
        account: trust_anchor.account.clone(),
        session_name,
        duration_seconds,
        source_identity: source_identity(&leaf),
        serial: leaf.serial_decimal(),
        subject: leaf.subject(),
        issuer: leaf.issuer(),
        expiration,
    })
}

/// Shortens client-supplied text before it goes into a message.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The value of a header that must appear at most once (case-insensitive name).
fn single_header(headers: &[(String, String)], name: &str) -> Result<Option<String>, ServiceError> {
    let mut values = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some((_, v)), None) => Ok(Some(v.clone())),
        (Some(_), Some(_)) => Err(ServiceError::access_denied(format!(
            "Header '{name}' given more than once"
        ))),
    }
}

/// Parses a form-encoded query string (`+` is a space, `%XX` a byte).
fn parse_query(query: &str) -> Result<Vec<(String, String)>, ServiceError> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = form_decode(k)
            .ok_or_else(|| ServiceError::validation("Malformed query string encoding"))?;
        let v = form_decode(v)
            .ok_or_else(|| ServiceError::validation("Malformed query string encoding"))?;
        out.push((k, v));
    }
    Ok(out)
}

fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn valid_partition(p: &str) -> bool {
    p == "aws"
        || p.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
}

fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !r.starts_with('-')
        && !r.ends_with('-')
}

fn valid_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

fn invalid_arn(field: &str, value: &str) -> ServiceError {
    ServiceError::validation(format!(
        "1 validation error detected: Value '{}' at '{field}' failed to satisfy constraint: Member must be a valid ARN",
        truncate(value)
    ))
}

fn split_arn<'a>(arn: &'a str, service: &str) -> Option<[&'a str; 5]> {
    if arn.len() > 1011 {
        return None;
    }
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, svc, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (prefix == "arn" && svc == service && valid_partition(partition))
        .then_some([partition, svc, region, account, resource])
}

/// `arn:PARTITION:rolesanywhere:REGION:ACCOUNT:KIND/ID`.
pub fn parse_rolesanywhere_arn(arn: &str, kind: &str, field: &str) -> Result<Arn, ServiceError> {
    let invalid = || invalid_arn(field, arn);
    let [partition, _, region, account, resource] =
        split_arn(arn, "rolesanywhere").ok_or_else(invalid)?;
    let id = resource
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(invalid)?;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid_region(region) || !valid_account(account) || !id_ok {
        return Err(invalid());
    }
    Ok(Arn {
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        resource: resource.to_string(),
    })
}

/// `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub fn parse_role_arn(arn: &str) -> Result<Arn, ServiceError> {
    let invalid = || invalid_arn("roleArn", arn);
    let [partition, _, region, account, resource] = split_arn(arn, "iam").ok_or_else(invalid)?;
    if !region.is_empty() || !valid_account(account) {
        return Err(invalid());
    }
    let rest = resource.strip_prefix("role/").ok_or_else(invalid)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (name, path) = segments.split_last().ok_or_else(invalid)?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    let path_ok = rest.len() <= 512
        && path
            .iter()
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if !name_ok || !path_ok {
        return Err(invalid());
    }
    Ok(Arn {
        partition: partition.to_string(),
        region: String::new(),
        account: account.to_string(),
        resource: resource.to_string(),
    })
}

fn parse_amz_date(s: &str) -> Option<Timestamp> {
    if s.len() != 16 {
        return None;
    }
    let dt = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", s).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn check_skew(
    signed: Timestamp,
    signed_text: &str,
    now: Timestamp,
    skew: Duration,
) -> Result<(), ServiceError> {
    let skew_secs = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
    let diff = now.as_second().saturating_sub(signed.as_second());
    let minutes = skew_secs / 60;
    let now_text = sigv4::amz_date(now);
    if diff > skew_secs {
        let earliest = Timestamp::from_second(now.as_second().saturating_sub(skew_secs))
            .map(sigv4::amz_date)
            .unwrap_or_default();
        return Err(ServiceError::access_denied(format!(
            "Signature expired: {signed_text} is now earlier than {earliest} ({now_text} - {minutes} min.)"
        )));
    }
    if -diff > skew_secs {
        let latest = Timestamp::from_second(now.as_second().saturating_add(skew_secs))
            .map(sigv4::amz_date)
            .unwrap_or_default();
        return Err(ServiceError::access_denied(format!(
            "Signature not yet current: {signed_text} is still later than {latest} ({now_text} + {minutes} min.)"
        )));
    }
    Ok(())
}

fn decode_cert(b64: &str) -> Option<Certificate> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    Certificate::from_der(&der).ok()
}

fn verify_signature(
    leaf: &Certificate,
    algorithm: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), ServiceError> {
    use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
    let key_type = leaf
        .key_type()
        .ok_or_else(|| ServiceError::access_denied("Unsupported public key type in X-Amz-X509"))?;
    if key_type.sigv4_algorithm() != algorithm {
        return Err(ServiceError::access_denied(format!(
            "Signing algorithm {algorithm} does not match the certificate's key type"
        )));
    }
    let alg: &'static dyn VerificationAlgorithm = match key_type {
        KeyType::Rsa => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        KeyType::Ec(Curve::P256) => &sig::ECDSA_P256_SHA256_ASN1,
        KeyType::Ec(Curve::P384) => &sig::ECDSA_P384_SHA256_ASN1,
        KeyType::Ec(Curve::P521) => &sig::ECDSA_P521_SHA256_ASN1,
        KeyType::MlDsa(MlDsaLevel::MlDsa44) => &sig::ML_DSA_44,
        KeyType::MlDsa(MlDsaLevel::MlDsa65) => &sig::ML_DSA_65,
        KeyType::MlDsa(MlDsaLevel::MlDsa87) => &sig::ML_DSA_87,
    };
    sig::UnparsedPublicKey::new(alg, leaf.public_key())
        .verify(message, signature)
        .map_err(|_| {
            ServiceError::access_denied(
                "The request signature we calculated does not match the signature you provided",
            )
        })
}

pub fn is_ca(cert: &Certificate) -> bool {
    cert.is_ca()
}

/// Why a certificate does not chain to a trust anchor. The service says only
/// [`UNTRUSTED_CERTIFICATE`]; `doctor` explains the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// No trust anchor is a CA certificate (basicConstraints CA:TRUE) webpki can use.
    NoUsableAnchor,
    /// The leaf cannot be parsed as an end-entity certificate.
    BadLeaf(webpki::Error),
    /// Path building or validation failed.
    Path(webpki::Error),
    /// The leaf's keyUsage does not allow digitalSignature.
    KeyUsage,
}

/// The service's chain check: the leaf (with `chain` as candidate intermediates) must chain to
/// one of `trust_anchors` (CA certificates only) at `now`, with extendedKeyUsage clientAuth
/// (when present) and keyUsage digitalSignature (when present).
pub fn check_chain(
    trust_anchors: &[Certificate],
    leaf: &Certificate,
    chain: &[Certificate],
    now: Timestamp,
) -> Result<(), ChainProblem> {
    let anchor_ders: Vec<CertificateDer<'_>> = trust_anchors
        .iter()
        .filter(|c| is_ca(c))
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let anchors: Vec<_> = anchor_ders
        .iter()
        .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
        .collect();
    if anchors.is_empty() {
        return Err(ChainProblem::NoUsableAnchor);
    }
    let intermediates: Vec<CertificateDer<'_>> = chain
        .iter()
        .filter(|c| c.der() != leaf.der())
        .map(|c| CertificateDer::from(c.der()))
        .collect();
    let leaf_der = CertificateDer::from(leaf.der());
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(ChainProblem::BadLeaf)?;
    let secs = u64::try_from(now.as_second()).unwrap_or(0);
    let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .map_err(ChainProblem::Path)?;
    // keyUsage, when present, must allow digital signatures.
    match leaf
        .parsed()
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::KeyUsage>()
    {
        Ok(None) => Ok(()),
        Ok(Some((_, ku))) if ku.digital_signature() => Ok(()),
        _ => Err(ChainProblem::KeyUsage),
    }
}

/// `durationSeconds` (`None` when absent) and `roleSessionName` of the body.
fn parse_body(body: &[u8]) -> Result<(Option<u64>, Option<String>), ServiceError> {
    let malformed = || ServiceError::new(400, "SerializationException", "Malformed request body");
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((None, None));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| malformed())?;
    let obj = value.as_object().ok_or_else(malformed)?;
    let duration = match obj.get("durationSeconds") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            if v.is_i64() {
                // A negative integer is well-formed but out of range.
                ServiceError::validation(
                    "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
                )
            } else {
                malformed()
            }
        })?),
    };
    let name = match obj.get("roleSessionName") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed()),
    };
    Ok((duration, name))
}

/// The ARN fields of a JSON body, when it is a JSON object holding them as strings
/// (anything else is left to the body check, which reports it).
fn body_arns(body: &[u8]) -> Vec<(&'static str, String)> {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    ["profileArn", "roleArn", "trustAnchorArn"]
        .into_iter()
        .filter_map(|k| match obj.get(k) {
            Some(serde_json::Value::String(v)) => Some((k, v.clone())),
            _ => None,
        })
        .collect()
}

fn valid_session_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

pub fn source_identity(leaf: &Certificate) -> String {
    let subject = leaf.subject();
    subject
        .split(',')
        .find(|part| part.trim_start().starts_with("CN="))
        .map(|cn| cn.trim().to_string())
        .unwrap_or(subject)
}
