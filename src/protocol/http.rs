//! The one HTTPS client: TLS 1.2+ (rustls with aws-lc-rs), system roots or `AWS_CA_BUNDLE`,
//! optional no-verify, proxies from the environment with Go's rules, and a per-call time-out
//! so that a stalled server cannot hang us.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::protocol::clock_skew;

/// The User-Agent we send: the official tool's, with our version (which follows the official
/// version we match).
pub fn user_agent() -> String {
    format!(
        "CredHelper/{} (rust; {}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// How to build the client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub no_verify_ssl: bool,
    /// Replaces the system roots (`AWS_CA_BUNDLE` / `ca_bundle`).
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Upper bound on one request, connect to last body byte.
    pub timeout: Duration,
    pub user_agent: String,
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub message: String,
    pub kind: TransportKind,
}

/// What kind of failure it was, which decides retrying and the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Connected, but no answer within the time-out.
    Timeout,
    /// The TLS handshake failed for another reason than the server's certificate (e.g.
    /// `https://` to a plain HTTP server): trying again cannot help.
    Tls,
    /// The TLS handshake failed because rustls refused the server's certificate (an unknown
    /// issuer, expired, wrong name, none sent): trying again cannot help.
    UntrustedCertificate,
    /// The answer was not HTTP (e.g. `http://` to a TLS port): trying again cannot help.
    Protocol,
    /// No connection, or it broke: worth another try.
    Connection,
}

impl TransportError {
    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportKind::Timeout | TransportKind::Connection
        )
    }
}

/// Why [`HttpClient::new`] could not build a client: the trust store or the proxy settings.
#[derive(Debug)]
pub enum ClientError {
    /// The OS could not read the CA bundle at `path` (`AWS_CA_BUNDLE` / `ca_bundle`).
    CaBundleRead {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The CA bundle at `path` holds no PEM certificate.
    CaBundleEmpty { path: std::path::PathBuf },
    /// No CA certificates in the system's trust store.
    NoSystemRoots,
    /// `HTTPS_PROXY` / `HTTP_PROXY` is not a URL ureq accepts.
    Proxy(ureq::Error),
}

impl ClientError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ClientError::CaBundleEmpty { .. } => {
                Some("the bundle must hold one or more -----BEGIN CERTIFICATE----- blocks")
            }
            ClientError::NoSystemRoots => {
                Some("install ca-certificates, or point AWS_CA_BUNDLE at a PEM bundle")
            }
            ClientError::CaBundleRead { .. } | ClientError::Proxy(_) => None,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::CaBundleRead { path, source } => write!(
                f,
                "cannot read CA bundle {} (AWS_CA_BUNDLE / ca_bundle): {source}",
                path.display()
            ),
            ClientError::CaBundleEmpty { path } => write!(
                f,
                "no PEM certificates in CA bundle {} (AWS_CA_BUNDLE / ca_bundle)",
                path.display()
            ),
            ClientError::NoSystemRoots => {
                f.write_str("no trusted CA certificates found on this system")
            }
            ClientError::Proxy(e) => write!(f, "invalid proxy URL in HTTPS_PROXY/HTTP_PROXY: {e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::CaBundleRead { source, .. } => Some(source),
            ClientError::Proxy(e) => Some(e),
            ClientError::CaBundleEmpty { .. } | ClientError::NoSystemRoots => None,
        }
    }
}

crate::error::typed_error!(ClientError);

