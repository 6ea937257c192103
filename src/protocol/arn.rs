//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.

use crate::error::{Error, Result};

/// Why a string is not an ARN, in the words of Go's `arn.Parse` (which the official tool uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnError {
    /// It does not start with `arn:`.
    InvalidPrefix,
    /// It has fewer than six `:`-separated sections.
    NotEnoughSections,
}

impl std::fmt::Display for ArnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArnError::InvalidPrefix => "arn: invalid prefix",
            ArnError::NotEnoughSections => "arn: not enough sections",
        })
    }
}

impl std::error::Error for ArnError {}

impl From<ArnError> for Error {
    fn from(e: ArnError) -> Error {
        Error::new(e.to_string()).with_source(e)
    }
}

/// A parsed ARN. The resource may itself contain `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl std::str::FromStr for Arn {
    type Err = ArnError;

    /// Parses with the official tool's rules: an `arn:` prefix and six `:`-separated sections.
    fn from_str(s: &str) -> std::result::Result<Self, ArnError> {
        let rest = s.strip_prefix("arn:").ok_or(ArnError::InvalidPrefix)?;
        let mut parts = rest.splitn(5, ':');
        let mut next = || parts.next().ok_or(ArnError::NotEnoughSections);
        let partition = next()?.to_string();
        let service = next()?.to_string();
        let region = next()?.to_string();
        let account = next()?.to_string();
        let resource = next()?.to_string();
        Ok(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

impl Arn {
    /// Parses `value` as the ARN given by `flag`, with an error naming the flag.
    pub fn parse_flag(value: &str, what: &str, flag: &str) -> Result<Arn> {
        if value.is_empty() {
            return Err(
                Error::new(format!("failed to parse {what} arn: {flag} is empty")).hint(format!(
                    "pass {flag} with the ARN from the IAM Roles Anywhere console"
                )),
            );
        }
        value.parse::<Arn>().map_err(|e| {
            Error::new(format!(
                "failed to parse {what} arn: '{e}' in {flag} {value:?}"
            ))
            .hint("an ARN looks like arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/ID")
        })
    }

    /// The last `/`-separated segment of the resource (e.g. the role name of `role/path/Name`).
    pub fn resource_name(&self) -> &str {
        self.resource.rsplit('/').next().unwrap_or(&self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_like_the_official_tool() {
        let a: Arn = "arn:aws:iam::111122223333:role/path/MyRole"
            .parse()
            .unwrap();
        assert_eq!(a.account, "111122223333");
        assert_eq!(a.region, "");
        assert_eq!(a.resource_name(), "MyRole");
        assert_eq!("foo".parse::<Arn>(), Err(ArnError::InvalidPrefix));
        assert_eq!(
            "arn:aws:iam".parse::<Arn>(),
            Err(ArnError::NotEnoughSections)
        );
        assert_eq!(ArnError::InvalidPrefix.to_string(), "arn: invalid prefix");
        assert_eq!(
            ArnError::NotEnoughSections.to_string(),
            "arn: not enough sections"
        );
        let r: Arn = "arn:aws:rolesanywhere:us-east-1:1:trust-anchor/a:b"
            .parse()
            .unwrap();
        assert_eq!(r.resource, "trust-anchor/a:b");
    }
}
