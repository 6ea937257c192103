//! Why an STS request was not made (`sts::assume_role`, `sts::session_token`, `sts::session`,
//! `sts::source`, `sts::aws_keys`): flags STS would refuse, credentials that cannot be used, a
//! missing cache directory, an unreadable AWS file. No key or code is ever kept here.

use std::fmt;
use std::path::PathBuf;

/// An STS call that was not made.
#[derive(Debug)]
pub enum StsError {
    /// More than 50 `--tag`.
    TooManyTags,
    /// The `--tag` value of `key` is longer than 256 characters.
    TagValue { key: String },
    /// A `--transitive-tag-key` that is not a `--tag` key.
    TransitiveTagKey { key: String },
    /// `--token-code` without a device.
    TokenCodeWithoutSerial,
    /// `--duration` above `max` for a role assumed with temporary credentials.
    ChainedDuration {
        duration: i64,
        role_arn: String,
        max: i64,
    },
    /// AssumeRole was reached with a profile chain not yet run.
    Unresolved { profile: String },
    /// A duration flag outside what `what` accepts.
    Duration {
        flag: String,
        value: i64,
        what: String,
        min: i64,
        max: i64,
    },
    /// No cache directory (no HOME).
    NoCacheDir,
    /// GetSessionToken with temporary credentials (from `label`).
    TemporaryKeys { label: String },
    /// A `--policy-arn` that is not an IAM managed policy ARN.
    PolicyArn { arn: String },
    /// GetFederationToken with temporary credentials (from `label`).
    FederationTemporaryKeys { label: String },
    /// `--source rolesanywhere` without its flags.
    RolesAnywhereFlags,
    /// `--source rolesanywhere` for a command that cannot use it.
    RolesAnywhereUnavailable,
    /// `--source env` without keys in the environment.
    EnvKeysUnset,
    /// Profile `name` has no keys (in `credentials_file` or the config file or the aws-creds
    /// directory); `env_is_ours`: the environment's keys were ours and not used.
    MissingKeys {
        name: String,
        credentials_file: String,
        env_is_ours: bool,
    },
    /// An AWS config or credentials file that is not UTF-8.
    NotUtf8 { path: PathBuf },
    /// An AWS config or credentials file that cannot be read.
    Read {
        path: PathBuf,
        source: crate::files::Error,
    },
}

