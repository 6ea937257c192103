//! `setup`: from an empty account to a working `[profile P]` with Roles Anywhere.
//!
//! One run makes (or finds and keeps, by name and by the tag [`TAG_KEY`]`=NAME`) a CA and a
//! client certificate in a local directory ([`crate::pki`]), a trust anchor holding the CA
//! (`CreateTrustAnchor`, `CERTIFICATE_BUNDLE`), an IAM role whose trust policy lets
//! `rolesanywhere.amazonaws.com` assume it for that trust anchor and the certificate's CN, the
//! managed policies asked for, a Roles Anywhere profile listing the role, then checks the result
//! offline ([`crate::doctor`]) and writes the profile's `credential_process` line into the
//! shared config file. A second run finds everything in place and changes nothing; resources
//! that drifted are updated (and the step says what differed). `delete` removes what carries the
//! tag, newest first, and leaves the local CA and certificates.
//!
//! - [`plan`]: the steps, as printed (`--dry-run` prints them without making the calls).
//! - [`rolesanywhere_api`]: the control-plane client (REST-JSON, SigV4 HMAC).
//! - [`iam`]: the IAM calls (Query API, global endpoint).
//! - [`run`]: the steps in order, for `apply` and `delete`.
//!
//! Errors are typed: [`SetupError`] (a refused flag, a resource that is not ours, the CA,
//! doctor's verdict, a failed step with its own error as the source),
//! [`rolesanywhere_api::ControlPlaneError`] and [`iam::RoleAnswerError`].

mod control_plane_error;
pub mod iam;
pub mod plan;
pub mod rolesanywhere_api;
pub mod run;
mod setup_error;

use std::path::PathBuf;

pub use setup_error::SetupError;

/// The tag setup puts on every resource it creates; its value is the setup's name.
pub const TAG_KEY: &str = "aws-signing-helper:setup";

/// Where the CA comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    /// A CA of setup's own in the directory: created on the first run, reused after.
    Own,
    /// The user's CA (certificate and key files), used where it is.
    Given { cert: PathBuf, key: PathBuf },
}

/// What setup makes, and where.
/// (`Debug` is not derived: it would show the CA key's password.)
#[derive(Clone)]
pub struct Spec {
    /// Names the trust anchor, role and profile, and is the tag's value.
    pub name: String,
    /// Where the CA (when ours), the client certificate and key are kept.
    pub dir: PathBuf,
    pub ca: CaSource,
    /// The client certificate's subject CN (the trust policy pins it).
    pub cn: String,
    /// Managed policies to attach to the role.
    pub policy_arns: Vec<String>,
    /// The profile of the shared config file that gets the `credential_process` line.
    pub profile_name: String,
    /// The shared config file (`$AWS_CONFIG_FILE`, else `~/.aws/config`).
    pub config_path: PathBuf,
    /// The absolute path of this program, for the `credential_process` line.
    pub binary: PathBuf,
    /// The CreateSession endpoint for the line, when it is not AWS's (the control plane's).
    pub session_endpoint: Option<String>,
    /// Print the steps, make no change.
    pub dry_run: bool,
    /// The password of an encrypted `--ca-key` (`AWS_SIGNING_HELPER_CA_KEY_PASSWORD`).
    pub ca_key_password: Option<zeroize::Zeroizing<String>>,
    /// With `delete`: also remove the client certificate and key, and the CA when it is ours.
    pub delete_files: bool,
}

impl Spec {
    /// The CA certificate and key files.
    pub fn ca_paths(&self) -> (PathBuf, PathBuf) {
        match &self.ca {
            CaSource::Own => (self.dir.join("ca.pem"), self.dir.join("ca.key")),
            CaSource::Given { cert, key } => (cert.clone(), key.clone()),
        }
    }

    /// The client certificate and key files.
    pub fn client_paths(&self) -> (PathBuf, PathBuf) {
        (self.dir.join("client.pem"), self.dir.join("client.key"))
    }
}

/// A setup name: 1–64 of `A–Z a–z 0–9 - _`, so it is a valid trust anchor, profile and role
/// name, tag value and directory name at once.
pub fn check_name(name: &str) -> Result<(), SetupError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SetupError::Name {
            name: name.to_string(),
        })
    }
}

/// A `--policy-arn`: an IAM managed policy's ARN (`arn:aws:iam::aws:policy/…` or an
/// account's), checked before anything is made.
pub fn check_policy_arn(arn: &str) -> Result<(), SetupError> {
    let parsed: Result<crate::protocol::arn::Arn, _> = arn.parse();
    let bad = |source| SetupError::PolicyArn {
        arn: arn.to_string(),
        source,
    };
    match parsed {
        Ok(a) if a.service == "iam" && a.region.is_empty() && a.resource.starts_with("policy/") => {
            Ok(())
        }
        Ok(_) => Err(bad(None)),
        Err(e) => Err(bad(Some(e))),
    }
}

/// `$XDG_CONFIG_HOME/aws-signing-helper/setup/NAME`, else `~/.config/…`.
pub fn default_dir(name: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::files::aws_config::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("aws-signing-helper").join("setup").join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_policy_arns_are_checked_first() {
        for good in ["dev", "team-a_1", &"x".repeat(64)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(check_policy_arn("arn:aws:iam::123456789012:policy/team/p").is_ok());
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::1:role/x",
            "arn:aws:s3:::policy/x",
        ] {
            assert!(check_policy_arn(bad).is_err(), "{bad}");
        }
    }
}
