use std::time::Duration;

use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber, SigningKey,
};

use super::*;
use crate::protocol::sigv4;

pub(super) const TA_ARN: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
pub(super) const PROFILE_ARN: &str =
    "arn:aws:rolesanywhere:us-east-1:111122223333:profile/9f8e7d6c-aaaa-bbbb-cccc-0123456789ab";
pub(super) const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/team/MyRole";
const SERIAL: [u8; 4] = [0x07, 0x5b, 0xcd, 0x15]; // 123456789

pub(super) fn fixed_now() -> Timestamp {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

pub(super) struct Ca {
    pub(super) cert: Certificate,
    pub(super) issuer: Issuer<'static, KeyPair>,
}

pub(super) fn make_ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2090, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        cert: Certificate::from_der(cert.der()).unwrap(),
        issuer: Issuer::new(params, key),
    }
}

pub(super) fn leaf_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "test-leaf");
    params.serial_number = Some(SerialNumber::from_slice(&SERIAL));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2090, 1, 1);
    params
}

/// A leaf key that signs the way the client does.
pub(super) enum TestKey {
    /// RSA PKCS#1 v1.5 SHA-256, ECDSA P-256 SHA-256 (DER), or pure ML-DSA.
    Rcgen(KeyPair),
    /// ECDSA P-384 over SHA-256, DER.
    P384(KeyPair),
}

impl TestKey {
    fn key_pair(&self) -> &KeyPair {
        match self {
            TestKey::Rcgen(k) | TestKey::P384(k) => k,
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            TestKey::Rcgen(k) => k.sign(msg).unwrap(),
            TestKey::P384(k) => {
                use p384::ecdsa::signature::hazmat::PrehashSigner;
                use p384::pkcs8::DecodePrivateKey;
                let sk = p384::ecdsa::SigningKey::from_pkcs8_der(k.serialized_der()).unwrap();
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
                let sig: p384::ecdsa::DerSignature = sk.sign_prehash(digest.as_ref()).unwrap();
                sig.as_bytes().to_vec()
            }
        }
    }
}

pub(super) fn key(alg: &'static rcgen::SignatureAlgorithm) -> TestKey {
    let kp = KeyPair::generate_for(alg).unwrap();
    if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        TestKey::P384(kp)
    } else {
        TestKey::Rcgen(kp)
    }
}

pub(super) fn issue(ca: &Ca, key: &TestKey, params: CertificateParams) -> Certificate {
    let cert = params.signed_by(key.key_pair(), &ca.issuer).unwrap();
    Certificate::from_der(cert.der()).unwrap()
}

/// The parts of a request to sign; tests change fields to introduce one defect each.
pub(super) struct Req {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) params: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) date: Timestamp,
    pub(super) scope_region: String,
    pub(super) scope_service: String,
    pub(super) serial: Option<String>,
    pub(super) algorithm: Option<String>,
    pub(super) chain: Vec<Certificate>,
    /// Header names to leave out of SignedHeaders (still sent).
    pub(super) unsigned: Vec<&'static str>,
    pub(super) host: String,
}

impl Req {
    pub(super) fn new() -> Self {
        Req {
            method: "POST".into(),
            path: "/sessions".into(),
            params: vec![
                ("profileArn".into(), PROFILE_ARN.into()),
                ("roleArn".into(), ROLE_ARN.into()),
                ("trustAnchorArn".into(), TA_ARN.into()),
            ],
            body: br#"{"durationSeconds":3600}"#.to_vec(),
            date: fixed_now(),
            scope_region: "us-east-1".into(),
            scope_service: "rolesanywhere".into(),
            serial: None,
            algorithm: None,
            chain: Vec::new(),
            unsigned: Vec::new(),
            host: "rolesanywhere.us-east-1.amazonaws.com".into(),
        }
    }

    pub(super) fn param(mut self, name: &str, value: &str) -> Self {
        for (k, v) in &mut self.params {
            if k == name {
                *v = value.to_string();
            }
        }
        self
    }

