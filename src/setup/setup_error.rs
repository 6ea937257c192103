//! Why `setup` stopped: a flag it refuses, a resource of that name it did not make, a CA it
//! cannot use, doctor's verdict, or one of its steps failing (that step's error is the source).

use std::fmt;
use std::path::PathBuf;

use super::TAG_KEY;
use crate::error::Error;
use crate::pki::PkiError;
use crate::protocol::arn::ArnError;

/// A failure of setup, naming the flag, file or step.
#[derive(Debug)]
pub enum SetupError {
    /// Making or changing `resource` failed.
    Step { resource: String, cause: Error },
    /// Issuing the client certificate with the CA `ca` failed.
    Issue { ca: PathBuf, cause: PkiError },
    /// `--name` is not 1–64 of `A–Z a–z 0–9 - _`.
    Name { name: String },
    /// `--policy-arn` is not an IAM managed policy's ARN (`source`: why it is no ARN at all).
    PolicyArn {
        arn: String,
        source: Option<ArnError>,
    },
    /// A `kind` ("role", "trust anchor", "profile") named `name` exists without our tag.
    NotOurs { kind: &'static str, name: String },
    /// The `--ca` certificate `cert` is not a CA certificate.
    NotCa { cert: PathBuf },
    /// The `--ca-key` file `key` does not exist.
    NoCaKey { key: PathBuf },
    /// The client certificate file `cert` holds no certificate.
    NoCertificate { cert: PathBuf },
    /// doctor found `fails` problems Roles Anywhere would refuse.
    DoctorFailed { fails: usize },
}

impl SetupError {
    /// What the user can do about it, if anything (a step's own hint for a failed step).
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            SetupError::Step { cause, .. } => return cause.hint_text().map(str::to_string),
            SetupError::Issue { cause, .. } => return cause.hint(),
            SetupError::Name { .. } => {
                "use 1-64 letters, digits, '-' or '_' (it names the trust anchor, role and profile)"
            }
            SetupError::PolicyArn { .. } => {
                "write it as arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME"
            }
            SetupError::NotOurs { .. } => {
                "pick another --name, or delete or tag that resource yourself"
            }
            SetupError::NotCa { .. } => "pass a CA certificate, or --new-ca to let setup make one",
            SetupError::DoctorFailed { .. } => {
                "run `aws_signing_helper doctor` on the files in --dir for the details"
            }
            SetupError::NoCaKey { .. } | SetupError::NoCertificate { .. } => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Step { resource, cause } => {
                write!(f, "setup: {resource}: {}", cause.message())
            }
            SetupError::Issue { ca, cause } => write!(f, "with the CA {}: {cause}", ca.display()),
            SetupError::Name { name } => write!(f, "invalid --name {name:?}"),
            SetupError::PolicyArn { arn, .. } => write!(
                f,
                "invalid --policy-arn {arn:?}: not an IAM managed policy ARN"
            ),
            SetupError::NotOurs { kind, name } => write!(
                f,
                "a {kind} named {name:?} exists that setup did not create (it lacks the tag {TAG_KEY}={name})"
            ),
            SetupError::NotCa { cert } => write!(
                f,
                "--ca {} is not a CA certificate (basicConstraints CA:TRUE)",
                cert.display()
            ),
            SetupError::NoCaKey { key } => write!(f, "--ca-key {} does not exist", key.display()),
            SetupError::NoCertificate { cert } => {
                write!(f, "{} holds no certificate", cert.display())
            }
            SetupError::DoctorFailed { fails } => write!(
                f,
                "setup: doctor found {fails} problem(s) Roles Anywhere would refuse; the profile was not written"
            ),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SetupError::Step { cause, .. } => Some(cause),
            SetupError::Issue { cause, .. } => Some(cause),
            SetupError::PolicyArn { source, .. } => source
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            SetupError::Name { .. }
            | SetupError::NotOurs { .. }
            | SetupError::NotCa { .. }
            | SetupError::NoCaKey { .. }
            | SetupError::NoCertificate { .. }
            | SetupError::DoctorFailed { .. } => None,
        }
    }
}

crate::error::typed_error!(SetupError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::{check_name, check_policy_arn};

    fn typed(e: &Error) -> &SetupError {
        std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<SetupError>())
            .expect("a SetupError source")
    }

    #[test]
    fn setup_errors_render_the_old_line_and_stay_typed() {
        let e: Error = check_name("a b").unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "invalid --name \"a b\" (hint: use 1-64 letters, digits, '-' or '_' (it names the trust anchor, role and profile))"
        );
        assert!(matches!(typed(&e), SetupError::Name { .. }));

        let e: Error = check_policy_arn("ReadOnlyAccess").unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "invalid --policy-arn \"ReadOnlyAccess\": not an IAM managed policy ARN (hint: write it as arn:aws:iam::aws:policy/NAME or arn:aws:iam::ACCOUNT:policy/NAME)"
        );
        // Not an ARN at all: the ARN parser's error is the source; an ARN of another kind has none.
        assert!(std::error::Error::source(typed(&e)).is_some_and(|c| c.is::<ArnError>()));
        let e: Error = check_policy_arn("arn:aws:iam::1:role/x")
            .unwrap_err()
            .into();
        assert!(std::error::Error::source(typed(&e)).is_none());

        let e: Error = SetupError::NotOurs {
            kind: "role",
            name: "dev".into(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "a role named \"dev\" exists that setup did not create (it lacks the tag aws-signing-helper:setup=dev) (hint: pick another --name, or delete or tag that resource yourself)"
        );

        let e: Error = SetupError::DoctorFailed { fails: 2 }.into();
        assert_eq!(
            e.to_string(),
            "setup: doctor found 2 problem(s) Roles Anywhere would refuse; the profile was not written (hint: run `aws_signing_helper doctor` on the files in --dir for the details)"
        );

        // Issuing with a CA whose key is not its own: pki's typed error is the cause.
        let ca = |cn| crate::pki::new_ca(cn, crate::pki::KeyAlg::EcP256, 1).unwrap();
        let (a, b) = (ca("A"), ca("B"));
        let cause = crate::pki::issue_client(
            &a.cert_pem,
            &b.key_pem,
            &crate::pki::ClientSpec {
                common_name: "c",
                organization: None,
                alg: crate::pki::KeyAlg::EcP256,
                days: 1,
                sans: Vec::new(),
            },
        )
        .err()
        .unwrap();
        let e: Error = SetupError::Issue {
            ca: "/s/ca.pem".into(),
            cause,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "with the CA /s/ca.pem: the CA private key does not belong to the CA certificate (hint: pass the key that was created with the CA (--ca-key))"
        );
        let cause = std::error::Error::source(typed(&e)).expect("the pki error");
        assert!(matches!(
            cause.downcast_ref::<PkiError>(),
            Some(PkiError::CaKeyMismatch)
        ));

        let step = Error::new("operation error IAM: CreateRole, denied").hint("ask");
        let e: Error = SetupError::Step {
            resource: "role dev".into(),
            cause: step.clone(),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "setup: role dev: operation error IAM: CreateRole, denied (hint: ask)"
        );
        assert_eq!(
            std::error::Error::source(typed(&e)).and_then(|c| c.downcast_ref::<Error>()),
            Some(&step)
        );
    }
}
