//! Signature Version 4: canonical request, string to sign, `Authorization` header.
//!
//! Pure functions, no I/O and no clock: callers pass the time in. Two variants share this code:
//! Roles Anywhere's `AWS4-X509-*` (the string to sign is signed with the certificate's private
//! key, and `Credential=` carries the certificate serial in decimal) and the classic
//! `AWS4-HMAC-SHA256` used for STS (see [`hmac_signature`]).
//!
//! Canonical request (lines joined by `\n`):
//! `METHOD`, canonical URI, canonical query, canonical headers (each `name:value`), an empty
//! line, signed header names joined by `;`, and hex SHA-256 of the payload.

use jiff::Timestamp;

/// `YYYYMMDDTHHMMSSZ` in UTC, the `X-Amz-Date` format.
pub fn amz_date(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// `YYYYMMDD` in UTC, the date part of the credential scope.
pub fn date_stamp(t: Timestamp) -> String {
    t.strftime("%Y%m%d").to_string()
}

/// Percent-encodes everything but `A–Z a–z 0–9 - _ . ~`, with upper-case hex (RFC 3986).
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
    }
    out
}

/// The canonical query string: parameters encoded, sorted by name then value, joined by `&`.
/// The same text is what we send on the wire, so the two can never disagree.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k.as_ref()), uri_encode(v.as_ref())))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Canonical headers and the signed-headers list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalHeaders {
    /// `name:value\n` for every header, sorted by lower-case name.
    pub canonical: String,
    /// The lower-case names joined by `;`.
    pub signed: String,
}

/// Builds the canonical header block from (name, value) pairs. Names are lower-cased and
/// sorted, values of repeated names joined by `,`, and each entry has its surrounding spaces
/// trimmed and inner runs of spaces collapsed to one.
pub fn canonical_headers<N: AsRef<str>, V: AsRef<str>>(headers: &[(N, V)]) -> CanonicalHeaders {
    let mut merged: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in headers {
        let name = name.as_ref().to_ascii_lowercase();
        let value = collapse_spaces(value.as_ref().trim_matches(' '));
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => merged.push((name, vec![value])),
        }
    }
    merged.sort_by(|a, b| a.0.cmp(&b.0));
    let mut canonical = String::new();
    for (name, values) in &merged {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(&values.join(","));
        canonical.push('\n');
    }
    let signed = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    CanonicalHeaders { canonical, signed }
}

fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = false;
    for c in s.chars() {
        if c == ' ' {
            if !prev_space {
                out.push(c);
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    out
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// The canonical request text.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &CanonicalHeaders,
    payload_sha256_hex: &str,
) -> String {
    format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{}\n{}\n{payload_sha256_hex}",
        headers.canonical, headers.signed
    )
}

/// `YYYYMMDD/region/service/aws4_request`.
pub fn credential_scope(t: Timestamp, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}/aws4_request", date_stamp(t))
}

/// `ALGORITHM\nX-Amz-Date\nSCOPE\nhex(SHA-256(canonical request))`.
pub fn string_to_sign(
    algorithm: &str,
    amz_date: &str,
    scope: &str,
    canonical_request: &str,
) -> String {
    format!(
        "{algorithm}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// `ALGORITHM Credential=ID/SCOPE, SignedHeaders=LIST, Signature=HEX`.
pub fn authorization(
    algorithm: &str,
    credential_id: &str,
    scope: &str,
    signed_headers: &str,
    signature: &[u8],
) -> String {
    format!(
        "{algorithm} Credential={credential_id}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        hex::encode(signature)
    )
}

/// The parts of a parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub algorithm: String,
    /// What precedes the scope in `Credential=` (a serial number or an access key id).
    pub credential_id: String,
    pub scope: String,
    pub signed_headers: Vec<String>,
    pub signature: Vec<u8>,
}

/// Parses an `Authorization` header of the form [`authorization`] writes.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let (algorithm, rest) = header.trim().split_once(' ')?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let (credential_id, scope) = credential?.split_once('/')?;
    Some(ParsedAuthorization {
        algorithm: algorithm.to_string(),
        credential_id: credential_id.to_string(),
        scope: scope.to_string(),
        signed_headers: signed?.split(';').map(str::to_string).collect(),
        signature: hex::decode(signature?).ok()?,
    })
}

