//! Why a TPM key (a persistent handle or a `TSS2 PRIVATE KEY` file), its password, its
//! certificate or a signature could not be used. Messages name the key and the TPM, never the
//! password; the official tool's wording is kept where it has one.

use std::fmt;

use super::marshal::{rc, Failure, WireError};
use super::transport::TransportError;
use super::PASSWORD_ENV;
use crate::identity::certificate::CertificateError;
use crate::identity::Digest;

const HANDLE_HINT: &str = "use handle:0x81000001 (a persistent handle, in hex)";

/// What went wrong with a TPM key.
#[derive(Debug)]
pub enum TpmError {
    /// `handle:` text without exactly one `:`.
    HandleFormat { text: String },
    /// The handle is not hex.
    HandleValue { value: String },
    /// The key file's `what` (PUBLIC, PRIVATE) blob has the wrong length.
    Blob { what: &'static str },
    /// The key file's ASN.1 is not what the TPM 2.0 Key File format says (`why`).
    KeyFile { why: &'static str },
    /// The key file is not a loadable key.
    KeyOid { oid: String },
    /// The key file has a policy.
    Policy,
    /// The key file has a secret.
    Secret,
    /// The key file's parent is not a persistent handle or a hierarchy.
    Parent,
    /// A key-file problem, in the file `origin`.
    InFile {
        origin: String,
        source: Box<TpmError>,
    },
    /// The OS could not read the `what` file `path` ("TPM key file", "certificate").
    Read {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// The safe-file layer refused a file.
    Refused(crate::files::Error),
    /// `origin` is not PEM we can read (`why`).
    Pem { origin: String, why: String },
    /// `origin` holds no `TSS2 PRIVATE KEY` block.
    NoBlock { origin: String },
    /// A certificate in `path` does not parse.
    Certificate {
        path: String,
        source: CertificateError,
    },
    /// A password was given for a key file that says it needs none.
    PasswordNotNeeded,
    /// Credential commands need the certificate of the key `key`.
    NoCertificate { key: String },
    /// Neither a handle nor a key file.
    NoKey,
    /// The key `key` does not belong to the certificate in `cert`.
    Mismatch { key: String, cert: String },
    /// The key has a password and an empty one was given.
    PasswordMissing { key: String },
    /// The password for `key` is wrong (`prompted`: we gave up after asking 3 times).
    WrongPassword { key: String, prompted: bool },
    /// No password given and no terminal to ask on.
    NoTerminal { key: String },
    /// A TPM command (`what`) failed; `hint` replaces the one its failure has.
    Command {
        what: String,
        failure: Failure,
        hint: Option<&'static str>,
    },
    /// The key file's public area does not decode.
    PublicBlob { path: String, source: WireError },
    /// The key `key` cannot sign (its sign attribute is clear).
    NotSigning { key: String },
    /// The key `key` is a restricted signing key.
    Restricted { key: String },
    /// The RSA key `key` is not for RSASSA.
    RsaScheme { key: String },
    /// The RSA public key of `key` does not encode.
    RsaPublic { key: String, source: der::Error },
    /// The ECC key `key` is on a curve we do not sign with.
    Curve { key: String, curve: u16 },
    /// The ECC key `key` is not for ECDSA.
    EcScheme { key: String },
    /// The public point of `key` is longer than its curve.
    EcPoint { key: String },
    /// The key `key` signs only with `fixed` and `digest` was asked for.
    FixedHash {
        key: String,
        fixed: String,
        digest: Digest,
    },
    /// The key `key` fixes an ECDSA hash we do not know.
    EcHash { key: String, hash: String },
    /// ML-DSA is no TPM key type.
    MlDsa,
    /// The password for `key` is over 64 bytes.
    PasswordTooLong { key: String },
    /// The TPM's ECDSA signature has parts longer than the curve.
    BadSignature,
    /// The TPM's ECDSA signature does not encode as DER.
    SignatureDer(ecdsa::Error),
    /// The TPM answered with a signature of another type.
    SignatureType,
    /// The TPM could not be reached.
    Transport(TransportError),
}

impl From<TransportError> for TpmError {
    fn from(e: TransportError) -> Self {
        TpmError::Transport(e)
    }
}

/// The hint of a TPM response code a user can do something about.
fn code_hint(failure: &Failure) -> Option<&'static str> {
    match failure {
        Failure::Tpm(code) => match code.code() {
            rc::LOCKOUT => Some(
                "the TPM is in dictionary-attack lockout after wrong passwords; wait for it to recover or reset it with tpm2_dictionarylockout --clear-lockout",
            ),
            rc::HANDLE | rc::VALUE => Some(
                "check that the key (or its parent) is present in this TPM: tpm2_getcap handles-persistent",
            ),
            rc::INITIALIZE => Some(
                "the TPM was not started (TPM2_Startup): start it with tpm2_startup -c, or start swtpm with --flags startup-clear",
            ),
            rc::INTEGRITY => Some(
                "the key file was not created under this parent (or this TPM); create it again with the TPM it is used on",
            ),
            _ => None,
        },
        Failure::Wire(e) => e.hint(),
        Failure::Transport(e) => e.hint(),
    }
}

impl TpmError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            TpmError::HandleFormat { .. } | TpmError::HandleValue { .. } => HANDLE_HINT,
            TpmError::KeyOid { .. } => {
                "only loadable keys (2.23.133.10.1.3) are supported; importable and sealed keys are not"
            }
            TpmError::InFile { source, .. } => return source.hint(),
            TpmError::Refused(e) => return e.hint(),
            TpmError::PasswordNotNeeded => {
                return Some(format!(
                    "drop --tpm-key-password (and unset {PASSWORD_ENV})"
                ))
            }
            TpmError::NoCertificate { .. } => {
                "pass --certificate with the PEM certificate issued for this TPM key (sign-string works without one)"
            }
            TpmError::Mismatch { .. } => {
                "pass the certificate issued for this TPM key's public key (tpm2_readpublic -f pem shows it)"
            }
            TpmError::PasswordMissing { .. } => {
                return Some(format!(
                    "pass it with --tpm-key-password or {PASSWORD_ENV}, or run interactively to be asked"
                ))
            }
            TpmError::WrongPassword { prompted: true, .. } => {
                "gave up after 3 attempts; pass the password with --tpm-key-password"
            }
            TpmError::WrongPassword {
                prompted: false, ..
            } => {
                return Some(format!(
                    "check --tpm-key-password (or {PASSWORD_ENV}); use --no-tpm-key-password for a key without one"
                ))
            }
            TpmError::NoTerminal { .. } => {
                return Some(format!(
                    "pass --tpm-key-password, set {PASSWORD_ENV}, or give --no-tpm-key-password for a key without a password"
                ))
            }
            TpmError::Command { failure, hint, .. } => return hint.or(code_hint(failure)).map(String::from),
            TpmError::PublicBlob { source, .. } => return source.hint().map(String::from),
            TpmError::NotSigning { .. } => {
                "create the key with tpm2_create -a 'sign|...' (the default attributes include sign)"
            }
            TpmError::Restricted { .. } => "use an unrestricted signing key",
            TpmError::Curve { .. } => "use a NIST P-256, P-384 or P-521 key",
            TpmError::FixedHash { .. } => {
                "ask for the key's digest (sign-string --digest), or create the key without a fixed scheme"
            }
            TpmError::Transport(e) => return e.hint().map(String::from),
            TpmError::Blob { .. }
            | TpmError::KeyFile { .. }
            | TpmError::Policy
            | TpmError::Secret
            | TpmError::Parent
            | TpmError::Read { .. }
            | TpmError::Pem { .. }
            | TpmError::NoBlock { .. }
            | TpmError::Certificate { .. }
            | TpmError::NoKey
            | TpmError::RsaScheme { .. }
            | TpmError::RsaPublic { .. }
            | TpmError::EcScheme { .. }
            | TpmError::EcPoint { .. }
            | TpmError::EcHash { .. }
            | TpmError::MlDsa
            | TpmError::PasswordTooLong { .. }
            | TpmError::BadSignature
            | TpmError::SignatureDer(_)
            | TpmError::SignatureType => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for TpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TpmError::HandleFormat { text } => write!(f, "invalid TPM handle format: {text}"),
            TpmError::HandleValue { value } => write!(f, "invalid hex TPM handle value: {value}"),
            TpmError::Blob { what } => write!(f, "invalid length for TPMv2 {what} blob"),
            TpmError::KeyFile { why } => write!(f, "could not parse TPMv2 key file: {why}"),
            TpmError::KeyOid { oid } => write!(f, "invalid OID for TPMv2 key:{oid}"),
            TpmError::Policy => f.write_str("TPMv2 policy not implemented yet"),
            TpmError::Secret => {
                f.write_str("TPMv2 key has 'secret' field which should not be set")
            }
            TpmError::Parent => f.write_str("invalid parent for TPMv2 key"),
            TpmError::InFile { origin, source } => write!(f, "{origin}: {source}"),
            TpmError::Read { what, path, source } => {
                write!(f, "cannot read {what} {path}: {}", source.kind())
            }
            TpmError::Refused(e) => e.fmt(f),
            TpmError::Pem { origin, why } => {
                write!(f, "could not parse PEM data in {origin}: {why}")
            }
            TpmError::NoBlock { origin } => write!(f, "no TSS2 PRIVATE KEY block in {origin}"),
            TpmError::Certificate { path, source } => write!(f, "{path}: {source}"),
            TpmError::PasswordNotNeeded => f.write_str(
                "password is provided but TPM key file indicates that one isn't required",
            ),
            TpmError::NoCertificate { key } => write!(
                f,
                "unable to find certificate: the TPM key {key} needs its certificate for CreateSession"
            ),
            TpmError::NoKey => f.write_str("no TPM key given"),
            TpmError::Mismatch { key, cert } => write!(
                f,
                "the TPM key {key} does not match the certificate in {cert}"
            ),
            TpmError::PasswordMissing { key } => write!(
                f,
                "incorrect TPM key password for {key}: the key has a password"
            ),
            TpmError::WrongPassword { key, .. } => {
                write!(f, "incorrect TPM key password for {key}")
            }
            TpmError::NoTerminal { key } => write!(
                f,
                "unable to read your TPM key password for {key}: no terminal to ask on"
            ),
            TpmError::Command { what, failure, .. } => write!(f, "{what}: {failure}"),
            TpmError::PublicBlob { path, source } => {
                write!(f, "invalid TPMv2 PUBLIC blob in {path}: {source}")
            }
            TpmError::NotSigning { key } => write!(
                f,
                "the TPM key {key} is not a signing key (its sign attribute is clear)"
            ),
            TpmError::Restricted { key } => write!(
                f,
                "the TPM key {key} is a restricted signing key, which cannot sign external data"
            ),
            TpmError::RsaScheme { key } => write!(
                f,
                "unsupported TPMv2 key type: the RSA key {key} is not for RSASSA (PKCS#1 v1.5) signatures"
            ),
            TpmError::RsaPublic { key, source } => write!(
                f,
                "the TPM key {key} has a malformed RSA public key: {source}"
            ),
            TpmError::Curve { key, curve } => write!(
                f,
                "unsupported TPMv2 key type: ECC curve 0x{curve:04x} of {key}"
            ),
            TpmError::EcScheme { key } => write!(
                f,
                "unsupported TPMv2 key type: the ECC key {key} is not for ECDSA signatures"
            ),
            TpmError::EcPoint { key } => {
                write!(f, "the TPM key {key} has a malformed ECC public point")
            }
            TpmError::FixedHash { key, fixed, digest } => write!(
                f,
                "the TPM key {key} only signs with RSASSA-{fixed}, not {digest:?}"
            ),
            TpmError::EcHash { key, hash } => write!(
                f,
                "the TPM key {key} fixes the ECDSA hash {hash}, which is not supported"
            ),
            TpmError::MlDsa => f.write_str("unsupported TPMv2 key type"),
            TpmError::PasswordTooLong { key } => write!(
                f,
                "the TPM key password for {key} is too long (at most 64 bytes)"
            ),
            TpmError::BadSignature => f.write_str("the TPM returned a malformed ECDSA signature"),
            TpmError::SignatureDer(e) => {
                write!(f, "the token returned a malformed ECDSA signature: {e}")
            }
            TpmError::SignatureType => {
                f.write_str("the TPM returned a signature of an unexpected type")
            }
            TpmError::Transport(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TpmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TpmError::InFile { source, .. } => Some(source.as_ref()),
            TpmError::Read { source, .. } => Some(source),
            TpmError::Refused(e) => Some(e),
            TpmError::Certificate { source, .. } => Some(source),
            TpmError::Command { failure, .. } => Some(failure),
            TpmError::PublicBlob { source, .. } => Some(source),
            TpmError::RsaPublic { source, .. } => Some(source),
            TpmError::SignatureDer(e) => Some(e),
            TpmError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

crate::error::typed_error!(TpmError);

/// A failed TPM command, `what` naming it and the key.
pub(crate) fn command(what: impl Into<String>, failure: Failure) -> TpmError {
    TpmError::Command {
        what: what.into(),
        failure,
        hint: None,
    }
}
