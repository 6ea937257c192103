//! The emulator's request verification: untrusted method, path, query, headers and body.
//!
//! The input is a list of edits to a valid, signed CreateSession request (fixed CA, leaf and
//! clock from `fuzz/data/`); unless the input says otherwise the harness signs the edited
//! request with the leaf key, so the checks behind the signature (chain, body, session name)
//! are reached as well as the ones before it. The empty input is the valid request.
//!
//! The harness signs with AWS-LC directly (the same ECDSA P-256/SHA-256 DER signature our
//! P-256 signer makes): the request signer is not under test here, and the pure-Rust one,
//! instrumented for coverage, cost 80% of each run.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use aws_signing_helper::emulator::{verify_request, Config};
use aws_signing_helper::identity::{file, pem, Certificate};
use aws_signing_helper::protocol::sigv4;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Edit {
    Method(String),
    Path(String),
    /// Replaces the whole query string.
    RawQuery(String),
    /// Sets one of profileArn, roleArn, trustAnchorArn (by index) to a value.
    Param(u8, String),
    AddParam(String, String),
    /// Sets one of the request's headers (by index) to a value.
    Header(u8, String),
    RemoveHeader(u8),
    AddHeader(String, String),
    /// A chain header of the CA (true) or the leaf, then this text.
    Chain(bool, String),
    Body(Vec<u8>),
    Duration(i64),
    SessionName(String),
    /// Shifts X-Amz-Date by this many seconds from the server clock.
    Skew(i32),
    Algorithm(String),
    Scope(String),
    Serial(String),
    /// Leaves these header names out of SignedHeaders.
    Unsigned(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    edits: Vec<Edit>,
    /// Send the signature bytes given rather than a real one.
    forged_signature: Option<Vec<u8>>,
}

struct Fixed {
    config: Config,
    leaf: Certificate,
    signer: EcdsaKeyPair,
    rng: SystemRandom,
    now: Timestamp,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let ca = file::load_certificates(&data.join("ca.pem")).expect("fuzz/data/ca.pem");
        let leaf = file::load_certificates(&data.join("leaf.pem"))
            .expect("fuzz/data/leaf.pem")
            .remove(0);
        let key = std::fs::read(data.join("leaf.key")).expect("fuzz/data/leaf.key");
        let blocks = pem::parse(&key).expect("fuzz/data/leaf.key is PEM");
        let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &blocks[0].der)
            .expect("fuzz/data/leaf.key is a P-256 PKCS#8 key");
        let now = leaf.not_before() + jiff::SignedDuration::from_hours(24);
        Fixed {
            config: Config {
                trust_anchors: ca,
                ..Config::default()
            },
            leaf,
            signer,
            rng: SystemRandom::new(),
            now,
        }
    })
}

const ARN_NAMES: [&str; 3] = ["profileArn", "roleArn", "trustAnchorArn"];

