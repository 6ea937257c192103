//! `serve` end to end, in-process: the library entry with fixed test credentials, real sockets,
//! and botocore as the consumer (its IMDS and container providers).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::serve::{self, Refresher, ServeConfig, ServerHandle};
use aws_signing_helper::Error;
use zeroize::Zeroizing;

const ROLE: &str = "TestRole";

fn creds(key: &str, lifetime: Duration) -> Credentials {
    let expires = jiff::Timestamp::now()
        .checked_add(lifetime)
        .expect("a test lifetime is small");
    Credentials {
        access_key_id: key.into(),
        secret_access_key: Zeroizing::new(format!("secret-of-{key}")),
        session_token: Zeroizing::new(format!("token-of-{key}")),
        expiration: expires.to_string(),
        account_id: Some("111122223333".into()),
    }
}

fn config(dir: &Path) -> ServeConfig {
    ServeConfig {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        hop_limit: 1,
        role_name: ROLE.into(),
        container_token_file: dir.join("container.token"),
        access: Default::default(),
        listener: None,
    }
}

fn fixed(key: &'static str) -> Refresher {
    Box::new(move || Ok(creds(key, Duration::from_secs(3600))))
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTP/1.1 request on a fresh connection.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn token(addr: SocketAddr, ttl: &str) -> String {
    let r = request(
        addr,
        "PUT",
        "/latest/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", ttl)],
    );
    assert_eq!(r.status, 200);
    r.body
}

fn cred_path() -> String {
    format!("/latest/meta-data/iam/security-credentials/{ROLE}")
}

/// Polls `f` every 50 ms until it returns true or `limit` passes.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

const BOTO: &str = r#"
import botocore.session
c = botocore.session.Session().get_credentials()
if c is None:
    print("none")
else:
    f = c.get_frozen_credentials()
    print(c.method, f.access_key, f.secret_key, f.token)
"#;

/// Runs the botocore snippet with no AWS settings but `env`.
fn botocore(dir: &Path, env: &[(&str, String)]) -> String {
    let empty = dir.join("empty");
    std::fs::write(&empty, "").unwrap();
    let mut cmd = Command::new("python3");
    cmd.args(["-c", BOTO]);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
        .env("AWS_METADATA_SERVICE_TIMEOUT", "2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn start(dir: &Path, refresher: Refresher) -> ServerHandle {
    serve::start(config(dir), refresher).expect("server starts")
}

#[test]
fn botocore_gets_credentials_through_the_imds_provider() {
    if !common::have_python_module("botocore") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIAIMDSTEST"));
    let out = botocore(
        dir.path(),
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", h.imds_endpoint())],
    );
    assert_eq!(
        out,
        "iam-role ASIAIMDSTEST secret-of-ASIAIMDSTEST token-of-ASIAIMDSTEST"
    );
}

#[test]
fn botocore_gets_credentials_through_the_container_provider() {
    if !common::have_python_module("botocore") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIACONTAINER"));
    let token_file = h.container_token_file().to_path_buf();
    let out = botocore(
        dir.path(),
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", h.container_uri()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                token_file.display().to_string(),
            ),
        ],
    );
    assert_eq!(
        out,
        "container-role ASIACONTAINER secret-of-ASIACONTAINER token-of-ASIACONTAINER"
    );
    // The token given inline works the same; a wrong one is refused.
    let token = std::fs::read_to_string(&token_file).unwrap();
    let out = botocore(
        dir.path(),
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", h.container_uri()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token),
        ],
    );
    assert!(out.starts_with("container-role ASIACONTAINER"), "{out}");
    let r = request(
        h.addr(),
        "GET",
        "/v1/credentials",
        &[("Authorization", "x")],
    );
    assert_eq!(r.status, 403);
    let r = request(h.addr(), "GET", "/v1/credentials", &[]);
    assert_eq!(r.status, 401);
}

#[cfg(unix)]
#[test]
fn container_token_file_is_private_and_removed_on_shutdown() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIAFILE"));
    let path: PathBuf = h.container_token_file().to_path_buf();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let token = std::fs::read_to_string(&path).unwrap();
    assert!(token.len() >= 43 && !token.contains('\n'));
    let r = request(
        h.addr(),
        "GET",
        "/v1/credentials",
        &[("Authorization", &token)],
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"AccessKeyId\":\"ASIAFILE\""));
    h.shutdown();
    assert!(!path.exists());
}

