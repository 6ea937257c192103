//! `login [PROFILE]`: an AWS console sign-in URL for temporary credentials, printed on stdout
//! or (with `--open`) opened in the browser. The credentials are the profile's (its roles,
//! process or source, as `export` resolves them), a role's (`--role-arn`), or the
//! environment's temporary ones; long-term keys alone are turned into a federation token
//! first, as aws-vault does.

use clap::Args;

use crate::cli::go_bool;
use crate::commands::assume_role::AssumeRoleArgs;
use crate::commands::exec::with_profile;
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::files::aws_config;
use aws_signing_helper::protocol::http::{self, HttpClient, HttpOptions};
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::sts::assume_role::assume_role;
use aws_signing_helper::sts::federation_token::{federation_token, FederationParams};
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::sts::{aws_keys, chain, handoff, signin, AccessKeys};
use aws_signing_helper::{Error, Result};

/// The variable naming a federation endpoint (a stand-in, a proxy).
pub const ENDPOINT_VAR: &str = "AWS_SIGNING_HELPER_FEDERATION_ENDPOINT";

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// The profile of ~/.aws/config to sign in with (the same as --profile) [default: the environment's temporary credentials]
    #[arg(id = "profile_name", value_name = "PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    /// Open the URL in the browser ($BROWSER, else xdg-open or open) instead of printing it
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub open: bool,
    /// The console page to land on: a path such as /s3/home, or an https:// URL [default: the console home in the region]
    #[arg(long)]
    pub destination: Option<String>,
    /// Federation endpoint URL [default: $AWS_SIGNING_HELPER_FEDERATION_ENDPOINT, else AWS's for the region's partition]
    #[arg(long, value_parser = crate::cli::endpoint_url)]
    pub federation_endpoint: Option<String>,
    /// Console session length in seconds, 900 to 43200 (role credentials only) [default: the endpoint's]
    #[arg(long, value_parser = crate::cli::go_int)]
    pub session_duration: Option<i64>,
    /// Managed policy limiting the federation token made from long-term keys (repeatable) [default: all the keys' own permissions]
    #[arg(long = "policy-arn", value_name = "ARN")]
    pub policy_arns: Vec<String>,
}

/// The name of a federated user made from long-term keys, unless --role-session-name says.
const FEDERATED_NAME: &str = "aws-signing-helper";

/// Runs the command.
pub fn run(cmd: &LoginArgs) -> Result<()> {
    let args = with_profile(&cmd.args, cmd.profile.as_deref())?;
    let (creds, region) = credentials(cmd, &args)?;
    let region = Some(args.sts.region.clone())
        .filter(|r| !r.is_empty())
        .or(region)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"));
    let endpoint = cmd
        .federation_endpoint
        .clone()
        .or_else(|| env(ENDPOINT_VAR))
        .unwrap_or_else(|| signin::federation_endpoint(region.as_deref()).to_string());
    let settings = aws_config::load_for(args.source.profile.as_deref())?;
    let client = HttpClient::new(
        &endpoint,
        &HttpOptions {
            no_verify_ssl: args.sts.no_verify_ssl,
            ca_bundle: settings.ca_bundle.clone(),
            timeout: args.sts.options()?.timeout,
            user_agent: http::user_agent(),
        },
    )?;
    let token = signin::signin_token(&client, &endpoint, &creds, cmd.session_duration)?;
    let destination = signin::destination(region.as_deref(), cmd.destination.as_deref());
    let url = signin::login_url(&endpoint, &destination, &token);
    log::debug!("sign-in URL: {}", signin::redacted(&url));
    if cmd.open {
        return open(&url);
    }
    aws_signing_helper::credentials::output::print(&format!("{}\n", url.as_str()))
}

use aws_signing_helper::env::var as env;

