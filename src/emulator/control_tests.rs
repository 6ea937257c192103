//! The control plane: routing, shapes and errors of [`State::handle`], persistence through
//! the server, and CreateSession checked against the state.

use serde_json::{json, Value};

use super::control::caller_region;
use super::tests::*;
use super::*;

fn pem(cert: &Certificate) -> String {
    let b64 = cert.base64();
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn call(state: &mut State, method: &str, path: &str, body: Value) -> Result<Value, ServiceError> {
    call_q(state, method, path, "", body)
}

fn call_q(
    state: &mut State,
    method: &str,
    path: &str,
    query: &str,
    body: Value,
) -> Result<Value, ServiceError> {
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    state
        .handle(method, path, query, &body, "us-east-1", fixed_now())
        .map(|a| a.body)
}

#[track_caller]
fn expect_err(result: Result<Value, ServiceError>, status: u16, code: &str) -> String {
    let e = result.expect_err("should fail");
    assert_eq!((e.status, e.code), (status, code), "{e}");
    e.message
}

fn anchor(state: &mut State, ca: &Certificate, enabled: bool) -> (String, String) {
    let v = call(
        state,
        "POST",
        "/trustanchors",
        json!({"name": "ta", "enabled": enabled, "source": {
            "sourceType": "CERTIFICATE_BUNDLE",
            "sourceData": {"x509CertificateData": pem(ca)}}}),
    )
    .unwrap();
    let ta = &v["trustAnchor"];
    (
        ta["trustAnchorId"].as_str().unwrap().to_string(),
        ta["trustAnchorArn"].as_str().unwrap().to_string(),
    )
}

fn profile(state: &mut State, extra: Value) -> (String, String) {
    let mut body = json!({"name": "p", "enabled": true, "roleArns": [ROLE_ARN]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let v = call(state, "POST", "/profiles", body).unwrap();
    let p = &v["profile"];
    (
        p["profileId"].as_str().unwrap().to_string(),
        p["profileArn"].as_str().unwrap().to_string(),
    )
}

#[test]
fn trust_anchor_lifecycle_in_the_model_shapes() {
    let f = fixture();
    let mut state = State::default();
    let (id, arn) = anchor(&mut state, &f.ca.cert, false);
    assert_eq!(id.len(), 36);
    assert_eq!(
        arn,
        format!("arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/{id}")
    );
    let path = format!("/trustanchor/{id}");
    let got = call(&mut state, "GET", &path, Value::Null).unwrap();
    assert_eq!(got["trustAnchor"]["enabled"], false);
    assert_eq!(got["trustAnchor"]["createdAt"], "2024-06-01T12:00:00.000Z");
    let on = call(&mut state, "POST", &format!("{path}/enable"), Value::Null).unwrap();
    assert_eq!(on["trustAnchor"]["enabled"], true);
    let renamed = call(&mut state, "PATCH", &path, json!({"name": "new name"})).unwrap();
    assert_eq!(renamed["trustAnchor"]["name"], "new name");
    assert_eq!(
        renamed["trustAnchor"]["source"]["sourceType"],
        "CERTIFICATE_BUNDLE"
    );
    let deleted = call(&mut state, "DELETE", &path, Value::Null).unwrap();
    assert_eq!(deleted["trustAnchor"]["trustAnchorId"], id.as_str());
    expect_err(
        call(&mut state, "GET", &path, Value::Null),
        404,
        "ResourceNotFoundException",
    );
    expect_err(
        call(&mut state, "PUT", "/nowhere", Value::Null),
        404,
        "UnknownOperationException",
    );
}

#[test]
fn create_validates_like_the_model() {
    let f = fixture();
    let mut state = State::default();
    let source = json!({"sourceType": "CERTIFICATE_BUNDLE",
        "sourceData": {"x509CertificateData": pem(&f.ca.cert)}});
    let cases = [
        json!({"source": source}),
        json!({"name": "bad/name", "source": source}),
        json!({"name": "ok"}),
        json!({"name": "ok", "source": {"sourceType": "NOPE"}}),
        json!({"name": "ok", "source": {"sourceType": "CERTIFICATE_BUNDLE",
            "sourceData": {"x509CertificateData": "not pem"}}}),
        // A leaf is not a CA: the service's "Incorrect basic constraints".
        json!({"name": "ok", "source": {"sourceType": "CERTIFICATE_BUNDLE",
            "sourceData": {"x509CertificateData": pem(&f.leaf)}}}),
    ];
    for body in cases {
        expect_err(
            call(&mut state, "POST", "/trustanchors", body.clone()),
            400,
            "ValidationException",
        );
    }
    for body in [
        json!({"name": "p"}),
        json!({"name": "p", "roleArns": ["arn:aws:iam::1:role/x"]}),
        json!({"name": "p", "roleArns": [ROLE_ARN], "durationSeconds": 100}),
        json!({"name": "p", "roleArns": [ROLE_ARN], "tags": [{"key": "", "value": "v"}]}),
    ] {
        expect_err(
            call(&mut state, "POST", "/profiles", body.clone()),
            400,
            "ValidationException",
        );
    }
    let e = state
        .handle(
            "POST",
            "/profiles",
            "",
            b"{not json",
            "us-east-1",
            fixed_now(),
        )
        .unwrap_err();
    assert_eq!((e.status, e.code), (400, "SerializationException"));
    assert!(state.trust_anchors.is_empty() && state.profiles.is_empty());
}

#[test]
fn lists_page_with_next_token() {
    let mut state = State::default();
    for _ in 0..3 {
        profile(&mut state, json!({}));
    }
    let first = call_q(&mut state, "GET", "/profiles", "pageSize=2", Value::Null).unwrap();
    assert_eq!(first["profiles"].as_array().unwrap().len(), 2);
    let token = first["nextToken"].as_str().unwrap().to_string();
    let rest = call_q(
        &mut state,
        "GET",
        "/profiles",
        &format!("pageSize=2&nextToken={token}"),
        Value::Null,
    )
    .unwrap();
    assert_eq!(rest["profiles"].as_array().unwrap().len(), 1);
    assert!(rest.get("nextToken").is_none());
    expect_err(
        call_q(&mut state, "GET", "/profiles", "pageSize=0", Value::Null),
        400,
        "ValidationException",
    );
}

#[test]
fn tags_replace_by_key_and_need_an_existing_resource() {
    let mut state = State::default();
    let (_, arn) = profile(&mut state, json!({"tags": [{"key": "a", "value": "1"}]}));
    call(
        &mut state,
        "POST",
        "/TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "a", "value": "2"}, {"key": "b", "value": ""}]}),
    )
    .unwrap();
    let q = format!(
        "resourceArn={}",
        arn.replace(':', "%3A").replace('/', "%2F")
    );
    let tags = call_q(&mut state, "GET", "/ListTagsForResource", &q, Value::Null).unwrap();
    assert_eq!(
        tags["tags"],
        json!([{"key": "a", "value": "2"}, {"key": "b", "value": ""}])
    );
    call(
        &mut state,
        "POST",
        "/UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["a"]}),
    )
    .unwrap();
    let tags = call_q(&mut state, "GET", "/ListTagsForResource", &q, Value::Null).unwrap();
    assert_eq!(tags["tags"], json!([{"key": "b", "value": ""}]));
    let missing = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/nope";
    expect_err(
        call(
            &mut state,
            "POST",
            "/TagResource",
            json!({"resourceArn": missing, "tags": []}),
        ),
        404,
        "ResourceNotFoundException",
    );
}

#[test]
fn control_plane_requests_must_carry_a_sigv4_rolesanywhere_scope() {
    let ok = "AWS4-HMAC-SHA256 Credential=AKID/20240601/eu-west-1/rolesanywhere/aws4_request, SignedHeaders=host, Signature=00";
    assert_eq!(caller_region(Some(ok)).unwrap(), "eu-west-1");
    for bad in [
        None,
        Some("Bearer x"),
        Some("AWS4-HMAC-SHA256 Credential=AKID/20240601/eu-west-1/sts/aws4_request, Signature=00"),
    ] {
        let e = caller_region(bad).unwrap_err();
        assert_eq!((e.status, e.code), (403, "AccessDeniedException"));
    }
}

/// A state with an anchor for `f`'s CA and a profile; the request names them.
fn governed(f: &Fixture, profile_extra: Value) -> (State, Req, String, String) {
    let mut state = State::default();
    let (ta_id, ta_arn) = anchor(&mut state, &f.ca.cert, true);
    let (p_id, p_arn) = profile(&mut state, profile_extra);
    let req = Req::new()
        .param("trustAnchorArn", &ta_arn)
        .param("profileArn", &p_arn);
    (state, req, ta_id, p_id)
}

fn session(f: &Fixture, state: &State, req: &Req) -> Result<SessionGrant, ServiceError> {
    let (query, headers, body) = req.sign(&f.key, &f.leaf);
    verify_session(
        &f.config,
        Some(state),
        &req.method,
        &req.path,
        &query,
        &headers,
        &body,
        fixed_now(),
    )
}

#[test]
fn create_session_is_checked_against_the_state() {
    let f = fixture();
    let (mut state, req, ta_id, p_id) = governed(&f, json!({"durationSeconds": 1800}));
    // Over the profile's duration.
    assert_err(
        session(&f, &state, &req),
        400,
        "ValidationException",
        "between 900 and 1800",
    );
    let mut short = Req::new();
    short.params = req.params.clone();
    short.body = br#"{"durationSeconds":1800}"#.to_vec();
    assert_eq!(session(&f, &state, &short).unwrap().duration_seconds, 1800);
    // Absent, it is capped by the profile.
    short.body = Vec::new();
    assert_eq!(session(&f, &state, &short).unwrap().duration_seconds, 1800);
    short.body = br#"{"durationSeconds":900}"#.to_vec();

    // roleSessionName only when the profile accepts it.
    let mut named = Req::new();
    named.params = req.params.clone();
    named.body = br#"{"durationSeconds":900,"roleSessionName":"me"}"#.to_vec();
    assert_err(
        session(&f, &state, &named),
        403,
        "AccessDeniedException",
        "acceptRoleSessionName",
    );
    call(
        &mut state,
        "PATCH",
        &format!("/profile/{p_id}"),
        json!({"acceptRoleSessionName": true}),
    )
    .unwrap();
    assert_eq!(session(&f, &state, &named).unwrap().session_name, "me");

    // Role not listed, profile disabled, anchor disabled, unknown anchor.
    let other_role = Req {
        body: short.body.clone(),
        ..Req::new()
    }
    .param("trustAnchorArn", &req.params[2].1)
    .param("profileArn", &req.params[0].1)
    .param("roleArn", "arn:aws:iam::111122223333:role/Other");
    assert_err(
        session(&f, &state, &other_role),
        403,
        "AccessDeniedException",
        "roleArns",
    );
    call(
        &mut state,
        "POST",
        &format!("/profile/{p_id}/disable"),
        Value::Null,
    )
    .unwrap();
    assert_err(
        session(&f, &state, &short),
        403,
        "AccessDeniedException",
        "disabled",
    );
    call(
        &mut state,
        "POST",
        &format!("/profile/{p_id}/enable"),
        Value::Null,
    )
    .unwrap();
    call(
        &mut state,
        "POST",
        &format!("/trustanchor/{ta_id}/disable"),
        Value::Null,
    )
    .unwrap();
    assert_err(
        session(&f, &state, &short),
        403,
        "AccessDeniedException",
        "disabled",
    );
    call(
        &mut state,
        "POST",
        &format!("/trustanchor/{ta_id}/enable"),
        Value::Null,
    )
    .unwrap();
    session(&f, &state, &short).unwrap();
    // The implicit anchor of --trust-anchor no longer applies once the state governs.
    let implicit = Req {
        body: short.body.clone(),
        ..Req::new()
    };
    assert_err(
        session(&f, &state, &implicit),
        403,
        "AccessDeniedException",
        "does not exist",
    );
}

#[test]
fn the_anchor_must_hold_the_issuing_ca() {
    let f = fixture();
    let other = make_ca("Other CA");
    let mut state = State::default();
    let (_, ta_arn) = anchor(&mut state, &other.cert, true);
    let (_, p_arn) = profile(&mut state, json!({}));
    let req = Req::new()
        .param("trustAnchorArn", &ta_arn)
        .param("profileArn", &p_arn);
    // f.config still trusts f's CA (as --trust-anchor would); the state's anchor decides.
    assert_err(
        session(&f, &state, &req),
        403,
        "AccessDeniedException",
        UNTRUSTED_CERTIFICATE,
    );
}

fn crl_listing(ca: &Ca, serials: &[&[u8]]) -> Vec<u8> {
    let now = time::OffsetDateTime::from_unix_timestamp(fixed_now().as_second()).unwrap();
    let params = rcgen::CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(7),
        crl_number: rcgen::SerialNumber::from_slice(&[1]),
        issuing_distribution_point: None,
        revoked_certs: serials
            .iter()
            .map(|s| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(s),
                revocation_time: now,
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    params
        .signed_by(&ca.issuer)
        .unwrap()
        .pem()
        .unwrap()
        .into_bytes()
}

#[test]
fn a_serial_on_an_enabled_crl_of_the_anchor_is_refused() {
    use base64::Engine;
    let f = fixture();
    let (mut state, req, _, _) = governed(&f, json!({}));
    let ta_arn = req.params[2].1.clone();
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let mut ok_req = Req::new();
    ok_req.params = req.params.clone();
    ok_req.body = br#"{"durationSeconds":900}"#.to_vec();

    // A CRL of other serials changes nothing.
    let unrelated = crl_listing(&f.ca, &[&[0x01, 0x02]]);
    call(
        &mut state,
        "POST",
        "/crls",
        json!({"name": "c0", "crlData": b64(&unrelated), "trustAnchorArn": ta_arn}),
    )
    .unwrap();
    session(&f, &state, &ok_req).unwrap();

    // Nor does one of another CA listing the same serial: an entry is issuer and serial.
    let foreign = crl_listing(&make_ca("Other CA"), &[&[0x07, 0x5b, 0xcd, 0x15]]);
    call(
        &mut state,
        "POST",
        "/crls",
        json!({"name": "c9", "crlData": b64(&foreign), "trustAnchorArn": ta_arn}),
    )
    .unwrap();
    session(&f, &state, &ok_req).unwrap();

    let listing = crl_listing(&f.ca, &[&[0x00, 0x07, 0x5b, 0xcd, 0x15]]);
    let v = call(
        &mut state,
        "POST",
        "/crls",
        json!({"name": "c1", "crlData": b64(&listing), "trustAnchorArn": ta_arn}),
    )
    .unwrap();
    assert_eq!(v["crl"]["enabled"], true);
    assert_eq!(v["crl"]["crlData"], b64(&listing));
    let crl_id = v["crl"]["crlId"].as_str().unwrap().to_string();
    assert_err(
        session(&f, &state, &ok_req),
        403,
        "AccessDeniedException",
        REVOKED_CERTIFICATE,
    );
    call(
        &mut state,
        "POST",
        &format!("/crl/{crl_id}/disable"),
        Value::Null,
    )
    .unwrap();
    session(&f, &state, &ok_req).unwrap();
    call(
        &mut state,
        "POST",
        &format!("/crl/{crl_id}/enable"),
        Value::Null,
    )
    .unwrap();
    call(&mut state, "DELETE", &format!("/crl/{crl_id}"), Value::Null).unwrap();
    session(&f, &state, &ok_req).unwrap();

    expect_err(
        call(
            &mut state,
            "POST",
            "/crls",
            json!({"name": "bad", "crlData": b64(b"nope"), "trustAnchorArn": ta_arn}),
        ),
        400,
        "ValidationException",
    );
}

#[test]
fn server_persists_state_privately_and_answers_errors_in_the_service_shape() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let config = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };
    let emulator = start(config.clone());
    let client = agent(&emulator);
    let auth = "AWS4-HMAC-SHA256 Credential=AKID/20240601/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
    let mut resp = client
        .post(format!("{}/profiles", emulator.url()))
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .send(
            json!({"name": "p", "roleArns": [ROLE_ARN]})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let id = created["profile"]["profileId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut resp = client
        .get(format!(
            "{}/profile/00000000-0000-4000-8000-000000000000",
            emulator.url()
        ))
        .header("Authorization", auth)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.headers().get("x-amzn-errortype").unwrap(),
        "ResourceNotFoundException"
    );
    let body: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert!(body["message"].as_str().unwrap().contains("not found"));
    let resp = client
        .get(format!("{}/profiles", emulator.url()))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    emulator.shutdown();

    // A new emulator reads it back.
    let emulator = start(config.clone());
    let mut resp = agent(&emulator)
        .get(format!("{}/profile/{id}", emulator.url()))
        .header("Authorization", auth)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let got: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(got["profile"]["roleArns"][0], ROLE_ARN);
    emulator.shutdown();

    // A corrupt file is an error at start, naming the file.
    std::fs::write(&file, b"{oops").unwrap();
    let e = Emulator::start(config, "127.0.0.1:0".parse().unwrap(), true).unwrap_err();
    assert!(e.to_string().contains("state.json"), "{e}");
}
