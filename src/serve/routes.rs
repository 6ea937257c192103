//! Request → response, without sockets (the IMDSv2 routes, plus the container-credentials route).
//!
//! Everything here is synchronous and takes the time as an argument, so it can be unit-tested
//! and fuzzed directly. Nothing here logs a token or a credential.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use jiff::Timestamp;
use zeroize::Zeroizing;

use super::cache::CredentialCache;
use super::tokens::{self, TokenStore};

/// IMDSv2 token route (and everything below it).
pub const TOKEN_PATH: &str = "/latest/api/token";
/// Role-name route; the credentials route is this plus `/ROLE`.
pub const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials";
/// Container-credentials route (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
pub const CONTAINER_PATH: &str = "/v1/credentials";

const TOKEN_HEADER: HeaderName = HeaderName::from_static("x-aws-ec2-metadata-token");
const TTL_HEADER: HeaderName = HeaderName::from_static("x-aws-ec2-metadata-token-ttl-seconds");
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const NOSNIFF: HeaderName = HeaderName::from_static("x-content-type-options");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The response type of every route.
pub type Resp = Response<Full<Bytes>>;

/// The two clocks a request is judged by: monotonic for tokens, wall for credential expiry.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub mono: Instant,
    pub wall: Timestamp,
}

impl Clock {
    /// The current time.
    pub fn now() -> Self {
        Clock {
            mono: Instant::now(),
            wall: Timestamp::now(),
        }
    }
}

/// The names SDKs use for the instance and container metadata endpoints (reached through a
/// redirect or a container network), always answered.
pub const METADATA_HOSTS: &[&str] = &["169.254.169.254", "[fd00:ec2::254]", "169.254.170.2"];

/// How often at most a refused `Host` is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// Which `Host` header values are answered: the listening address, `localhost`, the metadata
/// names, and names given with `--allow-host`. Anything else (DNS rebinding: a web page whose
/// name now resolves to 127.0.0.1) gets 403.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
    /// Exact `Host` values answered without parsing (what SDKs send: `IP:PORT`).
    exact: Vec<Vec<u8>>,
}

impl HostPolicy {
    /// Answers `listen`'s IP, `localhost`, [`METADATA_HOSTS`] and `extra` (names or IPs, IPv6 in
    /// brackets or not), each with or without a port.
    pub fn new(listen: std::net::IpAddr, extra: &[String]) -> Self {
        let ip_name = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let mut names = vec!["localhost".to_string(), ip_name(listen)];
        names.extend(METADATA_HOSTS.iter().map(|s| s.to_string()));
        for e in extra {
            let e = e.trim().to_ascii_lowercase();
            match e.parse::<std::net::IpAddr>() {
                Ok(ip) => names.push(ip_name(ip)),
                Err(_) => names.push(e),
            }
        }
        HostPolicy {
            names,
            exact: Vec::new(),
        }
    }

    /// Answers `NAME:port` for the listening address and `localhost` on a fast path (the
    /// general rules still apply to every other value).
    pub fn with_port(mut self, port: u16) -> Self {
        self.exact = self.names[..2]
            .iter()
            .map(|n| format!("{n}:{port}").into_bytes())
            .collect();
        self
    }

    /// Whether a request with this `Host` value is answered.
    pub fn allows(&self, host: &[u8]) -> bool {
        self.allows_on(host, None)
    }

    /// [`HostPolicy::allows`], also answering the IP literal of `local`, the address the
    /// client actually connected to (for a server bound to `0.0.0.0`): a DNS-rebinding page
    /// sends its own name, never our address.
    pub fn allows_on(&self, host: &[u8], local: Option<std::net::IpAddr>) -> bool {
        if self.exact.iter().any(|e| e.as_slice() == host) {
            return true;
        }
        let Ok(host) = std::str::from_utf8(host) else {
            return false;
        };
        let (name, port) = if host.starts_with('[') {
            match host.find(']') {
                Some(end) => (&host[..=end], &host[end + 1..]),
                None => return false,
            }
        } else {
            match host.find(':') {
                Some(colon) => (&host[..colon], &host[colon..]),
                None => (host, ""),
            }
        };
        let port_ok = port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
        if !port_ok {
            return false;
        }
        if name.starts_with('[') {
            // Compare IPv6 addresses in their canonical form ([::1] == [0:0::1]).
            let Ok(ip) = name[1..name.len() - 1].parse::<std::net::Ipv6Addr>() else {
                return false;
            };
            let canonical = format!("[{ip}]");
            return self.names.contains(&canonical)
                || local.is_some_and(|l| l == std::net::IpAddr::V6(ip));
        }
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
            || local.is_some_and(|l| {
                l.is_ipv4() && name.parse::<std::net::Ipv4Addr>().is_ok_and(|v4| l == v4)
            })
    }
}