/// The temporary credentials to sign in with, and the region of the profile they came from.
fn credentials(cmd: &LoginArgs, args: &AssumeRoleArgs) -> Result<(Credentials, Option<String>)> {
    let role = args.role_arn()?;
    // No profile and no role: the environment's temporary credentials as they are.
    if role.is_none() && args.source.profile.is_none() {
        if let Some(keys) = aws_keys::from_env().filter(|k| k.session_token.is_some()) {
            return Ok((temporary(keys), None));
        }
    }
    let source = args.source.resolve(Some(&args.ra), &args.sts)?;
    let ctx = args.sts.context_for(Some(&args.cache), &source)?;
    let mfa = args.mfa.mfa(&args.source, &source)?;
    let region = match &source {
        Source::Profile(chain) => chain.region.clone(),
        _ => None,
    };
    if let Some(role_arn) = role {
        let (creds, _) = assume_role(&ctx, &source, &mfa, &args.params(role_arn)?)?;
        return Ok((creds, region));
    }
    let source = match source {
        Source::Profile(chain) => {
            let ran = chain::run(&ctx, &chain, &mfa, args.duration)?;
            match ran.credentials {
                Some((creds, _)) if !creds.session_token.is_empty() => return Ok((creds, region)),
                _ => ran.source,
            }
        }
        other => other,
    };
    match source {
        Source::Keys { keys, .. } if keys.session_token.is_some() => Ok((temporary(keys), region)),
        Source::Keys { keys, label } => {
            if mfa.serial().is_some() {
                return Err(Error::new(
                    "--serial-number has no use here: a federation token (made from long-term keys) takes no MFA",
                )
                .hint("to sign in with MFA, use a role that requires it (a profile with role_arn and mfa_serial)"));
            }
            if cmd.session_duration.is_some() {
                return Err(Error::new(
                    "--session-duration applies to role credentials: the console session of a federation token (made from long-term keys) lasts as long as the token",
                )
                .hint("pass --duration SECONDS for the federation token instead, or sign in with a role"));
            }
            let params = FederationParams {
                name: args
                    .role_session_name
                    .clone()
                    .unwrap_or_else(|| FEDERATED_NAME.to_string()),
                duration: args.duration.unwrap_or(3600),
                policy_arns: cmd.policy_arns.clone(),
            };
            let (creds, _) = federation_token(&ctx, &keys, &label, &params)?;
            Ok((creds, region))
        }
        Source::RolesAnywhere(ra) => Ok((rolesanywhere::fetch(&ra)?.credentials, region)),
        // Run just above.
        Source::Profile(_) => Err(Error::new("the profile was not resolved")),
    }
}

fn temporary(keys: AccessKeys) -> Credentials {
    Credentials {
        access_key_id: keys.access_key_id,
        secret_access_key: keys.secret_access_key,
        session_token: keys.session_token.unwrap_or_default(),
        expiration: String::new(),
        account_id: None,
    }
}

/// How long `--open` waits for the browser to fetch the sign-in page.
const OPEN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Opens `url` with `$BROWSER` (a command line; the URL is its last argument), else the
/// desktop's opener. The URL is a single-use bearer token: the opener gets a one-shot loopback
/// address that redirects to it, only for our uid ([`handoff`]), so it never appears on a
/// command line other users can read. Waits for the opener to finish, as a terminal browser
/// runs until it is closed.
fn open(url: &zeroize::Zeroizing<String>) -> Result<()> {
    let argv: Vec<String> = match env("BROWSER") {
        Some(b) => shlex::split(&b)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::new(format!("$BROWSER is not a valid command line: {b:?}")))?,
        None if cfg!(target_os = "macos") => vec!["open".into()],
        None => vec!["xdg-open".into()],
    };
    let handoff = handoff::Handoff::bind()?;
    let mut child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .arg(handoff.url()?)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::new(format!("cannot run {:?} to open the sign-in URL: {e}", argv[0]))
                .hint("set BROWSER to your browser's command, or run login without --open and open the URL yourself")
        })?;
    let (tx, rx) = std::sync::mpsc::channel();
    let opener = argv[0].clone();
    let waiter = std::thread::spawn(move || {
        let outcome = match child.wait() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(Error::new(format!(
                "{opener:?} could not open the sign-in URL ({status})"
            ))
            .hint("run login without --open and open the URL yourself")),
            Err(e) => Err(Error::new(format!("cannot wait for {opener:?}: {e}"))),
        };
        let _ = tx.send(outcome.clone());
        outcome
    });
    handoff.serve(url, OPEN_DEADLINE, rx)?;
    waiter
        .join()
        .unwrap_or_else(|_| Err(Error::new("the browser opener's watcher stopped")))
}