impl StsError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            StsError::TokenCodeWithoutSerial => {
                "pass --serial-number with your MFA device's ARN".into()
            }
            StsError::ChainedDuration { max, .. } => format!(
                "ask for --duration {max} or less, or assume the role with an IAM user's long-term keys"
            ),
            StsError::Duration { flag, min, max, .. } => {
                format!("pass {flag} between {min} and {max}")
            }
            StsError::NoCacheDir => "pass --cache-dir DIR or --no-cache".into(),
            StsError::TemporaryKeys { .. } => {
                "pass --profile NAME naming an IAM user's long-term keys, or unset AWS_SESSION_TOKEN and the other AWS_* variables".into()
            }
            StsError::PolicyArn { .. } => {
                "a managed policy ARN looks like arn:aws:iam::aws:policy/ReadOnlyAccess".into()
            }
            StsError::FederationTemporaryKeys { .. } => {
                "sign in with a role (a profile with role_arn, or --role-arn) instead".into()
            }
            StsError::RolesAnywhereFlags => {
                "pass --certificate, --private-key, --trust-anchor-arn, --profile-arn and --ra-role-arn".into()
            }
            StsError::RolesAnywhereUnavailable => {
                "GetSessionToken needs an IAM user's long-term keys: use --source env or --profile".into()
            }
            StsError::EnvKeysUnset => {
                "export both, or pass --profile NAME naming a profile of ~/.aws/credentials".into()
            }
            StsError::MissingKeys {
                env_is_ours: true, ..
            } => {
                "pass --profile NAME with long-term keys, or --source env to chain from the current credentials".into()
            }
            StsError::MissingKeys { .. } => {
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME naming a profile with both keys (aws configure --profile NAME)".into()
            }
            // The OS's refusal is worded as ours (no hint); the safe-file layer's its own way.
            StsError::Read { source, .. } if source.io_error().is_none() => return source.hint(),
            StsError::TooManyTags
            | StsError::TagValue { .. }
            | StsError::TransitiveTagKey { .. }
            | StsError::Unresolved { .. }
            | StsError::NotUtf8 { .. }
            | StsError::Read { .. } => return None,
        })
    }
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StsError::TooManyTags => {
                f.write_str("too many --tag: STS accepts at most 50 session tags")
            }
            StsError::TagValue { key } => {
                write!(f, "--tag {key}: the value is longer than 256 characters")
            }
            StsError::TransitiveTagKey { key } => {
                write!(f, "--transitive-tag-key {key:?} is not one of the --tag keys")
            }
            StsError::TokenCodeWithoutSerial => f.write_str("--token-code needs --serial-number"),
            StsError::ChainedDuration {
                duration,
                role_arn,
                max,
            } => write!(
                f,
                "--duration {duration} is more than STS allows for {role_arn}: a role assumed with temporary credentials (role chaining) lasts at most {max} seconds"
            ),
            StsError::Unresolved { profile } => {
                write!(f, "profile {profile:?} was not resolved before AssumeRole")
            }
            StsError::Duration {
                flag,
                value,
                what,
                min,
                max,
            } => write!(
                f,
                "{flag} {value} is out of range: {what} accepts {min} to {max} seconds"
            ),
            StsError::NoCacheDir => f.write_str("cannot find a cache directory: HOME is not set"),
            StsError::TemporaryKeys { label } => write!(
                f,
                "GetSessionToken needs long-term keys, but the {label} credentials are temporary (they have a session token)"
            ),
            StsError::PolicyArn { arn } => {
                write!(f, "invalid --policy-arn {arn:?}: not an IAM policy ARN")
            }
            StsError::FederationTemporaryKeys { label } => write!(
                f,
                "GetFederationToken needs long-term keys, but the {label} credentials are temporary"
            ),
            StsError::RolesAnywhereFlags => {
                f.write_str("--source rolesanywhere needs the Roles Anywhere flags")
            }
            StsError::RolesAnywhereUnavailable => {
                f.write_str("--source rolesanywhere is not available for this command")
            }
            StsError::EnvKeysUnset => f.write_str(
                "missing long-term AWS keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            ),
            StsError::MissingKeys {
                name,
                credentials_file,
                env_is_ours,
            } => {
                write!(
                    f,
                    "missing long-term AWS keys: profile {name:?} has no aws_access_key_id and aws_secret_access_key in {credentials_file} or the AWS config file, and no {name}.access_key in the aws-creds directory"
                )?;
                if *env_is_ours {
                    f.write_str(" (the AWS_* variables of this shell were set by aws_signing_helper and are not used as a source)")?;
                }
                Ok(())
            }
            StsError::NotUtf8 { path } => {
                write!(f, "cannot read {}: not UTF-8 text", path.display())
            }
            StsError::Read { path, source } => match source.io_error() {
                Some(io) => write!(f, "cannot read {}: {io}", path.display()),
                None => write!(f, "{source}"),
            },
        }
    }
}

impl std::error::Error for StsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StsError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(StsError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = StsError::Duration {
            flag: "--duration".into(),
            value: 10,
            what: "AssumeRole".into(),
            min: 900,
            max: 43_200,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "--duration 10 is out of range: AssumeRole accepts 900 to 43200 seconds (hint: pass --duration between 900 and 43200)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<StsError>()),
            Some(StsError::Duration { value: 10, .. })
        ));
        let e: Error = StsError::MissingKeys {
            name: "p".into(),
            credentials_file: "/h/.aws/credentials".into(),
            env_is_ours: true,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "missing long-term AWS keys: profile \"p\" has no aws_access_key_id and aws_secret_access_key in /h/.aws/credentials or the AWS config file, and no p.access_key in the aws-creds directory (the AWS_* variables of this shell were set by aws_signing_helper and are not used as a source) (hint: pass --profile NAME with long-term keys, or --source env to chain from the current credentials)"
        );
        let e: Error = StsError::Read {
            path: "/h/.aws/config".into(),
            source: crate::files::Error::Io {
                path: "/h/.aws/config".into(),
                op: "read",
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            },
        }
        .into();
        assert_eq!(
            e.to_string(),
            "cannot read /h/.aws/config: permission denied"
        );
        let mut cause = std::error::Error::source(&e);
        let mut reached = false;
        while let Some(c) = cause {
            reached |= c.is::<crate::files::Error>();
            cause = c.source();
        }
        assert!(reached);
    }
}
