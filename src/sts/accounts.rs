//! The accounts file: short names for accounts, so that `--account work --role Admin` means
//! `arn:aws:iam::012123456789:role/Admin`.
//!
//! JSON object, name → account ARN prefix: `{"work": "arn:aws:iam::012123456789:"}` (a bare
//! 12-digit account id is accepted as a value too). Found at `--accounts-file`, else
//! `$AWS_SIGNING_HELPER_ACCOUNTS`, else `$XDG_CONFIG_HOME/aws-signing-helper/accounts.json`,
//! else `~/.config/aws-signing-helper/accounts.json`, else aws-sts-helpers'
//! `/etc/default/aws-sts-helpers/accounts.json`. A 12-digit `--account` (or an ARN prefix
//! `arn:aws:iam::ID:`, as aws-sts-helpers takes) needs no file; names match ignoring case.
//!
//! Whoever can write the file chooses the role `--account NAME` assumes (and the MFA device
//! ARN), so it is read as the shared AWS files are (`files::shared_files::read_trusted_capped`):
//! it and every directory above it must be ours or root's (or `$SUDO_UID`'s under sudo) and
//! writable by nobody else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::accounts_error::AccountsError;
use crate::error::Result;

/// The environment variable naming the accounts file.
pub const FILE_ENV: &str = "AWS_SIGNING_HELPER_ACCOUNTS";

/// aws-sts-helpers' accounts file, read after ours.
pub const SEED_PATH: &str = "/etc/default/aws-sts-helpers/accounts.json";

/// Where the accounts file is looked for when no flag names it: `$AWS_SIGNING_HELPER_ACCOUNTS`
/// alone when set, else ours, then aws-sts-helpers' [`SEED_PATH`] (the first that exists).
pub fn default_paths() -> Vec<PathBuf> {
    let env = crate::env::var_os;
    if let Some(p) = env(FILE_ENV) {
        return vec![PathBuf::from(p)];
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| crate::files::aws_config::home_dir().map(|h| h.join(".config")));
    base.map(|b| b.join("aws-signing-helper").join("accounts.json"))
        .into_iter()
        .chain(std::iter::once(PathBuf::from(SEED_PATH)))
        .collect()
}

/// The first of [`default_paths`].
pub fn default_path() -> Option<PathBuf> {
    default_paths().into_iter().next()
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// Turns an accounts-file value into an ARN prefix ending in `:`.
fn prefix_of(name: &str, value: &str, file: &Path) -> Result<String> {
    if is_account_id(value) {
        return Ok(format!("arn:aws:iam::{value}:"));
    }
    let parts: Vec<&str> = value.split(':').collect();
    let ok = parts.len() >= 5
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4])
        && parts[5..].iter().all(|p| p.is_empty());
    if !ok {
        return Err(AccountsError::Prefix {
            name: name.into(),
            value: value.into(),
            file: file.into(),
        }
        .into());
    }
    Ok(format!("arn:{}:iam::{}:", parts[1], parts[4]))
}

/// The role ARN for `--account ACCOUNT --role ROLE`.
pub fn role_arn(account: &str, role: &str, file: Option<&Path>) -> Result<String> {
    if role.is_empty() || role.starts_with('/') || role.starts_with("role/") {
        return Err(AccountsError::Role { role: role.into() }.into());
    }
    Ok(format!("{}role/{role}", prefix(account, file)?))
}

/// The MFA device ARN aws-sts-helpers uses for `user` in `account`:
/// `arn:aws:iam::ACCOUNT:mfa/USER`.
pub fn mfa_arn(account: &str, user: &str, file: Option<&Path>) -> Result<String> {
    if user.is_empty() || user.contains(['/', ':']) {
        return Err(AccountsError::MfaUser { user: user.into() }.into());
    }
    Ok(format!("{}mfa/{user}", prefix(account, file)?))
}

/// Reads the accounts file: `file` (which must exist), else the first of [`default_paths`]
/// that exists; `None` when none does.
fn load(file: Option<&Path>) -> Result<Option<(PathBuf, BTreeMap<String, String>)>> {
    let candidates = match file {
        Some(f) => vec![f.to_path_buf()],
        None => default_paths(),
    };
    for p in candidates {
        // Trusted like the shared files: whoever can write it chooses the role `--account`
        // assumes.
        let text = match crate::files::shared_files::read_trusted_file(
            &p,
            crate::files::CAP_CONFIG,
            "accounts file",
        )
        .and_then(|bytes| crate::files::read::into_text(bytes, &p))
        {
            Ok(t) => t,
            Err(e)
                if file.is_none()
                    && e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) =>
            {
                continue
            }
            Err(source) => return Err(AccountsError::File { source }.into()),
        };
        let map = parse_accounts(&text, &p)?;
        return Ok(Some((p, map)));
    }
    Ok(None)
}