/// A configured client for one endpoint URL (the proxy is chosen for that URL's scheme and host).
pub struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    /// Builds a client for requests to `url`.
    pub fn new(url: &str, opts: &HttpOptions) -> Result<HttpClient> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider);
        if opts.no_verify_ssl {
            log::warn!("warning: --no-verify-ssl is set: the server's TLS certificate is not verified, so anyone on the network path can read and alter this exchange");
            tls = tls.disable_verification(true);
        } else if url.starts_with("https:") {
            let roots = match &opts.ca_bundle {
                Some(path) => load_bundle(path)?,
                None => load_system_roots()?,
            };
            tls = tls.root_certs(RootCerts::Specific(Arc::new(roots)));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(opts.user_agent.as_str())
            // The default 128 KiB buffers are zero-filled on every run; our answers are a few
            // KiB (1 MiB body cap), and a request's headers (a long X-Amz-X509-Chain) stay
            // well under 64 KiB.
            .input_buffer_size(32 * 1024)
            .output_buffer_size(64 * 1024)
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(opts.timeout.min(Duration::from_secs(30))))
            .proxy(proxy_for(url)?)
            .tls_config(tls.build())
            .build();
        Ok(HttpClient {
            agent: config.new_agent(),
        })
    }

    /// Sends a POST and reads the whole response (bodies are capped at 1 MiB).
    pub fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> std::result::Result<HttpResponse, TransportError> {
        let mut req = self.agent.post(url);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        read_response(req.send(body).map_err(transport_error)?)
    }

    /// Sends a PUT with an empty body (the IMDSv2 token request).
    pub fn put_empty(
        &self,
        url: &str,
        headers: &[(String, String)],
    ) -> std::result::Result<HttpResponse, TransportError> {
        let mut req = self.agent.put(url);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        read_response(req.send_empty().map_err(transport_error)?)
    }

    /// Sends a request with any method (`DELETE`, `PATCH`, ... for REST APIs); an empty body
    /// is sent as none.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> std::result::Result<HttpResponse, TransportError> {
        let method =
            ureq::http::Method::from_bytes(method.as_bytes()).map_err(|_| TransportError {
                message: format!("invalid HTTP method {method:?}"),
                kind: TransportKind::Protocol,
            })?;
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let bad = |e: ureq::http::Error| TransportError {
            message: e.to_string(),
            kind: TransportKind::Protocol,
        };
        let resp = if body.is_empty() {
            self.agent.run(req.body(()).map_err(bad)?)
        } else {
            self.agent.run(req.body(body).map_err(bad)?)
        };
        read_response(resp.map_err(transport_error)?)
    }

    /// Sends a GET.
    pub fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
    ) -> std::result::Result<HttpResponse, TransportError> {
        let mut req = self.agent.get(url);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        read_response(req.call().map_err(transport_error)?)
    }
}

/// Reads a whole response (bodies are capped at 1 MiB).
fn read_response(
    mut resp: ureq::http::Response<ureq::Body>,
) -> std::result::Result<HttpResponse, TransportError> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(transport_error)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// How to retry: attempts and the base of the exponential back-off (the SDKs' standard mode).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random delay in `[0, min(max, base·2^attempt))`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let mut r = [0u8; 4];
        // The system RNG failing leaves r zeroed: no delay, which is still correct.
        let _ = aws_lc_rs::rand::fill(&mut r);
        cap.mul_f64(f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX))
    }
}

/// One request to send, signed for one attempt.
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Zeroizing<Vec<u8>>,
}

/// What a service's error answer says, as far as retrying cares.
pub trait ServiceFailure {
    /// The error code (`ThrottlingException`, `RequestExpired`, …).
    fn code(&self) -> &str;
    /// The error message.
    fn message(&self) -> &str;
    /// Whether the SDKs' standard retryer would try again.
    fn retryable(&self) -> bool;
}

/// `Display`, `std::error::Error` and [`ServiceFailure`] for a service's error struct with
/// `status`, `code`, `message` fields and a `retryable()` method.
macro_rules! service_error_impls {
    ($ty:ty) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "HTTP {}: {}: {}", self.status, self.code, self.message)
            }
        }

        impl std::error::Error for $ty {}

        impl $crate::protocol::http::ServiceFailure for $ty {
            fn code(&self) -> &str {
                &self.code
            }
            fn message(&self) -> &str {
                &self.message
            }
            fn retryable(&self) -> bool {
                <$ty>::retryable(self)
            }
        }
    };
}
pub(crate) use service_error_impls;

/// Why [`send_with_retries`] gave up.
#[derive(Debug)]
pub enum SendError<E> {
    /// Building or signing the request failed (nothing was sent).
    Build(Error),
    /// The service answered with an error.
    Service {
        error: E,
        /// `Some(n)` when the error was retryable and all `n` attempts failed.
        exhausted: Option<u32>,
    },
    /// No HTTP answer.
    Transport {
        error: TransportError,
        /// The URL without its query.
        url: String,
        exhausted: Option<u32>,
    },
}

