//! `assume-role`: AssumeRole into a role (by ARN, or `--account NAME --role ROLE` through the
//! accounts file) with keys from the environment, a profile (through a cached MFA session when
//! `--serial-number` is given), or IAM Roles Anywhere, so that one command chains
//! Roles Anywhere → AssumeRole into another account. Results are cached per source identity.

use std::path::PathBuf;

use clap::Args;

use crate::commands::sts_common::{
    self, CacheArgs, MfaArgs, OutputArgs, RaSourceArgs, SourceArgs, StsEndpointArgs,
};
use aws_signing_helper::credentials::output;
use aws_signing_helper::sts::assume_role::{assume_role, AssumeParams};
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::sts::{accounts, aws_keys};
use aws_signing_helper::{Error, Result};
use zeroize::Zeroizing;

#[derive(Debug, Clone, Args)]
pub struct AssumeRoleArgs {
    /// ARN of the role to assume
    #[arg(long, default_value = "")]
    pub role_arn: String,
    /// Account name from the accounts file (or a 12-digit account id), with --role
    #[arg(long)]
    pub account: Option<String>,
    /// Role name (with its path, if any) in --account
    #[arg(long)]
    pub role: Option<String>,
    /// Accounts file: JSON {"name": "arn:aws:iam::012123456789:"} [default: $AWS_SIGNING_HELPER_ACCOUNTS, else ~/.config/aws-signing-helper/accounts.json, else /etc/default/aws-sts-helpers/accounts.json; names match ignoring case]
    #[arg(long)]
    pub accounts_file: Option<PathBuf>,
    /// Role session name [default: aws-signing-helper-<unix time>]
    #[arg(long)]
    pub role_session_name: Option<String>,
    /// External id the role's trust policy requires
    #[arg(long)]
    pub external_id: Option<String>,
    #[command(flatten)]
    pub mfa: MfaArgs,
    /// Session duration in seconds: 900 to 43200, capped by the role (and at 3600 when chaining) [default: the profile's duration_seconds, else 3600]
    #[arg(long, value_parser = crate::cli::go_int)]
    pub duration: Option<i64>,
    /// Source identity to set on the session
    #[arg(long)]
    pub source_identity: Option<String>,
    /// Session tag KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Session tag key that passes on to chained sessions (repeatable)
    #[arg(long = "transitive-tag-key", value_name = "KEY")]
    pub transitive_tag_keys: Vec<String>,
    /// Duration of the MFA session started with long-term keys and --serial-number
    #[arg(long, default_value = "43200", value_parser = crate::cli::go_int)]
    pub mfa_session_duration: i64,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub ra: RaSourceArgs,
    #[command(flatten)]
    pub sts: StsEndpointArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AssumeRoleCommand {
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// aws-sts-helpers' `generate-sts-role-token`: AssumeRole with the environment's keys, printed
/// as that tool's JSON (or `--shell` statements).
#[derive(Debug, Clone, Args)]
pub struct SeedRoleTokenArgs {
    #[command(flatten)]
    pub args: AssumeRoleArgs,
    /// The session token of the environment's temporary keys, as aws-sts-helpers takes it (visible to other users in the process list: leave it out, AWS_SESSION_TOKEN is read) [default: $AWS_SESSION_TOKEN]
    #[arg(long)]
    pub token: Option<String>,
    /// Print shell statements (as --output env does) instead of the JSON
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub shell: bool,
    /// aws-sts-helpers' name for --accounts-file
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl AssumeRoleArgs {
    /// The role ARN from --role-arn or --account/--role; `None` when neither is given.
    pub fn role_arn(&self) -> Result<Option<String>> {
        match (&self.account, &self.role, self.role_arn.is_empty()) {
            (None, None, true) => Ok(None),
            (None, None, false) => Ok(Some(self.role_arn.clone())),
            (Some(a), Some(r), true) => {
                accounts::role_arn(a, r, self.accounts_file.as_deref()).map(Some)
            }
            (Some(_), Some(_), false) => Err(Error::new(
                "--role-arn cannot be combined with --account and --role",
            )
            .hint("pass either --role-arn ARN, or --account NAME --role ROLE")),
            (Some(_), None, _) => {
                Err(Error::new("--account needs --role").hint("pass --role ROLE_NAME too"))
            }
            (None, Some(_), _) => Err(Error::new("--role needs --account")
                .hint("pass --account NAME (from the accounts file) or a 12-digit account id")),
        }
    }

    /// The AssumeRole parameters for `role_arn`.
    pub fn params(&self, role_arn: String) -> Result<AssumeParams> {
        Ok(AssumeParams {
            role_arn,
            session_name: self.role_session_name.clone(),
            external_id: self.external_id.clone(),
            duration: self.duration.unwrap_or(3600),
            source_identity: self.source_identity.clone(),
            tags: sts_common::parse_tags(&self.tags)?,
            transitive_tag_keys: self.transitive_tag_keys.clone(),
            mfa_session_duration: self.mfa_session_duration,
        })
    }
}

/// Runs the command.
pub fn run(cmd: &AssumeRoleCommand) -> Result<()> {
    let (creds, meta) = credentials(&cmd.args, None)?;
    output::print(&output::render(cmd.output.output.into(), &creds, &meta))
}

/// Runs `generate-sts-role-token`.
pub fn run_seed(cmd: &SeedRoleTokenArgs) -> Result<()> {
    let mut args = cmd.args.clone();
    if args.accounts_file.is_none() {
        args.accounts_file = cmd.config.clone();
    }
    // The seed tool signs with the environment's keys, whoever set them (ec2switch did).
    if args.source.source == sts_common::SourceKind::Auto
        && args.source.profile.is_none()
        && aws_keys::from_env().is_some()
    {
        args.source.source = sts_common::SourceKind::Env;
    }
    if cmd.token.is_some() {
        log::warn!("warning: --token shows the session token to other users of this machine (ps); it is not needed: AWS_SESSION_TOKEN is read from the environment");
    }
    let (creds, meta) = credentials(&args, cmd.token.as_deref())?;
    let format = if cmd.shell {
        output::Format::Env
    } else {
        output::Format::SeedJson
    };
    output::print(&output::render(format, &creds, &meta))
}

/// AssumeRole as `args` say; `token` replaces the session token of the source keys.
fn credentials(
    args: &AssumeRoleArgs,
    token: Option<&str>,
) -> Result<(aws_signing_helper::credentials::Credentials, output::Meta)> {
    let role_arn = args.role_arn()?.ok_or_else(|| {
        Error::new("no role to assume: pass --role-arn, or --account and --role")
            .hint("a role ARN looks like arn:aws:iam::123456789012:role/NAME")
    })?;
    let params = args.params(role_arn)?;
    params.check()?;
    let mut source = args.source.resolve(Some(&args.ra), &args.sts)?;
    if let Some(token) = token {
        let Source::Keys { keys, .. } = &mut source else {
            return Err(
                Error::new("--token needs keys from the environment or a profile").hint(
                    "leave --token out, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                ),
            );
        };
        keys.session_token = Some(Zeroizing::new(token.to_string()));
    }
    let ctx = args.sts.context_for(Some(&args.cache), &source)?;
    assume_role(&ctx, &source, &args.mfa.mfa(), &params)
}
