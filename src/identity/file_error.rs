//! Why a certificate, key, chain or PKCS#12 file could not be loaded (`identity::file`,
//! `identity::pkcs12`, `identity::chain`). Each names the file (never its contents) and says
//! what to do; `impl From<FileError> for crate::Error` renders the one line the user sees, in
//! the official tool's wording where it has one.

use std::fmt;
use std::path::PathBuf;

use super::certificate::CertificateError;
use super::keys::KeyProblem;

/// What went wrong loading an identity from files.
#[derive(Debug)]
pub enum FileError {
    /// No `--certificate` was given.
    NoCertificate,
    /// The OS could not read `path` (the `what` file: "certificate", "private key", …).
    Read {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    /// The safe-file layer refused `path` (a FIFO, too large, …).
    Refused(crate::files::Error),
    /// `path` is not PEM we can read as certificates (`why`: empty, bad PEM, no block).
    Pem { path: PathBuf, why: String },
    /// `path` is neither PEM, a DER certificate nor PKCS#12.
    NotCertificate { path: PathBuf },
    /// A certificate in `path` does not parse; `prefix` starts the message.
    Certificate {
        path: PathBuf,
        prefix: &'static str,
        source: CertificateError,
    },
    /// `--certificate` holds a key and `--private-key` a certificate.
    Swapped { cert: PathBuf, key: PathBuf },
    /// No `--private-key` and `path` holds none (`why` ends "… and {file} {why}").
    NoKey { path: PathBuf, why: &'static str },
    /// A PKCS#12 `path` with `--private-key`.
    Pkcs12WithKey { path: PathBuf },
    /// A PKCS#12 file with `--intermediates`.
    Pkcs12WithChain,
    /// The PKCS#12 `path` could not be parsed (`why`).
    Pkcs12 { path: PathBuf, why: String },
    /// The PKCS#12 `path` holds no private key / no certificate.
    Pkcs12Lacks { path: PathBuf, key: bool },
    /// No key in the PKCS#12 `path` matches any of its certificates.
    Pkcs12NoMatch { path: PathBuf },
    /// The key in `path` is not one we can use. `in_parens`: the PKCS#12 form
    /// (`… (in FILE)`), else `… in FILE`.
    Key {
        path: PathBuf,
        problem: KeyProblem,
        in_parens: bool,
    },
    /// A key file we cannot read (`why`: empty, bad PEM, no key block, bad encryption, …).
    BadKey { path: PathBuf, why: String },
    /// A legacy OpenSSL-encrypted PEM key (`Proc-Type: 4,ENCRYPTED`).
    LegacyEncryptedPem { path: PathBuf },
    /// An OpenSSH private key.
    OpenSsh { path: PathBuf },
    /// The password for the `what` ("PKCS#8 private key", "PKCS#12") of `path` is wrong.
    /// `given`: it came from `--pkcs8-password`; `prompted`: we gave up after asking 3 times.
    WrongPassword {
        path: PathBuf,
        what: &'static str,
        given: bool,
        prompted: bool,
    },
    /// Nobody to ask for the password of `path`.
    NoPassword { path: PathBuf, what: &'static str },
    /// The `--intermediates` file `path` is not PEM we can read (`why`).
    ChainPem { path: PathBuf, why: String },
    /// The `--intermediates` file `path` holds a `label` block.
    ChainBlock { path: PathBuf, label: String },
    /// The `--intermediates` file `path` is neither PEM nor a DER certificate.
    ChainNotCertificate {
        path: PathBuf,
        source: CertificateError,
    },
    /// The certificate given (`cert`, a file or a flag) is a CA certificate.
    CaAsLeaf { cert: String },
    /// The key in `key` does not belong to the certificate in `cert`.
    KeyMismatch { key: String, cert: String },
    /// The certificate in `cert` is not valid yet (before `at`).
    NotYetValid { cert: String, at: jiff::Timestamp },
    /// The certificate in `cert` expired at `at`.
    Expired { cert: String, at: jiff::Timestamp },
}

impl FileError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            FileError::NoCertificate => "pass --certificate",
            FileError::Refused(e) => return e.hint(),
            FileError::Swapped { .. } => "swap the values of --certificate and --private-key",
            FileError::NoKey { .. } => "pass --private-key",
            FileError::Pkcs12WithKey { .. } => {
                "drop --private-key; the key is read from the PKCS#12 file"
            }
            FileError::Pkcs12Lacks { key: true, .. } => {
                "export the certificate together with its private key, or pass --private-key"
            }
            FileError::Pkcs12Lacks { key: false, .. } => {
                "export the private key together with its certificate"
            }
            FileError::Pkcs12NoMatch { .. } => {
                "export the certificate that belongs to the private key"
            }
            FileError::Key { problem, .. } => return problem.hint().map(String::from),
            FileError::LegacyEncryptedPem { path } => {
                return Some(format!(
                    "convert it to encrypted PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in {} -out key.p8.pem",
                    path.display()
                ))
            }
            FileError::OpenSsh { .. } => {
                "convert it to PKCS#8: ssh-keygen -p -m PKCS8 -f <copy of the key>"
            }
            FileError::WrongPassword { prompted: true, .. } => {
                "gave up after 3 attempts; pass the password with --pkcs8-password"
            }
            FileError::WrongPassword { given: true, .. } => "check the --pkcs8-password value",
            FileError::NoPassword { .. } => "pass the password with --pkcs8-password",
            FileError::ChainBlock { .. } => "--intermediates must hold only CERTIFICATE blocks",
            FileError::CaAsLeaf { .. } => {
                "pass the client certificate the CA issued (aws_signing_helper pki issue makes one); the CA belongs in the trust anchor"
            }
            FileError::KeyMismatch { .. } => {
                "pass the private key that was used to create the certificate"
            }
            FileError::NotYetValid { .. } => {
                "check the system clock, or wait until the certificate becomes valid"
            }
            FileError::Expired { .. } => "renew the certificate",
            FileError::Read { .. }
            | FileError::Pem { .. }
            | FileError::NotCertificate { .. }
            | FileError::Certificate { .. }
            | FileError::Pkcs12WithChain
            | FileError::Pkcs12 { .. }
            | FileError::BadKey { .. }
            | FileError::WrongPassword { .. }
            | FileError::ChainPem { .. }
            | FileError::ChainNotCertificate { .. } => return None,
        };
        Some(h.to_string())
    }

