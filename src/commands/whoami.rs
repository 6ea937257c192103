//! `whoami`: which credentials this environment holds — where they came from, the account,
//! when they expire, whether MFA went into them — without printing any secret. `--verify`
//! asks STS (GetCallerIdentity) who they belong to.

use clap::Args;
use serde::Serialize;

use crate::cli::go_bool;
use crate::commands::sts_common::StsEndpointArgs;
use aws_signing_helper::credentials::output;
use aws_signing_helper::sts::aws_keys;
use aws_signing_helper::sts::{self, AccessKeys, Call};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct WhoamiArgs {
    /// Confirm with STS GetCallerIdentity
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub verify: bool,
    /// Print JSON instead of text
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub json: bool,
    /// Profile to describe when the environment holds no keys [default: $AWS_PROFILE, else default]
    #[arg(long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub sts: StsEndpointArgs,
}

/// What whoami reports.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Status {
    pub source: String,
    /// `AKIA…` long-term or `ASIA…` temporary, shown as its first 4 and last 4 characters.
    pub access_key: String,
    pub temporary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
    pub expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

use aws_signing_helper::env::var as env;

/// The first and last four characters of an access key id.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

fn human(secs: i64) -> String {
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    if h > 0 {
        format!("{h}h{m:02}m")
    } else {
        format!("{m}m{:02}s", secs % 60)
    }
}

/// Runs the command.
pub fn run(args: &WhoamiArgs) -> Result<()> {
    let (keys, mut status) = match aws_keys::from_env() {
        Some(keys) => {
            let source =
                env(output::SOURCE_VAR).unwrap_or_else(|| "environment (AWS_ACCESS_KEY_ID)".into());
            let status = Status {
                source,
                account: env("AWS_ACCOUNT_ID"),
                arn: env(output::ARN_VAR),
                expiration: env("AWS_CREDENTIAL_EXPIRATION"),
                mfa: env(output::MFA_VAR).map(|v| v == "true"),
                ..Status::default()
            };
            (keys, status)
        }
        None => {
            let name = args
                .profile
                .clone()
                .unwrap_or_else(aws_keys::default_profile);
            let keys = aws_keys::from_profile(&name).map_err(|_| {
                Error::new(format!(
                    "no AWS credentials here: AWS_ACCESS_KEY_ID is not set and profile {name:?} has no keys"
                ))
                .hint("get some with session-token / assume-role --output env, or run a command under exec")
            })?;
            (
                keys,
                Status {
                    source: format!("profile {name}"),
                    ..Status::default()
                },
            )
        }
    };
    status.access_key = mask(&keys.access_key_id);
    status.temporary = keys.session_token.is_some();
    if let Some(exp) = status
        .expiration
        .as_deref()
        .and_then(|e| e.parse::<jiff::Timestamp>().ok())
    {
        let left = exp.as_second() - jiff::Timestamp::now().as_second();
        status.expires_in_seconds = Some(left.max(0));
        status.expired = left <= 0;
    }
    if status.account.is_none() {
        status.account = status
            .arn
            .as_deref()
            .and_then(|a| a.parse::<aws_signing_helper::protocol::arn::Arn>().ok())
            .map(|a| a.account);
    }
    if args.verify {
        verify(args, &keys, &mut status)?;
    }
    let text = if args.json {
        // A struct of strings, numbers and bools always serializes.
        format!(
            "{}\n",
            serde_json::to_string_pretty(&status).unwrap_or_default()
        )
    } else {
        render_text(&status)
    };
    print!("{text}");
    Ok(())
}

fn verify(args: &WhoamiArgs, keys: &AccessKeys, status: &mut Status) -> Result<()> {
    let ctx = args.sts.context(None)?;
    let body = sts::send(
        &ctx.client,
        keys,
        &ctx.endpoint,
        &Call::new("GetCallerIdentity"),
        ctx.policy,
    )?;
    let id = sts::parse_caller_identity(&body)?;
    status.account = Some(id.account);
    status.arn = Some(id.arn);
    status.verified = Some(true);
    Ok(())
}

fn render_text(s: &Status) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<11} {v}\n"));
    line("source:", &s.source);
    line(
        "access key:",
        &format!(
            "{} ({})",
            s.access_key,
            if s.temporary {
                "temporary"
            } else {
                "long-term"
            }
        ),
    );
    line(
        "account:",
        s.account.as_deref().unwrap_or("unknown (use --verify)"),
    );
    if let Some(arn) = &s.arn {
        line("arn:", arn);
    }
    match (&s.expiration, s.expires_in_seconds) {
        (Some(e), Some(_)) if s.expired => line("expires:", &format!("{e} (EXPIRED)")),
        (Some(e), Some(left)) => line("expires:", &format!("{e} (in {})", human(left))),
        (Some(e), None) => line("expires:", e),
        (None, _) => line(
            "expires:",
            if s.temporary {
                "unknown"
            } else {
                "never (long-term keys)"
            },
        ),
    }
    line(
        "mfa:",
        match s.mfa {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        },
    );
    if s.verified == Some(true) {
        line("verified:", "yes (GetCallerIdentity)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_formats() {
        assert_eq!(mask("ASIAIOSFODNN7EXAMPLE"), "ASIA…MPLE");
        assert_eq!(mask("short"), "*****");
        assert_eq!(human(3725), "1h02m");
        assert_eq!(human(59), "0m59s");
    }
}
