//! The accept loop and the connections: at most `max_connections` open at once (past it the
//! least recently used is closed, so a flood of idle clients never queues a new one behind
//! them), a back-off without a log flood when accepting fails, and per-user access to the
//! IMDS routes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use super::peer;
use super::routes::{self, Clock, State};

/// How often expired IMDS tokens are dropped.
const PURGE_EVERY: Duration = Duration::from_secs(5);
/// How long open connections get to finish after shutdown is requested.
const DRAIN_FOR: Duration = Duration::from_millis(700);
/// Descriptors kept free for everything but connections (log, TLS to Roles Anywhere, files).
const SPARE_FDS: u64 = 64;
/// Back-off after a failed accept: from the first to the longest delay, doubling.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(5), Duration::from_secs(1));
/// A run of accept failures is logged once, then at most this often.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(60);

/// How the loop treats connections.
pub struct Limits {
    /// IP TTL / hop limit of accepted connections.
    pub hops: u32,
    /// Whether the listener is IPv4.
    pub v4: bool,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Users allowed on the IMDS routes (`None`: everyone).
    pub allow_uids: Option<Arc<[u32]>>,
}

/// Raises the soft descriptor limit to the hard one and returns the soft limit now in force
/// (`None`: unlimited or unknown).
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        let raised = rustix::process::Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => lim = getrlimit(Resource::Nofile),
            Err(e) => log::debug!("cannot raise the open-files limit: {e}"),
        }
    }
    lim.current
}

/// `requested`, lowered (with a warning) to fit the descriptor limit after raising it.
pub fn connection_cap(requested: usize) -> usize {
    let Some(soft) = raise_fd_limit() else {
        return requested;
    };
    let fits = usize::try_from(soft.saturating_sub(SPARE_FDS).max(16)).unwrap_or(usize::MAX);
    if requested > fits {
        log::warn!(
            "--max-connections {requested} does not fit the open-files limit of {soft}; keeping at most {fits} connections"
        );
        return fits;
    }
    requested
}

pub(super) fn set_hop_limit(stream: &TcpStream, hops: u32, v4: bool) -> std::io::Result<()> {
    let sock = socket2::SockRef::from(stream);
    if v4 {
        sock.set_ttl_v4(hops)
    } else {
        sock.set_unicast_hops_v6(hops)
    }
}

/// An open connection: how to close it and when it was last used (a tick of the loop's
/// logical clock: one per accepted connection and per request, so ordering needs no time).
struct Slot {
    abort: AbortHandle,
    last_used: Arc<AtomicU64>,
}

/// Logs accept failures without flooding: the first of a run, then once a minute with a count.
#[derive(Default)]
struct AcceptErrors {
    delay: Option<Duration>,
    logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    fn failed(&mut self, e: &std::io::Error) -> Duration {
        let now = Instant::now();
        if self
            .logged
            .is_none_or(|t| now.duration_since(t) >= ACCEPT_LOG_EVERY)
        {
            let more = match std::mem::take(&mut self.unlogged) {
                0 => String::new(),
                n => format!(" ({n} more failures since the last such line)"),
            };
            log::warn!("accepting a connection failed: {e}; backing off{more}");
            self.logged = Some(now);
        } else {
            self.unlogged += 1;
        }
        let delay = self
            .delay
            .map_or(ACCEPT_BACKOFF.0, |d| (d * 2).min(ACCEPT_BACKOFF.1));
        self.delay = Some(delay);
        delay
    }

    fn succeeded(&mut self) {
        self.delay = None;
    }
}

/// Hands freed heap back to the system once a flood of connections is over: glibc keeps the
/// per-connection buffers of a flood in its arenas otherwise, and RSS stays at the flood's peak.
#[derive(Default)]
struct FloodTrim {
    flooded: bool,
}

impl FloodTrim {
    fn after(&mut self, open: usize, cap: usize) {
        if open >= cap.div_ceil(2).max(64) {
            self.flooded = true;
        } else if self.flooded && open <= (cap / 16).max(8) {
            self.flooded = false;
            release_free_memory();
        }
    }
}

fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no pointer from us and
    // is thread-safe (it locks each arena).
    unsafe {
        libc::malloc_trim(0);
    }
}

fn evict_least_recently_used(open: &mut HashMap<tokio::task::Id, Slot>) {
    let oldest = open
        .iter()
        .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
        .map(|(id, _)| *id);
    if let Some(slot) = oldest.and_then(|id| open.remove(&id)) {
        // Dropping the connection's future closes its socket.
        slot.abort.abort();
    }
}