/// The one retry loop, for Roles Anywhere and STS alike. Each attempt is signed afresh by
/// `build(signing_time, attempt, max_attempts)`; connection failures, time-outs and retryable
/// service errors are retried with jittered back-off up to `policy.max_attempts`; a refusal for
/// the signing time whose `Date` shows this machine's clock is off is signed again at once with
/// the service's time (once, not counted as an attempt). Returns the first 2xx answer.
pub fn send_with_retries<E: ServiceFailure>(
    client: &HttpClient,
    policy: RetryPolicy,
    build: impl FnMut(jiff::Timestamp, u32, u32) -> Result<Outgoing>,
    parse_error: impl Fn(&HttpResponse) -> E,
) -> std::result::Result<HttpResponse, SendError<E>> {
    send_with_retries_as(client, "POST", policy, build, parse_error)
}

/// [`send_with_retries`] with another HTTP method (REST APIs: `GET`, `PATCH`, `DELETE`).
pub fn send_with_retries_as<E: ServiceFailure>(
    client: &HttpClient,
    method: &str,
    policy: RetryPolicy,
    mut build: impl FnMut(jiff::Timestamp, u32, u32) -> Result<Outgoing>,
    parse_error: impl Fn(&HttpResponse) -> E,
) -> std::result::Result<HttpResponse, SendError<E>> {
    let max = policy.max_attempts.max(1);
    let mut attempt = 0;
    let mut clock = clock_skew::Correction::default();
    loop {
        attempt += 1;
        let req = build(clock.now(), attempt, max).map_err(SendError::Build)?;
        let sent = if method == "POST" {
            client.post(&req.url, &req.headers, &req.body)
        } else {
            client.send(method, &req.url, &req.headers, &req.body)
        };
        let failure = match sent {
            Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
            Ok(resp) => {
                let error = parse_error(&resp);
                if clock.correct(&resp, error.code(), error.message()) {
                    attempt -= 1;
                    continue;
                }
                let retryable = error.retryable();
                let exhausted = (retryable && max > 1).then_some(max);
                (retryable, SendError::Service { error, exhausted })
            }
            Err(error) => {
                log::debug!("request failed: {}", error.message);
                let url = req.url.split('?').next().unwrap_or(&req.url).to_string();
                let retryable = error.retryable();
                let exhausted = (retryable && max > 1).then_some(max);
                (
                    retryable,
                    SendError::Transport {
                        error,
                        url,
                        exhausted,
                    },
                )
            }
        };
        if !failure.0 || attempt >= max {
            return Err(failure.1);
        }
        let delay = policy.delay(attempt);
        log::debug!(
            "attempt {attempt} of {max} failed; retrying in {} ms",
            delay.as_millis()
        );
        std::thread::sleep(delay);
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

impl<E: std::fmt::Display> std::fmt::Display for SendError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Build(e) => write!(f, "{e}"),
            SendError::Service { error, .. } => write!(f, "{error}"),
            SendError::Transport { error, url, .. } => write!(f, "Post {url:?}: {error}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for SendError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Build(e) => Some(e),
            SendError::Service { error, .. } => Some(error),
            SendError::Transport { error, .. } => Some(error),
        }
    }
}

/// The SDKs' words for a retryable failure that used up every attempt (empty otherwise), put
/// before the error in the message.
pub fn exceeded_attempts(exhausted: Option<u32>) -> String {
    exhausted
        .map(|n| format!("exceeded maximum number of attempts, {n}, "))
        .unwrap_or_default()
}

impl TransportError {
    /// What to do about it, the same for every service: a time-out, a TLS failure, an answer
    /// that is not HTTP, or no connection.
    pub fn hint(&self, endpoint_flags: &str) -> String {
        match self.kind {
            TransportKind::Timeout => format!("the endpoint accepted the connection but did not answer; check {endpoint_flags}, proxies, or raise --timeout"),
            TransportKind::UntrustedCertificate => {
                "the server's TLS certificate is not trusted: set AWS_CA_BUNDLE to its CA's PEM file".to_string()
            }
            TransportKind::Tls => format!("the TLS handshake failed: if the endpoint speaks plain HTTP, use http:// in {endpoint_flags}; otherwise check AWS_CA_BUNDLE and proxies"),
            TransportKind::Protocol => format!("the endpoint did not answer HTTP: if it is an HTTPS endpoint, use https:// in {endpoint_flags}"),
            TransportKind::Connection => format!("check network access to the endpoint ({endpoint_flags}, HTTPS_PROXY/NO_PROXY)"),
        }
    }
}

