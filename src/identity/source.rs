//! Chooses the key source of a [`KeySpec`] and loads the identity.
//!
//! `--certificate` = C, `--private-key` = K, key reference R = K, or C when K is empty:
//! R `pkcs11:` → PKCS#11 (C may be a file: hybrid); R `handle:` or a file holding a
//! `TSS2 PRIVATE KEY` block → TPM 2.0; otherwise key files. `--cert-selector` is parsed and
//! validated, then refused: OS certificate stores do not exist on Linux.

use std::path::{Path, PathBuf};

use super::file::{self, FileSource};
use super::selector::{self, CertSelector};
use super::{pkcs11, tpm, Identity};
use crate::error::Result;
use crate::identity::{FileError, KeySpec};

/// Why the flags do not lead to a key source, or the source's certificate cannot be used.
#[derive(Debug)]
pub enum SourceError {
    /// Neither `--certificate` nor `--private-key`.
    NoFlags,
    /// `--certificate` is a `pkcs11:` URI and `--private-key` (this) is not.
    MixedPkcs11 { private_key: String },
    /// A token or TPM key without the certificate CreateSession needs.
    NoCertificate,
    /// The certificate is not valid before `at`.
    NotYetValid { at: jiff::Timestamp },
    /// The certificate expired at `at`.
    Expired { at: jiff::Timestamp },
}

impl SourceError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            SourceError::NoFlags => "pass --certificate and --private-key (OS certificate stores exist only on macOS and Windows)",
            SourceError::MixedPkcs11 { .. } => "give the key as a pkcs11: URI too, or drop --private-key to use the key of the token certificate",
            SourceError::NoCertificate => "pass --certificate (a PEM file or a pkcs11: URI of the certificate on the token)",
            SourceError::NotYetValid { .. } => "check the system clock, or wait until the certificate becomes valid",
            SourceError::Expired { .. } => "renew the certificate",
        })
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::NoFlags => f.write_str(
                "unable to use cert store signer on linux: no --certificate or --private-key given",
            ),
            SourceError::MixedPkcs11 { private_key } => write!(
                f,
                "--certificate is a PKCS#11 URI but --private-key {private_key} is not"
            ),
            SourceError::NoCertificate => f.write_str(
                "unable to find certificate: CreateSession needs the certificate of the private key",
            ),
            SourceError::NotYetValid { at } => {
                write!(f, "the certificate is not valid before {at}")
            }
            SourceError::Expired { at } => write!(f, "the certificate expired at {at}"),
        }
    }
}

impl std::error::Error for SourceError {}

crate::error::typed_error!(SourceError);

/// What the identity is for: credential commands need a valid certificate; `sign-string` only
/// needs a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Credentials,
    SignString,
}

/// The file source described by the flags, if they describe files.
pub fn file_source(spec: &KeySpec) -> FileSource {
    let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
    FileSource {
        certificate: path(&spec.certificate),
        private_key: path(&spec.private_key),
        intermediates: spec.intermediates.clone(),
        password: spec.pkcs8_password.clone().filter(|p| !p.is_empty()),
    }
}

/// Loads the identity the credential flags describe, and checks it before any network call.
pub fn load(spec: &KeySpec) -> Result<Identity> {
    load_for(spec, Purpose::Credentials)
}

/// Loads the identity for `purpose`.
pub fn load_for(spec: &KeySpec, purpose: Purpose) -> Result<Identity> {
    if !spec.cert_selector.is_empty() {
        CertSelector::parse(&spec.cert_selector)?;
        return Err(selector::no_store_on_linux());
    }
    if spec.certificate.is_empty() && spec.private_key.is_empty() {
        return Err(SourceError::NoFlags.into());
    }
    let key_ref = spec.key_ref();
    let identity = if key_ref.starts_with("pkcs11:") {
        pkcs11::load(spec, purpose)?
    } else if spec.certificate.starts_with("pkcs11:") {
        return Err(SourceError::MixedPkcs11 {
            private_key: spec.private_key.clone(),
        }
        .into());
    } else if key_ref.starts_with("handle:") || is_tpm_key_file(Path::new(key_ref)) {
        tpm::load(spec, purpose)?
    } else {
        return load_files(spec, purpose);
    };
    if purpose == Purpose::Credentials {
        if let Some(cert) = &identity.certificate {
            super::chain::refuse_ca_as_leaf(cert, "--certificate")?;
        }
        check_certificate(&identity, jiff::Timestamp::now())?;
    }
    Ok(identity)
}

fn load_files(spec: &KeySpec, purpose: Purpose) -> Result<Identity> {
    let src = file_source(spec);
    if purpose == Purpose::SignString && src.certificate.is_none() {
        // A key alone is enough to sign (the official tool wants a certificate too).
        let key = src.private_key.as_deref().unwrap_or(Path::new(""));
        let signer = file::load_private_key(key, src.password.as_ref())?;
        return Ok(Identity {
            certificate: None,
            chain: Vec::new(),
            signer,
        });
    }
    let identity = file::load(&src)?;
    match purpose {
        Purpose::Credentials => {
            if let (Some(cert), Some(path)) = (&identity.certificate, &src.certificate) {
                super::chain::refuse_ca_as_leaf(cert, &path.display().to_string())?;
            }
            file::check_identity(&identity, &src, jiff::Timestamp::now())?
        }
        Purpose::SignString => {
            if let Some(cert) = &identity.certificate {
                if !super::pkcs12::key_matches(identity.signer.as_ref(), cert) {
                    return Err(FileError::KeyMismatch {
                        key: spec.private_key.clone(),
                        cert: spec.certificate.clone(),
                    }
                    .into());
                }
            }
        }
    }
    Ok(identity)
}

/// Whether `path` is a file holding a `TSS2 PRIVATE KEY` PEM block.
pub fn is_tpm_key_file(path: &Path) -> bool {
    // Anything unreadable, large or not a regular file is left to the file loader's errors.
    crate::files::read_file(path, crate::files::CAP_PEM, "private key")
        .map(|data| {
            data.windows(tpm::PEM_BEGIN.len())
                .any(|w| w == tpm::PEM_BEGIN.as_bytes())
        })
        .unwrap_or(false)
}

/// Credential commands need the certificate of a token or TPM key, valid now.
pub fn check_certificate(identity: &Identity, now: jiff::Timestamp) -> Result<()> {
    let Some(cert) = identity.certificate.as_ref() else {
        return Err(SourceError::NoCertificate.into());
    };
    if now < cert.not_before() {
        return Err(SourceError::NotYetValid {
            at: cert.not_before(),
        }
        .into());
    }
    if now > cert.not_after() {
        return Err(SourceError::Expired {
            at: cert.not_after(),
        }
        .into());
    }
    Ok(())
}
