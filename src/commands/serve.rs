//! `serve`: credentials on a local IMDSv2-compatible endpoint and a container-credentials
//! endpoint, refreshed in the background (without the official tool's refresh bugs).

use crate::commands::error::CommandError;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use clap::Args;

use crate::cli::{go_int, CredentialArgs};
use crate::logger::timestamp;
use aws_signing_helper::files::Dir;
use aws_signing_helper::protocol::arn::Arn;
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::serve::{self, ServeConfig};
use aws_signing_helper::{Error, Result};

fn port(s: &str) -> Result<u16, String> {
    let n = go_int(s)?;
    u16::try_from(n).map_err(|_| format!("port {n} is out of range 0..65535"))
}

fn hop_limit(s: &str) -> Result<u8, String> {
    let n = go_int(s)?;
    u8::try_from(n)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("hop limit {n} is out of range 1..255"))
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Port to listen on (0 picks a free port)
    #[arg(long, default_value = "9911", value_parser = port)]
    pub port: u16,
    /// IP TTL / IPv6 hop limit of responses, 1..255 (1 keeps them on this host, like EC2's IMDS)
    #[arg(long, default_value = "64", value_parser = hop_limit)]
    pub hop_limit: u8,
    /// Address to listen on (127.0.0.1 or ::1; anything else exposes credentials to the network)
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// File for the container endpoint's authorization token, written with mode 0600
    /// (default: in $XDG_RUNTIME_DIR, else in a new private temporary directory)
    #[arg(long)]
    pub container_token_file: Option<PathBuf>,
    /// Also answer requests whose Host header names NAME (repeatable; for container networks).
    /// The listening address, localhost, 169.254.169.254, [fd00:ec2::254] and 169.254.170.2
    /// are always answered; any other Host gets 403 (DNS rebinding protection)
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// Most connections kept open at once; past it the least recently used one is closed
    #[arg(long, default_value_t = serve::DEFAULT_MAX_CONNECTIONS, value_parser = max_connections)]
    pub max_connections: usize,
    /// Let only this user's processes use the IMDS routes (repeatable; with --allow-user).
    /// Default: every local user. The container route keeps its bearer token
    #[arg(long = "allow-uid", value_name = "UID")]
    pub allow_uids: Vec<u32>,
    /// Like --allow-uid, by user name (looked up in /etc/passwd)
    #[arg(long = "allow-user", value_name = "NAME")]
    pub allow_users: Vec<String>,
    /// Also write the `export` lines alone to stdout, then close stdout and keep serving, so
    /// that `eval "$(aws_signing_helper serve --print-env … &)"` sets up the shell
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub print_env: bool,
    /// More roles on the container route, at /v1/credentials/NAME, each with its own token
    /// file and refresh: a JSON file {"bindings": {"NAME": {"role-arn": …, "certificate": …}}}
    #[arg(long, value_name = "FILE")]
    pub bindings: Option<PathBuf>,
}

/// `value` quoted for a POSIX shell when it holds anything but plain characters.
fn shell_quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,[]".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// Writes the lines to stdout, then points stdout at /dev/null so a reader (`$(…)`) sees the end
/// of them while the server keeps running.
fn print_env(lines: &[String]) -> Result<()> {
    use std::io::Write;
    let fail =
        |e: &dyn std::fmt::Display| Error::new(format!("--print-env: cannot write to stdout: {e}"));
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{l}").map_err(|e| fail(&e))?;
    }
    out.flush().map_err(|e| fail(&e))?;
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map_err(|e| fail(&e))?;
    rustix::stdio::dup2_stdout(&null).map_err(|e| fail(&e))?;
    Ok(())
}

fn max_connections(s: &str) -> Result<usize, String> {
    let n = go_int(s)?;
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| format!("--max-connections {n} is out of range 1..1000000"))
}

/// The uid of user `name` from /etc/passwd.
fn uid_of(name: &str) -> Result<u32> {
    let path = std::path::Path::new("/etc/passwd");
    // Trusted (root's, writable by nobody else): it decides which uid gets credentials.
    let text = crate::commands::serve_bindings::read_trusted_text(
        path,
        "user database",
        &format!("--allow-user {name}"),
    )?;
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let user = f.next()?;
            let uid = f.nth(1)?;
            (user == name).then(|| uid.parse::<u32>().ok()).flatten()
        })
        .next()
        .ok_or_else(|| {
            Error::new(format!("--allow-user {name}: no such user in /etc/passwd"))
                .hint("check the name, or give the user's number with --allow-uid")
        })
}

/// The users allowed on the IMDS routes, `None` for everyone.
fn allowed_uids(args: &ServeArgs) -> Result<Option<Vec<u32>>> {
    if args.allow_uids.is_empty() && args.allow_users.is_empty() {
        return Ok(None);
    }
    let mut uids = args.allow_uids.clone();
    for name in &args.allow_users {
        uids.push(uid_of(name)?);
    }
    Ok(Some(uids))
}

