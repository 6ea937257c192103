//! `credential-process`: one CreateSession, credentials as JSON on stdout (SPEC §3).

use std::io::Write;
use std::time::Duration;

use crate::aws_config;
use crate::cli::{CredentialArgs, CredentialProcessArgs, VERSION};
use crate::credentials::Credentials;
use crate::endpoint;
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpOptions};
use crate::identity::source;
use crate::rolesanywhere::{self, RetryPolicy, SessionParams};

/// The User-Agent we send.
pub fn user_agent() -> String {
    format!(
        "CredHelper/{VERSION} (rust; {}; {})",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Loads the identity and calls CreateSession with everything the flags and environment say.
pub fn fetch(args: &CredentialArgs) -> Result<Credentials> {
    let params = SessionParams {
        role_arn: args.role_arn.clone(),
        profile_arn: args.profile_arn.clone(),
        trust_anchor_arn: args.trust_anchor_arn.clone(),
        duration_seconds: args.session_duration,
        role_session_name: (!args.role_session_name.is_empty())
            .then(|| args.role_session_name.clone()),
    };
    let arns = params.check()?;
    if args.timeout < 1 {
        return Err(Error::new(format!(
            "--timeout {} must be at least 1 second",
            args.timeout
        )));
    }
    let identity = source::load(args)?;
    let settings = aws_config::load()?;
    let target = endpoint::resolve(
        &args.region,
        &arns.trust_anchor.region,
        &args.endpoint,
        &settings,
    )?;
    let client = HttpClient::new(
        &target.origin,
        &HttpOptions {
            no_verify_ssl: args.no_verify_ssl,
            ca_bundle: settings.ca_bundle.clone(),
            timeout: Duration::from_secs(args.timeout.unsigned_abs()),
            user_agent: user_agent(),
        },
    )?;
    let policy = RetryPolicy {
        max_attempts: settings.max_attempts.unwrap_or(3),
        ..RetryPolicy::default()
    };
    rolesanywhere::create_session(&client, &identity, &target, &params, policy)
}

/// Runs the command.
pub fn run(args: &CredentialProcessArgs) -> Result<()> {
    let creds = fetch(&args.credentials)?;
    let meta = crate::commands::sts_common::rolesanywhere_meta(&args.credentials);
    let text = crate::output::render(args.output, &creds, &meta);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(format!("cannot write the credentials to stdout: {e}")))
}
