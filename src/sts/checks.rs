//! Local checks of what STS would refuse, so that errors name our flags.

use std::ops::RangeInclusive;

use super::check_error::CheckError;
use crate::error::Result;
use crate::protocol::arn::ArnError;

/// What GetSessionToken accepts for `DurationSeconds` (IAM users).
pub const SESSION_TOKEN_DURATION: RangeInclusive<i64> = 900..=129_600;
/// What AssumeRole accepts for `DurationSeconds` (further capped by the role's maximum, and at
/// one hour when chaining from another role session).
pub const ASSUME_ROLE_DURATION: RangeInclusive<i64> = 900..=43_200;

/// Checks a value against STS's `[\w+=,.@-]` (plus `extra`) character set and a length range.
pub fn check_text(flag: &str, value: &str, len: RangeInclusive<usize>, extra: &str) -> Result<()> {
    Ok(text(flag, value, len, extra, None)?)
}

fn text(
    flag: &str,
    value: &str,
    len: RangeInclusive<usize>,
    extra: &str,
    hint: Option<&'static str>,
) -> Result<(), CheckError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) || extra.contains(c);
    if !len.contains(&value.chars().count()) || !value.chars().all(ok_char) {
        return Err(CheckError::Text {
            flag: flag.into(),
            value: value.into(),
            min: *len.start(),
            max: *len.end(),
            extra: extra.into(),
            hint,
        });
    }
    Ok(())
}

/// Checks an MFA device: a virtual device ARN (`arn:aws:iam::ACCOUNT:mfa/NAME`) or a hardware
/// serial number. Returns the account of an ARN.
pub fn check_serial_number(value: &str) -> Result<Option<String>> {
    text("--serial-number", value, 9..=256, ":/", Some(
        "use your MFA device's ARN, like arn:aws:iam::123456789012:mfa/alice, or a hardware token's serial number",
    ))?;
    if value.starts_with("arn:") {
        let arn: crate::protocol::arn::Arn =
            value
                .parse()
                .map_err(|source: ArnError| CheckError::SerialArn {
                    value: value.into(),
                    source,
                })?;
        if arn.service != "iam" || !arn.resource.starts_with("mfa/") || arn.account.is_empty() {
            return Err(CheckError::NotMfaArn {
                value: value.into(),
            }
            .into());
        }
        return Ok(Some(arn.account));
    }
    Ok(None)
}

/// Checks an MFA code: six digits.
pub fn check_token_code(code: &str) -> Result<()> {
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        // The code itself is not kept: it is a (short-lived) secret.
        Err(CheckError::TokenCode.into())
    }
}

/// Checks a role ARN (`arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`); returns it parsed.
pub fn check_role_arn(value: &str) -> Result<crate::protocol::arn::Arn> {
    if value.is_empty() {
        return Err(CheckError::RoleArnEmpty.into());
    }
    let arn: crate::protocol::arn::Arn =
        value
            .parse()
            .map_err(|source: ArnError| CheckError::RoleArn {
                value: value.into(),
                source,
            })?;
    let account_ok = arn.account.len() == 12 && arn.account.chars().all(|c| c.is_ascii_digit());
    let name_ok = arn
        .resource
        .strip_prefix("role/")
        .is_some_and(|n| !n.is_empty() && !n.ends_with('/'));
    if arn.service != "iam" || !account_ok || !name_ok || value.len() > 2048 {
        return Err(CheckError::NotRoleArn {
            value: value.into(),
        }
        .into());
    }
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_inputs() {
        assert!(check_role_arn("arn:aws:iam::123456789012:role/x").is_ok());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/path/x").is_ok());
        for bad in [
            "",
            "bad",
            "arn:aws:iam::1:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/x",
        ] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_serial_number("arn:aws:iam::123456789012:mfa/alice").unwrap(),
            Some("123456789012".into())
        );
        assert_eq!(check_serial_number("GAHT12345678").unwrap(), None);
        assert!(check_serial_number("arn:aws:iam::123456789012:user/alice").is_err());
        assert!(check_serial_number("short").is_err());
        assert!(check_token_code("123456").is_ok());
        let e = check_token_code("12345x").unwrap_err().to_string();
        assert!(!e.contains("12345x"));
        assert!(check_text("--role-session-name", "a b", 2..=64, "").is_err());
    }
}
