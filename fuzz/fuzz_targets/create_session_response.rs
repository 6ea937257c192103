//! What the CreateSession endpoint (or anything posing as it) answers. Input: `name: value`
//! header lines, an empty line, then the body (no empty line: all body, no headers). The body
//! goes through the success parser, the service-error reader and the `--debug` redaction, which
//! must never let a `secretAccessKey` or `sessionToken` value through.
#![no_main]

#[path = "common/http_input.rs"]
mod http_input;

use aws_signing_helper::protocol::http::HttpResponse;
use aws_signing_helper::protocol::rolesanywhere::{parse_response, redact_body, ServiceError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Every string (keys and values) of a JSON value; `secret` gets the values of keys the service
/// uses for secrets, `other` everything else.
fn strings<'a>(v: &'a Value, secret: &mut Vec<&'a str>, other: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => other.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings(i, secret, other)),
        Value::Object(map) => {
            for (k, val) in map {
                other.push(k);
                match (k.as_str(), val) {
                    ("secretAccessKey" | "sessionToken", Value::String(s)) => secret.push(s),
                    _ => strings(val, secret, other),
                }
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (headers, body, status) = http_input::split(data);
    let resp = HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    };

    if let Ok(creds) = parse_response(body, Some("111122223333")) {
        assert!(!creds.access_key_id.is_empty());
        assert!(!creds.secret_access_key.is_empty() && !creds.session_token.is_empty());
    }
    let se = ServiceError::from_response(&resp);
    assert_eq!(se.status, status);
    assert!(!se.code.is_empty());
    let _ = se.retryable();

    let redacted = redact_body(body);
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let output: Value = serde_json::from_str(&redacted).expect("redacted JSON is JSON");
    let (mut secrets, mut public) = (Vec::new(), Vec::new());
    strings(&input, &mut secrets, &mut public);
    let (mut out_secrets, mut out_strings) = (Vec::new(), Vec::new());
    strings(&output, &mut out_secrets, &mut out_strings);
    for s in &out_secrets {
        assert_eq!(*s, "** redacted **");
    }
    for secret in secrets {
        // A secret value may only show up where the same text was also public in the input.
        if secret != "** redacted **" && !public.contains(&secret) {
            assert!(
                !out_strings.contains(&secret),
                "secret value {secret:?} survived redaction"
            );
        }
    }
});
