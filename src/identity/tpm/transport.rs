//! Where TPM commands go (`TPM_DEVICE`) and how: a character device (`/dev/tpmrm0`,
//! `/dev/tpm0`: write a command, read its response), or a TPM simulator (swtpm, the Microsoft
//! simulator) over TCP or a Unix socket with the simulator's framing (`TPM_SEND_COMMAND`,
//! locality, length; the response's length, bytes and a trailing 0). A Unix socket given as a
//! bare path gets raw commands, as the official tool sends them (go-tpm's `OpenTPM`); swtpm
//! takes either.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

/// Why the TPM could not be reached.
#[derive(Debug)]
pub enum TransportError {
    /// `TPM_DEVICE=value` is not something we can use (`why`).
    Unsupported { value: String, why: String },
    /// `TPM_DEVICE=value` names tpm2-abrmd.
    Tabrmd { value: String },
    /// The device node does not exist.
    Missing { path: PathBuf },
    /// Opening the TPM at `origin` failed.
    Open {
        origin: String,
        source: std::io::Error,
    },
    /// Sending to or reading from the TPM at `origin` failed.
    Io {
        origin: String,
        source: std::io::Error,
    },
}

impl TransportError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            TransportError::Unsupported { .. } => HINT,
            TransportError::Tabrmd { .. } => {
                "use the kernel's resource manager, which does the same job: TPM_DEVICE=/dev/tpmrm0"
            }
            TransportError::Missing { .. } => {
                "check that this machine has a TPM (ls /dev/tpm*), or set TPM_DEVICE (e.g. swtpm:host=127.0.0.1,port=2321)"
            }
            TransportError::Open { .. } => {
                "check that the TPM exists and is readable (group tss), or set TPM_DEVICE (e.g. /dev/tpmrm0, swtpm:host=127.0.0.1,port=2321 or swtpm:path=/run/swtpm.sock)"
            }
            TransportError::Io { .. } => "check that the TPM (or swtpm) is still running",
        })
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unsupported { value, why } => write!(f, "TPM_DEVICE={value} {why}"),
            TransportError::Tabrmd { value } => write!(
                f,
                "TPM_DEVICE={value} names tpm2-abrmd (D-Bus), which this build does not talk to"
            ),
            TransportError::Missing { path } => {
                write!(f, "TPM device {} does not exist", path.display())
            }
            TransportError::Open { origin, source } => {
                write!(f, "cannot open the TPM ({origin}): {}", io_why(source))
            }
            TransportError::Io { origin, source } => {
                write!(f, "TPM I/O failed ({origin}): {}", io_why(source))
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Open { source, .. } | TransportError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(TransportError);

type Result<T, E = TransportError> = std::result::Result<T, E>;

/// `TPM_SEND_COMMAND` of the simulator protocol.
const SEND_COMMAND: u32 = 8;
/// Platform commands of the Microsoft simulator (its port + 1).
const SIGNAL_POWER_ON: u32 = 1;
const SIGNAL_NV_ON: u32 = 11;
/// The largest response accepted (TPM responses are at most a few KiB).
const MAX_RESPONSE: usize = 64 * 1024;
/// How long a simulator may take to answer.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(60);

const HINT: &str = "set TPM_DEVICE to a device node (/dev/tpmrm0), swtpm:host=127.0.0.1,port=2321 (swtpm --server type=tcp,port=2321) or swtpm:path=/run/swtpm.sock (swtpm --server type=unixio,path=/run/swtpm.sock)";

/// A TPM to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A character device.
    Node(PathBuf),
    /// A simulator over TCP; `mssim` also powers it on through the platform port (port + 1),
    /// as the Microsoft simulator needs.
    Tcp {
        host: String,
        port: u16,
        mssim: bool,
    },
    /// A simulator (swtpm `--server type=unixio`) over a Unix socket; `framed`: with the
    /// simulator framing (`swtpm:path=…`, as tpm2-tss sends it), else raw commands (a bare path,
    /// as the official tool sends them).
    Unix { path: PathBuf, framed: bool },
}

/// The device and where it came from (`TPM_DEVICE=…` or the default path), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub device: Device,
    pub origin: String,
}

impl Target {
    /// Whether the device is a simulator (which may still need `TPM2_Startup`).
    pub fn is_simulator(&self) -> bool {
        !matches!(self.device, Device::Node(_))
    }
}

fn unsupported(value: &str, why: &str) -> TransportError {
    TransportError::Unsupported {
        value: value.to_string(),
        why: why.to_string(),
    }
}

