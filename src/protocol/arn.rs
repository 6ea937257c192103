//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.

use crate::error::Result;

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

impl ArnError {
    /// Nothing to add: callers that know the flag give the hint ([`ArnFlagError`]).
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::error::Error for ArnError {}

/// Why the ARN given by a flag was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnFlagError {
    /// `flag` (the `what` ARN: "trust anchor", "profile", "role") is empty.
    Empty { what: String, flag: String },
    /// `value` of `flag` does not parse as an ARN.
    Invalid {
        what: String,
        flag: String,
        value: String,
        source: ArnError,
    },
}

impl ArnFlagError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ArnFlagError::Empty { flag, .. } => {
                format!("pass {flag} with the ARN from the IAM Roles Anywhere console")
            }
            ArnFlagError::Invalid { .. } => {
                "an ARN looks like arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/ID"
                    .to_string()
            }
        })
    }
}

impl std::fmt::Display for ArnFlagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArnFlagError::Empty { what, flag } => {
                write!(f, "failed to parse {what} arn: {flag} is empty")
            }
            ArnFlagError::Invalid {
                what,
                flag,
                value,
                source,
            } => write!(
                f,
                "failed to parse {what} arn: '{source}' in {flag} {value:?}"
            ),
        }
    }
}

impl std::error::Error for ArnFlagError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArnFlagError::Invalid { source, .. } => Some(source),
            ArnFlagError::Empty { .. } => None,
        }
    }
}

crate::error::typed_error!(ArnError, ArnFlagError);

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
            return Err(ArnFlagError::Empty {
                what: what.to_string(),
                flag: flag.to_string(),
            }
            .into());
        }
        value.parse::<Arn>().map_err(|source| {
            ArnFlagError::Invalid {
                what: what.to_string(),
                flag: flag.to_string(),
                value: value.to_string(),
                source,
            }
            .into()
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

    #[test]
    fn flag_errors_render_todays_text_and_stay_typed() {
        let typed = |e: &crate::error::Error| {
            std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<ArnFlagError>())
                .cloned()
        };
        let e = Arn::parse_flag("", "profile", "--profile-arn").unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to parse profile arn: --profile-arn is empty (hint: pass --profile-arn with the ARN from the IAM Roles Anywhere console)"
        );
        assert!(
            matches!(typed(&e), Some(ArnFlagError::Empty { flag, .. }) if flag == "--profile-arn")
        );
        let e = Arn::parse_flag("arn:aws:x", "role", "--role-arn").unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to parse role arn: 'arn: not enough sections' in --role-arn \"arn:aws:x\" (hint: an ARN looks like arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/ID)"
        );
        assert!(matches!(
            typed(&e),
            Some(ArnFlagError::Invalid {
                source: ArnError::NotEnoughSections,
                ..
            })
        ));
        let e: crate::error::Error = ArnError::InvalidPrefix.into();
        assert_eq!(e.to_string(), "arn: invalid prefix");
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<ArnError>()));
    }
}