#[test]
fn imdsv2_error_cases_over_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIAERRORS"));
    let a = h.addr();
    let cp = cred_path();

    let r = request(a, "GET", &cp, &[]);
    assert_eq!((r.status, r.body.as_str()), (401, "no token provided"));
    let r = request(a, "GET", &cp, &[("X-aws-ec2-metadata-token", "nope")]);
    assert_eq!((r.status, r.body.as_str()), (401, "invalid token provided"));
    for ttl in ["0", "21601", "abc"] {
        let r = request(
            a,
            "PUT",
            "/latest/api/token",
            &[("X-aws-ec2-metadata-token-ttl-seconds", ttl)],
        );
        assert_eq!((r.status, r.body.as_str()), (400, "invalid token TTL"));
    }
    let r = request(
        a,
        "PUT",
        "/latest/api/token",
        &[("X-Forwarded-For", "192.0.2.1")],
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            "unable to process requests with X-Forwarded-For header"
        )
    );
    let r = request(a, "GET", "/nope", &[]);
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
    let r = request(a, "POST", &cp, &[]);
    assert_eq!(r.status, 405);

    // A good token: the credentials route answers with the TTL header (official bug fixed),
    // in Go's canonical header spelling.
    let t = token(a, "60");
    let r = request(a, "GET", &cp, &[("X-aws-ec2-metadata-token", &t)]);
    assert_eq!(r.status, 200);
    assert!(
        r.head
            .contains("\r\nX-Aws-Ec2-Metadata-Token-Ttl-Seconds: "),
        "{}",
        r.head
    );
    let left: u64 = r
        .header("x-aws-ec2-metadata-token-ttl-seconds")
        .unwrap()
        .parse()
        .unwrap();
    assert!((58..=60).contains(&left));
    assert!(r
        .body
        .starts_with("{\"AccessKeyId\":\"ASIAERRORS\",\"SecretAccessKey\""));
    let r = request(
        a,
        "GET",
        "/latest/meta-data/iam/security-credentials/",
        &[("X-aws-ec2-metadata-token", &t)],
    );
    assert_eq!((r.status, r.body.as_str()), (200, ROLE));

    // A token with a 1 s TTL expires.
    let short = token(a, "1");
    assert_eq!(
        request(a, "GET", &cp, &[("X-aws-ec2-metadata-token", &short)]).status,
        200
    );
    assert!(
        wait_for(Duration::from_secs(5), || {
            let r = request(a, "GET", &cp, &[("X-aws-ec2-metadata-token", &short)]);
            r.status == 401 && r.body == "invalid token provided"
        }),
        "a token past its TTL must be rejected"
    );
}

#[test]
fn refresh_failure_keeps_serving_the_last_good_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    // Lives 4 s, so the refresher tries again after 2 s, fails, and retries with backoff.
    let refresher: Refresher = Box::new(move || {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Ok(creds("ASIAFIRST", Duration::from_secs(4)))
        } else {
            Err(Error::new("simulated CreateSession failure"))
        }
    });
    let h = start(dir.path(), refresher);
    let a = h.addr();
    let t = token(a, "600");
    let get = || request(a, "GET", &cred_path(), &[("X-aws-ec2-metadata-token", &t)]);
    assert!(
        wait_for(Duration::from_secs(5), || calls.load(Ordering::SeqCst) >= 2),
        "the refresher should have been called again"
    );
    let r = get();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"AccessKeyId\":\"ASIAFIRST\""));
    // Once they expire, the route answers an error, never an empty "Success".
    assert!(
        wait_for(Duration::from_secs(8), || get().status == 503),
        "expired credentials must not be served"
    );
    assert!(!get().body.contains("Success"));
    // Bounded backoff: a handful of attempts in a few seconds, not a storm.
    let n = calls.load(Ordering::SeqCst);
    assert!((2..=8).contains(&n), "{n} refresher calls");
}