    /// A failure of the safe-file layer reading the `what` file `path`: the OS reason in the
    /// official tool's form, any other refusal as the layer words it.
    pub(crate) fn read(path: &std::path::Path, what: &'static str, e: crate::files::Error) -> Self {
        match e {
            crate::files::Error::Io { source, .. } => FileError::Read {
                path: path.to_path_buf(),
                what,
                source,
            },
            other => FileError::Refused(other),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NoCertificate => f.write_str("undefined certificate value"),
            FileError::Read { path, what, source } => write!(
                f,
                "cannot read {what} file {}: {}",
                path.display(),
                crate::files::io_reason(source)
            ),
            FileError::Refused(e) => e.fmt(f),
            FileError::Pem { path, why } => {
                write!(f, "could not parse PEM data in {}: {why}", path.display())
            }
            FileError::NotCertificate { path } => write!(
                f,
                "could not parse certificate in {}: neither PEM, a DER certificate nor PKCS#12",
                path.display()
            ),
            FileError::Certificate {
                path,
                prefix,
                source,
            } => write!(f, "{prefix}{source} in {}", path.display()),
            FileError::Swapped { cert, key } => write!(
                f,
                "--certificate {} holds a private key and --private-key {} a certificate: they look swapped",
                cert.display(),
                key.display()
            ),
            FileError::NoKey { path, why } => write!(
                f,
                "unable to parse private key: no --private-key given and {} {why}",
                path.display()
            ),
            FileError::Pkcs12WithKey { path } => write!(
                f,
                "could not parse certificate in {}: it is a PKCS#12 file, which cannot be combined with --private-key",
                path.display()
            ),
            FileError::Pkcs12WithChain => f.write_str(
                "can't specify certificate chain when using PKCS#12 files; certificate bundle should be provided within the PKCS#12 file",
            ),
            FileError::Pkcs12 { path, why } => {
                write!(f, "could not parse PKCS#12 file {}: {why}", path.display())
            }
            FileError::Pkcs12Lacks { path, key } => write!(
                f,
                "the PKCS#12 file {} contains no {}",
                path.display(),
                if *key { "private key" } else { "certificate" }
            ),
            FileError::Pkcs12NoMatch { path } => write!(
                f,
                "the private key in {} does not match any certificate in it",
                path.display()
            ),
            FileError::Key {
                path,
                problem,
                in_parens: true,
            } => write!(f, "{problem} (in {})", path.display()),
            FileError::Key {
                path,
                problem: KeyProblem::Unsupported(what),
                ..
            } => write!(f, "unsupported algorithm: {what} in {}", path.display()),
            FileError::Key {
                path,
                problem: KeyProblem::Invalid(why),
                ..
            }
            | FileError::BadKey { path, why } => write!(
                f,
                "unable to parse private key in {}: {why}",
                path.display()
            ),
            FileError::LegacyEncryptedPem { path } => write!(
                f,
                "unable to parse private key in {}: legacy OpenSSL-encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported",
                path.display()
            ),
            FileError::OpenSsh { path } => write!(
                f,
                "unable to parse private key in {}: OpenSSH private keys are not supported",
                path.display()
            ),
            FileError::WrongPassword { path, what, .. } => {
                write!(f, "incorrect {what} password for {}", path.display())
            }
            FileError::NoPassword { path, what } => write!(
                f,
                "unable to read your {what} password for {}",
                path.display()
            ),
            FileError::ChainPem { path, why } => {
                write!(f, "invalid certificate chain in {}: {why}", path.display())
            }
            FileError::ChainBlock { path, label } => write!(
                f,
                "invalid certificate chain in {}: it contains a {label} block",
                path.display()
            ),
            FileError::ChainNotCertificate { path, source } => write!(
                f,
                "invalid certificate chain in {}: neither PEM nor a DER certificate ({source})",
                path.display()
            ),
            FileError::CaAsLeaf { cert } => write!(
                f,
                "the certificate in {cert} is a CA certificate (basicConstraints CA:TRUE), not a client certificate"
            ),
            FileError::KeyMismatch { key, cert } => write!(
                f,
                "the private key in {key} does not match the certificate in {cert}"
            ),
            FileError::NotYetValid { cert, at } => {
                write!(f, "the certificate in {cert} is not valid before {at}")
            }
            FileError::Expired { cert, at } => {
                write!(f, "the certificate in {cert} expired at {at}")
            }
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Read { source, .. } => Some(source),
            FileError::Refused(e) => Some(e),
            FileError::Certificate { source, .. }
            | FileError::ChainNotCertificate { source, .. } => Some(source),
            FileError::Key { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

crate::error::typed_error!(FileError);
