//! `update`: keep a profile of the shared credentials file filled with fresh credentials,
//! without ever losing data (see `credentials_file`).
//!
//! Certificate and key files are re-read at every refresh, so rotating them needs no restart.
//! Refreshes happen at a random point of a window ending 15 minutes before expiry (when SDKs
//! start treating credentials as stale), or before half-life for shorter sessions, so a fleet
//! started together does not refresh together; a failed refresh is retried with capped,
//! jittered back-off (longer when throttled) and never ends the loop. The schedule is the
//! library's (`credentials::refresh`), shared with `serve`.

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;

use crate::cli::CredentialArgs;
use crate::commands::credential_process::fetch;
use aws_signing_helper::credentials::refresh::{self, Backoff, UPDATE_BACKOFF};
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
    credentials_file::write_profile(path, profile, creds, long_term)
}

/// Runs the command.
pub fn run(args: &UpdateArgs) -> Result<()> {
    let profile = args
        .profile
        .clone()
        .or_else(|| aws_signing_helper::env::var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_string());
    credentials_file::check_profile_name_as(&profile, "--profile")?;
    let path = credentials_file::default_path()?;
    // The reference documentation says AWS_PROFILE names the profile; the official binary
    // ignores it (cmd/update.go) and writes [default]. Say which one we write.
    log::warn!("Writing profile [{profile}] of {}", path.display());
    if !args.force {
        credentials_file::check_overwrite(&path, &profile)?;
    }
    let mut creds = refresh::retry_while_throttled(UPDATE_BACKOFF, || fetch(&args.credentials))?;
    write(args, &path, &profile, &creds)?;
    if args.once {
        return Ok(());
    }
    loop {
        let now = Timestamp::now();
        let expiration = creds.expiration_time().unwrap_or(now);
        let at = refresh::refresh_at(now, expiration, refresh::jitter());
        log::warn!(
            "Credentials will be refreshed at {}",
            at.strftime("%Y-%m-%d %H:%M:%S UTC")
        );
        sleep_until(at);
        let mut backoff = Backoff::new(UPDATE_BACKOFF);
        creds = loop {
            match fetch(&args.credentials)
                .and_then(|c| write(args, &path, &profile, &c).map(|()| c))
            {
                Ok(c) => break c,
                Err(e) => {
                    let still_valid = creds
                        .expiration_time()
                        .is_some_and(|x| x > Timestamp::now());
                    let failure = refresh::classify(&e);
                    let delay = backoff.next_delay(failure, refresh::jitter());
                    log::warn!(
                        "refresh failed ({e}); the credentials in {} are {}; retrying in {} s{}",
                        path.display(),
                        if still_valid {
                            "still valid"
                        } else {
                            "expired"
                        },
                        delay.as_secs(),
                        if failure == refresh::Failure::Throttled {
                            " (throttled: backing off longer)"
                        } else {
                            ""
                        }
                    );
                    std::thread::sleep(delay);
                }
            }
        };
    }
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