fuzz_target!(|input: Input| {
    let f = fixed();
    let mut method = "POST".to_string();
    let mut path = "/sessions".to_string();
    let mut params: Vec<(String, String)> = vec![
        (
            "profileArn".into(),
            "arn:aws:rolesanywhere:us-east-1:111122223333:profile/PID".into(),
        ),
        (
            "roleArn".into(),
            "arn:aws:iam::111122223333:role/path/MyRole".into(),
        ),
        (
            "trustAnchorArn".into(),
            "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/TAID".into(),
        ),
    ];
    let mut raw_query = None;
    let mut date = f.now;
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        (
            "Host".into(),
            "rolesanywhere.us-east-1.amazonaws.com".into(),
        ),
        ("X-Amz-Date".into(), String::new()), // filled in below unless edited
        ("X-Amz-X509".into(), f.leaf.base64()),
    ];
    let mut date_edited = false;
    let mut body = br#"{"durationSeconds":3600}"#.to_vec();
    let mut algorithm = "AWS4-X509-ECDSA-SHA256".to_string();
    let mut scope_override = None;
    let mut serial = f.leaf.serial_decimal();
    let mut unsigned: Vec<String> = Vec::new();
    let edits_empty = input.edits.is_empty();
    for edit in input.edits {
        match edit {
            Edit::Method(m) => method = m,
            Edit::Path(p) => path = p,
            Edit::RawQuery(q) => raw_query = Some(q),
            Edit::Param(i, v) => {
                let name = ARN_NAMES[usize::from(i) % 3];
                params.retain(|(k, _)| k != name);
                params.push((name.to_string(), v));
            }
            Edit::AddParam(k, v) => params.push((k, v)),
            Edit::Header(i, v) => {
                if !headers.is_empty() {
                    let n = usize::from(i) % headers.len();
                    date_edited |= headers[n].0 == "X-Amz-Date";
                    headers[n].1 = v;
                }
            }
            Edit::RemoveHeader(i) => {
                if !headers.is_empty() {
                    let n = usize::from(i) % headers.len();
                    date_edited |= headers[n].0 == "X-Amz-Date";
                    headers.remove(n);
                }
            }
            Edit::AddHeader(n, v) => headers.push((n, v)),
            Edit::Chain(ca, extra) => {
                let cert = if ca {
                    &f.config.trust_anchors[0]
                } else {
                    &f.leaf
                };
                headers.push((
                    "X-Amz-X509-Chain".into(),
                    format!("{}{extra}", cert.base64()),
                ));
            }
            Edit::Body(b) => body = b,
            Edit::Duration(d) => body = format!(r#"{{"durationSeconds":{d}}}"#).into_bytes(),
            Edit::SessionName(n) => {
                body = serde_json::json!({"durationSeconds": 3600, "roleSessionName": n})
                    .to_string()
                    .into_bytes()
            }
            Edit::Skew(s) => {
                date = f
                    .now
                    .checked_add(jiff::SignedDuration::from_secs(i64::from(s)))
                    .unwrap_or(f.now)
            }
            Edit::Algorithm(a) => algorithm = a,
            Edit::Scope(s) => scope_override = Some(s),
            Edit::Serial(s) => serial = s,
            Edit::Unsigned(n) => unsigned.push(n.to_ascii_lowercase()),
        }
    }
    let amz_date = sigv4::amz_date(date);
    if !date_edited {
        for (n, v) in &mut headers {
            if n == "X-Amz-Date" {
                v.clone_from(&amz_date);
            }
        }
    }
    let query = raw_query.unwrap_or_else(|| sigv4::canonical_query(&params));
    let scope = scope_override.unwrap_or_else(|| {
        format!(
            "{}/us-east-1/rolesanywhere/aws4_request",
            sigv4::date_stamp(date)
        )
    });
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| !unsigned.contains(&n.to_ascii_lowercase()))
        .cloned()
        .collect();
    let ch = sigv4::canonical_headers(&signed);
    // The server canonicalises the query it parsed; sign what it will compute.
    let cr = sigv4::canonical_request(
        "POST",
        "/sessions",
        &sigv4::canonical_query(&params),
        &ch,
        &sigv4::sha256_hex(&body),
    );
    let sts = sigv4::string_to_sign(&algorithm, &amz_date, &scope, &cr);
    let forged = input.forged_signature.is_some();
    let signature = match input.forged_signature {
        Some(s) => s,
        None => f
            .signer
            .sign(&f.rng, sts.as_bytes())
            .expect("the fixed key signs")
            .as_ref()
            .to_vec(),
    };
    headers.push((
        "Authorization".into(),
        sigv4::authorization(&algorithm, &serial, &scope, &ch.signed, &signature),
    ));
    let result = verify_request(&f.config, &method, &path, &query, &headers, &body, f.now);
    if edits_empty && !forged {
        if let Err(e) = &result {
            panic!("the unedited request must pass: {e}");
        }
    }
    if let Ok(grant) = result {
        assert!((900..=43200).contains(&grant.duration_seconds));
        assert!(grant.expiration > f.now);
        assert_eq!(grant.serial, f.leaf.serial_decimal());
    }
});
