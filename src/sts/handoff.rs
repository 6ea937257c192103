//! Handing a secret URL (the console sign-in URL, a bearer token) to a browser without putting
//! it on a command line, where every local user can read it in `ps` or `/proc/PID/cmdline`.
//!
//! The opener is given `http://127.0.0.1:PORT/RANDOM` instead: a one-shot loopback server that
//! answers `GET /RANDOM` with a `302` to the secret URL, once, and only to a connection owned
//! by our own uid (checked in the kernel's TCP table, as `serve --allow-uid` does). Another
//! user who reads the opener's command line gets `403`; a web page cannot guess the path. The
//! server stops after the one redirect or after the deadline.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::sts::signin_error::SigninError;

/// How much of a request is read: a browser's request line and headers.
const CAP_REQUEST: usize = 16 << 10;
/// How long one connection may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A bound one-shot redirect server.
pub struct Handoff {
    listener: std::net::TcpListener,
    path: String,
    uid: u32,
}

/// What became of one connection.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// 302 to the secret URL: done.
    Redirected,
    /// 403 (another user) or 404 (another path): keep waiting.
    Refused,
}

impl Handoff {
    /// Binds a loopback port, with a fresh random path.
    pub fn bind() -> Result<Handoff> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(|source| SigninError::Listen { source })?;
        let mut random = [0u8; 16];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| SigninError::Random)?;
        Ok(Handoff {
            listener,
            path: format!("/{}", hex::encode(random)),
            uid: crate::files::dir::euid(),
        })
    }

    /// The URL to give the opener (holds no secret).
    pub fn url(&self) -> Result<String> {
        let addr = self
            .listener
            .local_addr()
            .map_err(|source| SigninError::LocalAddr { source })?;
        Ok(format!("http://{addr}{}", self.path))
    }

    /// Serves the one redirect to `target`. Returns when it was served (Ok), when `opener`
    /// finished without it being fetched (its error), or after `deadline`.
    pub fn serve(
        self,
        target: &Zeroizing<String>,
        deadline: Duration,
        opener: std::sync::mpsc::Receiver<Result<()>>,
    ) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|source| SigninError::Start { source })?;
        rt.block_on(async move {
            self.listener
                .set_nonblocking(true)
                .map_err(|source| SigninError::Start { source })?;
            let listener = tokio::net::TcpListener::from_std(self.listener)
                .map_err(|source| SigninError::Start { source })?;
            let local = listener
                .local_addr()
                .map_err(|source| SigninError::LocalAddr { source })?;
            // The opener's outcome, polled between connections (a channel fed by the thread
            // that waits for it).
            let (tx, mut opener_done) = tokio::sync::mpsc::channel::<Result<()>>(1);
            std::thread::spawn(move || {
                if let Ok(r) = opener.recv() {
                    let _ = tx.blocking_send(r);
                }
            });
            let timeout = tokio::time::sleep(deadline);
            tokio::pin!(timeout);
            let mut opener_open = true;
            loop {
                tokio::select! {
                    _ = &mut timeout => {
                        return Err(SigninError::NotFetched {
                            secs: deadline.as_secs(),
                        }
                        .into());
                    }
                    done = opener_done.recv(), if opener_open => {
                        opener_open = false;
                        if let Some(Err(e)) = done {
                            return Err(e);
                        }
                    }
                    accepted = listener.accept() => {
                        let Ok((stream, peer)) = accepted else { continue };
                        let answer = tokio::time::timeout(
                            REQUEST_TIMEOUT,
                            answer(stream, local, peer, &self.path, self.uid, target),
                        )
                        .await;
                        if let Ok(Answer::Redirected) = answer {
                            return Ok(());
                        }
                    }
                }
            }
        })
    }
}

/// Reads one request and answers it: the redirect for our uid on our path, else a refusal.
async fn answer(
    mut stream: tokio::net::TcpStream,
    local: SocketAddr,
    peer: SocketAddr,
    path: &str,
    uid: u32,
    target: &Zeroizing<String>,
) -> Answer {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < CAP_REQUEST {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let (status, location) = decide(&buf, path, || {
        crate::serve::peer::owner_uid(local, peer) == Some(uid)
    });
    let mut response = Zeroizing::new(format!("HTTP/1.1 {status}\r\n"));
    if location {
        response.push_str("Location: ");
        response.push_str(target);
        response.push_str("\r\n");
    }
    response.push_str(
        "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let sent = stream.write_all(response.as_bytes()).await.is_ok();
    let _ = stream.shutdown().await;
    if location && sent {
        Answer::Redirected
    } else {
        Answer::Refused
    }
}

/// The status line for `request`, and whether it gets the redirect. `ours` says whether the
/// connection belongs to our uid (asked only for the right path).
fn decide(request: &[u8], path: &str, ours: impl FnOnce() -> bool) -> (&'static str, bool) {
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (parts.next(), parts.next());
    if method != Some(b"GET".as_slice()) || target != Some(path.as_bytes()) {
        return ("404 Not Found", false);
    }
    if !ours() {
        return ("403 Forbidden", false);
    }
    ("302 Found", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_path_and_uid_get_the_redirect() {
        let req = b"GET /abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        assert_eq!(decide(req, "/abc", || true), ("302 Found", true));
        assert_eq!(decide(req, "/abc", || false), ("403 Forbidden", false));
        assert_eq!(decide(req, "/abd", || true), ("404 Not Found", false));
        assert_eq!(
            decide(b"POST /abc HTTP/1.1\r\n\r\n", "/abc", || true),
            ("404 Not Found", false)
        );
        assert_eq!(decide(b"", "/abc", || true), ("404 Not Found", false));
        assert_eq!(
            decide(b"GET /abc/x HTTP/1.1\r\n\r\n", "/abc", || true),
            ("404 Not Found", false)
        );
    }
}