fn transport_error(e: ureq::Error) -> TransportError {
    let kind = match &e {
        ureq::Error::Timeout(_) => TransportKind::Timeout,
        ureq::Error::Rustls(r) => tls_kind(r),
        ureq::Error::Tls(_) | ureq::Error::Pem(_) | ureq::Error::TlsRequired => TransportKind::Tls,
        ureq::Error::Io(io) => match io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(r) => tls_kind(r),
            None => TransportKind::Connection,
        },
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => TransportKind::Protocol,
        _ => TransportKind::Connection,
    };
    let message = match &e {
        ureq::Error::Timeout(_) => "no response within the time-out (the server accepted the connection but did not answer)".to_string(),
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    };
    TransportError { message, kind }
}

/// Whether rustls refused the handshake over the server's certificate. Alerts are not: as a
/// client we send no certificate, so a certificate alert from the server is not about trust
/// in its certificate (and AWS_CA_BUNDLE cannot fix it).
fn tls_kind(e: &rustls::Error) -> TransportKind {
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::InvalidCertRevocationList(_) => TransportKind::UntrustedCertificate,
        _ => TransportKind::Tls,
    }
}

fn load_bundle(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    // Whoever can write the bundle decides whom we trust with signed requests and credentials.
    let pem = crate::files::shared_files::read_trusted_file(
        path,
        crate::files::CAP_CA_BUNDLE,
        "CA bundle",
    )
    .map_err(|e| match e {
        crate::files::Error::Io { source, .. } => Error::from(ClientError::CaBundleRead {
            path: path.to_path_buf(),
            source,
        }),
        other => other.into(),
    })?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(ClientError::CaBundleEmpty {
            path: path.to_path_buf(),
        }
        .into());
    }
    Ok(certs)
}

fn load_system_roots() -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let found = rustls_native_certs::load_native_certs();
    let certs: Vec<_> = found
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if certs.is_empty() {
        return Err(ClientError::NoSystemRoots.into());
    }
    Ok(certs)
}

/// Splits `scheme://authority/path?query` into its parts (enough for endpoint URLs).
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let path = rest[end..].split(['?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return None;
    }
    Some((scheme, authority, path))
}

/// The host of an authority, without user info, port or IPv6 brackets.
pub fn host_of(authority: &str) -> &str {
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = hostport.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    hostport.split(':').next().unwrap_or(hostport)
}

fn env_any(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| crate::env::var(n))
}

