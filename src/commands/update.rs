//! `update`: keep a profile of the shared credentials file filled with fresh credentials,
//! without ever losing data (see `credentials_file`).
//!
//! Certificate and key files are re-read at every refresh, so rotating them needs no restart.
//! Refreshes happen 15 minutes before expiry (when SDKs start treating credentials as stale),
//! or at half-life for shorter sessions; a failed refresh is retried with capped back-off and
//! never ends the loop.

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;

use crate::cli::CredentialArgs;
use crate::commands::credential_process::fetch;
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::files::credentials_file::{self, LongTermKeys};
use aws_signing_helper::Result;

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Profile to write in the credentials file [default: $AWS_PROFILE, else "default"]
    #[arg(long)]
    pub profile: Option<String>,
    /// Write the credentials once and exit, instead of refreshing them before they expire
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub once: bool,
    /// Overwrite the profile even if it holds long-term keys (refused without this flag)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub force: bool,
}

/// How long before expiry we refresh.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

/// When to refresh credentials obtained at `now` that expire at `expiration`.
pub fn next_refresh(now: Timestamp, expiration: Timestamp) -> Timestamp {
    let lifetime = expiration.duration_since(now);
    let margin = jiff::SignedDuration::try_from(REFRESH_MARGIN).unwrap_or_default();
    if lifetime > margin * 2 {
        expiration - margin
    } else {
        now + lifetime / 2
    }
}

/// The hint for a refused profile: how to pick another one, or to force.
const LONG_TERM_HINT: &str =
    "write another profile with --profile NAME (or AWS_PROFILE=NAME), or pass --force to replace the keys";

fn write(
    args: &UpdateArgs,
    path: &std::path::Path,
    profile: &str,
    creds: &Credentials,
) -> Result<()> {
    let long_term = if args.force {
        LongTermKeys::Overwrite
    } else {
        LongTermKeys::Refuse
    };
    credentials_file::write_profile(path, profile, creds, long_term).map_err(long_term_hint)
}

/// Adds [`LONG_TERM_HINT`] to the library's refusal (and leaves other errors alone).
fn long_term_hint(e: aws_signing_helper::Error) -> aws_signing_helper::Error {
    if e.message().starts_with("refusing to overwrite profile") {
        e.hint(LONG_TERM_HINT)
    } else {
        e
    }
}

/// Runs the command.
pub fn run(args: &UpdateArgs) -> Result<()> {
    let profile = args
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".to_string());
    credentials_file::check_profile_name_as(&profile, "--profile")?;
    let path = credentials_file::default_path()?;
    // The reference documentation says AWS_PROFILE names the profile; the official binary
    // ignores it (cmd/update.go) and writes [default]. Say which one we write.
    log::warn!("Writing profile [{profile}] of {}", path.display());
    if !args.force {
        credentials_file::check_overwrite(&path, &profile).map_err(long_term_hint)?;
    }
    let mut creds = fetch(&args.credentials)?;
    write(args, &path, &profile, &creds)?;
    if args.once {
        return Ok(());
    }
    loop {
        let now = Timestamp::now();
        let expiration = creds.expiration_time().unwrap_or(now);
        let at = next_refresh(now, expiration);
        log::warn!(
            "Credentials will be refreshed at {}",
            at.strftime("%Y-%m-%d %H:%M:%S UTC")
        );
        sleep_until(at);
        let mut failures = 0u32;
        creds = loop {
            match fetch(&args.credentials)
                .and_then(|c| write(args, &path, &profile, &c).map(|()| c))
            {
                Ok(c) => break c,
                Err(e) => {
                    failures += 1;
                    let still_valid = creds
                        .expiration_time()
                        .is_some_and(|x| x > Timestamp::now());
                    let delay = backoff(failures);
                    log::warn!(
                        "refresh failed ({e}); the credentials in {} are {}; retrying in {} s",
                        path.display(),
                        if still_valid {
                            "still valid"
                        } else {
                            "expired"
                        },
                        delay.as_secs()
                    );
                    std::thread::sleep(delay);
                }
            }
        };
    }
}

/// 5 s, 10 s, 20 s … capped at 5 minutes.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << failures.min(6).saturating_sub(1)))
        .min(Duration::from_secs(300))
}

fn sleep_until(at: Timestamp) {
    loop {
        let left = at.duration_since(Timestamp::now());
        if left.is_negative() || left.is_zero() {
            return;
        }
        std::thread::sleep(
            Duration::try_from(left)
                .unwrap_or_default()
                .min(Duration::from_secs(60)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_fifteen_minutes_early_or_at_half_life() {
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let hour: Timestamp = "2024-01-01T01:00:00Z".parse().unwrap();
        assert_eq!(
            next_refresh(now, hour),
            "2024-01-01T00:45:00Z".parse::<Timestamp>().unwrap()
        );
        let soon: Timestamp = "2024-01-01T00:20:00Z".parse().unwrap();
        assert_eq!(
            next_refresh(now, soon),
            "2024-01-01T00:10:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(next_refresh(now, now), now);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(
            backoff(50),
            Duration::from_secs(160).min(Duration::from_secs(300))
        );
    }
}
