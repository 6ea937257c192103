//! Why a value given to an STS command was refused before any request (`sts::checks`).
//! Messages name the flag; an MFA code is never kept, as it is a (short-lived) secret.

use std::fmt;

use crate::protocol::arn::ArnError;

/// A flag value STS would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// `value` of `flag` is outside `min..=max` characters or has a character outside
    /// `[\w+=,.@-]` and `extra`; `hint` says what the flag should look like, where known.
    Text {
        flag: String,
        value: String,
        min: usize,
        max: usize,
        extra: String,
        hint: Option<&'static str>,
    },
    /// `--serial-number` starts with `arn:` but does not parse.
    SerialArn { value: String, source: ArnError },
    /// `--serial-number` is an ARN, but not of an MFA device.
    NotMfaArn { value: String },
    /// `--token-code` is not six digits (the code itself is not kept).
    TokenCode,
    /// `--role-arn` is empty.
    RoleArnEmpty,
    /// `--role-arn` does not parse as an ARN.
    RoleArn { value: String, source: ArnError },
    /// `--role-arn` is an ARN, but not of an IAM role.
    NotRoleArn { value: String },
}

const MFA_ARN_HINT: &str = "an MFA device ARN looks like arn:aws:iam::123456789012:mfa/alice";
const ROLE_ARN_HINT: &str =
    "a role ARN looks like arn:aws:iam::123456789012:role/NAME (or use --account and --role)";

impl CheckError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CheckError::Text { hint, .. } => *hint,
            CheckError::SerialArn { .. } | CheckError::NotMfaArn { .. } => Some(MFA_ARN_HINT),
            CheckError::TokenCode => Some("type the code your MFA device shows now"),
            CheckError::RoleArnEmpty
            | CheckError::RoleArn { .. }
            | CheckError::NotRoleArn { .. } => Some(ROLE_ARN_HINT),
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Text {
                flag,
                value,
                min,
                max,
                extra,
                ..
            } => write!(
                f,
                "invalid {flag} {value:?}: it must be {min} to {max} characters of letters, digits and _+=,.@-{extra}"
            ),
            CheckError::SerialArn { value, source } => {
                write!(f, "invalid --serial-number {value:?}: {source}")
            }
            CheckError::NotMfaArn { value } => {
                write!(f, "invalid --serial-number {value:?}: not an MFA device ARN")
            }
            CheckError::TokenCode => f.write_str("invalid --token-code: an MFA code is 6 digits"),
            CheckError::RoleArnEmpty => f.write_str("--role-arn is empty"),
            CheckError::RoleArn { value, source } => {
                write!(f, "invalid --role-arn {value:?}: {source}")
            }
            CheckError::NotRoleArn { value } => {
                write!(f, "invalid --role-arn {value:?}: not an IAM role ARN")
            }
        }
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckError::SerialArn { source, .. } | CheckError::RoleArn { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}

crate::error::typed_error!(CheckError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = crate::sts::check_role_arn("bad").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --role-arn \"bad\": arn: invalid prefix (hint: a role ARN looks like arn:aws:iam::123456789012:role/NAME (or use --account and --role))"
        );
        let typed = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<CheckError>());
        assert!(
            matches!(typed, Some(CheckError::RoleArn { value, source: ArnError::InvalidPrefix }) if value == "bad")
        );
        let e = crate::sts::check_serial_number("short").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --serial-number \"short\": it must be 9 to 256 characters of letters, digits and _+=,.@-:/ (hint: use your MFA device's ARN, like arn:aws:iam::123456789012:mfa/alice, or a hardware token's serial number)"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<CheckError>()));
        let e = crate::sts::check_token_code("12345x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --token-code: an MFA code is 6 digits (hint: type the code your MFA device shows now)"
        );
    }
}
