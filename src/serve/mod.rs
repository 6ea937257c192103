//! `serve`: a local IMDSv2-compatible endpoint plus a container-credentials endpoint.
//!
//! [`start`] fetches credentials once (an error if that fails), binds, and runs the HTTP server
//! on its own thread (a single-threaded tokio runtime) and the refresher on another. Requests
//! only ever read the pre-rendered credentials; the refresher thread is the only caller of the
//! refresher, so there is at most one CreateSession in flight.

pub mod activation;
pub mod cache;
mod conns;
pub mod error;
pub mod peer;
pub mod routes;
pub mod tokens;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use base64::Engine as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::credentials::refresh;
use crate::error::Result;
use cache::CredentialCache;
pub use cache::Refresher;
pub use error::ServeError;
use routes::State;

/// What to serve and where.
#[derive(Debug)]
pub struct ServeConfig {
    /// Address to listen on (loopback: 127.0.0.1 or ::1).
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// IP TTL / IPv6 unicast hop limit of every accepted connection, 1..=255.
    pub hop_limit: u8,
    /// The role name served on the role-name route (last segment of the role ARN).
    pub role_name: String,
    /// Where to write the container route's bearer token (mode 0600, replaced atomically).
    pub container_token_file: PathBuf,
    /// Who may connect, and how many at once.
    pub access: Access,
    /// A listening socket to use instead of binding `bind`:`port` (systemd socket activation).
    pub listener: Option<std::net::TcpListener>,
}

/// Who may use the server and how many connections it keeps.
#[derive(Debug, Clone)]
pub struct Access {
    /// `Host` names answered besides the listening address, `localhost` and the metadata names.
    pub allow_hosts: Vec<String>,
    /// Users whose processes may use the IMDS routes; `None` lets every local user.
    pub allow_uids: Option<Vec<u32>>,
    /// Most connections kept open at once; past it the least recently used one is closed.
    pub max_connections: usize,
}

