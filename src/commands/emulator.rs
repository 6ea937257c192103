//! `emulator`: a local IAM Roles Anywhere (CreateSession and the control plane) for testing
//! clients.

use crate::commands::error::CommandError;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use aws_signing_helper::emulator::{Config, Emulator};
use aws_signing_helper::identity::Certificate;
use aws_signing_helper::{Error, Result};

/// Options of the `emulator` command.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// PEM file with trust anchor (CA) certificates; may be repeated and hold several
    /// certificates. Without it, only trust anchors created through the control plane
    /// (`aws rolesanywhere create-trust-anchor --endpoint-url URL`) are trusted
    #[arg(long = "trust-anchor", value_name = "FILE")]
    pub trust_anchor: Vec<PathBuf>,
    /// Keep the control plane's trust anchors, profiles, CRLs and tags in DIR/state.json
    /// (created private; read back at start) instead of in memory
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Port to listen on (0 picks a free port)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Serve plain HTTP instead of HTTPS
    #[arg(long)]
    pub http: bool,
    /// Write the PEM of the CA that signed the TLS server certificate here (for AWS_CA_BUNDLE)
    #[arg(long, value_name = "FILE")]
    pub server_ca_out: Option<PathBuf>,
    /// Largest durationSeconds accepted (900-43200)
    #[arg(long, value_name = "SECONDS", default_value_t = 43200,
          value_parser = clap::value_parser!(u32).range(900..=43200))]
    pub max_duration: u32,
    /// Answer the first N requests with --fail-status
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u32,
    /// HTTP status of injected failures (e.g. 503, 429, 500)
    #[arg(long, value_name = "STATUS", default_value_t = 503,
          value_parser = clap::value_parser!(u16).range(100..=599))]
    pub fail_status: u16,
    /// After N successful sessions, answer every request with 500
    #[arg(long, value_name = "N")]
    pub fail_after: Option<u32>,
    /// Issue credentials that expire after this many seconds, whatever was asked (for testing refresh logic)
    #[arg(long, value_name = "SECONDS")]
    pub credential_lifetime: Option<u64>,
    /// Accept connections but never answer (for client time-out tests)
    #[arg(long)]
    pub stall: bool,
    /// Run the server's clock this many seconds ahead of the machine's (negative: behind), for
    /// its signature-time check and its Date header (for clock-skew tests)
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub clock_offset: i64,
    /// Once listening, write the URL to this file (atomically: a reader sees all of it or none)
    #[arg(long, value_name = "FILE")]
    pub url_file: Option<PathBuf>,
    /// Once listening, write the process id to this file (to stop it later: kill "$(cat FILE)")
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Start in the background and return once it listens: prints the URL on stdout and the
    /// process id on stderr (request logs are discarded)
    #[arg(long)]
    pub background: bool,
}

/// `--background`: runs this command again without the flag, detached (its own process group,
/// no terminal input, logs discarded), and returns once it prints its URL, which only happens
/// after it listens. A child that fails to start passes its error on.
fn background() -> Result<()> {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find this program to start it again: {e}")))?;
    let args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--background")
        .collect();
    // Its stderr goes to an unlinked temporary file: read back if it fails to start, and never
    // a pipe nobody reads (writes to it would fail once we exit).
    let mut log = tempfile::tempfile()
        .map_err(|e| Error::new(format!("cannot create the emulator's log file: {e}")))?;
    let child_log = log
        .try_clone()
        .map_err(|e| Error::new(format!("cannot create the emulator's log file: {e}")))?;
    let mut child = std::process::Command::new(exe)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(child_log)
        .process_group(0)
        .spawn()
        .map_err(|e| Error::new(format!("cannot start the emulator in the background: {e}")))?;
    let mut line = String::new();
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::new("the background emulator has no output pipe"))?;
    let read = std::io::BufReader::new(stdout).read_line(&mut line);
    if read.is_err() || line.trim().is_empty() {
        // It exited before listening: its stderr holds the reason.
        let _ = child.wait();
        let mut reason = String::new();
        {
            use std::io::{Read, Seek};
            let _ = log.rewind();
            let _ = log.take(64 * 1024).read_to_string(&mut reason);
        }
        let reason = reason.lines().last().unwrap_or("it exited").to_string();
        return Err(Error::new(format!(
            "the background emulator did not start: {reason}"
        )));
    }
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::new(format!("could not write to stdout: {e}")))?;
    eprintln!(
        "emulator running in the background, pid {}; stop it with: kill {}",
        child.id(),
        child.id()
    );
    Ok(())
}