    /// Signs as the client would: returns (query, headers, body).
    pub(super) fn sign(
        &self,
        key: &TestKey,
        leaf: &Certificate,
    ) -> (String, Vec<(String, String)>, Vec<u8>) {
        let query = sigv4::canonical_query(&self.params);
        let amz_date = sigv4::amz_date(self.date);
        let mut headers: Vec<(String, String)> = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Host".into(), self.host.clone()),
            ("X-Amz-Date".into(), amz_date.clone()),
            ("X-Amz-X509".into(), leaf.base64()),
        ];
        if !self.chain.is_empty() {
            let chain: Vec<String> = self.chain.iter().map(Certificate::base64).collect();
            headers.push(("X-Amz-X509-Chain".into(), chain.join(",")));
        }
        let signed: Vec<(String, String)> = headers
            .iter()
            .filter(|(n, _)| !self.unsigned.contains(&n.to_ascii_lowercase().as_str()))
            .cloned()
            .collect();
        let ch = sigv4::canonical_headers(&signed);
        let cr = sigv4::canonical_request(
            &self.method,
            "/sessions",
            &query,
            &ch,
            &sigv4::sha256_hex(&self.body),
        );
        let scope = format!(
            "{}/{}/{}/aws4_request",
            sigv4::date_stamp(self.date),
            self.scope_region,
            self.scope_service
        );
        let algorithm = self
            .algorithm
            .clone()
            .unwrap_or_else(|| leaf.key_type().unwrap().sigv4_algorithm().to_string());
        let sts = sigv4::string_to_sign(&algorithm, &amz_date, &scope, &cr);
        let signature = key.sign(sts.as_bytes());
        let serial = self.serial.clone().unwrap_or_else(|| leaf.serial_decimal());
        headers.push((
            "Authorization".into(),
            sigv4::authorization(&algorithm, &serial, &scope, &ch.signed, &signature),
        ));
        headers.push(("User-Agent".into(), "CredHelper/1.8.0 (test)".into()));
        (query, headers, self.body.clone())
    }
}

pub(super) struct Fixture {
    pub(super) ca: Ca,
    pub(super) key: TestKey,
    pub(super) leaf: Certificate,
    pub(super) config: Config,
}

pub(super) fn fixture_with(alg: &'static rcgen::SignatureAlgorithm) -> Fixture {
    let ca = make_ca("Test Root CA");
    let key = key(alg);
    let leaf = issue(&ca, &key, leaf_params());
    let config = Config {
        trust_anchors: vec![ca.cert.clone()],
        ..Config::default()
    };
    Fixture {
        ca,
        key,
        leaf,
        config,
    }
}

pub(super) fn fixture() -> Fixture {
    fixture_with(&rcgen::PKCS_ECDSA_P256_SHA256)
}

fn run(f: &Fixture, req: &Req) -> Result<SessionGrant, ServiceError> {
    run_with(&f.config, &f.key, &f.leaf, req)
}

pub(super) fn run_with(
    config: &Config,
    key: &TestKey,
    leaf: &Certificate,
    req: &Req,
) -> Result<SessionGrant, ServiceError> {
    let (query, headers, body) = req.sign(key, leaf);
    verify_request(
        config,
        &req.method,
        &req.path,
        &query,
        &headers,
        &body,
        fixed_now(),
    )
}

#[track_caller]
pub(super) fn assert_err(
    result: Result<SessionGrant, ServiceError>,
    status: u16,
    code: &str,
    text: &str,
) {
    let e = result.expect_err("request should be rejected");
    assert_eq!((e.status, e.code), (status, code), "{e}");
    assert!(
        e.message.contains(text),
        "message {:?} lacks {text:?}",
        e.message
    );
}

