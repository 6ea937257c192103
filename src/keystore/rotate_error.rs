//! Why `keys rotate` stopped, and in which state it left the keys: each message says which
//! key exists, which is stored and which works, and the hint what to run next. Access key ids
//! appear (masked where the old messages masked them); secrets never do. The failed step's
//! error (IAM's, STS's, the store's) stays the source.

use std::fmt;

use super::mask;
use super::rotate::VERIFY_FOR;

/// A step of `keys rotate` that failed.
#[derive(Debug)]
pub enum RotateError {
    /// The store (at `location`) has no entry `name`.
    NoKey { name: String, location: String },
    /// IAM CreateAccessKey failed: nothing changed.
    Create { name: String, source: crate::Error },
    /// CreateAccessKey's answer holds no key: the old key `old_id` is unchanged.
    NoNewKey { name: String, old_id: String },
    /// The new key exists but could not be stored.
    Store { keys: Halfway, source: crate::Error },
    /// The new key is stored, but STS did not accept it in time: the old one is kept.
    Verify { keys: Halfway, source: crate::Error },
    /// The new key works, but IAM DeleteAccessKey of the old one failed.
    Delete { keys: Halfway, source: crate::Error },
}

/// The keys of a rotation that stopped after IAM made the new key.
#[derive(Debug, Clone)]
pub struct Halfway {
    /// The entry's name.
    pub name: String,
    pub new_id: String,
    pub old_id: String,
    /// The IAM user both keys belong to.
    pub user: String,
}

/// The AWS CLI command deleting key `id` of `user`.
pub(crate) fn delete_hint(id: &str, user: &str) -> String {
    format!("aws iam delete-access-key --access-key-id {id} --user-name {user}")
}

impl RotateError {
    /// What to run next, if anything.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            RotateError::NoKey { .. } => "see keys list, or add it with keys add NAME".into(),
            RotateError::Create { .. } => "check that the key may call iam:CreateAccessKey and that its user has fewer than 2 keys".into(),
            RotateError::NoNewKey { .. } => return None,
            RotateError::Store {
                keys: Halfway { new_id, user, .. },
                ..
            } => {
                format!("delete the new key: {}", delete_hint(new_id, user))
            }
            RotateError::Verify {
                keys: Halfway { old_id, user, .. },
                ..
            } => format!(
                "once the new key works (aws_signing_helper whoami --verify), delete the old one: {}",
                delete_hint(old_id, user)
            ),
            RotateError::Delete {
                keys: Halfway { old_id, user, .. },
                ..
            } => {
                format!("delete it with {}", delete_hint(old_id, user))
            }
        })
    }
}

impl fmt::Display for RotateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotateError::NoKey { name, location } => {
                write!(f, "no key named {name:?} in {location}")
            }
            RotateError::Create { name, source } => write!(
                f,
                "keys rotate {name}: CreateAccessKey failed, nothing changed: {}",
                source.message()
            ),
            RotateError::NoNewKey { name, old_id } => write!(
                f,
                "keys rotate {name}: IAM's CreateAccessKey answer has no key; the old key {} is unchanged",
                mask(old_id)
            ),
            RotateError::Store {
                keys:
                    Halfway {
                        name,
                        new_id,
                        old_id,
                        ..
                    },
                source,
            } => write!(
                f,
                "keys rotate {name}: the new key {new_id} was created but could not be stored ({}); the old key {} is still stored and works",
                source.message(),
                mask(old_id)
            ),
            RotateError::Verify {
                keys:
                    Halfway {
                        name,
                        new_id,
                        old_id,
                        ..
                    },
                source,
            } => write!(
                f,
                "keys rotate {name}: the new key {} is stored, but STS did not accept it within {} s ({}); the old key {old_id} was not deleted",
                mask(new_id),
                VERIFY_FOR.as_secs(),
                source.message()
            ),
            RotateError::Delete {
                keys:
                    Halfway {
                        name,
                        new_id,
                        old_id,
                        ..
                    },
                source,
            } => write!(
                f,
                "keys rotate {name}: the new key {} is stored and works; the old key {old_id} was not deleted: {}",
                mask(new_id),
                source.message()
            ),
        }
    }
}

impl std::error::Error for RotateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RotateError::Create { source, .. }
            | RotateError::Store { source, .. }
            | RotateError::Verify { source, .. }
            | RotateError::Delete { source, .. } => Some(source),
            RotateError::NoKey { .. } | RotateError::NoNewKey { .. } => None,
        }
    }
}

crate::error::typed_error!(RotateError);

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(e: &crate::Error) -> &RotateError {
        std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<RotateError>())
            .expect("a RotateError source")
    }

    fn halfway() -> Halfway {
        Halfway {
            name: "work".into(),
            new_id: "AKIANEWNEWNEW1234567".into(),
            old_id: "AKIAOLDOLDOLD7654321".into(),
            user: "alice".into(),
        }
    }

    #[test]
    fn rotate_errors_say_the_state_and_keep_the_step_error() {
        let step = crate::Error::new("operation error STS: GetCallerIdentity, denied").hint("x");
        let e: crate::Error = RotateError::Verify {
            keys: halfway(),
            source: step.clone(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "keys rotate work: the new key AKIA…4567 is stored, but STS did not accept it within 30 s (operation error STS: GetCallerIdentity, denied); the old key AKIAOLDOLDOLD7654321 was not deleted (hint: once the new key works (aws_signing_helper whoami --verify), delete the old one: aws iam delete-access-key --access-key-id AKIAOLDOLDOLD7654321 --user-name alice)"
        );
        let cause = std::error::Error::source(typed(&e)).expect("the step's error");
        assert_eq!(cause.downcast_ref::<crate::Error>(), Some(&step));

        let e: crate::Error = RotateError::Store {
            keys: halfway(),
            source: step.clone(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "keys rotate work: the new key AKIANEWNEWNEW1234567 was created but could not be stored (operation error STS: GetCallerIdentity, denied); the old key AKIA…4321 is still stored and works (hint: delete the new key: aws iam delete-access-key --access-key-id AKIANEWNEWNEW1234567 --user-name alice)"
        );
        assert!(matches!(typed(&e), RotateError::Store { .. }));

        let e: crate::Error = RotateError::NoKey {
            name: "work".into(),
            location: "the user kernel keyring".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "no key named \"work\" in the user kernel keyring (hint: see keys list, or add it with keys add NAME)"
        );
        assert!(matches!(typed(&e), RotateError::NoKey { .. }));

        let e: crate::Error = RotateError::NoNewKey {
            name: "work".into(),
            old_id: "AKIAOLDOLDOLD7654321".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "keys rotate work: IAM's CreateAccessKey answer has no key; the old key AKIA…4321 is unchanged"
        );
    }
}