/// Go's proxy rules: `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http, `NO_PROXY`
/// exclusions, and never for loopback hosts.
fn proxy_for(url: &str) -> Result<Option<ureq::Proxy>> {
    let Some((scheme, authority, _)) = split_url(url) else {
        return Ok(None);
    };
    let host = host_of(authority);
    if is_loopback(host) {
        return Ok(None);
    }
    let proxy = if scheme == "https" {
        env_any(&["HTTPS_PROXY", "https_proxy"])
    } else {
        env_any(&["HTTP_PROXY", "http_proxy"])
    };
    let Some(proxy) = proxy else { return Ok(None) };
    if let Some(list) = env_any(&["NO_PROXY", "no_proxy"]) {
        if no_proxy_matches(&list, host) {
            return Ok(None);
        }
    }
    let proxy_url = if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    };
    ureq::Proxy::new(&proxy_url)
        .map(Some)
        .map_err(|e| ClientError::Proxy(e).into())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` is excluded by a `NO_PROXY` list (`*`, exact names, domain suffixes, IPs).
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            let entry = entry.split(':').next().unwrap_or(&entry);
            let suffix = entry.trim_start_matches("*.").trim_start_matches('.');
            host == suffix || host.ends_with(&format!(".{suffix}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("https://h:8443/p?x"),
            Some(("https", "h:8443", "/p"))
        );
        assert_eq!(split_url("http://h"), Some(("http", "h", "")));
        assert_eq!(split_url("nope"), None);
        assert_eq!(host_of("u:p@[::1]:8"), "::1");
        assert_eq!(host_of("example.com:443"), "example.com");
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("foo.com, .example.org", "api.example.org"));
        assert!(no_proxy_matches("example.org", "example.org"));
        assert!(!no_proxy_matches("example.org", "badexample.org"));
        assert!(no_proxy_matches("*", "anything"));
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
    }

    fn options(ca_bundle: Option<std::path::PathBuf>) -> HttpOptions {
        HttpOptions {
            no_verify_ssl: false,
            ca_bundle,
            timeout: Duration::from_secs(20),
            user_agent: user_agent(),
        }
    }

    const UNTRUSTED_HINT: &str =
        "the server's TLS certificate is not trusted: set AWS_CA_BUNDLE to its CA's PEM file";

    #[test]
    fn an_untrusted_server_certificate_gets_the_ca_bundle_hint() {
        let emu = crate::emulator::Emulator::start(
            Default::default(),
            "127.0.0.1:0".parse().unwrap(),
            true,
        )
        .unwrap();
        // A bundle holding only an unrelated self-signed CA: the emulator's certificate
        // chains to nothing in it.
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["elsewhere".to_string()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let other_ca = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other-ca.pem");
        std::fs::write(&other, other_ca.pem()).unwrap();
        let url = format!("{}/sessions", emu.url());
        let err = HttpClient::new(&url, &options(Some(other)))
            .unwrap()
            .post(&url, &[], b"{}")
            .unwrap_err();
        assert_eq!(err.kind, TransportKind::UntrustedCertificate, "{err}");
        assert_eq!(err.message, "invalid peer certificate: UnknownIssuer");
        assert!(!err.retryable());
        assert_eq!(err.hint("--endpoint"), UNTRUSTED_HINT);
        // With the emulator's own CA the same request gets an HTTP answer: it was the trust.
        let own = dir.path().join("emulator-ca.pem");
        std::fs::write(&own, emu.server_ca_pem().unwrap()).unwrap();
        let resp = HttpClient::new(&url, &options(Some(own)))
            .unwrap()
            .post(&url, &[], b"{}")
            .unwrap();
        assert!(resp.status >= 400, "an unsigned request is refused");
    }

    #[test]
    fn tls_to_a_plain_http_server_keeps_the_handshake_hint() {
        let emu = crate::emulator::Emulator::start(
            Default::default(),
            "127.0.0.1:0".parse().unwrap(),
            false,
        )
        .unwrap();
        let url = format!("{}/sessions", emu.url().replacen("http://", "https://", 1));
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("ca.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["x".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(&bundle, ca.pem()).unwrap();
        let err = HttpClient::new(&url, &options(Some(bundle)))
            .unwrap()
            .post(&url, &[], b"{}")
            .unwrap_err();
        assert_eq!(err.kind, TransportKind::Tls, "{err}");
        assert_eq!(
            err.hint("--endpoint"),
            "the TLS handshake failed: if the endpoint speaks plain HTTP, use http:// in --endpoint; otherwise check AWS_CA_BUNDLE and proxies"
        );
    }

    #[test]
    fn client_errors_render_todays_text_and_stay_typed() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"not a certificate").unwrap();
        let e = HttpClient::new("https://h", &options(Some(empty.clone())))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!("no PEM certificates in CA bundle {} (AWS_CA_BUNDLE / ca_bundle) (hint: the bundle must hold one or more -----BEGIN CERTIFICATE----- blocks)", empty.display())
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ClientError>()),
            Some(ClientError::CaBundleEmpty { path }) if *path == empty
        ));
        let missing = dir.path().join("missing.pem");
        let e = HttpClient::new("https://h", &options(Some(missing.clone())))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot read CA bundle {} (AWS_CA_BUNDLE / ca_bundle): No such file or directory (os error 2)",
                missing.display()
            )
        );
        let typed = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ClientError>());
        assert!(matches!(
            typed,
            Some(ClientError::CaBundleRead { source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
    }
}