#[test]
fn requests_never_refresh_and_refreshes_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let max_running = Arc::new(AtomicUsize::new(0));
    let (c, r, m) = (calls.clone(), running.clone(), max_running.clone());
    // Credentials of 2 s: refreshed every second, each refresh taking 300 ms.
    let refresher: Refresher = Box::new(move || {
        let n = c.fetch_add(1, Ordering::SeqCst);
        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        if n > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        r.fetch_sub(1, Ordering::SeqCst);
        Ok(creds(&format!("ASIAGEN{n}"), Duration::from_secs(2)))
    });
    let h = start(dir.path(), refresher);
    let a = h.addr();
    let t = token(a, "600");
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                let end = Instant::now() + Duration::from_millis(2500);
                let mut ok = 0;
                while Instant::now() < end {
                    let r = request(a, "GET", &cred_path(), &[("X-aws-ec2-metadata-token", &t)]);
                    assert_eq!(r.status, 200, "{}", r.body);
                    ok += 1;
                }
                ok
            })
        })
        .collect();
    let served: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let n = calls.load(Ordering::SeqCst);
    assert!(served > 100, "{served} requests");
    assert!((2..=5).contains(&n), "{n} refreshes for {served} requests");
    assert_eq!(max_running.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_first_fetch_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let refresher: Refresher = Box::new(|| Err(Error::new("no route to Roles Anywhere")));
    let err = match serve::start(config(dir.path()), refresher) {
        Ok(_) => panic!("start must fail"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("unable to obtain the first credentials"),
        "{err}"
    );
    assert!(err.contains("no route to Roles Anywhere"), "{err}");
    assert!(!dir.path().join("container.token").exists());
    // Already-expired or undated credentials are refused too.
    let refresher: Refresher = Box::new(|| {
        let mut c = creds("ASIAOLD", Duration::ZERO);
        c.expiration = "2001-01-01T00:00:00Z".into();
        Ok(c)
    });
    assert!(serve::start(config(dir.path()), refresher).is_err());
}

#[test]
fn shutdown_is_prompt_with_an_idle_keep_alive_connection() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIASHUT"));
    let a = h.addr();
    let mut idle = TcpStream::connect(a).unwrap();
    idle.write_all(format!("PUT /latest/api/token HTTP/1.1\r\nHost: {a}\r\n\r\n").as_bytes())
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(idle.read(&mut buf).unwrap() > 0);
    let started = Instant::now();
    h.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(a).is_err(), "the listener is closed");
}

#[test]
fn ipv6_loopback_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.bind = "::1".parse().unwrap();
    let h = match serve::start(cfg, fixed("ASIASIX")) {
        Ok(h) => h,
        Err(e) => {
            // Some sandboxes have no IPv6 at all.
            eprintln!("SKIPPED: cannot listen on ::1: {e}");
            return;
        }
    };
    assert!(h.imds_endpoint().starts_with("http://[::1]:"));
    let t = token(h.addr(), "60");
    let r = request(
        h.addr(),
        "GET",
        &cred_path(),
        &[("X-aws-ec2-metadata-token", &t)],
    );
    assert_eq!(r.status, 200);
}

