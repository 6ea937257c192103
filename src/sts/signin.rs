//! Console sign-in through the AWS federation endpoint.
//!
//! Wire contract (public, as used by AWS's "custom identity broker" guide and aws-vault):
//! `GET {endpoint}?Action=getSigninToken[&SessionDuration=SECONDS]&Session={JSON}` where the
//! JSON is `{"sessionId": ACCESS_KEY_ID, "sessionKey": SECRET_ACCESS_KEY, "sessionToken":
//! SESSION_TOKEN}` (temporary credentials of a role or a federated user), answered with
//! `{"SigninToken": "…"}`; then the browser opens
//! `{endpoint}?Action=login&Issuer=…&Destination=CONSOLE_URL&SigninToken=…`.
//!
//! Endpoints per partition: `https://signin.aws.amazon.com/federation`,
//! `https://signin.amazonaws.cn/federation` (`cn-` regions),
//! `https://signin.amazonaws-us-gov.com/federation` (`us-gov-` regions).
//!
//! The first request carries the secret key and session token, the sign-in URL a bearer
//! token: neither is logged (`--debug` shows them redacted) nor put in an error.

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;
use crate::protocol::http::{HttpClient, TransportError};
use crate::protocol::sigv4::uri_encode;
use crate::sts::signin_error::SigninError;

/// What `SessionDuration` may be (console sessions from role credentials).
pub const SESSION_DURATION: std::ops::RangeInclusive<i64> = 900..=43_200;

/// The `Issuer` of the sign-in URL.
pub const ISSUER: &str = "aws-signing-helper";

/// The federation endpoint of `region`'s partition (the commercial one without a region).
pub fn federation_endpoint(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "https://signin.amazonaws.cn/federation",
        Some(r) if r.starts_with("us-gov-") => "https://signin.amazonaws-us-gov.com/federation",
        _ => "https://signin.aws.amazon.com/federation",
    }
}

/// The console URL to land on: `destination` when it is a URL, else that path (or the console
/// home) on the console of `region`'s partition, in `region`.
pub fn destination(region: Option<&str>, destination: Option<&str>) -> String {
    if let Some(d) = destination.filter(|d| d.starts_with("https://")) {
        return d.to_string();
    }
    let domain = match region {
        Some(r) if r.starts_with("cn-") => "console.amazonaws.cn",
        Some(r) if r.starts_with("us-gov-") => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    };
    let path = destination
        .map(|d| d.trim_start_matches('/'))
        .filter(|d| !d.is_empty())
        .unwrap_or("console/home");
    match region {
        Some(r) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("https://{r}.{domain}/{path}{sep}region={}", uri_encode(r))
        }
        None => format!("https://{domain}/{path}"),
    }
}

#[derive(Deserialize)]
struct SigninTokenAnswer {
    #[serde(rename = "SigninToken")]
    signin_token: Option<Zeroizing<String>>,
}

#[derive(serde::Serialize)]
struct Session<'a> {
    #[serde(rename = "sessionId")]
    id: &'a str,
    #[serde(rename = "sessionKey")]
    key: &'a str,
    #[serde(rename = "sessionToken")]
    token: &'a str,
}

/// The `Session` JSON of `creds`, in a buffer that never reallocates (no stray copies of the
/// secrets are left behind).
fn session_json(creds: &Credentials) -> Result<Zeroizing<Vec<u8>>> {
    let session = Session {
        id: &creds.access_key_id,
        key: &creds.secret_access_key,
        token: &creds.session_token,
    };
    // JSON escapes a byte into at most 6.
    let len = session.id.len() + session.key.len() + session.token.len();
    let mut out = Zeroizing::new(Vec::with_capacity(6 * len + 64));
    serde_json::to_writer(&mut *out, &session).map_err(|source| SigninError::Encode { source })?;
    Ok(out)
}

/// Appends `bytes` percent-encoded (RFC 3986 unreserved characters kept) to `out`, reserving
/// first so that a secret is never copied by a reallocation.
fn push_encoded(out: &mut Zeroizing<String>, bytes: &[u8]) {
    if out.capacity() - out.len() < 3 * bytes.len() {
        let mut bigger = Zeroizing::new(String::with_capacity(out.len() + 3 * bytes.len() + 256));
        bigger.push_str(out);
        *out = bigger;
    }
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
    }
}

