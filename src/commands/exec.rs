//! `exec -- CMD ARGS…`: run a command with temporary credentials in its environment and exit
//! with its status. With a role (--role-arn, or --account/--role) the credentials are
//! AssumeRole's; without one, an MFA/plain session from long-term keys, or the Roles Anywhere
//! session itself. The credentials reach only the child's environment.

use clap::Args;

use crate::commands::assume_role::AssumeRoleArgs;
use crate::commands::sts_common::{self, OutputArgs};
use aws_signing_helper::credentials::output::{self, Meta};
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::serve::{self, ServeConfig};
use aws_signing_helper::sts::assume_role::assume_role;
use aws_signing_helper::sts::chain;
use aws_signing_helper::sts::session_token::session_token;
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// The profile of ~/.aws/config to use (the same as --profile)
    #[arg(id = "profile_name", value_name = "PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    /// Serve the credentials to the command on a private container-credentials endpoint that
    /// refreshes them before they expire, instead of putting them in its environment
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub server: bool,
    /// The command to run and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Credentials for a child process or a shell, and the region of the profile they came from.
pub struct Obtained {
    pub credentials: Credentials,
    pub meta: Meta,
    pub region: Option<String>,
}

/// `PROFILE` given as a word and as `--profile`: they must agree.
pub fn with_profile(args: &AssumeRoleArgs, positional: Option<&str>) -> Result<AssumeRoleArgs> {
    let mut args = args.clone();
    if let Some(p) = positional {
        match &args.source.profile {
            Some(flag) if flag != p => {
                return Err(
                    Error::new(format!("two profiles given: {p:?} and --profile {flag:?}"))
                        .hint("name the profile once"),
                )
            }
            _ => args.source.profile = Some(p.to_string()),
        }
    }
    Ok(args)
}

/// Gets the credentials `exec` (and `export`) hand on.
pub fn credentials(args: &AssumeRoleArgs) -> Result<Obtained> {
    let role = args.role_arn()?;
    let source = args.source.resolve(Some(&args.ra), &args.sts)?;
    let ctx = args.sts.context_for(Some(&args.cache), &source)?;
    let mfa = args.mfa.mfa(&args.source, &source)?;
    let region = match &source {
        Source::Profile(chain) => chain.region.clone(),
        _ => None,
    };
    let done = |(credentials, meta): (Credentials, Meta)| Obtained {
        credentials,
        meta,
        region: region.clone(),
    };
    if let Some(role_arn) = role {
        let params = args.params(role_arn)?;
        return assume_role(&ctx, &source, &mfa, &params).map(done);
    }
    let source = match source {
        Source::Profile(chain) => {
            let ran = chain::run(&ctx, &chain, &mfa, args.duration)?;
            if let Some(made) = ran.credentials {
                return Ok(done(made));
            }
            ran.source
        }
        other => other,
    };
    match &source {
        Source::Keys { keys, label } if keys.session_token.is_none() => session_token(
            &ctx,
            keys,
            label,
            &mfa,
            args.mfa_session_duration,
            "--mfa-session-duration",
        )
        .map(done),
        Source::Keys { .. } => Err(Error::new(
            "exec without a role would only pass on the current temporary credentials",
        )
        .hint("pass --role-arn (or --account and --role), or --profile NAME with long-term keys")),
        Source::RolesAnywhere(ra) => {
            let creds = rolesanywhere::fetch(ra)?.credentials;
            Ok(done((
                creds,
                sts_common::rolesanywhere_meta(&ra.session.role_arn),
            )))
        }
        // Run just above.
        Source::Profile(_) => Err(Error::new("the profile was not resolved")),
    }
}

/// `export PROFILE --output FORMAT`: the credentials `exec` would hand on, printed for a shell
/// (what `assume-role --output` prints, with a profile's roles, processes and sources too).
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The profile of ~/.aws/config to use (the same as --profile)
    #[arg(id = "profile_name", value_name = "PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `export`.
pub fn export(cmd: &ExportArgs) -> Result<()> {
    let got = credentials(&with_profile(&cmd.args, cmd.profile.as_deref())?)?;
    output::print(&output::render(
        cmd.output.output.into(),
        &got.credentials,
        &got.meta,
    ))
}

