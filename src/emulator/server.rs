//! The HTTP(S) server: hyper http1 on a tokio current-thread runtime on its own thread.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{oneshot, Semaphore};

use super::control::{caller_region, State};
use super::start_error::StartError;
use super::{request_id, verify_session, Config, ServiceError};
use crate::error::Result;

/// Largest request body we read (ImportCrl carries up to 300,000 bytes of CRL in base64).
const MAX_BODY: usize = 512 * 1024;
/// Most connections served at once; further ones are closed at once.
const MAX_CONNECTIONS: usize = 256;

struct Shared {
    config: Config,
    /// The control plane's resources.
    state: std::sync::Mutex<State>,
    requests: AtomicU64,
    sessions: AtomicU64,
}

/// A running emulator. Dropping it stops the server without waiting; [`Emulator::shutdown`] waits.
pub struct Emulator {
    url: String,
    server_ca_pem: Option<String>,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("url", &self.url).finish()
    }
}

impl Emulator {
    /// Binds `bind` (port 0 picks a free port) and serves on a background thread.
    pub fn start(config: Config, bind: SocketAddr, tls: bool) -> Result<Emulator> {
        if StatusCode::from_u16(config.fail_status).is_err() {
            return Err(StartError::FailStatus {
                status: config.fail_status,
            }
            .into());
        }
        let server_tls = if tls {
            Some(super::tls::generate()?)
        } else {
            None
        };
        let listen = |source| StartError::Listen { bind, source };
        let listener = std::net::TcpListener::bind(bind).map_err(listen)?;
        listener.set_nonblocking(true).map_err(listen)?;
        let mut local = listener.local_addr().map_err(listen)?;
        // Clients cannot connect to the unspecified address; point them at loopback.
        match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => local.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            IpAddr::V6(ip) if ip.is_unspecified() => local.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            _ => {}
        }
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://{local}");

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let state = load_state(config.state_file.as_deref())?;
        let shared = Arc::new(Shared {
            state: std::sync::Mutex::new(state),
            config,
            requests: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let acceptor = server_tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone()));
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("emulator".to_string())
            .spawn(move || runtime.block_on(serve(listener, acceptor, thread_shared, stop_rx)))
            .map_err(StartError::Thread)?;
        Ok(Emulator {
            url,
            server_ca_pem: server_tls.map(|t| t.ca_pem),
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The base URL, e.g. `https://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// PEM of the CA that signed the TLS server certificate (`None` for plain HTTP).
    pub fn server_ca_pem(&self) -> Option<String> {
        self.server_ca_pem.clone()
    }

    /// Successful CreateSession answers so far.
    pub fn sessions_created(&self) -> u64 {
        self.shared.sessions.load(Ordering::SeqCst)
    }

    /// Requests received so far (including failed and stalled ones).
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Stops the server and waits for its thread to finish.
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The saved state, or an empty one when the file does not exist yet.
fn load_state(path: Option<&std::path::Path>) -> Result<State> {
    let Some(path) = path else {
        return Ok(State::default());
    };
    let bytes = match crate::files::read_file(path, crate::files::CAP_CONFIG, "emulator state file")
    {
        Ok(b) => b,
        Err(e)
            if e.io_error()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) =>
        {
            return Ok(State::default())
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes).map_err(|source| {
        StartError::StateFile {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// Writes the state where it is kept (nothing when in memory).
fn save_state(path: Option<&std::path::Path>, state: &State) -> std::result::Result<(), String> {
    let Some(path) = path else { return Ok(()) };
    let text = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
    crate::files::write_private(path, &text).map_err(|e| format!("{}: {e}", path.display()))
}

async fn serve(
    listener: std::net::TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("emulator: could not listen: {e}");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            // A send or a dropped sender both mean stop.
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // E.g. out of file descriptors: back off briefly instead of spinning.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                // Answers are small: send them at once rather than wait (Nagle) for more,
                // which stalled about a third of the answers by ~40 ms (delayed ACK).
                let _ = stream.set_nodelay(true);
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    continue; // over the connection cap: close it
                };
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                tokio::spawn(async move {
                    connection(stream, acceptor, shared).await;
                    drop(permit);
                });
            }
        }
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let service = hyper::service::service_fn(move |req| handle(req, shared.clone()));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    match acceptor {
        Some(acceptor) => {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls)) => tls,
                _ => return,
            };
            let _ = http.serve_connection(TokioIo::new(tls), service).await;
        }
        None => {
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        }
    }
}

/// The error code and message of an injected failure with this status.
fn injected(status: u16) -> ServiceError {
    let (code, message) = match status {
        429 => ("ThrottlingException", "Rate exceeded"),
        500 => ("InternalServerException", "Internal Server Error"),
        502 => ("", "Bad Gateway"),
        503 => ("ServiceUnavailableException", "Service Unavailable"),
        504 => ("", "Gateway Timeout"),
        _ => ("", "Injected failure"),
    };
    ServiceError {
        status,
        code,
        message: message.to_string(),
    }
}

fn respond(now: jiff::Timestamp, status: u16, code: &str, body: String) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-amzn-RequestId", request_id());
    // hyper would add the machine's time; the server's (possibly offset) clock goes out instead.
    if let Ok(date) = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&now) {
        builder = builder.header("date", date);
    }
    if !code.is_empty() {
        builder = builder.header("X-Amzn-ErrorType", code);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        // Every header above is a valid static name and value, so building cannot fail.
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn error_response(now: jiff::Timestamp, e: &ServiceError) -> Response<Full<Bytes>> {
    respond(now, e.status, e.code, e.body())
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let config = &shared.config;
    let now = jiff::Timestamp::now()
        .checked_add(config.clock_offset)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let seen = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let log = |outcome: &str| {
        if config.log_requests {
            eprintln!("emulator: request {seen}: {method} {path} -> {outcome}");
        }
    };

    if config.stall {
        log("stalled (never answered)");
        std::future::pending::<()>().await;
    }
    if seen <= u64::from(config.fail_first) {
        let e = injected(config.fail_status);
        log(&format!("injected {e}"));
        return Ok(error_response(now, &e));
    }
    if let Some(n) = config.fail_after {
        if shared.sessions.load(Ordering::SeqCst) >= u64::from(n) {
            let e = injected(500);
            log(&format!("injected after {n} sessions: {e}"));
            return Ok(error_response(now, &e));
        }
    }

    let query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let e = if too_large {
                ServiceError {
                    status: 413,
                    code: "",
                    message: "Request entity too large".to_string(),
                }
            } else {
                ServiceError {
                    status: 400,
                    code: "SerializationException",
                    message: "Could not read request body".to_string(),
                }
            };
            log(&e.to_string());
            return Ok(error_response(now, &e));
        }
    };

    if !(method == "POST" && path == "/sessions") {
        return Ok(control_plane(
            &shared, &method, &path, &query, &headers, &body, now, &log,
        ));
    }
    // The lock is held only while verifying (no await inside).
    let verified = match shared.state.lock() {
        Ok(state) => verify_session(
            config,
            Some(&state),
            &method,
            &path,
            &query,
            &headers,
            &body,
            now,
        ),
        Err(_) => Err(injected(500)),
    };
    match verified {
        Ok(grant) => {
            shared.sessions.fetch_add(1, Ordering::SeqCst);
            log(&format!(
                "201 session '{}' for {} (serial {}, {}s)",
                grant.session_name, grant.role_arn, grant.serial, grant.duration_seconds
            ));
            Ok(respond(now, 201, "", grant.response_json()))
        }
        Err(e) => {
            log(&e.to_string());
            Ok(error_response(now, &e))
        }
    }
}

/// One control-plane request: any SigV4 (HMAC) signature for `rolesanywhere` is accepted
/// without checking it, as the emulator holds no secret keys.
#[allow(clippy::too_many_arguments)] // the request's parts
fn control_plane(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    now: jiff::Timestamp,
    log: &dyn Fn(&str),
) -> Response<Full<Bytes>> {
    let authorization = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str());
    let result = caller_region(authorization)
        .map_err(|denied| {
            // An unknown operation is 404 whoever asks: route it on an empty, throwaway state.
            match State::default().handle(method, path, query, body, "us-east-1", now) {
                Err(e) if e.code == "UnknownOperationException" => e,
                _ => denied,
            }
        })
        .and_then(|region| {
            let mut state = shared.state.lock().map_err(|_| injected(500))?;
            let mut next = state.clone();
            let answer = next.handle(method, path, query, body, &region, now)?;
            if answer.changed {
                // Saved before it is applied: a failed save changes nothing.
                save_state(shared.config.state_file.as_deref(), &next).map_err(|e| {
                    eprintln!("emulator: could not save the state: {e}");
                    ServiceError {
                        status: 500,
                        code: "InternalServerException",
                        message: "Could not save the emulator state".to_string(),
                    }
                })?;
                *state = next;
            }
            Ok(answer)
        });
    match result {
        Ok(answer) => {
            log(&format!("{}", answer.status));
            respond(now, answer.status, "", answer.body.to_string())
        }
        Err(e) => {
            log(&e.to_string());
            error_response(now, &e)
        }
    }
}