/// Exchanges temporary `creds` for a sign-in token at `endpoint`.
pub fn signin_token(
    client: &HttpClient,
    endpoint: &str,
    creds: &Credentials,
    session_duration: Option<i64>,
) -> Result<Zeroizing<String>> {
    if creds.session_token.is_empty() {
        return Err(SigninError::LongTermKeys.into());
    }
    if let Some(d) = session_duration {
        crate::sts::session::check_duration(
            "--session-duration",
            d,
            SESSION_DURATION,
            "the console",
        )?;
    }
    let duration = session_duration
        .map(|d| format!("&SessionDuration={d}"))
        .unwrap_or_default();
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let mut url = Zeroizing::new(format!(
        "{endpoint}{sep}Action=getSigninToken{duration}&Session="
    ));
    push_encoded(&mut url, &session_json(creds)?);
    log::debug!("GET {endpoint}{sep}Action=getSigninToken{duration}&Session=** redacted **");
    let resp = client.get(&url, &[]).map_err(|e| SigninError::Transport {
        endpoint: endpoint.to_string(),
        // The transport's message never holds the query (ureq prints no URL), but make sure.
        source: TransportError {
            message: e.message.replace(url.as_str(), endpoint),
            kind: e.kind,
        },
    })?;
    log::debug!("getSigninToken: HTTP {}", resp.status);
    let body = Zeroizing::new(resp.body);
    if resp.status != 200 {
        return Err(SigninError::Status {
            endpoint: endpoint.to_string(),
            status: resp.status,
        }
        .into());
    }
    parse_signin_token(&body, endpoint)
}

/// The token of a getSigninToken answer (`{"SigninToken": "…"}`) from `endpoint` (named in
/// the errors).
pub fn parse_signin_token(body: &[u8], endpoint: &str) -> Result<Zeroizing<String>> {
    let answer: SigninTokenAnswer =
        serde_json::from_slice(body).map_err(|e| SigninError::NotAnswer {
            endpoint: endpoint.to_string(),
            source: e.into(),
        })?;
    Ok(answer
        .signin_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| SigninError::NoToken {
            endpoint: endpoint.to_string(),
        })?)
}

/// The sign-in URL for `token`, landing on `destination`.
pub fn login_url(endpoint: &str, destination: &str, token: &str) -> Zeroizing<String> {
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let mut url = Zeroizing::new(format!(
        "{endpoint}{sep}Action=login&Issuer={}&Destination={}&SigninToken=",
        uri_encode(ISSUER),
        uri_encode(destination),
    ));
    push_encoded(&mut url, token.as_bytes());
    url
}

/// `url` with its sign-in token hidden, for `--debug`.
pub fn redacted(url: &str) -> String {
    match url.find("SigninToken=") {
        Some(i) => format!("{}SigninToken=** redacted **", &url[..i]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_destinations_follow_the_partition() {
        assert_eq!(
            federation_endpoint(None),
            "https://signin.aws.amazon.com/federation"
        );
        assert_eq!(
            federation_endpoint(Some("cn-north-1")),
            "https://signin.amazonaws.cn/federation"
        );
        assert_eq!(
            federation_endpoint(Some("us-gov-west-1")),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            destination(None, None),
            "https://console.aws.amazon.com/console/home"
        );
        assert_eq!(
            destination(Some("eu-west-3"), None),
            "https://eu-west-3.console.aws.amazon.com/console/home?region=eu-west-3"
        );
        assert_eq!(
            destination(Some("cn-north-1"), Some("/s3/home")),
            "https://cn-north-1.console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        assert_eq!(
            destination(Some("eu-west-3"), Some("https://example.com/x")),
            "https://example.com/x"
        );
    }

    #[test]
    fn the_login_url_encodes_and_redacts() {
        let url = login_url(
            "https://signin.aws.amazon.com/federation",
            "https://console.aws.amazon.com/console/home?region=a",
            "tok+/=",
        );
        assert_eq!(
            url.as_str(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=aws-signing-helper&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Da&SigninToken=tok%2B%2F%3D"
        );
        let r = redacted(&url);
        assert!(
            !r.contains("tok") && r.ends_with("SigninToken=** redacted **"),
            "{r}"
        );
    }

    #[test]
    fn the_session_is_the_three_keys_encoded_like_sigv4() {
        let creds = Credentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: Zeroizing::new("se\"cret/+".into()),
            session_token: Zeroizing::new("tok=".into()),
            expiration: String::new(),
            account_id: None,
        };
        let json = session_json(&creds).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"sessionId": "ASIAX", "sessionKey": "se\"cret/+", "sessionToken": "tok="})
        );
        let mut out = Zeroizing::new(String::from("x="));
        push_encoded(&mut out, &json);
        assert_eq!(
            out.as_str(),
            format!("x={}", uri_encode(std::str::from_utf8(&json).unwrap()))
        );
    }
}