#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    suppressed: u64,
}

/// What the routes share: the role name, the token store, the credentials, the container
/// bearer token, the bindings and the `Host` policy.
pub struct State {
    role_path: String,
    role_name: Bytes,
    tokens: Mutex<TokenStore>,
    cache: Arc<CredentialCache>,
    container_token: Zeroizing<String>,
    hosts: HostPolicy,
    refusals: Mutex<RefusalLog>,
    /// More roles on `/v1/credentials/NAME`: each with its bearer token and credentials.
    bindings: std::collections::HashMap<String, (Zeroizing<String>, Arc<CredentialCache>)>,
}

impl State {
    /// Routes for `role_name` (must not be empty nor contain `/`), serving from `cache`, with
    /// `container_token` guarding the container route.
    pub fn new(
        role_name: &str,
        cache: Arc<CredentialCache>,
        container_token: Zeroizing<String>,
    ) -> Self {
        State {
            role_path: format!("{ROLES_PATH}/{role_name}"),
            role_name: Bytes::copy_from_slice(role_name.as_bytes()),
            tokens: Mutex::new(TokenStore::new()),
            cache,
            container_token,
            hosts: HostPolicy::new(std::net::Ipv4Addr::LOCALHOST.into(), &[]),
            refusals: Mutex::new(RefusalLog::default()),
            bindings: std::collections::HashMap::new(),
        }
    }

    /// Serves each `(name, bearer token, credentials)` at `/v1/credentials/NAME`.
    pub fn with_bindings(
        mut self,
        bindings: Vec<(String, Zeroizing<String>, Arc<CredentialCache>)>,
    ) -> Self {
        self.bindings = bindings
            .into_iter()
            .map(|(name, token, cache)| (name, (token, cache)))
            .collect();
        self
    }

    /// Answers only requests whose `Host` this policy allows (the default allows the IPv4
    /// loopback address, `localhost` and the metadata names).
    pub fn with_hosts(mut self, hosts: HostPolicy) -> Self {
        self.hosts = hosts;
        self
    }

    /// Logs a refused `Host` at most every [`REFUSAL_LOG_EVERY`], with the number left unlogged.
    fn log_refused(&self, what: &str, host: &[u8], now: Instant) {
        let mut log = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        if log
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < REFUSAL_LOG_EVERY)
        {
            log.suppressed += 1;
            return;
        }
        let shown: String = String::from_utf8_lossy(host).chars().take(80).collect();
        let more = match std::mem::take(&mut log.suppressed) {
            0 => String::new(),
            n => format!(" ({n} more refused requests since the last such line)"),
        };
        log.last = Some(now);
        log::warn!(
            "refused a request {what} {shown:?}: not this server's address (a web page using DNS rebinding?); pass --allow-host NAME to answer that name{more}"
        );
    }

    /// Drops expired tokens.
    pub fn purge_tokens(&self, now: Instant) {
        self.lock_tokens().purge(now);
    }

    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, TokenStore> {
        // A panic while holding the lock cannot leave the map inconsistent for our purposes.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn response(status: StatusCode, content_type: Option<HeaderValue>, body: Bytes) -> Resp {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut().insert(CONTENT_TYPE, ct);
    }
    r
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    response(status, Some(TEXT), Bytes::from_static(body.as_bytes()))
}

fn empty(status: StatusCode) -> Resp {
    response(status, None, Bytes::new())
}

fn not_found() -> Resp {
    let mut r = text(StatusCode::NOT_FOUND, "404 page not found\n");
    r.headers_mut()
        .insert(NOSNIFF, HeaderValue::from_static("nosniff"));
    r
}

fn unavailable(content_type: HeaderValue) -> Resp {
    response(
        StatusCode::SERVICE_UNAVAILABLE,
        Some(content_type),
        Bytes::from_static(
            b"{\"Code\":\"CredentialsUnavailable\",\"Message\":\"no valid credentials: refreshing them failed, see the serve log\"}\n",
        ),
    )
}