/// Reads every certificate of a PEM file.
fn load_trust_anchors(path: &std::path::Path) -> Result<Vec<Certificate>> {
    use der::Encode;
    let flag = format!("--trust-anchor {}", path.display());
    let bytes = aws_signing_helper::files::read_file(
        path,
        aws_signing_helper::files::CAP_PEM,
        "trust anchor file",
    )
    .map_err(|e| e.or_io(|e| Error::new(format!("{flag}: could not read: {e}"))))?;
    let parsed = x509_cert::Certificate::load_pem_chain(&bytes).map_err(|e| {
        Error::new(format!("{flag}: not a PEM certificate file: {e}"))
            .hint("pass the CA certificate(s) in PEM (-----BEGIN CERTIFICATE-----)")
    })?;
    if parsed.is_empty() {
        return Err(Error::new(format!("{flag}: no certificate found")));
    }
    parsed
        .iter()
        .map(|c| {
            let der = c
                .to_der()
                .map_err(|e| Error::new(format!("could not encode certificate: {e}")))?;
            Certificate::from_der(&der)
                .map_err(|e| Error::new(format!("{flag}: {e}")).with_source(e))
        })
        .collect()
}

/// Starts the emulator, prints its URL on stdout, and serves until SIGTERM or SIGINT.
pub fn run(args: &EmulatorArgs) -> Result<()> {
    if args.background {
        return background();
    }
    let mut trust_anchors = Vec::new();
    for path in &args.trust_anchor {
        trust_anchors.extend(load_trust_anchors(path)?);
    }
    let config = Config {
        trust_anchors,
        max_duration_seconds: args.max_duration,
        clock_skew: Duration::from_secs(300),
        fail_first: args.fail_first,
        fail_status: args.fail_status,
        stall: args.stall,
        fail_after: args.fail_after,
        log_requests: true,
        credential_lifetime: args.credential_lifetime.map(Duration::from_secs),
        clock_offset: jiff::SignedDuration::from_secs(args.clock_offset),
        state_file: match &args.state {
            Some(dir) => {
                aws_signing_helper::files::Dir::create_private(dir)
                    .map_err(|e| CommandError::flag("--state")(e.into()))?;
                Some(dir.join("state.json"))
            }
            None => None,
        },
    };
    // Signal handlers first, so a signal right after the URL is printed is not missed.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(format!("could not start the runtime: {e}")))?;
    let mut sigterm = runtime
        .block_on(async {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        })
        .map_err(|e| Error::new(format!("could not install a SIGTERM handler: {e}")))?;
    let mut sigint = runtime
        .block_on(async {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        })
        .map_err(|e| Error::new(format!("could not install a SIGINT handler: {e}")))?;

    let emulator = Emulator::start(config, SocketAddr::new(args.bind, args.port), !args.http)?;
    if let (Some(path), Some(pem)) = (&args.server_ca_out, emulator.server_ca_pem()) {
        aws_signing_helper::pki::write_public(path, pem.as_bytes())
            .map_err(CommandError::flag("--server-ca-out"))?;
    }
    if let Some(path) = &args.pid_file {
        aws_signing_helper::pki::write_public(path, format!("{}\n", std::process::id()).as_bytes())
            .map_err(CommandError::flag("--pid-file"))?;
    }
    if let Some(path) = &args.url_file {
        aws_signing_helper::pki::write_public(path, format!("{}\n", emulator.url()).as_bytes())
            .map_err(CommandError::flag("--url-file"))?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", emulator.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::new(format!("could not write to stdout: {e}")))?;
    drop(stdout);

    runtime.block_on(async {
        tokio::select! {
            _ = sigterm.recv() => {}
            _ = sigint.recv() => {}
        }
    });
    eprintln!("emulator: shutting down");
    emulator.shutdown();
    Ok(())
}
