//! `session-token`: GetSessionToken with an IAM user's long-term keys, usually with MFA; the
//! session is cached and reused (also by `assume-role --serial-number`) until it nears expiry.

use clap::Args;

use crate::commands::sts_common::{CacheArgs, MfaArgs, OutputArgs, SourceArgs, StsEndpointArgs};
use aws_signing_helper::credentials::output;
use aws_signing_helper::sts::session_token::session_token;
use aws_signing_helper::sts::source::Source;
use aws_signing_helper::Result;

#[derive(Debug, Clone, Args)]
pub struct SessionTokenArgs {
    #[command(flatten)]
    pub mfa: MfaArgs,
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
    let source = args.source.resolve(None, &args.sts)?;
    let Source::Keys { keys, label } = &source else {
        // resolve() without Roles Anywhere flags only returns keys.
        return Err(aws_signing_helper::Error::new(
            "session-token needs long-term keys",
        ));
    };
    if args.mfa.mfa_process.is_some() && args.mfa.serial_number.is_none() {
        return Err(
            aws_signing_helper::Error::new("--mfa-process needs --serial-number")
                .hint("pass --serial-number with your MFA device's ARN"),
        );
    }
    let ctx = args.sts.context(Some(&args.cache))?;
    let (creds, meta) = session_token(
        &ctx,
        keys,
        label,
        &args.mfa.mfa(&args.source, &source)?,
        args.duration,
        "--duration",
    )?;
    output::print(&output::render(args.output.output.into(), &creds, &meta))
}