/// Go's `path.Clean`, keeping a trailing slash like Go's ServeMux does.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() || path.ends_with('/') {
        out.push('/');
    }
    out
}

fn is_clean(path: &str) -> bool {
    !(path.contains("//")
        || path.contains("/./")
        || path.contains("/../")
        || path.ends_with("/.")
        || path.ends_with("/.."))
}

fn redirect(method: &Method, path: &str, query: Option<&str>) -> Resp {
    let mut location = clean_path(path);
    if let Some(q) = query {
        location.push('?');
        location.push_str(q);
    }
    let Ok(value) = HeaderValue::from_str(&location) else {
        return not_found();
    };
    let mut r = if method == Method::GET || method == Method::HEAD {
        let body = format!(
            "<a href=\"{}\">Moved Permanently</a>.\n\n",
            html_escape(&location)
        );
        response(
            StatusCode::MOVED_PERMANENTLY,
            Some(HeaderValue::from_static("text/html; charset=utf-8")),
            Bytes::from(body),
        )
    } else {
        empty(StatusCode::MOVED_PERMANENTLY)
    };
    r.headers_mut().insert(LOCATION, value);
    r
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// True when `path` is `base` or below `base/`.
fn at_or_below(path: &str, base: &str) -> bool {
    match path.strip_prefix(base) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// What the server knows of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    /// Whether the peer may use the IMDS routes (the container route is guarded by its bearer
    /// token instead).
    pub imds_allowed: bool,
    /// The address the client connected to (answered as a `Host` too).
    pub local_ip: Option<std::net::IpAddr>,
}

/// Answers one request from a process allowed to use the IMDS routes.
pub fn handle<B>(state: &State, req: &Request<B>, now: Clock) -> Resp {
    let conn = Conn {
        imds_allowed: true,
        local_ip: None,
    };
    handle_for(state, req, now, conn)
}

/// Answers one request that came on `conn`.
pub fn handle_for<B>(state: &State, req: &Request<B>, now: Clock, conn: Conn) -> Resp {
    let imds_allowed = conn.imds_allowed;
    // Absolute-form (`GET http://host/path`) and authority-form targets are proxy requests.
    if req.uri().authority().is_some() || req.uri().scheme().is_some() {
        let shown = req
            .uri()
            .authority()
            .map_or(&b""[..], |a| a.as_str().as_bytes());
        state.log_refused("with an absolute-form target for", shown, now.mono);
        return empty(StatusCode::FORBIDDEN);
    }
    match req.headers().get(hyper::header::HOST) {
        Some(h) if state.hosts.allows_on(h.as_bytes(), conn.local_ip) => {}
        Some(h) => {
            state.log_refused("for Host", h.as_bytes(), now.mono);
            return empty(StatusCode::FORBIDDEN);
        }
        None => {
            state.log_refused("without a Host header; Host", b"", now.mono);
            return empty(StatusCode::FORBIDDEN);
        }
    }
    let path = req.uri().path();
    if !path.starts_with('/') {
        return not_found();
    }
    if !is_clean(path) {
        return redirect(req.method(), path, req.uri().query());
    }
    let method = req.method();
    let headers = req.headers();
    let imds = at_or_below(path, TOKEN_PATH) || at_or_below(path, ROLES_PATH);
    if imds && !imds_allowed {
        return empty(StatusCode::FORBIDDEN);
    }
    if at_or_below(path, TOKEN_PATH) {
        if method != Method::PUT {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return put_token(state, headers, now);
    }
    if at_or_below(path, &state.role_path) {
        if method != Method::GET {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return get_credentials(state, headers, now);
    }
    if at_or_below(path, ROLES_PATH) {
        if method != Method::GET {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return get_role_name(state, headers, now);
    }
    if path == CONTAINER_PATH {
        if method != Method::GET {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return get_container_credentials(&state.container_token, &state.cache, headers, now);
    }
    let binding = path
        .strip_prefix(CONTAINER_PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|name| state.bindings.get(name));
    if let Some((token, cache)) = binding {
        if method != Method::GET {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        }
        return get_container_credentials(token, cache, headers, now);
    }
    not_found()
}

fn put_token(state: &State, headers: &HeaderMap, now: Clock) -> Resp {
    if headers.contains_key(FORWARDED_FOR) {
        return text(
            StatusCode::BAD_REQUEST,
            "unable to process requests with X-Forwarded-For header",
        );
    }
    let requested = headers.get(TTL_HEADER);
    let Some(ttl) = tokens::parse_ttl(requested.map(HeaderValue::as_bytes)) else {
        return text(StatusCode::BAD_REQUEST, "invalid token TTL");
    };
    let Some(token) = tokens::generate() else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unable to generate token",
        );
    };
    let body = Bytes::from_owner(token.clone());
    state
        .lock_tokens()
        .insert(token, Duration::from_secs(ttl), now.mono);
    let mut r = response(StatusCode::OK, Some(TEXT), body);
    let echoed = requested
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(tokens::MAX_TTL_SECONDS));
    r.headers_mut().insert(TTL_HEADER, echoed);
    r
}

/// Checks the IMDSv2 token; on success returns its remaining lifetime in whole seconds.
/// On failure returns the 401 body.
fn check_token(state: &State, headers: &HeaderMap, now: Clock) -> Result<u64, &'static str> {
    let token = headers
        .get(TOKEN_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if token.is_empty() {
        log::debug!("Token validation received error: no token provided");
        return Err("no token provided");
    }
    let left = std::str::from_utf8(token)
        .ok()
        .and_then(|t| state.lock_tokens().check(t, now.mono));
    match left {
        Some(left) => Ok(left.as_secs()),
        None => {
            log::debug!("Token validation received error: invalid token provided");
            Err("invalid token provided")
        }
    }
}

fn with_ttl(mut r: Resp, seconds_left: u64) -> Resp {
    r.headers_mut()
        .insert(TTL_HEADER, HeaderValue::from(seconds_left));
    r
}

fn get_role_name(state: &State, headers: &HeaderMap, now: Clock) -> Resp {
    match check_token(state, headers, now) {
        Ok(left) => with_ttl(
            response(StatusCode::OK, Some(TEXT), state.role_name.clone()),
            left,
        ),
        Err(msg) => text(StatusCode::UNAUTHORIZED, msg),
    }
}

fn get_credentials(state: &State, headers: &HeaderMap, now: Clock) -> Resp {
    let left = match check_token(state, headers, now) {
        Ok(left) => left,
        Err(msg) => return text(StatusCode::UNAUTHORIZED, msg),
    };
    // Unlike the official tool, the TTL header is sent on this route too.
    match state.cache.get(now.wall) {
        Some(creds) => with_ttl(response(StatusCode::OK, Some(TEXT), creds.imds), left),
        None => with_ttl(unavailable(TEXT), left),
    }
}

fn get_container_credentials(
    token: &Zeroizing<String>,
    cache: &CredentialCache,
    headers: &HeaderMap,
    now: Clock,
) -> Resp {
    if headers.contains_key(FORWARDED_FOR) {
        return text(
            StatusCode::BAD_REQUEST,
            "unable to process requests with X-Forwarded-For header",
        );
    }
    let Some(given) = headers.get(AUTHORIZATION) else {
        return text(StatusCode::UNAUTHORIZED, "no authorization token provided");
    };
    let expected = token.as_bytes();
    if aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), expected).is_err() {
        return text(StatusCode::FORBIDDEN, "invalid authorization token");
    }
    match cache.get(now.wall) {
        Some(creds) => response(StatusCode::OK, Some(JSON), creds.container),
        None => unavailable(JSON),
    }
}

