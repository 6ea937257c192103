//! Why `--account` (through the accounts file, `sts::accounts`) or `--role` does not name an ARN.

use std::fmt;
use std::path::PathBuf;

/// An account name, accounts file or role name that cannot be used.
#[derive(Debug)]
pub enum AccountsError {
    /// `value` of `name` in `file` (or `--account`) is not an account ARN prefix.
    Prefix {
        name: String,
        value: String,
        file: PathBuf,
    },
    /// `--role` is empty or starts with `/` or `role/`.
    Role { role: String },
    /// An IAM user name that cannot be part of an MFA device ARN.
    MfaUser { user: String },
    /// The accounts file could not be read.
    File { source: crate::files::Error },
    /// The accounts file is not a JSON object of strings.
    Json {
        file: PathBuf,
        source: serde_json::Error,
    },
    /// `account` is not in `file` (which has `known`).
    Unknown {
        account: String,
        file: PathBuf,
        known: Vec<String>,
    },
    /// `account` is not an id and there is no accounts file (at any of `paths`).
    NoFile {
        account: String,
        paths: Vec<PathBuf>,
    },
}

impl AccountsError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            // An untrusted file says what to make of it itself.
            AccountsError::File {
                source: source @ crate::files::Error::UntrustedFile { .. },
            } => return source.hint(),
            AccountsError::Prefix { .. } => "write it like \"arn:aws:iam::012123456789:\"",
            AccountsError::Role { .. } => {
                "pass the role's name (optionally with its path), like Admin or team/Admin"
            }
            AccountsError::MfaUser { .. } => {
                "write the IAM user name in NAME.user of the aws-creds directory, or pass --serial-number"
            }
            AccountsError::File { .. } => {
                "pass --accounts-file naming a JSON file like {\"work\": \"arn:aws:iam::012123456789:\"}"
            }
            AccountsError::Json { .. } => {
                "it must be a JSON object of name to account ARN prefix, like {\"work\": \"arn:aws:iam::012123456789:\"}"
            }
            AccountsError::Unknown { .. } => {
                "add it to the accounts file, or pass a 12-digit account id"
            }
            AccountsError::NoFile { .. } => {
                "create it as {\"NAME\": \"arn:aws:iam::012123456789:\"}, pass --accounts-file, or pass a 12-digit account id"
            }
        }
        .to_string())
    }
}

impl fmt::Display for AccountsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountsError::Prefix { name, value, file } => write!(
                f,
                "invalid account {name:?} in {}: {value:?} is not an account ARN prefix",
                file.display()
            ),
            AccountsError::Role { role } => write!(f, "invalid --role {role:?}"),
            AccountsError::MfaUser { user } => {
                write!(f, "invalid IAM user name {user:?} for the MFA device")
            }
            AccountsError::File { source } => write!(f, "{source}"),
            AccountsError::Json { file, source } => {
                write!(f, "invalid accounts file {}: {source}", file.display())
            }
            AccountsError::Unknown {
                account,
                file,
                known,
            } => write!(
                f,
                "unknown --account {account:?}: not in {} (known: {})",
                file.display(),
                known.join(", ")
            ),
            AccountsError::NoFile { account, paths } => {
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "unknown --account {account:?}: no accounts file at {}",
                    paths.join(" or ")
                )
            }
        }
    }
}

impl std::error::Error for AccountsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AccountsError::File { source } => Some(source),
            AccountsError::Json { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(AccountsError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e = crate::sts::accounts::role_arn("123456789012", "role/x", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --role \"role/x\" (hint: pass the role's name (optionally with its path), like Admin or team/Admin)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<AccountsError>()),
            Some(AccountsError::Role { role }) if role == "role/x"
        ));
        let e: Error = AccountsError::Unknown {
            account: "play".into(),
            file: "/a/accounts.json".into(),
            known: vec!["dev".into(), "work".into()],
        }
        .into();
        assert_eq!(
            e.to_string(),
            "unknown --account \"play\": not in /a/accounts.json (known: dev, work) (hint: add it to the accounts file, or pass a 12-digit account id)"
        );
        let e = crate::sts::accounts::prefix("arn:aws:s3::1:", None).unwrap_err();
        assert_eq!(
            e.message(),
            "invalid account \"arn:aws:s3::1:\" in --account: \"arn:aws:s3::1:\" is not an account ARN prefix"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<AccountsError>()));
    }
}