/// Parses `TPM_DEVICE`: a device node or Unix socket path, or a TCTI string as the tpm2-tss
/// tools take it: `device:PATH`, `swtpm:` / `mssim:` with `host=`, `port=` (defaults localhost
/// and 2321) or `path=` (a Unix socket). `tabrmd:` (the D-Bus resource manager) is refused with
/// a hint: the kernel's resource manager `/dev/tpmrm0` does the same job.
pub fn parse(value: &str) -> Result<Device> {
    let Some((kind, conf)) = value.split_once(':') else {
        return Ok(path_device(Path::new(value)));
    };
    match kind {
        "device" => Ok(Device::Node(PathBuf::from(if conf.is_empty() {
            "/dev/tpm0"
        } else {
            conf
        }))),
        "swtpm" | "mssim" => {
            let (mut host, mut port, mut path) = (None, None, None);
            for kv in conf.split(',').filter(|kv| !kv.is_empty()) {
                let (k, v) = kv
                    .split_once('=')
                    .filter(|(_, v)| !v.is_empty())
                    .ok_or_else(|| unsupported(value, &format!("has a malformed option {kv:?}")))?;
                match k {
                    "host" => host = Some(v.to_string()),
                    "port" => {
                        port = Some(v.parse::<u16>().map_err(|_| {
                            unsupported(value, &format!("has an invalid port {v:?}"))
                        })?)
                    }
                    "path" => path = Some(PathBuf::from(v)),
                    _ => {
                        return Err(unsupported(
                            value,
                            &format!("has an unknown option {k:?} (known: host, port, path)"),
                        ))
                    }
                }
            }
            match path {
                Some(_) if host.is_some() || port.is_some() => Err(unsupported(
                    value,
                    "gives both a Unix socket path and a host or port",
                )),
                Some(path) => Ok(Device::Unix { path, framed: true }),
                None => Ok(Device::Tcp {
                    host: host.unwrap_or_else(|| "localhost".into()),
                    port: port.unwrap_or(2321),
                    mssim: kind == "mssim",
                }),
            }
        }
        "tabrmd" => Err(TransportError::Tabrmd {
            value: value.to_string(),
        }),
        _ => Err(unsupported(
            value,
            "is not a TPM device or TCTI this build understands",
        )),
    }
}

/// A path: a Unix socket is a simulator, anything else a device node.
fn path_device(path: &Path) -> Device {
    use std::os::unix::fs::FileTypeExt;
    let socket = std::fs::metadata(path)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false);
    if socket {
        Device::Unix {
            path: path.to_path_buf(),
            framed: false,
        }
    } else {
        Device::Node(path.to_path_buf())
    }
}

/// `TPM_DEVICE` if set, else `/dev/tpmrm0` (the kernel's resource manager) if present, else
/// `/dev/tpm0`.
pub fn target() -> Result<Target> {
    match crate::env::var("TPM_DEVICE") {
        Some(value) => Ok(Target {
            device: parse(&value)?,
            origin: format!("TPM_DEVICE={value}"),
        }),
        None => {
            let path = if Path::new("/dev/tpmrm0").exists() {
                "/dev/tpmrm0"
            } else {
                "/dev/tpm0"
            };
            Ok(Target {
                device: Device::Node(PathBuf::from(path)),
                origin: path.to_string(),
            })
        }
    }
}

enum Stream {
    Node(std::fs::File),
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream, bool),
}

/// An open connection to a TPM.
pub struct Connection {
    stream: Stream,
    origin: String,
}

fn io_why(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => "timed out".into(),
        _ => e.to_string(),
    }
}

fn platform_power_on(host: &str, port: u16) -> std::io::Result<()> {
    let mut s = std::net::TcpStream::connect((host, port))?;
    s.set_read_timeout(Some(SOCKET_TIMEOUT))?;
    for signal in [SIGNAL_POWER_ON, SIGNAL_NV_ON] {
        s.write_all(&signal.to_be_bytes())?;
        let mut ack = [0u8; 4];
        s.read_exact(&mut ack)?;
    }
    Ok(())
}

impl Connection {
    pub fn open(target: &Target) -> Result<Connection> {
        let origin = &target.origin;
        let cannot = |source: std::io::Error| TransportError::Open {
            origin: origin.clone(),
            source,
        };
        let stream = match &target.device {
            Device::Node(path) => {
                if !path.exists() {
                    return Err(TransportError::Missing { path: path.clone() });
                }
                // A character device, not a file: files:: (bounded reads of regular files,
                // atomic writes) does not apply.
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(cannot)?;
                Stream::Node(file)
            }
            Device::Tcp { host, port, mssim } => {
                if *mssim {
                    let platform = port.checked_add(1).ok_or_else(|| {
                        unsupported(origin, "has no room for the platform port (port + 1)")
                    })?;
                    platform_power_on(host, platform).map_err(cannot)?;
                }
                let s = std::net::TcpStream::connect((host.as_str(), *port)).map_err(cannot)?;
                s.set_read_timeout(Some(SOCKET_TIMEOUT)).map_err(cannot)?;
                s.set_write_timeout(Some(SOCKET_TIMEOUT)).map_err(cannot)?;
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }
            Device::Unix { path, framed } => {
                let s = std::os::unix::net::UnixStream::connect(path).map_err(cannot)?;
                s.set_read_timeout(Some(SOCKET_TIMEOUT)).map_err(cannot)?;
                s.set_write_timeout(Some(SOCKET_TIMEOUT)).map_err(cannot)?;
                Stream::Unix(s, *framed)
            }
        };
        Ok(Connection {
            stream,
            origin: origin.clone(),
        })
    }

