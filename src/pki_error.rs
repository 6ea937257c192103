//! Why a `pki` operation (keys, CAs, client certificates, CSRs, CRLs) failed. Messages name the
//! flag or the input; the crate that failed (rcgen, der, pkcs8, aws-lc) stays the source.

use std::fmt;

use crate::pki::KeyAlg;

/// The cause a step failed with: the error of the crate that did the work.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in `pki`.
#[derive(Debug)]
pub enum PkiError {
    /// A step (`what`: "sign the CRL", "read the CA certificate", …) failed with `source`.
    Cannot { what: String, source: Cause },
    /// The identity layer could not assemble the new ML-DSA key (its error, shown as it is).
    MlDsaKey(crate::Error),
    /// `alg` is not an ML-DSA key type.
    NotMlDsa { alg: KeyAlg },
    /// The `level` key does not decode (`why`).
    InvalidMlDsa { level: &'static str, why: String },
    /// `what` is not PEM.
    NotPem {
        what: String,
        source: der::pem::Error,
    },
    /// The system RNG failed drawing a `what` ("serial number", "salt").
    Rng { what: &'static str },
    /// `--days` out of range.
    Days { days: i64 },
    /// A `--san` value that cannot be a SAN (`why`).
    San { san: String, why: &'static str },
    /// The CA key does not belong to the CA certificate.
    CaKeyMismatch,
    /// The CSR is not a PEM certificate request.
    Csr { source: der::Error },
    /// The CSR's signature does not verify.
    CsrSignature,
    /// The CSR requests an extension we do not copy.
    CsrExtension,
    /// The CSR's key type and signature algorithm disagree.
    CsrPublicKey,
    /// `--key-password` is empty.
    EmptyPassword,
    /// A revoked serial (this) that is not hex.
    RevokedSerial { serial: String },
    /// A revocation time (this) that is not RFC 3339.
    RevokedTime { time: String, source: Cause },
    /// The key `flag` (`--ca-key FILE`) is encrypted and no password was given; it can be
    /// given with `password_from`.
    KeyEncrypted { flag: String, password_from: String },
    /// The encrypted key `flag` is not PEM.
    KeyPem {
        flag: String,
        source: der::pem::Error,
    },
    /// The password (`password_name`) does not decrypt the key `flag`.
    WrongKeyPassword { password_name: String, flag: String },
    /// The key `flag` cannot be decrypted (`why`: an unsupported scheme, a broken structure).
    KeyDecrypt { flag: String, why: String },
    /// The decrypted key `flag` could not be encoded as PEM again.
    KeyEncode {
        flag: String,
        source: der::pem::Error,
    },
}

impl PkiError {
    /// A failed step: `what`, and the error it failed with.
    pub(crate) fn cannot(what: impl Into<String>) -> impl FnOnce(Cause) -> PkiError {
        let what = what.into();
        move |source| PkiError::Cannot { what, source }
    }

    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            PkiError::MlDsaKey(e) => return e.hint_text().map(str::to_string),
            PkiError::Days { .. } => "give a validity between 1 and 36500 days",
            PkiError::San { .. } => "use dns:NAME, uri:URI, email:ADDRESS or ip:ADDRESS",
            PkiError::CaKeyMismatch => "pass the key that was created with the CA (--ca-key)",
            PkiError::Csr { .. } => "pass a PEM CERTIFICATE REQUEST, e.g. from openssl req -new",
            PkiError::CsrSignature => "make the CSR again",
            PkiError::CsrExtension => {
                "make the CSR without extra extensions; pki sign-csr adds the ones Roles Anywhere needs"
            }
            PkiError::CsrPublicKey => {
                "sign the CSR with the hash matching its key: SHA-256 for P-256/RSA, SHA-384 for P-384 (openssl req -sha384)"
            }
            PkiError::EmptyPassword => "give a non-empty password",
            PkiError::KeyEncrypted { password_from, .. } => {
                return Some(format!("pass its password with {password_from}"))
            }
            PkiError::Cannot { .. }
            | PkiError::NotMlDsa { .. }
            | PkiError::InvalidMlDsa { .. }
            | PkiError::NotPem { .. }
            | PkiError::Rng { .. }
            | PkiError::RevokedSerial { .. }
            | PkiError::RevokedTime { .. }
            | PkiError::KeyPem { .. }
            | PkiError::WrongKeyPassword { .. }
            | PkiError::KeyDecrypt { .. }
            | PkiError::KeyEncode { .. } => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkiError::Cannot { what, source } => write!(f, "cannot {what}: {source}"),
            PkiError::MlDsaKey(e) => f.write_str(e.message()),
            PkiError::NotMlDsa { alg } => write!(f, "{alg:?} is not an ML-DSA key type"),
            PkiError::InvalidMlDsa { level, why } => write!(f, "invalid {level} key: {why}"),
            PkiError::NotPem { what, source } => write!(f, "cannot read {what}: not PEM ({source})"),
            PkiError::Rng { what } => {
                write!(f, "cannot draw a random {what}: the system RNG failed")
            }
            PkiError::Days { days } => write!(f, "--days {days} is out of range"),
            PkiError::San { san, why } => write!(f, "--san {san:?}: {why}"),
            PkiError::CaKeyMismatch => {
                f.write_str("the CA private key does not belong to the CA certificate")
            }
            PkiError::Csr { source } => write!(f, "cannot read the CSR: {source}"),
            PkiError::CsrSignature => f.write_str("the CSR's signature does not verify"),
            PkiError::CsrExtension => f.write_str(
                "the CSR requests an extension we do not copy (only SAN, keyUsage, extendedKeyUsage and basicConstraints are understood)",
            ),
            PkiError::CsrPublicKey => f.write_str(
                "cannot copy the CSR's public key faithfully (its key type and signature algorithm disagree)",
            ),
            PkiError::EmptyPassword => f.write_str("the key password is empty"),
            PkiError::RevokedSerial { serial } => {
                write!(f, "revocation list: serial {serial:?} is not hex")
            }
            PkiError::RevokedTime { time, source } => {
                write!(f, "revocation list: time {time:?}: {source}")
            }
            PkiError::KeyEncrypted { flag, .. } => write!(f, "{flag} is encrypted"),
            PkiError::KeyPem { flag, source } => write!(f, "cannot read {flag}: {source}"),
            PkiError::WrongKeyPassword {
                password_name,
                flag,
            } => write!(f, "incorrect {password_name} for {flag}"),
            PkiError::KeyDecrypt { flag, why } => write!(f, "cannot decrypt {flag}: {why}"),
            PkiError::KeyEncode { flag, source } => write!(f, "cannot re-encode {flag}: {source}"),
        }
    }
}

impl std::error::Error for PkiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PkiError::Cannot { source, .. } | PkiError::RevokedTime { source, .. } => {
                Some(source.as_ref())
            }
            PkiError::NotPem { source, .. }
            | PkiError::KeyPem { source, .. }
            | PkiError::KeyEncode { source, .. } => Some(source),
            PkiError::Csr { source } => Some(source),
            PkiError::MlDsaKey(e) => Some(e),
            _ => None,
        }
    }
}