/// Runs the command; returns only on failure to start it (or, with `--server` or off Unix,
/// with its status).
pub fn run(args: &ExecArgs) -> Result<std::process::ExitCode> {
    let (program, rest) = args.command.split_first().ok_or_else(|| {
        Error::new("exec needs a command after --").hint("e.g. exec -- aws sts get-caller-identity")
    })?;
    let assume = with_profile(&args.args, args.profile.as_deref())?;
    if args.server {
        return run_with_server(&assume, program, rest);
    }
    let Obtained {
        credentials: creds,
        meta,
        region,
    } = credentials(&assume)?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for (name, value) in output::env_vars(&creds, &meta) {
        cmd.env(name, value.as_str());
    }
    for name in output::unset_vars(&output::env_vars(&creds, &meta)) {
        cmd.env_remove(name);
    }
    child_settings(&mut cmd, region.as_deref());
    drop(creds);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // exec only returns on failure.
        let e = cmd.exec();
        Err(start_error(program, &e))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(|e| start_error(program, &e))?;
        Ok(exit_code(status))
    }
}

/// What every child gets: the profile's region, and no `AWS_PROFILE` (its SDK must use the
/// credentials we give it, not look the profile up again).
fn child_settings(cmd: &mut std::process::Command, region: Option<&str>) {
    if let Some(region) = region {
        cmd.env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
    }
    cmd.env_remove("AWS_PROFILE");
}

fn exit_code(status: std::process::ExitStatus) -> std::process::ExitCode {
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    let code = status
        .code()
        .or(signal.map(|s| 128 + s))
        .unwrap_or(1)
        .clamp(0, 255);
    // Clamped to 0..=255 just above.
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `exec --server`: a container-credentials endpoint on a random loopback port with a random
/// bearer token, known only to the child, refreshing the credentials before they expire; it
/// ends with the child. The child's environment holds no keys.
fn run_with_server(
    args: &AssumeRoleArgs,
    program: &str,
    rest: &[String],
) -> Result<std::process::ExitCode> {
    let mut args = args.clone();
    // The server refreshes 15 minutes before expiry: cached credentials closer to it than that
    // must not be handed back again.
    args.cache.cache_margin = args.cache.cache_margin.max(20 * 60);
    let region = {
        let source = args.source.resolve(Some(&args.ra), &args.sts)?;
        match source {
            Source::Profile(chain) => chain.region.clone(),
            _ => None,
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("aws-signing-helper-exec-")
        .tempdir()
        .map_err(|e| {
            Error::new(format!(
                "cannot create a private directory for the token: {e}"
            ))
        })?;
    let token_file = dir.path().join("token");
    let refresher_args = args.clone();
    let handle = serve::start(
        ServeConfig {
            bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 0,
            hop_limit: 1,
            role_name: "exec".into(),
            container_token_file: token_file.clone(),
            // The child uses the container route (bearer token); the IMDS routes, which need
            // none, answer only processes of this user.
            access: serve::Access {
                allow_uids: Some(vec![aws_signing_helper::files::dir::euid()]),
                ..serve::Access::default()
            },
            listener: None,
        },
        Box::new(move || credentials(&refresher_args).map(|o| o.credentials)),
    )?;
    let token = aws_signing_helper::files::read_text(
        &token_file,
        aws_signing_helper::files::CAP_PEM,
        "container token file",
    )?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for name in output::ALL_VARS {
        cmd.env_remove(name);
    }
    for name in [
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", handle.container_uri())
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.as_str());
    child_settings(&mut cmd, region.as_deref());
    drop(token);
    let status = cmd.status().map_err(|e| start_error(program, &e));
    handle.shutdown();
    Ok(exit_code(status?))
}

fn start_error(program: &str, e: &std::io::Error) -> Error {
    let err = Error::new(format!("cannot run {program:?}: {e}"));
    if e.kind() == std::io::ErrorKind::NotFound {
        err.hint("check the command name and PATH")
    } else {
        err
    }
}