    /// Sends one command and returns its response (not yet checked).
    pub fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let origin = self.origin.clone();
        let failed = |source: std::io::Error| TransportError::Io {
            origin: origin.clone(),
            source,
        };
        match &mut self.stream {
            Stream::Node(file) => device_transmit(file, command).map_err(failed),
            Stream::Tcp(s) => simulator_transmit(s, command).map_err(failed),
            Stream::Unix(s, true) => simulator_transmit(s, command).map_err(failed),
            Stream::Unix(s, false) => raw_transmit(s, command).map_err(failed),
        }
    }
}

/// One command to a character device: the whole command in one write, the whole response in
/// one read (the TPM drivers' interface).
fn device_transmit<S: Read + Write>(s: &mut S, command: &[u8]) -> std::io::Result<Vec<u8>> {
    s.write_all(command)?;
    let mut buf = vec![0u8; MAX_RESPONSE];
    let n = s.read(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// One raw command over a stream: the response's header says how long it is.
fn raw_transmit<S: Read + Write>(s: &mut S, command: &[u8]) -> std::io::Result<Vec<u8>> {
    s.write_all(command)?;
    let mut resp = vec![0u8; 10];
    s.read_exact(&mut resp)?;
    let size = u32::from_be_bytes([resp[2], resp[3], resp[4], resp[5]]);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if !(10..=MAX_RESPONSE).contains(&size) {
        return Err(std::io::Error::other(format!(
            "the TPM announced a {size}-byte response"
        )));
    }
    resp.resize(size, 0);
    s.read_exact(&mut resp[10..])?;
    Ok(resp)
}

/// One command in the simulator framing: `TPM_SEND_COMMAND`, locality 0, length, command; then
/// length, response, and a 4-byte acknowledgement.
fn simulator_transmit<S: Read + Write>(s: &mut S, command: &[u8]) -> std::io::Result<Vec<u8>> {
    let len =
        u32::try_from(command.len()).map_err(|_| std::io::Error::other("command too large"))?;
    let mut frame = Zeroizing::new(Vec::with_capacity(9 + command.len()));
    frame.extend_from_slice(&SEND_COMMAND.to_be_bytes());
    frame.push(0);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(command);
    s.write_all(&frame)?;
    let mut word = [0u8; 4];
    s.read_exact(&mut word)?;
    let n = usize::try_from(u32::from_be_bytes(word)).unwrap_or(usize::MAX);
    if n > MAX_RESPONSE {
        return Err(std::io::Error::other(format!(
            "the simulator announced a {n}-byte response"
        )));
    }
    let mut resp = vec![0u8; n];
    s.read_exact(&mut resp)?;
    s.read_exact(&mut word)?;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpm_device_strings() {
        let tcp = |host: &str, port, mssim| Device::Tcp {
            host: host.into(),
            port,
            mssim,
        };
        assert_eq!(
            parse("swtpm:host=127.0.0.1,port=2321").unwrap(),
            tcp("127.0.0.1", 2321, false)
        );
        assert_eq!(parse("swtpm:").unwrap(), tcp("localhost", 2321, false));
        assert_eq!(
            parse("swtpm:port=4000").unwrap(),
            tcp("localhost", 4000, false)
        );
        assert_eq!(
            parse("mssim:host=::1,port=2321").unwrap(),
            tcp("::1", 2321, true)
        );
        assert_eq!(
            parse("swtpm:path=/run/swtpm.sock").unwrap(),
            Device::Unix {
                path: "/run/swtpm.sock".into(),
                framed: true
            }
        );
        assert_eq!(
            parse("device:/dev/tpmrm0").unwrap(),
            Device::Node("/dev/tpmrm0".into())
        );
        assert_eq!(parse("device:").unwrap(), Device::Node("/dev/tpm0".into()));
        assert_eq!(
            parse("/dev/tpm0").unwrap(),
            Device::Node("/dev/tpm0".into())
        );
        for (bad, why) in [
            ("swtpm:host", "malformed option"),
            ("swtpm:port=x", "invalid port"),
            ("swtpm:path=/a,port=1", "both"),
            ("swtpm:bus_name=x", "unknown option"),
            ("tabrmd:bus_name=com.intel.tss2.Tabrmd", "tpm2-abrmd"),
            ("nosuch:x", "not a TPM device"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("TPM_DEVICE={bad} ")),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{bad}: {e}");
            assert!(e.hint().is_some(), "{e}");
        }
    }

    #[test]
    fn a_socket_path_is_a_simulator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tpm.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert_eq!(
            parse(path.to_str().unwrap()).unwrap(),
            Device::Unix {
                path: path.clone(),
                framed: false
            }
        );
    }

    #[test]
    fn device_framing() {
        // The other end of the pair plays the driver: raw command in, raw response out.
        let (mut ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let driver = std::thread::spawn(move || {
            let mut cmd = [0u8; 14];
            theirs.read_exact(&mut cmd).unwrap();
            assert_eq!(hex::encode(cmd), "80010000000e0000017381000001");
            theirs
                .write_all(&[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x8b])
                .unwrap();
        });
        let cmd = super::super::marshal::command(0x173, &[0x8100_0001], None, &[]).unwrap();
        let resp = device_transmit(&mut ours, &cmd).unwrap();
        driver.join().unwrap();
        match super::super::marshal::check_header(&resp) {
            Err(super::super::marshal::Failure::Tpm(rc)) => assert_eq!(rc.0, 0x18b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn raw_stream_framing() {
        // A raw response in two pieces: the header's size decides how much is read.
        let (mut ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let tpm = std::thread::spawn(move || {
            let mut cmd = [0u8; 14];
            theirs.read_exact(&mut cmd).unwrap();
            theirs.write_all(&[0x80, 0x01, 0, 0, 0, 12, 0]).unwrap();
            theirs.flush().unwrap();
            theirs.write_all(&[0, 0, 0, 0xaa, 0xbb]).unwrap();
        });
        let cmd = super::super::marshal::command(0x173, &[0x8100_0001], None, &[]).unwrap();
        let resp = raw_transmit(&mut ours, &cmd).unwrap();
        tpm.join().unwrap();
        assert_eq!(resp, [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0xaa, 0xbb]);
        // A header announcing less than itself is refused, not read.
        let (mut ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        theirs
            .write_all(&[0x80, 0x01, 0, 0, 0, 2, 0, 0, 0, 0])
            .unwrap();
        assert!(raw_transmit(&mut ours, &cmd).is_err());
    }

    #[test]
    fn mssim_is_powered_on_through_the_platform_port() {
        // Two consecutive free ports: the command port and the platform port (+1).
        let (tpm, platform) = (0..50)
            .find_map(|_| {
                let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let port = a.local_addr().unwrap().port().checked_add(1)?;
                let b = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
                Some((a, b))
            })
            .expect("two consecutive free ports");
        let port = tpm.local_addr().unwrap().port();
        let sim = std::thread::spawn(move || {
            let (mut p, _) = platform.accept().unwrap();
            let mut signals = Vec::new();
            for _ in 0..2 {
                let mut w = [0u8; 4];
                p.read_exact(&mut w).unwrap();
                signals.push(u32::from_be_bytes(w));
                p.write_all(&[0; 4]).unwrap();
            }
            let (mut s, _) = tpm.accept().unwrap();
            let mut frame = [0u8; 10];
            s.read_exact(&mut frame).unwrap();
            s.write_all(&[0, 0, 0, 1, b'!', 0, 0, 0, 0]).unwrap();
            signals
        });
        let target = Target {
            device: parse(&format!("mssim:host=127.0.0.1,port={port}")).unwrap(),
            origin: "test".into(),
        };
        let mut c = Connection::open(&target).unwrap();
        assert_eq!(c.transmit(b"x").unwrap(), b"!");
        assert_eq!(sim.join().unwrap(), [SIGNAL_POWER_ON, SIGNAL_NV_ON]);
    }

    #[test]
    fn simulator_framing() {
        // A loopback "simulator": checks the frame, answers with a canned response.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = [0u8; 9];
            s.read_exact(&mut head).unwrap();
            assert_eq!(&head, &[0, 0, 0, 8, 0, 0, 0, 0, 3]);
            let mut cmd = [0u8; 3];
            s.read_exact(&mut cmd).unwrap();
            assert_eq!(&cmd, b"abc");
            s.write_all(&[0, 0, 0, 2, b'o', b'k', 0, 0, 0, 0]).unwrap();
        });
        let target = Target {
            device: Device::Tcp {
                host: "127.0.0.1".into(),
                port,
                mssim: false,
            },
            origin: "test".into(),
        };
        let mut c = Connection::open(&target).unwrap();
        assert_eq!(c.transmit(b"abc").unwrap(), b"ok");
        server.join().unwrap();
    }
}
