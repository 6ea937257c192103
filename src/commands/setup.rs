//! `setup`: CA, client certificate, trust anchor, role, profile and a `[profile P]` with its
//! `credential_process` line, made idempotently (see [`aws_signing_helper::setup`]); `--delete`
//! removes them, `--dry-run` prints the steps.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::{go_bool, go_int};
use crate::commands::sts_common::{SourceArgs, StsEndpointArgs};
use aws_signing_helper::doctor::Status;
use aws_signing_helper::files::aws_config;
use aws_signing_helper::iam::{Iam, IamOptions};
use aws_signing_helper::protocol::http::{self, HttpClient, HttpOptions, RetryPolicy};
use aws_signing_helper::setup::iam::Roles;
use aws_signing_helper::setup::rolesanywhere_api::Client;
use aws_signing_helper::setup::run::{self, Services};
use aws_signing_helper::setup::{self, plan, CaSource, Spec};
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::sts::{self, AccessKeys, Endpoint};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    /// Names the trust anchor, role and profile (and tags them): 1-64 of A-Z a-z 0-9 - _
    #[arg(long)]
    pub name: String,
    /// Region of the trust anchor and profile [default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region in ~/.aws/config]
    #[arg(long, default_value = "")]
    pub region: String,
    /// Use this CA certificate (PEM) as the trust anchor instead of making one
    #[arg(
        long,
        value_name = "FILE",
        requires = "ca_key",
        conflicts_with = "new_ca"
    )]
    pub ca: Option<PathBuf>,
    /// The private key of --ca, to issue the client certificate (encrypted: its password in AWS_SIGNING_HELPER_CA_KEY_PASSWORD)
    #[arg(long, value_name = "FILE", requires = "ca")]
    pub ca_key: Option<PathBuf>,
    /// Make a CA of setup's own in --dir (the default; reused on later runs)
    #[arg(long)]
    pub new_ca: bool,
    /// Subject CN of the client certificate (the role's trust policy pins it) [default: --name]
    #[arg(long)]
    pub cn: Option<String>,
    /// A managed policy to attach to the role (repeatable)
    #[arg(long = "policy-arn", value_name = "ARN")]
    pub policy_arns: Vec<String>,
    /// The profile of ~/.aws/config to write [default: --name]
    #[arg(long)]
    pub profile_name: Option<String>,
    /// Where the CA, client certificate and key are kept [default: ~/.config/aws-signing-helper/setup/NAME]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print every call it would make, and make none
    #[arg(long)]
    pub dry_run: bool,
    /// Remove what setup made for --name (by its tag); the local CA and certificates stay
    #[arg(long)]
    pub delete: bool,
    /// With --delete: also remove the client certificate and key from --dir, and the CA when it is setup's own
    #[arg(long, requires = "delete")]
    pub delete_files: bool,
    /// Roles Anywhere endpoint URL (control plane and CreateSession) [default: $AWS_ENDPOINT_URL_ROLESANYWHERE, $AWS_ENDPOINT_URL, the profile's services / endpoint_url, else AWS's]
    #[arg(long, value_parser = crate::cli::endpoint_url)]
    pub endpoint_url_rolesanywhere: Option<String>,
    /// IAM endpoint URL [default: $AWS_ENDPOINT_URL_IAM, $AWS_ENDPOINT_URL, the profile's services / endpoint_url, else https://iam.amazonaws.com]
    #[arg(long, value_parser = crate::cli::endpoint_url)]
    pub endpoint_url_iam: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Seconds to wait for each request
    #[arg(long, default_value = "30", value_parser = go_int)]
    pub timeout: i64,
    /// Skip TLS certificate verification (insecure; prints a warning)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_verify_ssl: bool,
    /// Log the requests (no secrets) to stderr
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub debug: bool,
}

impl SetupArgs {
    fn sts(&self) -> StsEndpointArgs {
        StsEndpointArgs {
            region: self.region.clone(),
            endpoint: None,
            timeout: self.timeout,
            no_verify_ssl: self.no_verify_ssl,
            debug: self.debug,
        }
    }

    fn timeout(&self) -> Result<Duration> {
        if self.timeout < 1 {
            return Err(Error::new(format!(
                "--timeout {} must be at least 1 second",
                self.timeout
            )));
        }
        Ok(Duration::from_secs(
            self.timeout.unsigned_abs().min(24 * 60 * 60),
        ))
    }
}

/// The caller's keys: from the environment, a profile (its roles and processes run), or the
/// key store, as the STS commands find them.
fn caller_keys(args: &SetupArgs) -> Result<AccessKeys> {
    let sts_args = args.sts();
    let source = args.source.resolve(None, &sts_args)?;
    let source = if let Source::Profile(chain) = &source {
        let ctx = sts_args.context_for(None, &source)?;
        let ran = sts::chain::run(&ctx, chain, &Default::default(), None)?;
        if let Some((creds, _)) = ran.credentials {
            return Ok(AccessKeys::from(&creds));
        }
        ran.source
    } else {
        source
    };
    match source {
        Source::Keys { keys, .. } => Ok(keys),
        _ => Err(Error::new("setup needs AWS keys to sign its calls")
            .hint("export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or pass --profile NAME")),
    }
}

