//! Why aws-sts-helpers' aws-creds directory (`sts::creds_dir`, `sts::seed`) does not give what
//! a command needs. No key is ever kept here.

use std::fmt;
use std::path::PathBuf;

/// An account of the aws-creds directory that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    /// Account `name` has `NAME.access_key` but no `NAME.secret_key` (`path`).
    NoSecret { name: String, path: PathBuf },
    /// No IAM user name for account `name` (no `NAME.user`, no `USER`).
    NoUser { name: String },
    /// No IAM user name for the MFA device of `account` (no `USER`).
    NoUserEnv { account: String },
}

impl SeedError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            SeedError::NoSecret { .. } => {
                "write the secret access key into that file (one line), or remove the .access_key file"
            }
            SeedError::NoUser { .. } => {
                "write the IAM user name into NAME.user in the aws-creds directory"
            }
            SeedError::NoUserEnv { .. } => "pass --user NAME or --serial-number ARN",
        })
    }
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedError::NoSecret { name, path } => write!(
                f,
                "missing {}: {name} has an access key but no secret key",
                path.display()
            ),
            SeedError::NoUser { name } => write!(
                f,
                "no IAM user name for account {name}: no {name}.user file and USER is not set"
            ),
            SeedError::NoUserEnv { account } => write!(
                f,
                "no IAM user name for the MFA device of account {account}: USER is not set"
            ),
        }
    }
}

impl std::error::Error for SeedError {}

crate::error::typed_error!(SeedError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = SeedError::NoSecret {
            name: "work".into(),
            path: "/h/aws-creds/work.secret_key".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "missing /h/aws-creds/work.secret_key: work has an access key but no secret key (hint: write the secret access key into that file (one line), or remove the .access_key file)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<SeedError>()),
            Some(SeedError::NoSecret { name, .. }) if name == "work"
        ));
        let e: Error = SeedError::NoUser {
            name: "work".into(),
        }
        .into();
        assert_eq!(
            e.message(),
            "no IAM user name for account work: no work.user file and USER is not set"
        );
    }
}