/// The default of [`Access::max_connections`]: well under the usual 1,024-descriptor limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl Default for Access {
    fn default() -> Self {
        Access {
            allow_hosts: Vec::new(),
            allow_uids: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Another role, served on the container route at `/v1/credentials/NAME` with its own bearer
/// token and its own refresher. Its failures (at start too) only ever affect its own route.
pub struct Binding {
    /// The last path segment: letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// Where to write its bearer token (mode 0600), distinct from every other token file.
    pub container_token_file: PathBuf,
    /// Fetches its credentials.
    pub refresher: Refresher,
}

/// A running server. Dropping it shuts the server down too.
pub struct ServerHandle {
    addr: SocketAddr,
    token_file: PathBuf,
    /// The bindings' token files, by name.
    binding_token_files: Vec<(String, PathBuf)>,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    stop_refreshers: Vec<mpsc::Sender<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The file holding the container route's bearer token.
    pub fn container_token_file(&self) -> &Path {
        &self.token_file
    }

    /// The value for `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    pub fn imds_endpoint(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn container_uri(&self) -> String {
        format!("http://{}{}", self.addr, routes::CONTAINER_PATH)
    }

    /// Each binding's name, `AWS_CONTAINER_CREDENTIALS_FULL_URI` and token file.
    pub fn bindings(&self) -> Vec<(String, String, PathBuf)> {
        self.binding_token_files
            .iter()
            .map(|(name, file)| {
                let uri = format!("http://{}{}/{name}", self.addr, routes::CONTAINER_PATH);
                (name.clone(), uri, file.clone())
            })
            .collect()
    }

    /// Stops accepting, lets open connections finish (under a second), stops the refresher and
    /// removes the token file.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // No receiver left means the server loop is already gone.
        let _ = self.shutdown.send(true);
        // Dropping the sender wakes the refresher; it is not joined because it may be inside a
        // CreateSession call, and it holds nothing that needs cleaning up.
        self.stop_refreshers.clear();
        if let Some(server) = self.server.take() {
            if server.join().is_err() {
                log::warn!("the server thread panicked");
            }
            let files = std::iter::once(&self.token_file)
                .chain(self.binding_token_files.iter().map(|(_, f)| f));
            for file in files {
                match std::fs::remove_file(file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => log::warn!(
                        "cannot remove the container token file {}: {e}",
                        file.display()
                    ),
                }
            }
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A random bearer token for the container route (256 bits, base64url).
fn container_token() -> Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(&mut raw[..]).map_err(|_| ServeError::Token)?;
    let mut text = Zeroizing::new(String::with_capacity(44));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&raw[..], &mut text);
    Ok(text)
}

/// Writes `content` to `path` with mode 0600, atomically, through the safe-file layer: the
/// directory must be a trusted one (ours or root's, writable by nobody else, not a link), and
/// `path` itself must not be a link or a non-regular file.
pub fn write_secret_file(path: &Path, content: &[u8]) -> Result<()> {
    Ok(write_secret(path, content)?)
}

fn write_secret(path: &Path, content: &[u8]) -> Result<(), ServeError> {
    let name = path.file_name().ok_or_else(|| ServeError::TokenFileDir {
        path: path.to_path_buf(),
    })?;
    let dir = crate::files::Dir::open(&crate::files::dir::parent_of(path), None)
        .map_err(ServeError::TokenFile)?;
    dir.write(name, content, crate::files::private::PRIVATE, None)
        .map_err(ServeError::TokenFile)
}

/// Fetches credentials once, binds, and starts serving. Fails (without serving anything) if the
/// first fetch fails, the configuration is invalid, or the address cannot be bound.
pub fn start(config: ServeConfig, refresher: Refresher) -> Result<ServerHandle> {
    start_with_bindings(config, refresher, Vec::new())
}

/// Checks binding names (path-safe, unique) and token files (distinct from each other and from
/// the main one).
fn check_bindings(config: &ServeConfig, bindings: &[Binding]) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    let mut files = std::collections::HashSet::from([config.container_token_file.clone()]);
    for b in bindings {
        let ok = !b.name.is_empty()
            && b.name.len() <= 128
            && b.name != "."
            && b.name != ".."
            && b.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(ServeError::BindingName {
                name: b.name.clone(),
            }
            .into());
        }
        if !names.insert(b.name.as_str()) {
            return Err(ServeError::BindingTwice {
                name: b.name.clone(),
            }
            .into());
        }
        if !files.insert(b.container_token_file.clone()) {
            return Err(ServeError::BindingFile {
                name: b.name.clone(),
                path: b.container_token_file.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// [`start`], plus `bindings` on the container route. A binding's first fetch happens on its
/// own refresher thread after the server is up: until it succeeds its route answers 503, and
/// its failures never touch the main role or the other bindings.
pub fn start_with_bindings(
    config: ServeConfig,
    refresher: Refresher,
    bindings: Vec<Binding>,
) -> Result<ServerHandle> {
    check_bindings(&config, &bindings)?;
    if config.hop_limit == 0 {
        return Err(ServeError::HopLimit.into());
    }
    if config.role_name.is_empty() || config.role_name.contains('/') {
        return Err(ServeError::RoleName {
            name: config.role_name.clone(),
        }
        .into());
    }
    let first = refresh::retry_while_throttled(refresh::SERVE_BACKOFF, || {
        cache::fetch_and_render(&refresher)
    })
    .map_err(ServeError::FirstCredentials)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let wanted = SocketAddr::new(config.bind, config.port);
    let listener = match config.listener {
        Some(passed) => {
            let _guard = runtime.enter();
            TcpListener::from_std(passed).map_err(ServeError::PassedSocket)?
        }
        None => runtime
            .block_on(TcpListener::bind(wanted))
            .map_err(|source| ServeError::Listen {
                addr: wanted,
                bind: true,
                source,
            })?,
    };
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: wanted,
        bind: false,
        source,
    })?;
    let token = container_token()?;
    write_secret_file(&config.container_token_file, token.as_bytes())?;

    let cache = Arc::new(CredentialCache::new());
    let first_refresh =
        refresh::refresh_at(jiff::Timestamp::now(), first.expires, refresh::jitter());
    cache.set(first);
    let hosts =
        routes::HostPolicy::new(addr.ip(), &config.access.allow_hosts).with_port(addr.port());
    let mut routes_for_bindings = Vec::with_capacity(bindings.len());
    let mut binding_token_files = Vec::with_capacity(bindings.len());
    let mut binding_refreshers = Vec::with_capacity(bindings.len());
    for b in bindings {
        let token = container_token()?;
        write_secret(&b.container_token_file, token.as_bytes()).map_err(|e| {
            ServeError::Binding {
                name: b.name.clone(),
                source: Box::new(e),
            }
        })?;
        let cache = Arc::new(CredentialCache::new());
        routes_for_bindings.push((b.name.clone(), token, cache.clone()));
        binding_token_files.push((b.name.clone(), b.container_token_file));
        binding_refreshers.push((b.name, cache, b.refresher));
    }
    let state = Arc::new(
        State::new(&config.role_name, cache.clone(), token)
            .with_hosts(hosts)
            .with_bindings(routes_for_bindings),
    );

    let mut stop_refreshers = Vec::with_capacity(1 + binding_refreshers.len());
    let (stop_refresher, stop_rx) = mpsc::channel();
    stop_refreshers.push(stop_refresher);
    std::thread::Builder::new()
        .name("serve-refresher".into())
        .spawn(move || cache::refresh_loop("", cache, refresher, first_refresh, stop_rx))
        .map_err(|source| ServeError::Thread {
            what: "refresher thread",
            source,
        })?;
    for (name, cache, refresher) in binding_refreshers {
        let (stop_refresher, stop_rx) = mpsc::channel();
        stop_refreshers.push(stop_refresher);
        let label = format!("binding {name}: ");
        // Its first fetch is now, on its own thread.
        let now = jiff::Timestamp::now();
        std::thread::Builder::new()
            .name(format!("serve-binding-{name}"))
            .spawn(move || cache::refresh_loop(&label, cache, refresher, now, stop_rx))
            .map_err(|source| ServeError::Thread {
                what: "refresher thread",
                source,
            })?;
    }

    let (shutdown, shutdown_rx) = watch::channel(false);
    let limits = conns::Limits {
        hops: u32::from(config.hop_limit),
        v4: addr.is_ipv4(),
        max_connections: conns::connection_cap(config.access.max_connections),
        allow_uids: config.access.allow_uids.map(Arc::from),
    };
    let server = std::thread::Builder::new()
        .name("serve-http".into())
        .spawn(move || runtime.block_on(conns::serve_loop(listener, state, limits, shutdown_rx)))
        .map_err(|source| ServeError::Thread {
            what: "server thread",
            source,
        })?;

    Ok(ServerHandle {
        addr,
        token_file: config.container_token_file,
        binding_token_files,
        shutdown,
        server: Some(server),
        stop_refreshers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_is_0600_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        write_secret_file(&p, b"one").unwrap();
        write_secret_file(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_secret_file(&dir.path().join("missing/t"), b"x").is_err());
    }
}