#[test]
fn valid_requests_pass_for_every_key_type() {
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_RSA_SHA256,
        &rcgen::PKCS_ML_DSA_44,
        &rcgen::PKCS_ML_DSA_65,
        &rcgen::PKCS_ML_DSA_87,
    ] {
        let f = fixture_with(alg);
        let grant = run(&f, &Req::new()).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(grant.role_arn, ROLE_ARN);
        assert_eq!(grant.role_name, "MyRole");
        assert_eq!(grant.session_name, "75bcd15");
        assert_eq!(grant.duration_seconds, 3600);
        assert_eq!(grant.source_identity, "CN=test-leaf");
        assert_eq!(
            grant.expiration,
            "2024-06-01T13:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}

#[test]
fn response_has_the_service_shape() {
    let f = fixture();
    let mut req = Req::new();
    req.body = br#"{"durationSeconds":900,"roleSessionName":"my.session@x"}"#.to_vec();
    let grant = run(&f, &req).unwrap();
    let v: serde_json::Value = serde_json::from_str(&grant.response_json()).unwrap();
    let set = &v["credentialSet"][0];
    assert_eq!(
        set["assumedRoleUser"]["arn"],
        "arn:aws:sts::111122223333:assumed-role/MyRole/my.session@x"
    );
    let role_id = set["assumedRoleUser"]["assumedRoleId"].as_str().unwrap();
    assert!(role_id.starts_with("AROA") && role_id.ends_with(":my.session@x"));
    let creds = &set["credentials"];
    let akid = creds["accessKeyId"].as_str().unwrap();
    assert_eq!(akid.len(), 20);
    assert!(akid.starts_with("ASIA"));
    assert!(akid[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(creds["secretAccessKey"].as_str().unwrap().len(), 40);
    assert!(creds["sessionToken"].as_str().unwrap().len() > 100);
    assert_eq!(creds["expiration"], "2024-06-01T12:15:00Z");
    assert_eq!(set["packedPolicySize"], 0);
    assert_eq!(set["roleArn"], ROLE_ARN);
    assert_eq!(set["sourceIdentity"], "CN=test-leaf");
    assert!(v["subjectArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:rolesanywhere:us-east-1:111122223333:subject/"));
}

#[test]
fn chain_through_an_intermediate() {
    let root = make_ca("Root");
    let int_key = KeyPair::generate().unwrap();
    let mut int_params = CertificateParams::default();
    int_params.distinguished_name = rcgen::DistinguishedName::new();
    int_params
        .distinguished_name
        .push(DnType::CommonName, "Intermediate");
    int_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    int_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let int_cert = int_params.signed_by(&int_key, &root.issuer).unwrap();
    let intermediate = Ca {
        cert: Certificate::from_der(int_cert.der()).unwrap(),
        issuer: Issuer::new(int_params, int_key),
    };
    let key = key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let leaf = issue(&intermediate, &key, leaf_params());
    let config = Config {
        trust_anchors: vec![root.cert.clone()],
        ..Config::default()
    };
    let mut req = Req::new();
    // Without the chain header the path cannot be built.
    assert_err(
        run_with(&config, &key, &leaf, &req),
        403,
        "AccessDeniedException",
        UNTRUSTED_CERTIFICATE,
    );
    req.chain = vec![intermediate.cert.clone()];
    run_with(&config, &key, &leaf, &req).unwrap();
    // PKCS#12 / PKCS#11 clients send the leaf first in the chain, and may include the root.
    req.chain = vec![leaf.clone(), intermediate.cert.clone(), root.cert.clone()];
    run_with(&config, &key, &leaf, &req).unwrap();
    // The chain header is signed: appending to it breaks the signature.
    let (query, mut headers, body) = req.sign(&key, &leaf);
    for (name, value) in &mut headers {
        if name == "X-Amz-X509-Chain" {
            value.push_str(",AAAA");
        }
    }
    let e = verify_request(
        &config,
        "POST",
        "/sessions",
        &query,
        &headers,
        &body,
        fixed_now(),
    )
    .unwrap_err();
    assert_eq!(e.code, "AccessDeniedException");
    assert!(e.message.contains("signature"), "{e}");
    // The chain header must be signed when present.
    req.unsigned = vec!["x-amz-x509-chain"];
    assert_err(
        run_with(&config, &key, &leaf, &req),
        403,
        "AccessDeniedException",
        "x-amz-x509-chain",
    );
}

#[test]
fn wrong_operation_is_404() {
    let f = fixture();
    let mut req = Req::new();
    req.path = "/session".into();
    assert_err(run(&f, &req), 404, "UnknownOperationException", "");
    let mut req = Req::new();
    req.method = "GET".into();
    assert_err(run(&f, &req), 404, "UnknownOperationException", "");
}

#[test]
fn missing_query_parameter() {
    let f = fixture();
    let mut req = Req::new();
    req.params.retain(|(k, _)| k != "roleArn");
    assert_err(run(&f, &req), 400, "ValidationException", "roleArn");
}

#[test]
fn arns_in_the_json_body_are_accepted() {
    // iam-rolesanywhere-session and needroleshere send the ARNs in the body, not the query.
    let f = fixture();
    let mut req = Req::new();
    req.params.clear();
    req.body = serde_json::json!({
        "durationSeconds": 1800,
        "profileArn": PROFILE_ARN,
        "roleArn": ROLE_ARN,
        "trustAnchorArn": TA_ARN,
    })
    .to_string()
    .into_bytes();
    let grant = run(&f, &req).unwrap();
    assert_eq!(grant.role_arn, ROLE_ARN);
    assert_eq!(grant.duration_seconds, 1800);

    // A mix: the role in the body, the rest in the query.
    let mut req = Req::new();
    req.params.retain(|(k, _)| k != "roleArn");
    req.body = format!(r#"{{"roleArn":"{ROLE_ARN}"}}"#).into_bytes();
    assert_eq!(run(&f, &req).unwrap().role_arn, ROLE_ARN);

    // Still checked: a malformed ARN in the body, or one missing everywhere.
    let mut req = Req::new();
    req.params.retain(|(k, _)| k != "roleArn");
    req.body = br#"{"roleArn":"arn:aws:iam::1:role/x"}"#.to_vec();
    assert_err(run(&f, &req), 400, "ValidationException", "roleArn");
    let mut req = Req::new();
    req.params.retain(|(k, _)| k != "profileArn");
    req.body = br#"{"profileArn":7}"#.to_vec();
    assert_err(run(&f, &req), 400, "ValidationException", "profileArn");
}

#[test]
fn malformed_arns() {
    let f = fixture();
    for (name, value) in [
        (
            "trustAnchorArn",
            "arn:aws:rolesanywhere:us-east-1:111122223333:profile/x",
        ),
        (
            "trustAnchorArn",
            "arn:aws:rolesanywhere:us-east-1:1111:trust-anchor/x",
        ),
        (
            "profileArn",
            "arn:aws:rolesanywhere::111122223333:profile/x",
        ),
        ("profileArn", "not-an-arn"),
        ("roleArn", "arn:aws:iam::111122223333:user/MyRole"),
        ("roleArn", "arn:aws:iam:us-east-1:111122223333:role/MyRole"),
        ("roleArn", "arn:aws:iam::111122223333:role/"),
        ("roleArn", "arn:aws:sts::111122223333:role/MyRole"),
    ] {
        let req = Req::new().param(name, value);
        assert_err(run(&f, &req), 400, "ValidationException", name);
    }
}

#[test]
fn region_mismatch_between_profile_and_trust_anchor() {
    let f = fixture();
    let req = Req::new().param(
        "profileArn",
        "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/abc",
    );
    assert_err(run(&f, &req), 400, "ValidationException", "region");
}

#[test]
fn scope_must_match_region_service_and_date() {
    let f = fixture();
    let mut req = Req::new();
    req.scope_region = "eu-west-1".into();
    assert_err(run(&f, &req), 403, "AccessDeniedException", "region");
    let mut req = Req::new();
    req.scope_service = "sts".into();
    assert_err(run(&f, &req), 403, "AccessDeniedException", "service");
}

#[test]
fn unknown_algorithm_and_algorithm_key_mismatch() {
    let f = fixture();
    let mut req = Req::new();
    req.algorithm = Some("AWS4-HMAC-SHA256".into());
    assert_err(run(&f, &req), 403, "AccessDeniedException", "Unsupported");
    req.algorithm = Some("AWS4-X509-RSA-SHA256".into());
    assert_err(run(&f, &req), 403, "AccessDeniedException", "key type");
}

#[test]
fn skewed_date_is_rejected() {
    let f = fixture();
    let mut req = Req::new();
    req.date = fixed_now() - jiff::SignedDuration::from_secs(301);
    assert_err(
        run(&f, &req),
        403,
        "AccessDeniedException",
        "Signature expired",
    );
    req.date = fixed_now() + jiff::SignedDuration::from_secs(301);
    assert_err(
        run(&f, &req),
        403,
        "AccessDeniedException",
        "not yet current",
    );
    req.date = fixed_now() - jiff::SignedDuration::from_secs(299);
    run(&f, &req).unwrap();
}

#[test]
fn required_headers_must_be_signed() {
    let f = fixture();
    for name in ["host", "x-amz-date", "x-amz-x509"] {
        let mut req = Req::new();
        req.unsigned = vec![name];
        assert_err(run(&f, &req), 403, "AccessDeniedException", name);
    }
}

#[test]
fn signed_header_must_be_present() {
    let f = fixture();
    let (query, mut headers, body) = Req::new().sign(&f.key, &f.leaf);
    headers.retain(|(n, _)| n != "Content-Type");
    let e = verify_request(
        &f.config,
        "POST",
        "/sessions",
        &query,
        &headers,
        &body,
        fixed_now(),
    )
    .unwrap_err();
    assert_eq!(e.code, "AccessDeniedException");
    assert!(e.message.contains("content-type"), "{e}");
}

#[test]
fn bad_signature() {
    let f = fixture();
    let (query, headers, body) = Req::new().sign(&f.key, &f.leaf);
    let check = |headers: &[(String, String)], body: &[u8], query: &str| {
        assert_err(
            verify_request(
                &f.config,
                "POST",
                "/sessions",
                query,
                headers,
                body,
                fixed_now(),
            ),
            403,
            "AccessDeniedException",
            "signature",
        );
    };
    // A tampered body, query or signed header value breaks the signature.
    check(&headers, br#"{"durationSeconds":43200}"#, &query);
    check(&headers, &body, &query.replace("MyRole", "MyRolf"));
    let mut changed = headers.clone();
    changed[1].1 = "evil.example".into();
    check(&changed, &body, &query);
    // So does a signature made by another key.
    let other = key(&rcgen::PKCS_ECDSA_P256_SHA256);
    let (query, headers, body) = Req::new().sign(&other, &f.leaf);
    check(&headers, &body, &query);
}

#[test]
fn wrong_serial() {
    let f = fixture();
    let mut req = Req::new();
    req.serial = Some("123456788".into());
    assert_err(run(&f, &req), 403, "AccessDeniedException", "serial");
}

#[test]
fn unknown_ca_is_untrusted() {
    let f = fixture();
    let other = make_ca("Other CA");
    let config = Config {
        trust_anchors: vec![other.cert.clone()],
        ..Config::default()
    };
    assert_err(
        run_with(&config, &f.key, &f.leaf, &Req::new()),
        403,
        "AccessDeniedException",
        UNTRUSTED_CERTIFICATE,
    );
    let config = Config {
        trust_anchors: Vec::new(),
        ..Config::default()
    };
    assert_err(
        run_with(&config, &f.key, &f.leaf, &Req::new()),
        403,
        "AccessDeniedException",
        UNTRUSTED_CERTIFICATE,
    );
}

#[test]
fn leaf_extension_and_validity_checks() {
    let f = fixture();
    let cases: Vec<fn(&mut CertificateParams)> = vec![
        // EKU present without clientAuth.
        |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth],
        // keyUsage present without digitalSignature.
        |p| p.key_usages = vec![KeyUsagePurpose::KeyEncipherment],
        // Expired at `now`.
        |p| p.not_after = rcgen::date_time_ymd(2024, 3, 1),
        // Not yet valid at `now`.
        |p| p.not_before = rcgen::date_time_ymd(2024, 7, 1),
    ];
    for mutate in cases {
        let mut params = leaf_params();
        mutate(&mut params);
        let leaf = issue(&f.ca, &f.key, params);
        assert_err(
            run_with(&f.config, &f.key, &leaf, &Req::new()),
            403,
            "AccessDeniedException",
            UNTRUSTED_CERTIFICATE,
        );
    }
    // Without EKU and keyUsage extensions the leaf is acceptable.
    let mut params = leaf_params();
    params.extended_key_usages.clear();
    params.key_usages.clear();
    let leaf = issue(&f.ca, &f.key, params);
    run_with(&f.config, &f.key, &leaf, &Req::new()).unwrap();
}

#[test]
fn anchor_must_be_a_ca() {
    let f = fixture();
    // The leaf itself as "anchor" (no basicConstraints CA:TRUE) does not count.
    let config = Config {
        trust_anchors: vec![f.leaf.clone()],
        ..Config::default()
    };
    assert_err(
        run_with(&config, &f.key, &f.leaf, &Req::new()),
        403,
        "AccessDeniedException",
        UNTRUSTED_CERTIFICATE,
    );
}

#[test]
fn duration_bounds() {
    let f = fixture();
    for (body, ok) in [
        (r#"{"durationSeconds":899}"#, false),
        (r#"{"durationSeconds":900}"#, true),
        (r#"{"durationSeconds":43200}"#, true),
        (r#"{"durationSeconds":43201}"#, false),
        (r#"{"durationSeconds":-1}"#, false),
    ] {
        let mut req = Req::new();
        req.body = body.as_bytes().to_vec();
        let result = run(&f, &req);
        if ok {
            result.unwrap();
        } else {
            assert_err(result, 400, "ValidationException", "durationSeconds");
        }
    }
    // The profile cap.
    let config = Config {
        max_duration_seconds: 3599,
        ..f.config.clone()
    };
    assert_err(
        run_with(&config, &f.key, &f.leaf, &Req::new()),
        400,
        "ValidationException",
        "3599",
    );
}

#[test]
fn body_and_session_name_validation() {
    let f = fixture();
    let mut req = Req::new();
    req.body = b"{not json".to_vec();
    assert_err(run(&f, &req), 400, "SerializationException", "");
    req.body = br#"{"durationSeconds":"3600"}"#.to_vec();
    assert_err(run(&f, &req), 400, "SerializationException", "");
    for name in ["", "has space", "x/y", &"a".repeat(65)] {
        req.body = serde_json::json!({"durationSeconds": 3600, "roleSessionName": name})
            .to_string()
            .into_bytes();
        assert_err(run(&f, &req), 400, "ValidationException", "roleSessionName");
    }
    req.body = br#"{"durationSeconds":3600,"roleSessionName":"a_b+c=d,e.f@g-h"}"#.to_vec();
    assert_eq!(run(&f, &req).unwrap().session_name, "a_b+c=d,e.f@g-h");
}

#[test]
fn garbage_never_panics() {
    let f = fixture();
    let (query, headers, body) = Req::new().sign(&f.key, &f.leaf);
    // Truncate every signed header value (all but User-Agent) at every few positions.
    for i in 0..headers.len() {
        if headers[i].0 == "User-Agent" {
            continue;
        }
        let value = headers[i].1.clone();
        for cut in (0..value.len()).step_by(7) {
            let mut h = headers.clone();
            h[i].1 = value.get(..cut).unwrap_or("").to_string();
            assert!(verify_request(
                &f.config,
                "POST",
                "/sessions",
                &query,
                &h,
                &body,
                fixed_now()
            )
            .is_err());
        }
    }
    for q in ["%", "%zz&a", "a=%E2%28", "&&&", "=x"] {
        let _ = verify_request(
            &f.config,
            "POST",
            "/sessions",
            q,
            &headers,
            &body,
            fixed_now(),
        );
    }
}

// --- server ---

pub(super) fn agent(emulator: &Emulator) -> ureq::Agent {
    use ureq::tls::{Certificate as UreqCert, RootCerts, TlsConfig, TlsProvider};
    let pem = emulator.server_ca_pem().expect("TLS emulator has a CA");
    let ca = UreqCert::from_pem(pem.as_bytes()).unwrap();
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::new_with_certs(&[ca]))
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}

/// Sends one signed CreateSession; returns (status, error type header, body).
fn post(emulator: &Emulator, f: &Fixture) -> Result<(u16, Option<String>, String), ureq::Error> {
    let url = emulator.url();
    let host = url.split("://").nth(1).unwrap().to_string();
    let mut req = Req::new();
    req.date = Timestamp::now();
    req.host = host;
    let (query, headers, body) = req.sign(&f.key, &f.leaf);
    let mut builder = agent(emulator).post(format!("{url}/sessions?{query}"));
    for (name, value) in headers.iter().filter(|(n, _)| n != "Host") {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut resp = builder.send(&body[..])?;
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let code = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.body_mut().read_to_string()?;
    Ok((resp.status().as_u16(), code, text))
}

pub(super) fn start(config: Config) -> Emulator {
    Emulator::start(config, "127.0.0.1:0".parse().unwrap(), true).unwrap()
}

#[test]
fn server_issues_sessions_over_tls() {
    let f = fixture();
    let emulator = start(f.config.clone());
    assert!(emulator.url().starts_with("https://127.0.0.1:"));
    let (status, code, body) = post(&emulator, &f).unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(code, None);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["credentialSet"][0]["credentials"]["accessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("ASIA"));
    assert_eq!(emulator.sessions_created(), 1);
    assert_eq!(emulator.requests_seen(), 1);
    emulator.shutdown();
}

#[test]
fn server_rejects_untrusted_with_service_error_shape() {
    let f = fixture();
    let other = make_ca("Other");
    let emulator = start(Config {
        trust_anchors: vec![other.cert.clone()],
        ..Config::default()
    });
    let (status, code, body) = post(&emulator, &f).unwrap();
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("AccessDeniedException"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["message"], UNTRUSTED_CERTIFICATE);
    assert_eq!(emulator.sessions_created(), 0);
    emulator.shutdown();
}

#[test]
fn server_fault_injection() {
    let f = fixture();
    let emulator = start(Config {
        fail_first: 2,
        fail_status: 429,
        fail_after: Some(1),
        ..f.config.clone()
    });
    for _ in 0..2 {
        let (status, code, body) = post(&emulator, &f).unwrap();
        assert_eq!(status, 429);
        assert_eq!(code.as_deref(), Some("ThrottlingException"));
        assert!(body.contains("Rate exceeded"));
    }
    assert_eq!(post(&emulator, &f).unwrap().0, 201);
    let (status, code, _) = post(&emulator, &f).unwrap();
    assert_eq!(status, 500);
    assert_eq!(code.as_deref(), Some("InternalServerException"));
    assert_eq!(emulator.sessions_created(), 1);
    assert_eq!(emulator.requests_seen(), 4);
    emulator.shutdown();

    let emulator = start(Config {
        fail_first: 1,
        ..f.config.clone()
    });
    let (status, _, body) = post(&emulator, &f).unwrap();
    assert_eq!(status, 503);
    assert_eq!(body, r#"{"message":"Service Unavailable"}"#);
    emulator.shutdown();
}

#[test]
fn server_stall_never_answers() {
    let f = fixture();
    let emulator = start(Config {
        stall: true,
        ..f.config.clone()
    });
    let pem = emulator.server_ca_pem().unwrap();
    let url = emulator.url();
    let client = std::thread::spawn({
        move || {
            // A short client time-out: the call must fail, not hang.
            use ureq::tls::{Certificate as UreqCert, RootCerts, TlsConfig, TlsProvider};
            let tls = TlsConfig::builder()
                .provider(TlsProvider::Rustls)
                .root_certs(RootCerts::new_with_certs(&[UreqCert::from_pem(
                    pem.as_bytes(),
                )
                .unwrap()]))
                .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .build();
            let agent = ureq::Agent::config_builder()
                .tls_config(tls)
                .timeout_global(Some(Duration::from_millis(700)))
                .build()
                .new_agent();
            agent.post(format!("{url}/sessions")).send(&b"{}"[..])
        }
    });
    let result = client.join().unwrap();
    assert!(result.is_err(), "stalled server answered");
    // The request reached the server (bounded wait for the counter).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while emulator.requests_seen() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(emulator.requests_seen(), 1);
    assert_eq!(emulator.sessions_created(), 0);
    emulator.shutdown();
}

#[test]
fn plain_http_and_bad_fail_status() {
    let emulator =
        Emulator::start(Config::default(), "127.0.0.1:0".parse().unwrap(), false).unwrap();
    assert!(emulator.url().starts_with("http://127.0.0.1:"));
    assert!(emulator.server_ca_pem().is_none());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent();
    let resp = agent
        .get(format!("{}/sessions", emulator.url()))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(emulator.requests_seen(), 1);
    emulator.shutdown();

    let bad = Config {
        fail_status: 42,
        ..Config::default()
    };
    assert!(Emulator::start(bad, "127.0.0.1:0".parse().unwrap(), false).is_err());
}

/// The server's end of a connection from `client` (found among this process's descriptors).
fn server_side_nodelay(server: std::net::SocketAddr, client: &std::net::TcpStream) -> Option<bool> {
    use std::os::fd::BorrowedFd;
    let client_addr = client.local_addr().unwrap();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: only getsockname/getpeername/getsockopt run on it while borrowed; if another
        // test thread closed it meanwhile these calls fail with EBADF, which is skipped.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&borrowed);
        let (Ok(local), Ok(peer)) = (sock.local_addr(), sock.peer_addr()) else {
            continue;
        };
        if local.as_socket() == Some(server) && peer.as_socket() == Some(client_addr) {
            return sock.tcp_nodelay().ok();
        }
    }
    None
}

#[test]
fn accepted_connections_set_tcp_nodelay() {
    use std::io::{Read, Write};
    let emulator =
        Emulator::start(Config::default(), "127.0.0.1:0".parse().unwrap(), false).unwrap();
    let addr: std::net::SocketAddr = emulator
        .url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // One full answer, so the server has accepted and configured the connection.
    client
        .write_all(b"GET /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = client.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 404"));
    // The probe can tell the two apart: our own end keeps the default (Nagle on).
    assert!(!socket2::SockRef::from(&client).tcp_nodelay().unwrap());
    assert_eq!(server_side_nodelay(addr, &client), Some(true));
    drop(client);
    emulator.shutdown();
}
