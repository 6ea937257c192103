//! aws-sts-helpers' shell workflow (`ec2switch`, `ec2mfa`), so that its users keep their
//! habits: pick an account of the aws-creds directory, and use its MFA session while one is
//! cached.
//!
//! Switching to account `NAME` selects, in this order: a valid session of our STS cache (the
//! one `session-token` / `ec2mfa` stored for the account's keys and MFA device
//! `arn:aws:iam::ACCOUNT:mfa/USER`), the seed tool's own cached session
//! (`.cache.NAME.*`, see [`creds_dir::read_cache`]), else the account's long-term keys. The
//! variables set are the seed tool's: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, the EC2
//! CLI's `AWS_ACCESS_KEY` / `AWS_SECRET_KEY`, with a session `AWS_SESSION_TOKEN`,
//! `AWS_SECURITY_TOKEN`, `AWS_DELEGATION_TOKEN` (and `AWS_CREDENTIAL_EXPIRATION`), and
//! `MY_AWS_SET_FOR` (the name as typed, `-MFA-STS` appended for a session); everything else
//! this tool's shell outputs set is unset. Unlike `export`, no `AWS_SIGNING_HELPER_*` variable
//! is set: the keys chosen are the shell's own, usable as the environment source of any
//! command, as they were with the seed tool.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credentials::output::{self, Meta, Shell};
use crate::credentials::Credentials;
use crate::error::Result;
use crate::sts::accounts;
use crate::sts::creds_dir::{self, SeedCache, SeedKey};
use crate::sts::seed_error::SeedError;
use crate::sts::session::{Mfa, Sts};
use crate::sts::session_token::{self, Cached};

/// The variable naming the account the shell's keys belong to.
pub const SET_FOR_VAR: &str = "MY_AWS_SET_FOR";
/// What `MY_AWS_SET_FOR` ends with when the keys are an MFA session.
pub const MFA_SUFFIX: &str = "-MFA-STS";
/// The seed tool's session length for `ec2mfa`, in seconds (two hours).
pub const MFA_DURATION: i64 = 7200;

/// Whether a cached session was there (the seed tool's three messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheState {
    /// "Cache is valid for account NAME"
    Valid,
    /// "Cache invalid or not present for account NAME"
    Invalid,
    /// "Cache not present for account NAME"
    Absent,
}

impl CacheState {
    /// The seed tool's line for `name`.
    pub fn message(self, name: &str) -> String {
        match self {
            CacheState::Valid => format!("Cache is valid for account {name}"),
            CacheState::Invalid => format!("Cache invalid or not present for account {name}"),
            CacheState::Absent => format!("Cache not present for account {name}"),
        }
    }
}

/// The outcome of [`switch`].
pub enum Switch {
    /// The directory does not exist ("No creds directory? DIR").
    NoDir(PathBuf),
    /// The account has no `NAME.access_key` ("Didn't find canary FILE for account NAME").
    NoAccount { canary: PathBuf, name: String },
    /// The keys to set.
    Selected(Selected),
}

/// The keys chosen for an account.
pub struct Selected {
    /// The account name in lower case (its files' stem).
    pub name: String,
    pub cache: CacheState,
    /// Long-term keys (no session token) or a session.
    pub creds: Credentials,
}

impl Selected {
    /// Whether the keys are an MFA session.
    pub fn is_session(&self) -> bool {
        !self.creds.session_token.is_empty()
    }

    /// `MY_AWS_SET_FOR` for the name as typed.
    pub fn set_for(&self, typed: &str) -> String {
        if self.is_session() {
            format!("{typed}{MFA_SUFFIX}")
        } else {
            typed.to_string()
        }
    }
}

/// The IAM user the account's MFA device is named for: `NAME.user`, else `$USER`.
pub fn user_of(key: &SeedKey) -> String {
    key.user
        .clone()
        .or_else(|| crate::env::var("USER"))
        .unwrap_or_default()
}

/// The account's MFA device ARN, as the seed tool makes it: the accounts file's prefix for the
/// account, `mfa/`, the user.
pub fn mfa_serial(key: &SeedKey, accounts_file: Option<&Path>) -> Result<String> {
    let user = user_of(key);
    if user.is_empty() {
        return Err(SeedError::NoUser {
            name: key.name.clone(),
        }
        .into());
    }
    accounts::mfa_arn(&key.name, &user, accounts_file)
}

/// The MFA device of `account` for `user` (`None`: `NAME.user` of the aws-creds directory
/// `creds_dir` or its default, else `$USER`), for `session-token --account`.
pub fn default_mfa_serial(
    account: &str,
    user: Option<&str>,
    creds_dir: Option<&Path>,
    accounts_file: Option<&Path>,
) -> Result<String> {
    if let Some(user) = user {
        return accounts::mfa_arn(account, user, accounts_file);
    }
    match creds_dir::find(creds_dir, account)? {
        Some(key) => mfa_serial(&key, accounts_file),
        None => {
            let user = crate::env::var("USER");
            let user = user.ok_or_else(|| SeedError::NoUserEnv {
                account: account.to_string(),
            })?;
            accounts::mfa_arn(account, &user, accounts_file)
        }
    }
}

