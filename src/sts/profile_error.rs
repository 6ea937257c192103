//! Why a profile of the shared AWS files does not resolve into a chain (`sts::profile`).

use std::fmt;

/// A profile (or the chain of `source_profile`s under it) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// The `source_profile`s come back to one already seen (the chain, first to last).
    Loop { chain: Vec<String> },
    /// The profile asked for is in neither file.
    NotFound { profile: String },
    /// `profile` names `source_profile`, which is in neither file.
    SourceNotFound {
        profile: String,
        source_profile: String,
    },
    /// `duration_seconds` (`value`) is not a number.
    Duration { profile: String, value: String },
    /// Both `source_profile` and `credential_source`.
    BothSources { profile: String },
    /// `source_profile` names the profile itself, which has no keys.
    SelfSourceNoKeys { profile: String },
    /// A `credential_source` (`value`) we do not know.
    CredentialSource { profile: String, value: String },
    /// `role_arn` without a source of credentials.
    NoSource { profile: String },
}

impl ProfileError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ProfileError::Loop { .. } => {
                "make the last source_profile one with keys, credential_process or credential_source"
            }
            ProfileError::NotFound { .. } => {
                "check the name (aws configure list-profiles shows them), AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"
            }
            ProfileError::SourceNotFound { .. } => "fix source_profile, or add that profile",
            ProfileError::Duration { .. } => return None,
            ProfileError::BothSources { .. } => "keep one of them, as the AWS CLI requires",
            ProfileError::SelfSourceNoKeys { .. } => {
                "add its keys, or name another source_profile"
            }
            ProfileError::CredentialSource { .. } => {
                "use Environment, Ec2InstanceMetadata or EcsContainer"
            }
            ProfileError::NoSource { .. } => {
                "add source_profile = NAME (a profile with keys) or credential_source"
            }
        })
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NEITHER: &str = "in neither the AWS config file nor the credentials file";
        match self {
            ProfileError::Loop { chain } => {
                write!(f, "the profiles form a loop: {}", chain.join(" -> "))
            }
            ProfileError::NotFound { profile } => write!(f, "profile {profile:?} is {NEITHER}"),
            ProfileError::SourceNotFound {
                profile,
                source_profile,
            } => write!(
                f,
                "profile {profile:?} names source_profile {source_profile:?}, which is {NEITHER}"
            ),
            ProfileError::Duration { profile, value } => write!(
                f,
                "profile {profile:?}: duration_seconds = {value:?} is not a number of seconds"
            ),
            ProfileError::BothSources { profile } => write!(
                f,
                "profile {profile:?} has both source_profile and credential_source"
            ),
            ProfileError::SelfSourceNoKeys { profile } => write!(
                f,
                "profile {profile:?} names itself as source_profile but has no aws_access_key_id and aws_secret_access_key"
            ),
            ProfileError::CredentialSource { profile, value } => write!(
                f,
                "profile {profile:?}: credential_source = {value:?} is not supported"
            ),
            ProfileError::NoSource { profile } => write!(
                f,
                "profile {profile:?} has role_arn but neither source_profile nor credential_source"
            ),
        }
    }
}

impl std::error::Error for ProfileError {}

crate::error::typed_error!(ProfileError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_todays_text_and_stays_reachable() {
        let e: Error = ProfileError::Loop {
            chain: vec!["a".into(), "b".into(), "a".into()],
        }
        .into();
        assert_eq!(
            e.to_string(),
            "the profiles form a loop: a -> b -> a (hint: make the last source_profile one with keys, credential_process or credential_source)"
        );
        assert!(matches!(
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<ProfileError>()),
            Some(ProfileError::Loop { chain }) if chain.len() == 3
        ));
        let e: Error = ProfileError::SourceNotFound {
            profile: "admin".into(),
            source_profile: "base".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "profile \"admin\" names source_profile \"base\", which is in neither the AWS config file nor the credentials file (hint: fix source_profile, or add that profile)"
        );
        let e: Error = ProfileError::Duration {
            profile: "p".into(),
            value: "1h".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "profile \"p\": duration_seconds = \"1h\" is not a number of seconds"
        );
        assert!(std::error::Error::source(&e).is_some_and(|s| s.is::<ProfileError>()));
    }
}
