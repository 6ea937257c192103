//! The `serve` routes (IMDSv2 plus the container-credentials route): method, path, headers and
//! the order of requests are untrusted; tokens and credentials are the secrets they guard.
//!
//! The input is a sequence of requests against one server state holding credentials. A model of
//! the issued IMDSv2 tokens decides what each answer may be: credentials only for a live token
//! (or the container bearer token), never a secret in any other answer, redirects that stay on
//! this server with a clean path.
#![no_main]

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::serve::cache::{render, CredentialCache, Rendered};
use aws_signing_helper::serve::routes::{
    handle, Clock, HostPolicy, State, CONTAINER_PATH, ROLES_PATH, TOKEN_PATH,
};
use aws_signing_helper::serve::tokens::{MAX_TOKENS, TOKEN_LEN};
use hyper::body::{Body, Bytes};
use hyper::Request;
use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

const ROLE: &str = "FuzzRole";
const SECRET: &str = "fuzz-secret-access-key-0123456789abcdef";
const SESSION: &str = "fuzz-session-token-0123456789abcdef";
const BEARER: &str = "fuzz-container-bearer-token-0123456789";
const EXPIRES: &str = "2031-01-01T00:00:00Z";

#[derive(Arbitrary, Debug)]
enum Base {
    Token,
    Roles,
    Role,
    Container,
    Root,
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Put,
    Head,
    Post,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum TokenChoice {
    /// One of the tokens issued so far (by index).
    Issued(u8),
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Header {
    Ttl(Vec<u8>),
    Token(TokenChoice),
    /// The container bearer token (true) or these bytes.
    Authorization(bool, Vec<u8>),
    ForwardedFor(Vec<u8>),
    Other(String, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Host {
    /// `127.0.0.1` with or without a port.
    Loopback(Option<u16>),
    Localhost,
    /// Any bytes (a rebinding page's name, garbage, an allowed name by chance).
    Bytes(Vec<u8>),
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Req {
    host: Host,
    method: Method,
    base: Base,
    /// Appended to the base path; may hold a query.
    suffix: String,
    headers: Vec<Header>,
    /// Seconds the monotonic clock moves before this request.
    wait: u16,
    /// Ask with a wall clock past the credentials' expiry.
    expired: bool,
}

fn rendered() -> &'static Rendered {
    static R: OnceLock<Rendered> = OnceLock::new();
    R.get_or_init(|| {
        let creds = Credentials {
            access_key_id: "ASIAFUZZEXAMPLE".into(),
            secret_access_key: Zeroizing::new(SECRET.into()),
            session_token: Zeroizing::new(SESSION.into()),
            expiration: EXPIRES.into(),
            account_id: Some("111122223333".into()),
        };
        render(&creds, &jiff::Zoned::now()).expect("fixed credentials render")
    })
}

/// `Full` bodies are ready at once; poll without a runtime.
fn body(r: hyper::Response<http_body_util::Full<Bytes>>) -> Bytes {
    let mut b = r.into_body();
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut b).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        Poll::Ready(None) => Bytes::new(),
        Poll::Ready(Some(Err(e))) => match e {},
        Poll::Pending => panic!("a Full body was not ready"),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn at_or_below(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fuzz_target!(|reqs: Vec<Req>| {
    let cache = Arc::new(CredentialCache::new());
    cache.set(rendered().clone());
    let state = State::new(ROLE, cache, Zeroizing::new(BEARER.into()));
    let role_path = format!("{ROLES_PATH}/{ROLE}");
    let start = Instant::now();
    let mut mono = start;
    let valid_wall: Timestamp = "2030-06-01T00:00:00Z".parse().expect("fixed time");
    let late_wall: Timestamp = EXPIRES.parse().expect("fixed time");
    // (token, expiry on the monotonic clock)
    let mut issued: Vec<(String, Instant)> = Vec::new();

    for req in reqs.into_iter().take(64) {
        mono = mono
            .checked_add(Duration::from_secs(u64::from(req.wait)))
            .unwrap_or(mono);
        let method = match &req.method {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Other(m) => m.as_str(),
        };
        let base = match req.base {
            Base::Token => TOKEN_PATH,
            Base::Roles => ROLES_PATH,
            Base::Role => role_path.as_str(),
            Base::Container => CONTAINER_PATH,
            Base::Root => "",
        };
        let uri = format!("{base}{}", req.suffix);
        let mut builder = Request::builder().method(method).uri(uri.as_str());
        let host_known_good = match &req.host {
            Host::Loopback(None) => {
                builder = builder.header("host", "127.0.0.1");
                true
            }
            Host::Loopback(Some(p)) => {
                builder = builder.header("host", format!("127.0.0.1:{p}"));
                true
            }
            Host::Localhost => {
                builder = builder.header("host", "localhost");
                true
            }
            Host::Bytes(b) => {
                builder = builder.header("host", b.as_slice());
                false
            }
            Host::Missing => false,
        };
        let mut sent_token: Option<String> = None;
        let mut sent_bearer = false;
        let mut sent_ttl = false;
        for h in &req.headers {
            builder = match h {
                Header::Ttl(v) => {
                    sent_ttl = true;
                    builder.header("x-aws-ec2-metadata-token-ttl-seconds", v.as_slice())
                }
                Header::Token(TokenChoice::Issued(i)) if !issued.is_empty() => {
                    let t = issued[usize::from(*i) % issued.len()].0.clone();
                    sent_token = Some(t.clone());
                    builder.header("x-aws-ec2-metadata-token", t)
                }
                Header::Token(TokenChoice::Issued(_)) => builder,
                Header::Token(TokenChoice::Bytes(b)) => {
                    builder.header("x-aws-ec2-metadata-token", b.as_slice())
                }
                Header::Authorization(true, _) => {
                    sent_bearer = true;
                    builder.header("authorization", BEARER)
                }
                Header::Authorization(false, b) => builder.header("authorization", b.as_slice()),
                Header::ForwardedFor(b) => builder.header("x-forwarded-for", b.as_slice()),
                Header::Other(n, v) => builder.header(n.as_str(), v.as_slice()),
            };
        }
        let Ok(request) = builder.body(()) else {
            // Not something hyper would hand us (bad method, URI or header).
            continue;
        };
        let path = request.uri().path().to_string();
        let policy = HostPolicy::new(std::net::Ipv4Addr::LOCALHOST.into(), &[]);
        let hosts: Vec<_> = request.headers().get_all("host").iter().collect();
        let absolute = request.uri().authority().is_some() || request.uri().scheme().is_some();
        // hyper's `HeaderMap::get` reads the first Host; the server sees the same.
        let host_allowed = hosts.first().is_some_and(|h| policy.allows(h.as_bytes()));
        if host_known_good && hosts.len() == 1 {
            assert!(host_allowed, "a loopback Host refused");
        }
        let wall = if req.expired { late_wall } else { valid_wall };
        let resp = handle(&state, &request, Clock { mono, wall });
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.as_bytes().to_vec());
        let body = body(resp);
        if absolute || !host_allowed {
            // Refused before routing, with nothing in the body.
            assert_eq!(
                status, 403,
                "foreign Host or absolute-form target answered: {uri}"
            );
            assert!(body.is_empty(), "a refusal with a body");
            continue;
        }

        // No secret ever leaves except as a credentials answer.
        let credentials_answer = status == 200
            && request.method() == hyper::Method::GET
            && (at_or_below(&path, &role_path) || path == CONTAINER_PATH);
        // (A redirect echoes the path, so a secret the request itself carried may come back.)
        let echoed = |secret: &str| {
            contains(uri.as_bytes(), secret)
                || request
                    .headers()
                    .values()
                    .any(|v| contains(v.as_bytes(), secret))
        };
        for secret in [SECRET, SESSION, BEARER] {
            if !echoed(secret) && (!credentials_answer || secret == BEARER) {
                assert!(
                    !contains(&body, secret),
                    "secret in a {status} answer to {uri}"
                );
            }
        }

        let unclean = ["//", "/./", "/../"].iter().any(|p| path.contains(p))
            || path.ends_with("/.")
            || path.ends_with("/..");
        assert_eq!(
            status == 301,
            unclean,
            "redirects are for unclean paths only: {path}"
        );
        if let Some(location) = location {
            assert_eq!(status, 301);
            let location = String::from_utf8(location).expect("Location is text");
            let target = location.split('?').next().unwrap_or_default();
            assert!(
                target.starts_with('/'),
                "redirect off the server: {location}"
            );
            for bad in ["//", "/./", "/../"] {
                assert!(!target.contains(bad), "unclean redirect {location}");
            }
        }

        if status == 200 && at_or_below(&path, TOKEN_PATH) {
            assert_eq!(request.method(), hyper::Method::PUT);
            assert_eq!(body.len(), TOKEN_LEN);
            let token = String::from_utf8(body.to_vec()).expect("tokens are text");
            let ttl = request
                .headers()
                .get("x-aws-ec2-metadata-token-ttl-seconds")
                .map_or(Ok(21_600), |v| {
                    std::str::from_utf8(v.as_bytes())
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok())
                        .ok_or(())
                });
            let ttl = ttl.expect("a 200 token answer had a numeric TTL");
            assert!((1..=21_600).contains(&ttl), "token issued for TTL {ttl}");
            assert!(!issued.iter().any(|(t, _)| *t == token), "token repeated");
            issued.push((token, mono + Duration::from_secs(ttl as u64)));
            continue;
        }
        if request.method() == hyper::Method::PUT && at_or_below(&path, TOKEN_PATH) && !sent_ttl {
            // No TTL asked: only X-Forwarded-For can refuse a token (or an unclean path
            // redirect it first).
            assert!(
                status == 200 || status == 301 || request.headers().contains_key("x-forwarded-for"),
                "token refused: {status}"
            );
        }

        if at_or_below(&path, &role_path) && request.method() == hyper::Method::GET {
            let live = request
                .headers()
                .get("x-aws-ec2-metadata-token")
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .and_then(|t| issued.iter().find(|(i, _)| i == t))
                .is_some_and(|(_, exp)| mono <= *exp);
            if status == 200 {
                assert!(live, "credentials without a live token");
                assert!(!req.expired, "expired credentials served");
                let json: serde_json::Value =
                    serde_json::from_slice(&body).expect("credentials are JSON");
                assert_eq!(json["Code"], "Success");
                assert_eq!(json["SecretAccessKey"], SECRET);
            } else if live && issued.len() <= MAX_TOKENS && sent_token.is_some() {
                // A live token that was never evicted must be honoured (503 once expired).
                let only_one_token_header = request
                    .headers()
                    .get_all("x-aws-ec2-metadata-token")
                    .iter()
                    .count()
                    == 1;
                if only_one_token_header && !unclean {
                    assert!(req.expired && status == 503, "live token refused: {status}");
                }
            }
        }
        if path == CONTAINER_PATH && request.method() == hyper::Method::GET && status == 200 {
            assert!(
                sent_bearer,
                "container credentials without the bearer token"
            );
            assert!(!req.expired);
        }
    }
});
