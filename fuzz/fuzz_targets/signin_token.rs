//! The federation endpoint's getSigninToken answer (`{"SigninToken": "…"}`), and the sign-in
//! URL built from its token. Input: a console destination (first line), then the answer.
//!
//! Invariants: an accepted token is the answer's `SigninToken` string, not empty; an error
//! never holds the answer's token; the `--debug` form of the sign-in URL does not depend on
//! the token at all.
#![no_main]

use aws_signing_helper::sts::signin::{login_url, parse_signin_token, redacted};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ENDPOINT: &str = "https://signin.aws.amazon.com/federation";
const WHAT: &str = "getSigninToken at https://signin.aws.amazon.com/federation";

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n');
    let (destination, body) = match split {
        Some(i) => (String::from_utf8_lossy(&data[..i]), &data[i + 1..]),
        None => ("".into(), data),
    };
    // The answer as a generic JSON value: where the token is, when it is JSON at all.
    let value: Option<Value> = serde_json::from_slice(body).ok();
    let token_in_value = match &value {
        Some(Value::Object(m)) => m.get("SigninToken").and_then(Value::as_str),
        // serde reads a struct from a sequence too: `["TOKEN"]`.
        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
        _ => None,
    };
    match parse_signin_token(body, ENDPOINT) {
        Ok(token) => {
            assert!(!token.is_empty());
            assert_eq!(Some(token.as_str()), token_in_value);
            let url = login_url(ENDPOINT, &destination, &token);
            assert!(url.starts_with(ENDPOINT));
            assert_eq!(
                redacted(&url),
                redacted(&login_url(ENDPOINT, &destination, "")),
                "the redacted URL shows something of the token"
            );
        }
        Err(e) => {
            let shown = format!("{e} {}", e.message());
            assert!(shown.starts_with(WHAT));
            if let Some(t) = token_in_value.filter(|t| t.len() >= 8 && !WHAT.contains(*t)) {
                assert!(!shown.contains(t), "the error shows the token: {shown}");
            }
        }
    }
});