/// The control plane's endpoint and the CreateSession URL for the line (when not AWS's).
fn rolesanywhere_endpoint(
    args: &SetupArgs,
    settings: &aws_config::Settings,
) -> Result<(Endpoint, Option<String>)> {
    let region = sts::resolve_region(&args.region, settings)?.ok_or_else(|| {
        Error::new("setup needs a region for the trust anchor and profile")
            .hint("pass --region, or set AWS_REGION or a region in ~/.aws/config")
    })?;
    // The flag wins here (CreateSession's own resolution lets the environment win, as the
    // official tool does).
    let mut settings = settings.clone();
    let flag = args.endpoint_url_rolesanywhere.clone().unwrap_or_default();
    if !flag.is_empty() {
        settings.service_endpoint_url = None;
        settings.global_endpoint_url = None;
    }
    let custom = (!flag.is_empty())
        .then(|| flag.clone())
        .or_else(|| settings.service_endpoint_url.clone())
        .or_else(|| settings.global_endpoint_url.clone());
    let target = aws_signing_helper::protocol::endpoint::resolve(&region, "", &flag, &settings)?;
    let path = target
        .path
        .strip_suffix("/sessions")
        .unwrap_or(&target.path)
        .to_string();
    let endpoint = Endpoint {
        origin: target.origin,
        host: target.host,
        path: if path.is_empty() { "/".into() } else { path },
        region: target.region,
    };
    Ok((endpoint, custom))
}

pub fn run(args: &SetupArgs) -> Result<()> {
    setup::check_name(&args.name)?;
    let timeout = args.timeout()?;
    let settings = aws_config::load()?;
    let (ra_endpoint, session_endpoint) = rolesanywhere_endpoint(args, &settings)?;
    let keys = caller_keys(args)?;
    let ra_http = HttpClient::new(
        &ra_endpoint.url(),
        &HttpOptions {
            no_verify_ssl: args.no_verify_ssl,
            ca_bundle: settings.ca_bundle.clone(),
            timeout,
            user_agent: http::user_agent(),
        },
    )?;
    let policy = RetryPolicy {
        max_attempts: settings.max_attempts.unwrap_or(3),
        ..RetryPolicy::default()
    };
    let ra = Client::new(ra_endpoint, ra_http, keys.clone(), policy);
    let iam = Iam::new(&IamOptions {
        region: args.region.clone(),
        endpoint: args.endpoint_url_iam.clone().unwrap_or_default(),
        timeout,
        no_verify_ssl: args.no_verify_ssl,
        profile: None,
    })?;
    let roles = Roles::new(iam, keys);
    let dir = match &args.dir {
        Some(d) => std::path::absolute(d).unwrap_or_else(|_| d.clone()),
        None => setup::default_dir(&args.name).ok_or_else(|| {
            Error::new("cannot find a directory for the certificates: HOME is not set")
                .hint("pass --dir DIR")
        })?,
    };
    let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let ca = match (&args.ca, &args.ca_key) {
        (Some(cert), Some(key)) => CaSource::Given {
            cert: abs(cert),
            key: abs(key),
        },
        _ => CaSource::Own,
    };
    let binary = std::env::current_exe().map_err(|e| {
        Error::new(format!("cannot find the path of this program: {e}"))
            .hint("run it by its full path")
    })?;
    let spec = Spec {
        name: args.name.clone(),
        dir,
        ca,
        cn: args.cn.clone().unwrap_or_else(|| args.name.clone()),
        policy_arns: args.policy_arns.clone(),
        profile_name: args
            .profile_name
            .clone()
            .unwrap_or_else(|| args.name.clone()),
        config_path: aws_config::config_path()?,
        binary,
        session_endpoint,
        dry_run: args.dry_run,
        ca_key_password: std::env::var("AWS_SIGNING_HELPER_CA_KEY_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .map(zeroize::Zeroizing::new),
        delete_files: args.delete_files,
    };
    let services = Services {
        rolesanywhere: &ra,
        iam: &roles,
    };
    let mut print = |step: &plan::Step| println!("{}", step.line(args.dry_run));
    let outcome = if args.delete {
        run::delete(&spec, &services, &mut print)?
    } else {
        run::apply(&spec, &services, &mut print)?
    };
    for f in outcome.findings.iter().filter(|f| f.status >= Status::Warn) {
        println!("  doctor [{}] {}: {}", f.status.label(), f.check, f.message);
    }
    println!(
        "{}",
        plan::summary(&outcome.steps, args.dry_run, args.delete)
    );
    if !args.delete && !args.dry_run {
        println!("trust anchor: {}", outcome.trust_anchor_arn);
        println!("profile:      {}", outcome.profile_arn);
        println!("role:         {}", outcome.role_arn);
        println!(
            "try it:       aws sts get-caller-identity --profile {}",
            spec.profile_name
        );
    }
    Ok(())
}