/// Where the container token goes by default; the directory guard (if any) must live as long
/// as the server.
fn default_token_file() -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        // Used only when it passes the trusted-directory checks (it is 0700 and ours on systemd).
        if dir.is_absolute() && Dir::open(&dir, None).is_ok() {
            let name = format!("aws_signing_helper-serve-{}.token", std::process::id());
            return Ok((dir.join(name), None));
        }
    }
    let fail = |e: &dyn std::fmt::Display| {
        Error::new(format!(
            "cannot create a directory for the container token: {e}"
        ))
        .hint("pass --container-token-file with a path in a private directory you own")
    };
    let dir = tempfile::Builder::new()
        .prefix("aws_signing_helper-serve-")
        .tempdir()
        .map_err(|e| fail(&e))?;
    // We just made it: 0700 whatever the umask, then checked like any token directory.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail(&e))?;
    Dir::open(dir.path(), None).map_err(|e| fail(&e))?;
    Ok((dir.path().join("container-token"), Some(dir)))
}

/// Waits for SIGINT, SIGTERM, SIGHUP or SIGQUIT (each one ends the server and removes the
/// token file).
/// The signals that stop the server, listened to from before the banner is printed (a signal
/// sent as soon as the banner appears must find the handlers in place, not kill the process
/// and leave the token file behind).
struct Signals {
    rt: tokio::runtime::Runtime,
    #[cfg(unix)]
    streams: [tokio::signal::unix::Signal; 4],
}

impl Signals {
    fn install() -> Result<Signals> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new(format!("cannot wait for signals: {e}")))?;
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = rt.block_on(async {
                let on = |kind: SignalKind, name: &str| {
                    signal(kind).map_err(|e| Error::new(format!("cannot wait for {name}: {e}")))
                };
                Ok::<_, Error>([
                    on(SignalKind::interrupt(), "SIGINT")?,
                    on(SignalKind::terminate(), "SIGTERM")?,
                    on(SignalKind::hangup(), "SIGHUP")?,
                    on(SignalKind::quit(), "SIGQUIT")?,
                ])
            })?;
            Ok(Signals { rt, streams })
        }
        #[cfg(not(unix))]
        Ok(Signals { rt })
    }

    /// Waits for the first of them.
    fn wait(self) -> Result<()> {
        let Signals {
            rt,
            #[cfg(unix)]
            mut streams,
        } = self;
        rt.block_on(async move {
            #[cfg(unix)]
            {
                let [int, term, hup, quit] = &mut streams;
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                    _ = quit.recv() => {}
                }
                Ok(())
            }
            #[cfg(not(unix))]
            {
                tokio::signal::ctrl_c()
                    .await
                    .map_err(|e| Error::new(format!("cannot wait for Ctrl-C: {e}")))
            }
        })
    }
}

/// Runs the command until SIGINT/SIGTERM.
pub fn run(args: &ServeArgs) -> Result<()> {
    let role = Arn::parse_flag(&args.credentials.role_arn, "role", "--role-arn")
        .map_err(CommandError::RoleArn)?;
    let role_name = role.resource_name().to_string();
    if role_name.is_empty() {
        return Err(Error::new(format!(
            "invalid role ARN: {:?} has no role name",
            args.credentials.role_arn
        )));
    }
    if !args.bind.is_loopback() {
        log::warn!(
            "serving credentials on {}, which is not a loopback address",
            args.bind
        );
    }
    // Before any thread starts: it unsets the LISTEN_* variables.
    let listener = serve::activation::take_listener()?;
    if let Some(l) = &listener {
        if let Ok(addr) = l.local_addr() {
            log::debug!("using the socket systemd passed, listening on {addr}");
            if !addr.ip().is_loopback() {
                log::warn!("serving credentials on {addr}, which is not a loopback address");
            }
        }
    }
    let (token_file, _token_dir) = match &args.container_token_file {
        Some(path) => (path.clone(), None),
        None => default_token_file()?,
    };
    let bindings = match &args.bindings {
        Some(file) => crate::commands::serve_bindings::load(file, &token_file)?,
        None => Vec::new(),
    };
    let config = args.credentials.client_config()?;
    let refresher: serve::Refresher =
        Box::new(move || rolesanywhere::fetch(&config).map(|f| f.credentials));
    let handle = serve::start_with_bindings(
        ServeConfig {
            bind: args.bind,
            port: args.port,
            hop_limit: args.hop_limit,
            role_name,
            container_token_file: token_file,
            access: serve::Access {
                allow_hosts: args.allow_hosts.clone(),
                allow_uids: allowed_uids(args)?,
                max_connections: args.max_connections,
            },
            listener,
        },
        refresher,
        bindings,
    )?;
    let exports = [
        format!(
            "export AWS_EC2_METADATA_SERVICE_ENDPOINT={}",
            shell_quote(&handle.imds_endpoint())
        ),
        format!(
            "export AWS_CONTAINER_CREDENTIALS_FULL_URI={}",
            shell_quote(&handle.container_uri())
        ),
        format!(
            "export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE={}",
            shell_quote(&handle.container_token_file().to_string_lossy())
        ),
    ];
    let signals = Signals::install()?;
    let t = timestamp();
    eprintln!("{t} Local server started on port: {}", handle.addr().port());
    eprintln!("{t} Make it available to the sdk by running:");
    eprintln!("{t} {}", exports[0]);
    eprintln!("{t} or, for the SDKs' container credentials provider:");
    eprintln!("{t} {}", exports[1]);
    eprintln!("{t} {}", exports[2]);
    for (name, uri, file) in handle.bindings() {
        eprintln!(
            "{t} binding {name}: export AWS_CONTAINER_CREDENTIALS_FULL_URI={} AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE={}",
            shell_quote(&uri),
            shell_quote(&file.to_string_lossy())
        );
    }
    if args.print_env {
        print_env(&exports)?;
    }
    let waited = signals.wait();
    handle.shutdown();
    waited
}