/// Reads the accounts file's text (`file` names it in errors): name → value, the values
/// checked only when used.
pub fn parse_accounts(text: &str, file: &Path) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|source| {
        AccountsError::Json {
            file: file.to_path_buf(),
            source,
        }
        .into()
    })
}

/// The ARN prefix (`arn:PARTITION:iam::ID:`) of `--account`: a name of the accounts file
/// (matched exactly, else ignoring case), a 12-digit id, or such a prefix itself.
pub fn prefix(account: &str, file: Option<&Path>) -> Result<String> {
    let loaded = load(file)?;
    resolve(account, loaded.as_ref().map(|(p, map)| (p.as_path(), map)))
}

/// [`prefix`] of `account` in an accounts file already read (`None`: there is none).
pub fn resolve(
    account: &str,
    loaded: Option<(&Path, &BTreeMap<String, String>)>,
) -> Result<String> {
    if let Some((p, map)) = loaded {
        let value = map.get(account).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(account))
                .map(|(_, v)| v)
        });
        if let Some(value) = value {
            return prefix_of(account, value, p);
        }
    }
    if is_account_id(account) {
        return Ok(format!("arn:aws:iam::{account}:"));
    }
    if account.starts_with("arn:") {
        return prefix_of(account, account, Path::new("--account"));
    }
    match loaded {
        Some((p, map)) => Err(AccountsError::Unknown {
            account: account.into(),
            file: p.to_path_buf(),
            known: map.keys().cloned().collect(),
        }
        .into()),
        None => Err(AccountsError::NoFile {
            account: account.into(),
            paths: default_paths(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_tools_file_is_read_after_ours() {
        // (No test of this crate sets the variable; with it set, it alone is the default.)
        if std::env::var_os(FILE_ENV).is_none() {
            let paths = default_paths();
            assert_eq!(paths.last().unwrap(), Path::new(SEED_PATH));
            assert!(
                paths[0].ends_with("aws-signing-helper/accounts.json"),
                "{paths:?}"
            );
        }
    }

    #[test]
    fn resolves_names_ids_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("accounts.json");
        std::fs::write(
            &f,
            r#"{"work": "arn:aws:iam::012123456789:", "cn": "arn:aws-cn:iam::111122223333:", "id": "222233334444", "bad": "nope"}"#,
        )
        .unwrap();
        assert_eq!(
            role_arn("work", "Admin", Some(&f)).unwrap(),
            "arn:aws:iam::012123456789:role/Admin"
        );
        assert_eq!(
            role_arn("cn", "a/b", Some(&f)).unwrap(),
            "arn:aws-cn:iam::111122223333:role/a/b"
        );
        assert_eq!(
            role_arn("id", "R", Some(&f)).unwrap(),
            "arn:aws:iam::222233334444:role/R"
        );
        assert_eq!(
            role_arn("999988887777", "R", Some(&f)).unwrap(),
            "arn:aws:iam::999988887777:role/R"
        );
        assert!(role_arn("bad", "R", Some(&f)).is_err());
        // Names ignore case; the seed tool's raw ARN prefixes are accepted.
        assert_eq!(
            role_arn("WORK", "Admin", Some(&f)).unwrap(),
            "arn:aws:iam::012123456789:role/Admin"
        );
        assert_eq!(
            role_arn("arn:aws:iam::333344445555:", "R", Some(&f)).unwrap(),
            "arn:aws:iam::333344445555:role/R"
        );
        assert!(role_arn("arn:aws:iam::3333:", "R", Some(&f)).is_err());
        assert_eq!(
            mfa_arn("Work", "alice", Some(&f)).unwrap(),
            "arn:aws:iam::012123456789:mfa/alice"
        );
        assert!(mfa_arn("work", "", Some(&f)).is_err());
        assert!(role_arn("nobody", "R", Some(&f))
            .unwrap_err()
            .message()
            .contains("known: bad, cn, id, work"));
        assert!(role_arn("work", "", Some(&f)).is_err());
        assert!(role_arn("work", "R", Some(&dir.path().join("missing.json"))).is_err());
        std::fs::write(&f, "[1]").unwrap();
        assert!(role_arn("work", "R", Some(&f)).is_err());
    }
}
