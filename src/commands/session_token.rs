//! `session-token`: GetSessionToken with an IAM user's long-term keys, usually with MFA; the
//! session is cached and reused (also by `assume-role --serial-number`) until it nears expiry.

use clap::Args;

use crate::commands::sts_common::{CacheArgs, MfaArgs, OutputArgs, SourceArgs, StsEndpointArgs};
use aws_signing_helper::credentials::output;
use aws_signing_helper::sts::seed;
use aws_signing_helper::sts::session_token::session_token;
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct SessionTokenArgs {
    #[command(flatten)]
    pub mfa: MfaArgs,
    /// aws-sts-helpers' account: its keys (as --profile NAME, e.g. ~/aws-creds/NAME.access_key) and MFA device arn:aws:iam::ACCOUNT:mfa/USER from the accounts file
    #[arg(long)]
    pub account: Option<String>,
    /// Accounts file for --account [default: $AWS_SIGNING_HELPER_ACCOUNTS, else ~/.config/aws-signing-helper/accounts.json, else /etc/default/aws-sts-helpers/accounts.json]
    #[arg(long)]
    pub accounts_file: Option<PathBuf>,
    /// IAM user the MFA device of --account is named for [default: NAME.user of the aws-creds directory, else $USER]
    #[arg(long)]
    pub user: Option<String>,
    /// Session duration in seconds: 900 to 129600 (36 hours)
    #[arg(long, default_value = "43200", value_parser = crate::cli::go_int)]
    pub duration: i64,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub sts: StsEndpointArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs the command.
pub fn run(args: &SessionTokenArgs) -> Result<()> {
    let mut source_args = args.source.clone();
    let mut mfa = args.mfa.mfa();
    if let Some(account) = &args.account {
        if source_args.profile.is_none() {
            source_args.profile = Some(account.clone());
        }
        if mfa.serial().is_none() {
            mfa.serial_number = Some(seed::default_mfa_serial(
                account,
                args.user.as_deref(),
                source_args.creds_dir.as_deref(),
                args.accounts_file.as_deref(),
            )?);
        }
    } else if args.user.is_some() {
        return Err(Error::new("--user needs --account")
            .hint("pass --account NAME too, or --serial-number ARN instead"));
    }
    let source = source_args.resolve(None, &args.sts)?;
    let Source::Keys { keys, label } = &source else {
        // resolve() without Roles Anywhere flags only returns keys.
        return Err(Error::new("session-token needs long-term keys"));
    };
    let ctx = args.sts.context(Some(&args.cache))?;
    let (creds, meta) = session_token(&ctx, keys, label, &mfa, args.duration, "--duration")?;
    output::print(&output::render(args.output.output.into(), &creds, &meta))
}