/// Chooses the keys for account `name` of `dir` (see the module doc); `ctx` gives our STS
/// cache (`None`: only the seed tool's is read).
pub fn switch(
    dir: &Path,
    name: &str,
    ctx: Option<&Sts>,
    accounts_file: Option<&Path>,
    now: std::time::SystemTime,
) -> Result<Switch> {
    if creds_dir::names_if_exists(dir)?.is_none() {
        return Ok(Switch::NoDir(dir.to_path_buf()));
    }
    let lower = name.to_lowercase();
    let Some(key) = creds_dir::read(dir, name)? else {
        return Ok(Switch::NoAccount {
            canary: dir.join(format!("{lower}.access_key")),
            name: lower,
        });
    };
    // Ours first: a session made by ec2mfa / session-token for these keys and device.
    let mut ours_stale = false;
    if let (Some(ctx), Ok(serial)) = (ctx, mfa_serial(&key, accounts_file)) {
        match session_token::cached(ctx, &key.keys, Some(&serial)) {
            Cached::Valid(creds, _) => {
                return Ok(Switch::Selected(Selected {
                    name: key.name,
                    cache: CacheState::Valid,
                    creds,
                }))
            }
            Cached::Stale => ours_stale = true,
            Cached::Absent => {}
        }
    }
    let cache = match creds_dir::read_cache(dir, &key.name, now)? {
        SeedCache::Valid(creds) => {
            return Ok(Switch::Selected(Selected {
                name: key.name,
                cache: CacheState::Valid,
                creds,
            }))
        }
        SeedCache::Invalid => CacheState::Invalid,
        SeedCache::Absent if ours_stale => CacheState::Invalid,
        SeedCache::Absent => CacheState::Absent,
    };
    Ok(Switch::Selected(Selected {
        name: key.name,
        cache,
        creds: Credentials {
            access_key_id: key.keys.access_key_id.clone(),
            secret_access_key: key.keys.secret_access_key.clone(),
            session_token: Zeroizing::new(String::new()),
            expiration: String::new(),
            account_id: None,
        },
    }))
}

/// GetSessionToken for account `key` with MFA `code` for 2 hours, stored in `ctx`'s cache
/// (where [`switch`] finds it).
pub fn mfa_session(
    ctx: &Sts,
    key: &SeedKey,
    serial: &str,
    code: &Zeroizing<String>,
) -> Result<(Credentials, Meta)> {
    session_token::session_token(
        ctx,
        &key.keys,
        &format!("aws-creds {}", key.name),
        &Mfa {
            serial_number: Some(serial.to_string()),
            token_code: Some(code.to_string()),
            ..Mfa::default()
        },
        MFA_DURATION,
        "--duration",
    )
}

/// The statements setting the shell's variables for `sel` (`typed`: the name as the user
/// typed it); `AWS_DEFAULT_REGION` is set to us-east-1 when `set_region`.
pub fn statements(
    shell: Shell,
    sel: &Selected,
    typed: &str,
    set_region: bool,
) -> Zeroizing<String> {
    let mut vars: Vec<(&str, Zeroizing<String>)> = output::env_vars(&sel.creds, &Meta::default())
        .into_iter()
        .filter(|(n, _)| !n.starts_with("AWS_SIGNING_HELPER_"))
        .collect();
    vars.push((SET_FOR_VAR, Zeroizing::new(sel.set_for(typed))));
    if set_region {
        vars.push(("AWS_DEFAULT_REGION", Zeroizing::new("us-east-1".into())));
    }
    let mut out = Zeroizing::new(String::new());
    for (n, v) in &vars {
        out.push_str(&output::assign(shell, n, v));
        out.push('\n');
    }
    for n in output::ALL_VARS {
        if !vars.iter().any(|(set, _)| set == n) {
            out.push_str(&output::unassign(shell, n));
            out.push('\n');
        }
    }
    out
}

/// The statements of `ec2unset`: every variable [`statements`] may set, except the region.
pub fn unset_statements(shell: Shell) -> String {
    output::ALL_VARS
        .iter()
        .chain(std::iter::once(&SET_FOR_VAR))
        .map(|n| output::unassign(shell, n) + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(token: &str) -> Selected {
        Selected {
            name: "work".into(),
            cache: CacheState::Absent,
            creds: Credentials {
                access_key_id: "AKIA1".into(),
                secret_access_key: Zeroizing::new("s'1".into()),
                session_token: Zeroizing::new(token.into()),
                expiration: String::new(),
                account_id: None,
            },
        }
    }

    #[test]
    fn sets_the_seed_tools_variables() {
        let sh = statements(Shell::Posix, &selected(""), "Work", true);
        for line in [
            "export AWS_ACCESS_KEY_ID='AKIA1'\n",
            "export AWS_SECRET_ACCESS_KEY='s'\\''1'\n",
            "export AWS_ACCESS_KEY='AKIA1'\n",
            "export MY_AWS_SET_FOR='Work'\n",
            "export AWS_DEFAULT_REGION='us-east-1'\n",
            "unset AWS_SESSION_TOKEN\n",
            "unset AWS_SECURITY_TOKEN\n",
            "unset AWS_DELEGATION_TOKEN\n",
            "unset AWS_SIGNING_HELPER_SOURCE\n",
        ] {
            assert!(sh.contains(line), "{line} in {}", sh.as_str());
        }
        let fish = statements(Shell::Fish, &selected("tok"), "work", false);
        assert!(fish.contains("set -gx AWS_DELEGATION_TOKEN 'tok';\n"));
        assert!(fish.contains("set -gx MY_AWS_SET_FOR 'work-MFA-STS';\n"));
        assert!(!fish.contains("AWS_DEFAULT_REGION"));
        assert!(unset_statements(Shell::Posix).contains("unset MY_AWS_SET_FOR\n"));
        assert_eq!(
            CacheState::Invalid.message("work"),
            "Cache invalid or not present for account work"
        );
    }
}
