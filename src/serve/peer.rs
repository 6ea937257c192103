//! Which local user a loopback connection comes from, read from the kernel's TCP tables
//! (`/proc/net/tcp`, `/proc/net/tcp6`): the peer's socket is the entry whose local address is
//! our remote one and whose remote address is our local one; its `uid` column is its owner.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// The tables can list every socket on the host; 64 MiB is about 400,000 of them.
const CAP_TABLE: u64 = 64 << 20;

/// The uid owning the socket at `peer` connected to `local`, if the kernel lists it (a process
/// in another network namespace, or one that already closed its end, is not found).
pub fn owner_uid(local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    let (local, peer) = (canonical(local), canonical(peer));
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text =
                crate::files::read_file(Path::new(table), CAP_TABLE, "kernel TCP table").ok()?;
            find_owner(std::str::from_utf8(&text).ok()?, local, peer)
        })
}

/// IPv4-mapped IPv6 addresses as IPv4, so v4 and dual-stack sockets compare equal.
fn canonical(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), a.port()),
            None => a,
        },
        IpAddr::V4(_) => a,
    }
}

/// Finds the entry for the peer's socket (local = `peer`, remote = `local`) in one table.
pub fn find_owner(table: &str, local: SocketAddr, peer: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let _slot = cols.next()?;
        let their_local = canonical(parse_addr(cols.next()?)?);
        let their_remote = canonical(parse_addr(cols.next()?)?);
        if their_local != peer || their_remote != local {
            return None;
        }
        // TIME_WAIT entries (state 06) list uid 0 whoever owned them: never trust them.
        if cols.next()? == "06" {
            return None;
        }
        // tx_queue:rx_queue, tr:tm->when, retrnsmt, then uid.
        cols.nth(3)?.parse().ok()
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits `:PORT` (IPv6). The kernel prints each 32-bit word
/// of the address as a number in host byte order, so the bytes come back with `to_ne_bytes`.
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok();
    let ip: IpAddr = match ip.len() {
        8 => Ipv4Addr::from(word(0)?.to_ne_bytes()).into(),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?.to_ne_bytes());
            }
            Ipv6Addr::from(b).into()
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_connection() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, peer) = l.accept().unwrap();
        let me = rustix::process::geteuid().as_raw();
        assert_eq!(owner_uid(s.local_addr().unwrap(), peer), Some(me));
        assert_eq!(peer, c.local_addr().unwrap());
        // Our own end is not mistaken for the peer's.
        assert_eq!(
            owner_uid(peer, SocketAddr::new(peer.ip(), 1)),
            None,
            "no such socket"
        );
        if let Ok(l6) = std::net::TcpListener::bind("[::1]:0") {
            let _c = std::net::TcpStream::connect(l6.local_addr().unwrap()).unwrap();
            let (s, peer) = l6.accept().unwrap();
            assert_eq!(owner_uid(s.local_addr().unwrap(), peer), Some(me));
        }
    }

    #[test]
    fn parses_the_table_format() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:26B7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:D431 0100007F:26B7 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1\n";
        let server: SocketAddr = "127.0.0.1:9911".parse().unwrap();
        let client: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(find_owner(table, server, client), Some(1001));
            assert_eq!(find_owner(table, client, server), None);
        }
        let v6 = "header\n 0: 00000000000000000000000001000000:D431 00000000000000000000000001000000:26B7 01 0:0 0:0 0 42 0 3\n";
        let s6: SocketAddr = "[::1]:9911".parse().unwrap();
        let c6: SocketAddr = "[::1]:54321".parse().unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(find_owner(v6, s6, c6), Some(42));
        }
        let mapped = "header\n 0: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:26B7 01 0:0 0:0 0 7 0 3\n";
        if cfg!(target_endian = "little") {
            assert_eq!(find_owner(mapped, server, client), Some(7));
        }
        assert_eq!(parse_addr("zz:1"), None);
        assert_eq!(parse_addr("0100007F"), None);
    }
}