/// A client that connects and sends nothing does not hold the connection: the server closes it
/// (after its 10 s header-read time-out), which the client sees as end of stream, not as its
/// own 30 s read time-out.
#[test]
fn silent_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path(), fixed("ASIASILENT"));
    let mut s = TcpStream::connect(h.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let n = loop {
        match s.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("the server kept a silent connection open: {e}"),
        }
    };
    let _ = n; // hyper may answer 408 before closing, or just close
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "closed only after {:?}",
        started.elapsed()
    );
    // And the server still answers others.
    let mut t = TcpStream::connect(h.addr()).unwrap();
    t.write_all(b"PUT /latest/api/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut resp = String::new();
    t.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

/// Sends `raw` as is on a fresh connection and reads the whole answer.
fn raw_request(addr: SocketAddr, raw: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    Reply {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// DNS rebinding: a page whose name now resolves to 127.0.0.1 sends its own name as Host.
#[test]
fn foreign_host_names_and_proxy_requests_are_refused_over_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.access.allow_hosts = vec!["creds.internal".into()];
    let h = serve::start(c, fixed("ASIAHOSTS")).unwrap();
    let a = h.addr();
    let t = token(a, "60");
    let cred = cred_path();
    let get = |host: &str, target: &str| {
        raw_request(
            a,
            &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nX-aws-ec2-metadata-token: {t}\r\nConnection: close\r\n\r\n"),
        )
    };
    for host in [
        format!("evil.example:{}", a.port()),
        "evil.example".to_string(),
        format!("127.0.0.1.evil.example:{}", a.port()),
    ] {
        let r = get(&host, &cred);
        assert_eq!(r.status, 403, "{host}");
        assert_eq!(r.body, "", "{host}");
        assert!(!r.head.contains("ASIAHOSTS"));
    }
    let token_put = raw_request(
        a,
        "PUT /latest/api/token HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(token_put.status, 403);
    assert_eq!(token_put.body, "");
    // Absolute-form targets, even naming us.
    let r = get(&a.to_string(), &format!("http://{a}{cred}"));
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "");
    for host in [
        a.to_string(),
        "127.0.0.1".to_string(),
        format!("localhost:{}", a.port()),
        "169.254.169.254".to_string(),
        format!("CREDS.internal:{}", a.port()),
    ] {
        let r = get(&host, &cred);
        assert_eq!(r.status, 200, "{host}");
        assert!(r.body.contains("ASIAHOSTS"));
    }
}

/// An idle flood above the cap: the least recently used connections are closed, and a new
/// client is answered at once instead of queueing behind them.
#[test]
fn an_idle_flood_above_the_cap_does_not_block_a_new_client() {
    const CAP: usize = 16;
    const FLOOD: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.access.max_connections = CAP;
    let h = serve::start(c, fixed("ASIAFLOOD")).unwrap();
    let a = h.addr();
    let idle: Vec<TcpStream> = (0..FLOOD)
        .map(|i| {
            let mut s = TcpStream::connect(a).unwrap();
            if i % 2 == 0 {
                // Half of them dribble the start of a request.
                s.write_all(b"GET /latest/api/token HTTP/1.1\r\n").unwrap();
            }
            s
        })
        .collect();
    let t = token(a, "60");
    let r = request(a, "GET", &cred_path(), &[("X-aws-ec2-metadata-token", &t)]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("ASIAFLOOD"));
    // Everything but the newest CAP - 1 flood connections gets closed.
    let closed = |mut s: &TcpStream| {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 64];
        !matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    };
    let mut closed_count = 0;
    assert!(
        wait_for(Duration::from_secs(10), || {
            closed_count = idle.iter().filter(|s| closed(s)).count();
            closed_count >= FLOOD - (CAP - 1)
        }),
        "only {closed_count} of {FLOOD} idle connections were closed"
    );
    // The newest ones were kept.
    assert!(
        !closed(idle.last().unwrap()),
        "the newest connection was closed"
    );
}

const TEST_USER: &str = "aws-sh-test-serve";

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Status of a token request and of a container request, made by a process of `uid`.
fn statuses_as(uid: u32, gid: u32, addr: SocketAddr, bearer: &str) -> String {
    // curl, not python: python may live under root's home (pyenv), out of the user's reach.
    const SH: &str = r#"printf '%s %s %s' "$(id -u)" \
  "$(curl -gs -o /dev/null -w '%{http_code}' -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$1/latest/api/token")" \
  "$(curl -gs -o /dev/null -w '%{http_code}' -H "Authorization: $BEARER" "$1/v1/credentials")""#;
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "/bin/sh",
            "-c",
            SH,
            "sh",
            &format!("http://{addr}"),
        ])
        .env("BEARER", bearer)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn imds_routes_answer_only_the_allowed_users() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "this test needs root, and CI runs as root"
        );
        eprintln!("skipping: creating a second user and switching to it needs root");
        return;
    }
    let (uid, gid) = common::system_user(TEST_USER);
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.access.allow_uids = Some(vec![0]);
    let h = serve::start(c, fixed("ASIAPERUSER")).unwrap();
    let bearer = std::fs::read_to_string(h.container_token_file()).unwrap();
    // Root (allowed) gets its token; the other user is refused on IMDS but keeps the
    // container route with the bearer token.
    assert_eq!(statuses_as(0, 0, h.addr(), &bearer), "0 200 200");
    assert_eq!(
        statuses_as(uid, gid, h.addr(), &bearer),
        format!("{uid} 403 200")
    );
    let r = request(
        h.addr(),
        "GET",
        &cred_path(),
        &[("X-aws-ec2-metadata-token", &token(h.addr(), "60"))],
    );
    assert_eq!(r.status, 200);
    drop(h);
    // Allowing the user lets it in.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.access.allow_uids = Some(vec![0, uid]);
    let h = serve::start(c, fixed("ASIAPERUSER")).unwrap();
    let bearer = std::fs::read_to_string(h.container_token_file()).unwrap();
    assert_eq!(
        statuses_as(uid, gid, h.addr(), &bearer),
        format!("{uid} 200 200")
    );
    // IPv6 loopback too.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.bind = "::1".parse().unwrap();
    c.access.allow_uids = Some(vec![0]);
    if let Ok(h) = serve::start(c, fixed("ASIAPERUSER")) {
        let bearer = std::fs::read_to_string(h.container_token_file()).unwrap();
        assert_eq!(
            statuses_as(uid, gid, h.addr(), &bearer),
            format!("{uid} 403 200")
        );
        assert_eq!(statuses_as(0, 0, h.addr(), &bearer), "0 200 200");
    }
}

/// Bound to every address (a container), the address a client connected to is answered as
/// Host, by IP; other addresses and names are not.
#[test]
fn bound_to_any_address_the_connected_ip_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.bind = "0.0.0.0".parse().unwrap();
    let h = serve::start(c, fixed("ASIAANY")).unwrap();
    let port = h.addr().port();
    let via: SocketAddr = format!("127.0.0.2:{port}").parse().unwrap();
    let put = |host: &str| {
        raw_request(
            via,
            &format!("PUT /latest/api/token HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        )
        .status
    };
    assert_eq!(put(&format!("127.0.0.2:{port}")), 200);
    assert_eq!(put("127.0.0.2"), 200);
    assert_eq!(put(&format!("127.0.0.3:{port}")), 403);
    assert_eq!(put(&format!("helper:{port}")), 403);
    assert_eq!(put(&format!("localhost:{port}")), 200);
}