pub async fn serve_loop(
    listener: TcpListener,
    state: Arc<State>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut http = http1::Builder::new();
    // A client that opens a connection and sends nothing (or dribbles a header) must not hold
    // it forever: SDKs send a whole request at once.
    http.title_case_headers(true)
        .keep_alive(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let clock = Arc::new(AtomicU64::new(0));
    let mut conns = JoinSet::new();
    let mut open: HashMap<tokio::task::Id, Slot> = HashMap::new();
    let mut accept_errors = AcceptErrors::default();
    let mut trim = FloodTrim::default();
    let mut purge = tokio::time::interval(PURGE_EVERY);
    purge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer_addr)) => {
                    accept_errors.succeeded();
                    if let Err(e) = set_hop_limit(&stream, limits.hops, limits.v4) {
                        log::warn!("cannot set the hop limit on a connection: {e}");
                    }
                    // Responses are small; don't wait for more to send.
                    let _ = stream.set_nodelay(true);
                    while open.len() >= limits.max_connections {
                        evict_least_recently_used(&mut open);
                    }
                    let now = clock.fetch_add(1, Ordering::Relaxed);
                    let last_used = Arc::new(AtomicU64::new(now));
                    let local = stream.local_addr().ok();
                    let imds_check = limits.allow_uids.clone().map(|uids| {
                        (uids, local, peer_addr)
                    });
                    let abort = conns.spawn(connection(
                        http.clone(),
                        stream,
                        state.clone(),
                        shutdown.clone(),
                        Usage { clock: clock.clone(), last_used: last_used.clone() },
                        local.map(|a| a.ip()),
                        imds_check,
                    ));
                    open.insert(abort.id(), Slot { abort, last_used });
                    trim.after(open.len(), limits.max_connections);
                }
                Err(e) => {
                    // E.g. out of descriptors: back off instead of spinning or flooding the log.
                    let delay = accept_errors.failed(&e);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.changed() => break,
                    }
                }
            },
            Some(done) = conns.join_next_with_id(), if !conns.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                open.remove(&id);
                trim.after(open.len(), limits.max_connections);
            }
            _ = purge.tick() => state.purge_tokens(Instant::now()),
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_FOR, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
    }
}

/// Where a connection records its last use.
struct Usage {
    clock: Arc<AtomicU64>,
    last_used: Arc<AtomicU64>,
}

/// The allowed uids, our address and the peer's, when the IMDS routes are per-user.
type ImdsCheck = (Arc<[u32]>, Option<SocketAddr>, SocketAddr);

async fn connection(
    http: http1::Builder,
    stream: TcpStream,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
    usage: Usage,
    local_ip: Option<std::net::IpAddr>,
    imds_check: Option<ImdsCheck>,
) {
    // Looked up once, at the first request (idle connections never cost a lookup).
    let imds_allowed = std::sync::OnceLock::new();
    if imds_check.is_none() {
        let _ = imds_allowed.set(true);
    }
    let service = service_fn(move |req| {
        usage.last_used.store(
            usage.clock.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        let allowed = *imds_allowed.get_or_init(|| match &imds_check {
            Some((uids, Some(local), peer_addr)) => {
                let owner = peer::owner_uid(*local, *peer_addr);
                let ok = owner.is_some_and(|uid| uids.contains(&uid));
                if !ok {
                    log::debug!(
                        "connection from {peer_addr} (uid {owner:?}) may not use the IMDS routes"
                    );
                }
                ok
            }
            _ => false,
        });
        let conn = routes::Conn {
            imds_allowed: allowed,
            local_ip,
        };
        let resp = routes::handle_for(&state, &req, Clock::now(), conn);
        std::future::ready(Ok::<_, Infallible>(resp))
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    if *shutdown.borrow_and_update() {
        conn.as_mut().graceful_shutdown();
    }
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = shutdown.changed() => conn.as_mut().graceful_shutdown(),
    }
    // Errors here are client disconnects; nothing to report.
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_limit_is_set_on_accepted_connections() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let _client = TcpStream::connect(addr).await.unwrap();
            let (s, _) = l.accept().await.unwrap();
            set_hop_limit(&s, 1, true).unwrap();
            assert_eq!(socket2::SockRef::from(&s).ttl_v4().unwrap(), 1);
            set_hop_limit(&s, 255, true).unwrap();
            assert_eq!(socket2::SockRef::from(&s).ttl_v4().unwrap(), 255);
            if let Ok(l6) = TcpListener::bind("[::1]:0").await {
                let addr = l6.local_addr().unwrap();
                let _client = TcpStream::connect(addr).await.unwrap();
                let (s, _) = l6.accept().await.unwrap();
                set_hop_limit(&s, 1, false).unwrap();
                assert_eq!(socket2::SockRef::from(&s).unicast_hops_v6().unwrap(), 1);
            }
        });
    }

    #[test]
    fn memory_is_trimmed_once_per_flood() {
        let mut t = FloodTrim::default();
        t.after(10, 512);
        assert!(!t.flooded);
        t.after(300, 512);
        assert!(t.flooded);
        t.after(100, 512);
        assert!(t.flooded, "not over yet");
        t.after(32, 512);
        assert!(!t.flooded, "trimmed when the flood is over");
    }

    #[test]
    fn accept_failures_back_off_and_log_once() {
        let mut a = AcceptErrors::default();
        let e = std::io::Error::other("too many open files");
        let delays: Vec<_> = (0..10).map(|_| a.failed(&e)).collect();
        assert_eq!(delays[0], ACCEPT_BACKOFF.0);
        assert_eq!(delays[1], ACCEPT_BACKOFF.0 * 2);
        assert_eq!(*delays.last().unwrap(), ACCEPT_BACKOFF.1);
        assert_eq!(a.unlogged, 9, "one line for the whole run");
        a.succeeded();
        assert_eq!(a.failed(&e), ACCEPT_BACKOFF.0);
    }

    #[test]
    fn the_descriptor_limit_is_raised_and_caps_connections() {
        let soft = raise_fd_limit();
        let lim = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(
            lim.current, lim.maximum,
            "soft limit raised to the hard one"
        );
        assert_eq!(soft, lim.current);
        assert_eq!(connection_cap(10), 10);
        if let Some(soft) = soft {
            assert!(connection_cap(usize::MAX) as u64 <= soft);
        }
    }
}
