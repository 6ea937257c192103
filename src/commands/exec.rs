//! `exec -- CMD ARGS…`: run a command with temporary credentials in its environment and exit
//! with its status. With a role (--role-arn, or --account/--role) the credentials are
//! AssumeRole's; without one, an MFA/plain session from long-term keys, or the Roles Anywhere
//! session itself. The credentials reach only the child's environment.

use clap::Args;

use crate::commands::assume_role::AssumeRoleArgs;
use crate::commands::sts_common;
use aws_signing_helper::credentials::output::{self, Meta};
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::sts::assume_role::assume_role;
use aws_signing_helper::sts::session_token::session_token;
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    /// The command to run and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Gets the credentials `exec` runs the command with.
pub fn credentials(args: &AssumeRoleArgs) -> Result<(Credentials, Meta)> {
    let role = args.role_arn()?;
    let source = args.source.resolve(Some(&args.ra), &args.sts)?;
    let ctx = args.sts.context(Some(&args.cache))?;
    if let Some(role_arn) = role {
        let params = args.params(role_arn)?;
        return assume_role(&ctx, &source, &args.mfa.mfa(), &params);
    }
    match &source {
        Source::Keys { keys, label } if keys.session_token.is_none() => session_token(
            &ctx,
            keys,
            label,
            &args.mfa.mfa(),
            args.mfa_session_duration,
            "--mfa-session-duration",
        ),
        Source::Keys { .. } => Err(Error::new(
            "exec without a role would only pass on the current temporary credentials",
        )
        .hint("pass --role-arn (or --account and --role), or --profile NAME with long-term keys")),
        Source::RolesAnywhere(ra) => {
            let creds = rolesanywhere::fetch(ra)?.credentials;
            Ok((creds, sts_common::rolesanywhere_meta(&ra.session.role_arn)))
        }
    }
}

/// Runs the command; returns only on failure to start it (or, off Unix, with its status).
pub fn run(args: &ExecArgs) -> Result<std::process::ExitCode> {
    let (creds, meta) = credentials(&args.args)?;
    let (program, rest) = args.command.split_first().ok_or_else(|| {
        Error::new("exec needs a command after --").hint("e.g. exec -- aws sts get-caller-identity")
    })?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    for (name, value) in output::env_vars(&creds, &meta) {
        cmd.env(name, value.as_str());
    }
    if creds.account_id.is_none() {
        cmd.env_remove("AWS_ACCOUNT_ID");
    }
    if meta.arn.is_none() {
        cmd.env_remove(output::ARN_VAR);
    }
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
        Ok(std::process::ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8,
        ))
    }
}

fn start_error(program: &str, e: &std::io::Error) -> Error {
    let err = Error::new(format!("cannot run {program:?}: {e}"));
    if e.kind() == std::io::ErrorKind::NotFound {
        err.hint("check the command name and PATH")
    } else {
        err
    }
}