crate::error::typed_error!(PkiError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{self, CaSpec};

    fn typed(e: &crate::Error) -> &PkiError {
        std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<PkiError>())
            .expect("a PkiError source")
    }

    #[test]
    fn pki_errors_render_one_line_and_keep_the_crate_error() {
        let spec = |days| CaSpec {
            common_name: "T",
            organization: None,
            alg: KeyAlg::EcP256,
            days,
            path_len: None,
        };
        let e: crate::Error = pki::new_ca_with(&spec(0)).err().unwrap().into();
        assert_eq!(
            e.to_string(),
            "--days 0 is out of range (hint: give a validity between 1 and 36500 days)"
        );
        assert!(matches!(typed(&e), PkiError::Days { days: 0 }));
        let ca = pki::new_ca_with(&spec(1)).unwrap();
        let e: crate::Error = pki::sign_csr(&ca.cert_pem, &ca.key_pem, "not a csr", 1, &[])
            .err()
            .unwrap()
            .into();
        assert!(e.message().starts_with("cannot read the CSR: "), "{e}");
        assert!(matches!(typed(&e), PkiError::Csr { .. }));
        // The der error stays reachable below it.
        assert!(std::error::Error::source(typed(&e)).is_some());
        let e: crate::Error = pki::encrypt_key_pem("junk", "pw").unwrap_err().into();
        assert!(
            e.message()
                .starts_with("cannot read the private key: not PEM ("),
            "{e}"
        );
        assert!(e.hint_text().is_none());
    }

    #[test]
    fn ca_key_decryption_errors_render_the_old_line() {
        let ca = pki::new_ca("T", KeyAlg::EcP256, 1).unwrap();
        let sealed = pki::encrypt_key_pem(&ca.key_pem, "right").unwrap();
        let plain = |pw| {
            pki::plain_key_pem(
                &sealed,
                pw,
                "--ca-key /s/ca.key",
                "--ca-key-password",
                "--ca-key-password or AWS_SIGNING_HELPER_CA_KEY_PASSWORD",
            )
        };
        let e: crate::Error = plain(None).unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "--ca-key /s/ca.key is encrypted (hint: pass its password with --ca-key-password or AWS_SIGNING_HELPER_CA_KEY_PASSWORD)"
        );
        assert!(matches!(typed(&e), PkiError::KeyEncrypted { .. }));
        let e: crate::Error = plain(Some("wrong")).unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "incorrect --ca-key-password for --ca-key /s/ca.key"
        );
        assert!(matches!(typed(&e), PkiError::WrongKeyPassword { .. }));
        assert_eq!(*plain(Some("right")).unwrap(), *ca.key_pem);
        let e: crate::Error = pki::plain_key_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n%%%\n",
            Some("x"),
            "--ca-key k",
            "p",
            "p",
        )
        .unwrap_err()
        .into();
        assert!(e.message().starts_with("cannot read --ca-key k: "), "{e}");
        assert!(std::error::Error::source(typed(&e)).is_some_and(|c| c.is::<der::pem::Error>()));
    }
}
