//! systemd socket activation: a listening socket handed over as descriptor 3 with
//! `LISTEN_PID` (our pid) and `LISTEN_FDS` (how many), as `sd_listen_fds(3)` describes.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::ServeError;
use crate::error::Result;

/// The first descriptor systemd passes.
pub const LISTEN_FDS_START: RawFd = 3;

/// How many sockets were passed to process `pid`, from `LISTEN_PID` and `LISTEN_FDS`
/// (0 when none, or when they were meant for another process).
pub fn passed(listen_pid: Option<&str>, listen_fds: Option<&str>, pid: u32) -> Result<u32> {
    let Some(listen_pid) = listen_pid else {
        return Ok(0);
    };
    if listen_pid.trim().parse::<u32>().ok() != Some(pid) {
        return Ok(0);
    }
    let bad = || {
        ServeError::ListenFds {
            value: listen_fds.unwrap_or("").to_string(),
        }
        .into()
    };
    listen_fds
        .ok_or_else(bad)?
        .trim()
        .parse()
        .map_err(|_| bad())
}

/// Takes the listening TCP socket systemd passed us, if any, and unsets `LISTEN_PID`,
/// `LISTEN_FDS` and `LISTEN_FDNAMES` so children do not see them. More than one socket, or a
/// descriptor that is not a listening TCP socket, is an error. Call it before starting threads.
pub fn take_listener() -> Result<Option<std::net::TcpListener>> {
    let pid = std::env::var("LISTEN_PID").ok();
    let fds = std::env::var("LISTEN_FDS").ok();
    let n = passed(pid.as_deref(), fds.as_deref(), std::process::id())?;
    for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(name);
    }
    match n {
        0 => return Ok(None),
        1 => {}
        n => return Err(ServeError::SocketCount { n }.into()),
    }
    let not_ours = |why: String| crate::Error::from(ServeError::NotOurs { why });
    // Refuse a closed descriptor before taking ownership of it.
    // SAFETY: fd 3 is only borrowed for this call; fcntl(F_GETFD) has no effect on it.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(LISTEN_FDS_START) };
    rustix::io::fcntl_getfd(borrowed).map_err(|e| not_ours(format!("is not open: {e}")))?;
    // SAFETY: LISTEN_PID names this process, so by the protocol descriptor 3 was opened for us
    // and nothing else in the process owns it; it is taken once (the variables are unset above).
    let fd = unsafe { OwnedFd::from_raw_fd(LISTEN_FDS_START) };
    // Not inherited by anything we run.
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)
        .map_err(|e| not_ours(format!("cannot be set close-on-exec: {e}")))?;
    let socket = socket2::Socket::from(fd);
    match socket.r#type() {
        Ok(t) if t == socket2::Type::STREAM => {}
        Ok(_) => return Err(not_ours("is not a stream socket".into())),
        Err(e) => return Err(not_ours(format!("is not a socket: {e}"))),
    }
    if !socket.is_listener().unwrap_or(false) {
        return Err(not_ours("is not listening".into()));
    }
    let listener = std::net::TcpListener::from(socket);
    listener
        .local_addr()
        .map_err(|e| not_ours(format!("is not a TCP socket: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| not_ours(format!("cannot be made non-blocking: {e}")))?;
    Ok(Some(listener))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_variables() {
        assert_eq!(passed(None, None, 7).unwrap(), 0);
        assert_eq!(passed(None, Some("1"), 7).unwrap(), 0);
        assert_eq!(
            passed(Some("8"), Some("1"), 7).unwrap(),
            0,
            "for another process"
        );
        assert_eq!(passed(Some("7"), Some("1"), 7).unwrap(), 1);
        assert_eq!(passed(Some("7"), Some("2"), 7).unwrap(), 2);
        assert!(passed(Some("7"), Some("x"), 7).is_err());
        assert!(passed(Some("7"), None, 7).is_err());
    }
}