/// The classic SigV4 HMAC signature: derives the signing key from the secret and signs the
/// string to sign with HMAC-SHA256.
pub fn hmac_signature(
    secret_access_key: &str,
    t: Timestamp,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> Vec<u8> {
    use aws_lc_rs::hmac;
    let sign = |key: &[u8], data: &[u8]| -> Vec<u8> {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
            .as_ref()
            .to_vec()
    };
    let secret = zeroize::Zeroizing::new(format!("AWS4{secret_access_key}"));
    let k_date = zeroize::Zeroizing::new(sign(secret.as_bytes(), date_stamp(t).as_bytes()));
    let k_region = zeroize::Zeroizing::new(sign(&k_date, region.as_bytes()));
    let k_service = zeroize::Zeroizing::new(sign(&k_region, service.as_bytes()));
    let k_signing = zeroize::Zeroizing::new(sign(&k_service, b"aws4_request"));
    sign(&k_signing, string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn encodes_like_query_escape_with_percent_20() {
        assert_eq!(
            uri_encode("arn:aws:iam::1:role/a b+c~"),
            "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc~"
        );
    }

    #[test]
    fn query_is_sorted() {
        let q = canonical_query(&[
            ("trustAnchorArn", "t"),
            ("profileArn", "p"),
            ("roleArn", "r"),
        ]);
        assert_eq!(q, "profileArn=p&roleArn=r&trustAnchorArn=t");
    }

    #[test]
    fn headers_are_lowercased_sorted_trimmed_and_collapsed() {
        let h = canonical_headers(&[
            ("X-Amz-Date", " 20240101T000000Z "),
            ("Host", "a  b   c"),
            ("x-multi", "1"),
            ("X-Multi", "2"),
        ]);
        assert_eq!(
            h.canonical,
            "host:a b c\nx-amz-date:20240101T000000Z\nx-multi:1,2\n"
        );
        assert_eq!(h.signed, "host;x-amz-date;x-multi");
    }

    #[test]
    fn spec_worked_layout() {
        // The body {"durationSeconds":3600} has this SHA-256.
        let body = br#"{"durationSeconds":3600}"#;
        assert_eq!(
            sha256_hex(body),
            "1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27"
        );
        let t = ts("2024-01-01T00:00:00Z");
        assert_eq!(amz_date(t), "20240101T000000Z");
        assert_eq!(
            credential_scope(t, "us-east-1", "rolesanywhere"),
            "20240101/us-east-1/rolesanywhere/aws4_request"
        );
        let h = canonical_headers(&[
            ("Content-Type", "application/json"),
            ("Host", "rolesanywhere.us-east-1.amazonaws.com"),
            ("X-Amz-Date", "20240101T000000Z"),
        ]);
        let cr = canonical_request("POST", "/sessions", "a=b", &h, &sha256_hex(body));
        assert_eq!(
            cr,
            "POST\n/sessions\na=b\ncontent-type:application/json\nhost:rolesanywhere.us-east-1.amazonaws.com\nx-amz-date:20240101T000000Z\n\ncontent-type;host;x-amz-date\n1a15f67f6619aa540b13e9a4c37d149fb2c9bdea25d82b73a3878826694dfe27"
        );
    }

    #[test]
    fn authorization_round_trips() {
        let a = authorization(
            "AWS4-X509-RSA-SHA256",
            "123456789",
            "20240101/us-east-1/rolesanywhere/aws4_request",
            "host;x-amz-date",
            &[0xab, 0x01],
        );
        assert_eq!(a, "AWS4-X509-RSA-SHA256 Credential=123456789/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab01");
        let p = parse_authorization(&a).unwrap();
        assert_eq!(p.credential_id, "123456789");
        assert_eq!(p.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(p.signature, vec![0xab, 0x01]);
        assert!(parse_authorization("garbage").is_none());
    }

    /// The `get-vanilla` case of the public AWS SigV4 test suite.
    #[test]
    fn hmac_matches_aws_test_suite_get_vanilla() {
        let t = ts("2015-08-30T12:36:00Z");
        let h = canonical_headers(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ]);
        let cr = canonical_request("GET", "/", "", &h, &sha256_hex(b""));
        let scope = credential_scope(t, "us-east-1", "service");
        let sts = string_to_sign("AWS4-HMAC-SHA256", &amz_date(t), &scope, &cr);
        let sig = hmac_signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            t,
            "us-east-1",
            "service",
            &sts,
        );
        assert_eq!(
            hex::encode(sig),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