#[cfg(test)]
mod tests {
    use super::super::cache::render;
    use super::*;
    use crate::credentials::Credentials;
    use http_body_util::BodyExt;

    const ROLE: &str = "MyRole";
    const CTOKEN: &str = "container-secret";

    fn state(with_creds: bool) -> State {
        let cache = Arc::new(CredentialCache::new());
        if with_creds {
            let c = Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: Zeroizing::new("secret".into()),
                session_token: Zeroizing::new("session".into()),
                expiration: "2030-01-01T00:00:00Z".into(),
                account_id: None,
            };
            cache.set(render(&c, &jiff::Zoned::now()).unwrap());
        }
        State::new(ROLE, cache, Zeroizing::new(CTOKEN.into()))
    }

    fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:9911");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    fn body(r: Resp) -> String {
        let bytes = futures_block(r.into_body().collect()).unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// `Full` resolves immediately; poll it once without a runtime.
    fn futures_block<F: std::future::Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(f)
    }

    fn ttl_header(r: &Resp) -> Option<&str> {
        r.headers()
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .map(|v| v.to_str().unwrap())
    }

    fn get_token(s: &State, ttl: Option<&str>, now: Clock) -> String {
        let h: Vec<(&str, &str)> = ttl
            .map(|t| vec![("X-aws-ec2-metadata-token-ttl-seconds", t)])
            .unwrap_or_default();
        let r = handle(s, &req("PUT", TOKEN_PATH, &h), now);
        assert_eq!(r.status(), 200);
        body(r)
    }

    #[test]
    fn token_route() {
        let s = state(true);
        let now = Clock::now();
        let r = handle(&s, &req("PUT", TOKEN_PATH, &[]), now);
        assert_eq!(r.status(), 200);
        assert_eq!(ttl_header(&r), Some("21600"));
        assert_eq!(r.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(body(r).len(), 100);

        let r = handle(
            &s,
            &req(
                "PUT",
                "/latest/api/token/anything/below",
                &[("x-aws-ec2-metadata-token-ttl-seconds", "+5")],
            ),
            now,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(ttl_header(&r), Some("+5"), "echoed as received");

        for bad in ["0", "21601", "abc", "-1", ""] {
            let r = handle(
                &s,
                &req(
                    "PUT",
                    TOKEN_PATH,
                    &[("X-AWS-EC2-METADATA-TOKEN-TTL-SECONDS", bad)],
                ),
                now,
            );
            assert_eq!(r.status(), 400, "{bad:?}");
            assert_eq!(body(r), "invalid token TTL");
        }
        let r = handle(
            &s,
            &req("PUT", TOKEN_PATH, &[("X-Forwarded-For", "10.0.0.1")]),
            now,
        );
        assert_eq!(r.status(), 400);
        assert_eq!(
            body(r),
            "unable to process requests with X-Forwarded-For header"
        );
        for m in ["GET", "POST", "HEAD", "DELETE"] {
            let r = handle(&s, &req(m, TOKEN_PATH, &[]), now);
            assert_eq!(r.status(), 405, "{m}");
            assert!(r.headers().get("allow").is_none());
            assert_eq!(body(r), "");
        }
        assert_eq!(
            handle(&s, &req("PUT", "/latest/api/tokenX", &[]), now).status(),
            404
        );
    }

    #[test]
    fn role_and_credentials_routes() {
        let s = state(true);
        let t0 = Clock::now();
        let tok = get_token(&s, Some("100"), t0);
        let auth = [("X-aws-ec2-metadata-token", tok.as_str())];

        let later = Clock {
            mono: t0.mono + Duration::from_millis(30_500),
            wall: t0.wall,
        };
        for path in [
            ROLES_PATH,
            "/latest/meta-data/iam/security-credentials/",
            "/latest/meta-data/iam/security-credentials/WrongName",
        ] {
            let r = handle(&s, &req("GET", path, &auth), later);
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(ttl_header(&r), Some("69"), "remaining whole seconds");
            assert_eq!(body(r), ROLE);
        }
        for path in [
            "/latest/meta-data/iam/security-credentials/MyRole",
            "/latest/meta-data/iam/security-credentials/MyRole/",
        ] {
            let r = handle(&s, &req("GET", path, &auth), later);
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(
                ttl_header(&r),
                Some("69"),
                "TTL header on the credentials route"
            );
            let b = body(r);
            assert!(b.starts_with("{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"secret\",\"Token\":\"session\",\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"Expiration\":\"2030-01-01T00:00:00Z\",\"LastUpdated\":\""), "{b}");
            assert!(b.ends_with("\"}\n"));
        }
        let cred_path = "/latest/meta-data/iam/security-credentials/MyRole";
        for m in ["PUT", "POST", "HEAD"] {
            assert_eq!(handle(&s, &req(m, cred_path, &auth), later).status(), 405);
            assert_eq!(handle(&s, &req(m, ROLES_PATH, &auth), later).status(), 405);
        }
        // Token errors.
        let r = handle(&s, &req("GET", cred_path, &[]), later);
        assert_eq!(r.status(), 401);
        assert_eq!(body(r), "no token provided");
        let r = handle(
            &s,
            &req("GET", cred_path, &[("X-aws-ec2-metadata-token", "")]),
            later,
        );
        assert_eq!(body(r), "no token provided");
        let r = handle(
            &s,
            &req("GET", cred_path, &[("X-aws-ec2-metadata-token", "bogus")]),
            later,
        );
        assert_eq!(r.status(), 401);
        assert_eq!(body(r), "invalid token provided");
        // X-Forwarded-For is not checked on GET routes.
        let mut h = auth.to_vec();
        h.push(("X-Forwarded-For", "1.2.3.4"));
        assert_eq!(handle(&s, &req("GET", cred_path, &h), later).status(), 200);
        // Expired token (injected clock).
        let expired = Clock {
            mono: t0.mono + Duration::from_secs(101),
            wall: t0.wall,
        };
        let r = handle(&s, &req("GET", cred_path, &auth), expired);
        assert_eq!(r.status(), 401);
        assert_eq!(body(r), "invalid token provided");
    }

    #[test]
    fn no_valid_credentials_is_an_error_not_success() {
        let s = state(false);
        let now = Clock::now();
        let tok = get_token(&s, None, now);
        let r = handle(
            &s,
            &req(
                "GET",
                "/latest/meta-data/iam/security-credentials/MyRole",
                &[("X-aws-ec2-metadata-token", &tok)],
            ),
            now,
        );
        assert_eq!(r.status(), 503);
        assert!(!body(r).contains("Success"));
        let r = handle(
            &s,
            &req("GET", CONTAINER_PATH, &[("Authorization", CTOKEN)]),
            now,
        );
        assert_eq!(r.status(), 503);
        // Credentials past their expiry are not served either.
        let s = state(true);
        let tok = get_token(&s, None, now);
        let future = Clock {
            mono: now.mono,
            wall: "2030-01-01T00:00:00Z".parse().unwrap(),
        };
        let r = handle(
            &s,
            &req(
                "GET",
                "/latest/meta-data/iam/security-credentials/MyRole",
                &[("X-aws-ec2-metadata-token", &tok)],
            ),
            future,
        );
        assert_eq!(r.status(), 503);
    }

    #[test]
    fn container_route_requires_the_bearer_token() {
        let s = state(true);
        let now = Clock::now();
        let r = handle(&s, &req("GET", CONTAINER_PATH, &[]), now);
        assert_eq!(r.status(), 401);
        for wrong in ["container-secreT", "container-secret ", "", "x"] {
            let r = handle(
                &s,
                &req("GET", CONTAINER_PATH, &[("Authorization", wrong)]),
                now,
            );
            assert_eq!(r.status(), 403, "{wrong:?}");
        }
        let r = handle(
            &s,
            &req("GET", CONTAINER_PATH, &[("Authorization", CTOKEN)]),
            now,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            body(r),
            "{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"secret\",\"Token\":\"session\",\"Expiration\":\"2030-01-01T00:00:00Z\"}"
        );
        let r = handle(
            &s,
            &req("POST", CONTAINER_PATH, &[("Authorization", CTOKEN)]),
            now,
        );
        assert_eq!(r.status(), 405);
        // An IMDS token does not open the container route.
        let tok = get_token(&s, None, now);
        let r = handle(
            &s,
            &req("GET", CONTAINER_PATH, &[("Authorization", &tok)]),
            now,
        );
        assert_eq!(r.status(), 403);
    }

    #[test]
    fn not_found_and_redirects() {
        let s = state(true);
        let now = Clock::now();
        for path in [
            "/",
            "/latest",
            "/latest/meta-data/",
            "/latest/meta-data/iam/security-credentials-extended/",
            "/v1/credentials/x",
            "/latest/api",
        ] {
            let r = handle(&s, &req("GET", path, &[]), now);
            assert_eq!(r.status(), 404, "{path}");
            assert_eq!(body(r), "404 page not found\n");
        }
        let r = handle(&s, &req("GET", "/latest//api/./token?x=1", &[]), now);
        assert_eq!(r.status(), 301);
        assert_eq!(r.headers()[LOCATION], "/latest/api/token?x=1");
        let r = handle(&s, &req("PUT", "/latest/api/x/../token/", &[]), now);
        assert_eq!(r.status(), 301);
        assert_eq!(r.headers()[LOCATION], "/latest/api/token/");
        assert_eq!(clean_path("/a/.."), "/");
        assert_eq!(clean_path("/a/b/."), "/a/b");
        assert_eq!(clean_path("/../.."), "/");
        assert_eq!(clean_path("//a//b//"), "/a/b/");
    }

    #[test]
    fn fuzz_like_inputs_never_panic() {
        let s = state(true);
        let now = Clock::now();
        let paths = [
            "/",
            "/%00",
            "/latest/api/token/%2e%2e",
            "/.",
            "/..",
            "/a/./b/../../..",
            "/latest/meta-data/iam/security-credentials/MyRole/../../x",
        ];
        let methods = ["GET", "PUT", "HEAD", "OPTIONS", "PATCH", "FOO"];
        for p in paths {
            for m in methods {
                let r = handle(
                    &s,
                    &req(m, p, &[("X-aws-ec2-metadata-token", "\u{e9}x")]),
                    now,
                );
                assert!(r.status().as_u16() >= 200);
            }
        }
    }

    #[test]
    fn host_allow_list() {
        let p = HostPolicy::new("127.0.0.1".parse().unwrap(), &["Creds.Internal".into()]);
        for ok in [
            "127.0.0.1",
            "127.0.0.1:9911",
            "localhost",
            "LOCALHOST:80",
            "169.254.169.254",
            "169.254.169.254:80",
            "[fd00:ec2::254]",
            "[fd00:ec2:0::254]:80",
            "169.254.170.2",
            "creds.internal:9911",
        ] {
            assert!(p.allows(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "evil.example:9911",
            "evil.example",
            "",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "localhost.",
            "localhost:",
            "localhost:99999",
            "localhost:9911:1",
            "[::1]",
            "::1",
            "[fd00:ec2::254",
            "127.0.0.1@evil",
        ] {
            assert!(!p.allows(bad.as_bytes()), "{bad}");
        }
        assert!(!p.allows(b"local\xffhost"));
        // Bound to 0.0.0.0: the address the client connected to is answered, by IP only.
        let any = HostPolicy::new("0.0.0.0".parse().unwrap(), &[]);
        let local = Some("172.17.0.2".parse().unwrap());
        assert!(any.allows_on(b"172.17.0.2:9911", local));
        assert!(!any.allows_on(b"172.17.0.3:9911", local));
        assert!(!any.allows(b"172.17.0.2"));
        assert!(
            !any.allows_on(b"helper:9911", local),
            "names need --allow-host"
        );
        assert!(any.allows_on(b"[fd00::2]", Some("fd00::2".parse().unwrap())));
        let fast = HostPolicy::new("127.0.0.1".parse().unwrap(), &[]).with_port(9911);
        assert!(fast.allows(b"127.0.0.1:9911") && fast.allows(b"localhost:9911"));
        assert!(fast.allows(b"127.0.0.1:80") && !fast.allows(b"evil:9911"));
        let p6 = HostPolicy::new("::1".parse().unwrap(), &["fd00::5".into()]);
        assert!(p6.allows(b"[::1]:9911"));
        assert!(p6.allows(b"[0::1]"));
        assert!(p6.allows(b"[fd00::5]"));
        assert!(!p6.allows(b"127.0.0.1"));
    }

    #[test]
    fn foreign_hosts_and_absolute_targets_are_refused_on_every_route() {
        let s = state(true);
        let now = Clock::now();
        let tok = get_token(&s, None, now);
        let cred = "/latest/meta-data/iam/security-credentials/MyRole";
        let with_host = |method: &str, uri: &str, host: Option<&str>, extra: (&str, &str)| {
            let mut b = Request::builder()
                .method(method)
                .uri(uri)
                .header(extra.0, extra.1);
            if let Some(h) = host {
                b = b.header("host", h);
            }
            b.body(()).unwrap()
        };
        for host in [Some("evil.example:9911"), Some("evil.example"), None] {
            for (m, path, h) in [
                (
                    "PUT",
                    TOKEN_PATH,
                    ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
                ),
                ("GET", cred, ("x-aws-ec2-metadata-token", tok.as_str())),
                (
                    "GET",
                    ROLES_PATH,
                    ("x-aws-ec2-metadata-token", tok.as_str()),
                ),
                ("GET", CONTAINER_PATH, ("authorization", CTOKEN)),
                ("GET", "/latest//x", ("a", "b")),
            ] {
                let r = handle(&s, &with_host(m, path, host, h), now);
                assert_eq!(r.status(), 403, "{host:?} {path}");
                assert_eq!(body(r), "", "no detail in the body");
            }
        }
        for uri in [
            format!("http://127.0.0.1:9911{cred}"),
            format!("http://evil.example{cred}"),
        ] {
            let r = handle(
                &s,
                &with_host(
                    "GET",
                    &uri,
                    Some("127.0.0.1:9911"),
                    ("x-aws-ec2-metadata-token", &tok),
                ),
                now,
            );
            assert_eq!(r.status(), 403, "{uri}");
            assert_eq!(body(r), "");
        }
        // The allowed names still work.
        for host in ["localhost:9911", "169.254.169.254"] {
            let r = handle(
                &s,
                &with_host("GET", cred, Some(host), ("x-aws-ec2-metadata-token", &tok)),
                now,
            );
            assert_eq!(r.status(), 200, "{host}");
        }
    }

    #[test]
    fn other_users_get_403_on_imds_routes_only() {
        let s = state(true);
        let now = Clock::now();
        let tok = get_token(&s, None, now);
        for (m, path, h) in [
            (
                "PUT",
                TOKEN_PATH,
                ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
            ),
            (
                "GET",
                "/latest/meta-data/iam/security-credentials/MyRole",
                ("x-aws-ec2-metadata-token", tok.as_str()),
            ),
            (
                "GET",
                ROLES_PATH,
                ("x-aws-ec2-metadata-token", tok.as_str()),
            ),
        ] {
            let other_user = Conn {
                imds_allowed: false,
                local_ip: None,
            };
            let r = handle_for(&s, &req(m, path, &[h]), now, other_user);
            assert_eq!(r.status(), 403, "{path}");
            assert_eq!(body(r), "");
        }
        let other_user = Conn {
            imds_allowed: false,
            local_ip: None,
        };
        let r = handle_for(
            &s,
            &req("GET", CONTAINER_PATH, &[("Authorization", CTOKEN)]),
            now,
            other_user,
        );
        assert_eq!(
            r.status(),
            200,
            "the container route keeps its bearer token"
        );
    }

    #[test]
    fn bindings_have_their_own_token_and_credentials() {
        let other = Arc::new(CredentialCache::new());
        let c = Credentials {
            access_key_id: "ASIAOTHER".into(),
            secret_access_key: Zeroizing::new("other-secret".into()),
            session_token: Zeroizing::new("other-session".into()),
            expiration: "2030-01-01T00:00:00Z".into(),
            account_id: Some("444455556666".into()),
        };
        other.set(render(&c, &jiff::Zoned::now()).unwrap());
        let s = state(true).with_bindings(vec![
            ("other".into(), Zeroizing::new("other-token".into()), other),
            (
                "broken".into(),
                Zeroizing::new("broken-token".into()),
                Arc::new(CredentialCache::new()),
            ),
        ]);
        let now = Clock::now();
        let get =
            |path: &str, auth: &str| handle(&s, &req("GET", path, &[("Authorization", auth)]), now);
        let r = get("/v1/credentials/other", "other-token");
        assert_eq!(r.status(), 200);
        let b = body(r);
        assert!(b.contains("ASIAOTHER") && b.contains("444455556666"), "{b}");
        // Tokens are not interchangeable.
        assert_eq!(get("/v1/credentials/other", CTOKEN).status(), 403);
        assert_eq!(get(CONTAINER_PATH, "other-token").status(), 403);
        assert_eq!(get("/v1/credentials/broken", "other-token").status(), 403);
        // A binding without credentials answers 503; the others are unaffected.
        assert_eq!(get("/v1/credentials/broken", "broken-token").status(), 503);
        assert_eq!(get(CONTAINER_PATH, CTOKEN).status(), 200);
        assert_eq!(get("/v1/credentials/missing", CTOKEN).status(), 404);
        assert_eq!(get("/v1/credentials/other/x", "other-token").status(), 404);
        let r = handle(
            &s,
            &req(
                "POST",
                "/v1/credentials/other",
                &[("Authorization", "other-token")],
            ),
            now,
        );
        assert_eq!(r.status(), 405);
    }
}
