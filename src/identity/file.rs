//! Certificates and private keys from files (`--certificate`, `--private-key`, `--intermediates`).
//!
//! Certificates: PEM (every `CERTIFICATE` block) or one DER certificate. Keys: PEM or DER PKCS#8,
//! encrypted PKCS#8, SEC1, PKCS#1, or a PKCS#12 file given as `--certificate`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::file_error::FileError;
use super::keys::{self, DecryptProblem, KeyProblem};
use super::{pem, pkcs12, Certificate, Identity, Signer};
use crate::error::Result;

pub use super::keys::signer_from_pkcs8_der;

/// The file flags of a credential command.
#[derive(Clone, Default)]
pub struct FileSource {
    /// `--certificate`: PEM (maybe with the chain and/or the key), DER, or PKCS#12.
    pub certificate: Option<PathBuf>,
    /// `--private-key` (None: the key may be inside `--certificate`: combined PEM or PKCS#12).
    pub private_key: Option<PathBuf>,
    /// `--intermediates`: more chain certificates.
    pub intermediates: Option<PathBuf>,
    /// `--pkcs8-password` (also used as the PKCS#12 password).
    pub password: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("certificate", &self.certificate)
            .field("private_key", &self.private_key)
            .field("intermediates", &self.intermediates)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Asks the user for a password; `None` when there is nobody to ask.
pub trait Prompter {
    fn ask(&mut self, prompt: &str) -> Option<Zeroizing<String>>;
}

/// Prompts on the terminal (`/dev/tty`) when standard input is a terminal.
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn ask(&mut self, prompt: &str) -> Option<Zeroizing<String>> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        rpassword::prompt_password(format!("{prompt} "))
            .ok()
            .map(Zeroizing::new)
    }
}

/// The texts of one kind of password prompt.
pub struct PasswordPrompts {
    pub first: &'static str,
    pub retry: &'static str,
    /// `PKCS#8 private key` or `PKCS#12`, for the error messages.
    pub what: &'static str,
}

const PKCS8_PROMPTS: PasswordPrompts = PasswordPrompts {
    first: "Please enter your PKC8 private key password:",
    retry: "Incorrect PKCS#8 private key password. Please try again:",
    what: "PKCS#8 private key",
};

const MAX_TRIES: usize = 3;

/// Prompts up to three times until `try_password` accepts a password.
pub fn ask_password(
    path: &Path,
    prompts: &PasswordPrompts,
    prompter: &mut dyn Prompter,
    mut try_password: impl FnMut(&str) -> bool,
) -> Result<()> {
    // update and serve re-load the key at every refresh: ask once per process.
    let memory_key = format!("{} {}", prompts.what, path.display());
    if let Some(password) = super::remembered::get(&memory_key) {
        if try_password(&password) {
            return Ok(());
        }
    }
    for attempt in 0..MAX_TRIES {
        let prompt = if attempt == 0 {
            prompts.first
        } else {
            prompts.retry
        };
        let Some(password) = prompter.ask(prompt) else {
            return Err(FileError::NoPassword {
                path: path.to_path_buf(),
                what: prompts.what,
            }
            .into());
        };
        if try_password(&password) {
            super::remembered::put(&memory_key, &password);
            return Ok(());
        }
    }
    Err(FileError::WrongPassword {
        path: path.to_path_buf(),
        what: prompts.what,
        given: false,
        prompted: true,
    }
    .into())
}

/// Loads the certificate, its chain and the signer. Prompts on the terminal for the password of
/// an encrypted key when none is given and standard input is a terminal.
pub fn load(src: &FileSource) -> Result<Identity> {
    load_with(src, &mut TerminalPrompter)
}

/// [`load`] with a chosen way of asking for passwords.
pub fn load_with(src: &FileSource, prompter: &mut dyn Prompter) -> Result<Identity> {
    let Some(cert_path) = src.certificate.as_deref() else {
        return Err(FileError::NoCertificate.into());
    };
    let data = read(cert_path, "certificate")?;
    let pem_error = |why: String| FileError::Pem {
        path: cert_path.to_path_buf(),
        why,
    };
    if data.is_empty() {
        return Err(pem_error("the file is empty".into()).into());
    }

    let (leaf, mut chain, signer) = if pem::is_pem(&data) {
        let blocks = pem::parse(&data).map_err(pem_error)?;
        let mut certs = certificates_from_blocks(cert_path, &blocks, "")?;
        if certs.is_empty() {
            if let Some(key_path) = src.private_key.as_deref() {
                if blocks.iter().any(|b| is_key_label(&b.label)) && holds_certificate(key_path) {
                    return Err(FileError::Swapped {
                        cert: cert_path.to_path_buf(),
                        key: key_path.to_path_buf(),
                    }
                    .into());
                }
            }
            return Err(pem_error("no CERTIFICATE block found".into()).into());
        }
        let signer = match src.private_key.as_deref() {
            Some(key_path) => load_private_key_with(key_path, src.password.as_ref(), prompter)?,
            None => {
                if !blocks.iter().any(|b| is_key_label(&b.label)) {
                    return Err(FileError::NoKey {
                        path: cert_path.to_path_buf(),
                        why: "contains no private key",
                    }
                    .into());
                }
                key_from_blocks(cert_path, &blocks, src.password.as_ref(), prompter)?
            }
        };
        let leaf = certs.remove(0);
        (leaf, certs, signer)
    } else if let Ok(cert) = Certificate::from_der(&data) {
        let Some(key_path) = src.private_key.as_deref() else {
            return Err(FileError::NoKey {
                path: cert_path.to_path_buf(),
                why: "is a DER certificate without a key",
            }
            .into());
        };
        let signer = load_private_key_with(key_path, src.password.as_ref(), prompter)?;
        (cert, Vec::new(), signer)
    } else if pkcs12::looks_like_pfx(&data) {
        if src.private_key.is_some() {
            return Err(FileError::Pkcs12WithKey {
                path: cert_path.to_path_buf(),
            }
            .into());
        }
        if src.intermediates.is_some() {
            return Err(FileError::Pkcs12WithChain.into());
        }
        let contents = pkcs12::load(cert_path, &data, src.password.as_ref(), prompter)?;
        (contents.leaf, contents.chain, contents.signer)
    } else {
        return Err(FileError::NotCertificate {
            path: cert_path.to_path_buf(),
        }
        .into());
    };

    if let Some(int_path) = src.intermediates.as_deref() {
        super::chain::append_intermediates(Some(&leaf), &mut chain, int_path)?;
    }
    Ok(Identity {
        certificate: Some(leaf),
        chain,
        signer,
    })
}

/// Whether a (key) file is in fact a PEM certificate, to recognise swapped flags.
fn holds_certificate(path: &Path) -> bool {
    read(path, "private key")
        .map(Zeroizing::new)
        .is_ok_and(|data| {
            pem::parse(&data).is_ok_and(|blocks| blocks.iter().any(|b| b.label == "CERTIFICATE"))
        })
}

/// Loads a private key file alone (e.g. for `sign-string`).
pub fn load_private_key(
    path: &Path,
    password: Option<&Zeroizing<String>>,
) -> Result<Box<dyn Signer>> {
    load_private_key_with(path, password, &mut TerminalPrompter)
}

/// [`load_private_key`] with a chosen way of asking for passwords.
pub fn load_private_key_with(
    path: &Path,
    password: Option<&Zeroizing<String>>,
    prompter: &mut dyn Prompter,
) -> Result<Box<dyn Signer>> {
    let data = Zeroizing::new(read(path, "private key")?);
    private_key_from_bytes(path, &data, password, prompter)
}

/// [`load_private_key_with`] on the bytes of a key file already read; `path` only names the file
/// in messages.
pub fn private_key_from_bytes(
    path: &Path,
    data: &[u8],
    password: Option<&Zeroizing<String>>,
    prompter: &mut dyn Prompter,
) -> Result<Box<dyn Signer>> {
    let bad = |why: String| FileError::BadKey {
        path: path.to_path_buf(),
        why,
    };
    if data.is_empty() {
        return Err(bad("the file is empty".into()).into());
    }
    if pem::is_pem(data) {
        let blocks =
            pem::parse(data).map_err(|e| bad(format!("could not parse PEM data ({e})")))?;
        return key_from_blocks(path, &blocks, password, prompter);
    }
    // DER: PKCS#8, then encrypted PKCS#8, SEC1, PKCS#1.
    let result = if keys::is_pkcs8(data) {
        keys::from_pkcs8(data)
    } else if keys::is_encrypted_pkcs8(data) {
        let plain = decrypt(path, data, password, prompter)?;
        keys::from_pkcs8(&plain)
    } else if is_sec1(data) {
        keys::from_sec1(data)
    } else if is_pkcs1(data) {
        keys::from_pkcs1(data)
    } else {
        Err(KeyProblem::Invalid(
            "neither PEM nor a DER PKCS#8, SEC1 or PKCS#1 private key".into(),
        ))
    };
    result.map_err(|p| key_error(path, p))
}

fn is_sec1(der: &[u8]) -> bool {
    use der::Decode;
    sec1::EcPrivateKey::from_der(der).is_ok()
}

fn is_pkcs1(der: &[u8]) -> bool {
    use der::Decode;
    pkcs1::RsaPrivateKeyRef::from_der(der).is_ok()
}

const KEY_LABELS: [&str; 4] = [
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
];

fn is_key_label(label: &str) -> bool {
    KEY_LABELS.contains(&label) || label.ends_with("PRIVATE KEY")
}

/// Uses the first private-key block of a PEM file (other blocks, e.g. `EC PARAMETERS`, skipped).
fn key_from_blocks(
    path: &Path,
    blocks: &[pem::Block],
    password: Option<&Zeroizing<String>>,
    prompter: &mut dyn Prompter,
) -> Result<Box<dyn Signer>> {
    let path_buf = || path.to_path_buf();
    let Some(block) = blocks.iter().find(|b| is_key_label(&b.label)) else {
        return Err(FileError::BadKey {
            path: path_buf(),
            why: "no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block found".into(),
        }
        .into());
    };
    if block.has_headers {
        return Err(FileError::LegacyEncryptedPem { path: path_buf() }.into());
    }
    let result = match block.label.as_str() {
        "PRIVATE KEY" => keys::from_pkcs8(&block.der),
        "ENCRYPTED PRIVATE KEY" => {
            let plain = decrypt(path, &block.der, password, prompter)?;
            keys::from_pkcs8(&plain)
        }
        "EC PRIVATE KEY" => keys::from_sec1(&block.der),
        "RSA PRIVATE KEY" => keys::from_pkcs1(&block.der),
        "DSA PRIVATE KEY" => Err(KeyProblem::Unsupported("DSA key".into())),
        "OPENSSH PRIVATE KEY" => {
            return Err(FileError::OpenSsh { path: path_buf() }.into())
        }
        "TSS2 PRIVATE KEY" => {
            return Err(FileError::BadKey {
                path: path_buf(),
                why: "TPM key files (TSS2 PRIVATE KEY) are not software keys".into(),
            }
            .into())
        }
        other => Err(KeyProblem::Invalid(format!(
            "{other} blocks are not supported; no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block found"
        ))),
    };
    result.map_err(|p| key_error(path, p))
}

fn key_error(path: &Path, problem: KeyProblem) -> crate::Error {
    FileError::Key {
        path: path.to_path_buf(),
        problem,
        in_parens: false,
    }
    .into()
}

/// Decrypts an `EncryptedPrivateKeyInfo` with the given password or, failing that, a prompt.
fn decrypt(
    path: &Path,
    der: &[u8],
    password: Option<&Zeroizing<String>>,
    prompter: &mut dyn Prompter,
) -> Result<Zeroizing<Vec<u8>>> {
    let problem = |p: DecryptProblem| -> crate::Error {
        match p {
            DecryptProblem::WrongPassword => FileError::WrongPassword {
                path: path.to_path_buf(),
                what: PKCS8_PROMPTS.what,
                given: true,
                prompted: false,
            },
            DecryptProblem::Unsupported(why) | DecryptProblem::Malformed(why) => {
                FileError::BadKey {
                    path: path.to_path_buf(),
                    why,
                }
            }
        }
        .into()
    };
    // Refuse unsupported schemes before asking for a password that could never work.
    keys::check_encrypted_pkcs8(der).map_err(problem)?;
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        return keys::decrypt_pkcs8(der, pw.as_bytes()).map_err(problem);
    }
    let mut result = None;
    ask_password(
        path,
        &PKCS8_PROMPTS,
        prompter,
        |pw| match keys::decrypt_pkcs8(der, pw.as_bytes()) {
            Ok(plain) => {
                result = Some(Ok(plain));
                true
            }
            Err(DecryptProblem::WrongPassword) => false,
            Err(other) => {
                result = Some(Err(other));
                true
            }
        },
    )?;
    match result {
        Some(r) => r.map_err(problem),
        // ask_password only returns Ok after the closure stored a result.
        None => Err(problem(DecryptProblem::WrongPassword)),
    }
}

/// All certificates of a file: every `CERTIFICATE` block of a PEM file in order (other blocks and
/// text ignored), or one DER certificate.
pub fn load_certificates(path: &Path) -> Result<Vec<Certificate>> {
    let data = read(path, "certificate")?;
    certificates_from_bytes(path, &data)
}

/// [`load_certificates`] on the bytes of a file already read; `path` only names the file in
/// messages.
pub fn certificates_from_bytes(path: &Path, data: &[u8]) -> Result<Vec<Certificate>> {
    let pem_error = |why: String| FileError::Pem {
        path: path.to_path_buf(),
        why,
    };
    if data.is_empty() {
        return Err(pem_error("the file is empty".into()).into());
    }
    if pem::is_pem(data) {
        let blocks = pem::parse(data).map_err(pem_error)?;
        let certs = certificates_from_blocks(path, &blocks, "")?;
        if certs.is_empty() {
            return Err(pem_error("no CERTIFICATE block found".into()).into());
        }
        return Ok(certs);
    }
    Certificate::from_der(data).map(|c| vec![c]).map_err(|e| {
        FileError::Certificate {
            path: path.to_path_buf(),
            prefix: "",
            source: e,
        }
        .into()
    })
}

/// Every `CERTIFICATE` block parsed; `prefix` starts the message of a failure, which then
/// names the file.
fn certificates_from_blocks(
    path: &Path,
    blocks: &[pem::Block],
    prefix: &'static str,
) -> Result<Vec<Certificate>> {
    blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| {
            Certificate::from_der(&b.der).map_err(|e| {
                FileError::Certificate {
                    path: path.to_path_buf(),
                    prefix,
                    source: e,
                }
                .into()
            })
        })
        .collect()
}

/// The `--intermediates` file: PEM with only `CERTIFICATE` blocks, or one DER certificate.
pub(crate) fn load_intermediates(path: &Path) -> Result<Vec<Certificate>> {
    let data = read(path, "certificate bundle")?;
    intermediates_from_bytes(path, &data)
}

/// The `--intermediates` rules on the bytes of a file already read; `path` only names the file
/// in messages.
pub fn intermediates_from_bytes(path: &Path, data: &[u8]) -> Result<Vec<Certificate>> {
    if pem::is_pem(data) {
        let blocks = pem::parse(data).map_err(|why| FileError::ChainPem {
            path: path.to_path_buf(),
            why,
        })?;
        if let Some(other) = blocks.iter().find(|b| b.label != "CERTIFICATE") {
            return Err(FileError::ChainBlock {
                path: path.to_path_buf(),
                label: other.label.clone(),
            }
            .into());
        }
        return certificates_from_blocks(path, &blocks, "invalid certificate chain: ");
    }
    Certificate::from_der(data).map(|c| vec![c]).map_err(|e| {
        FileError::ChainNotCertificate {
            path: path.to_path_buf(),
            source: e,
        }
        .into()
    })
}

/// Checks made before any network call: the private key belongs to the certificate, and `now`
/// lies within the certificate's validity period.
pub fn check_identity(identity: &Identity, src: &FileSource, now: jiff::Timestamp) -> Result<()> {
    let Some(cert) = identity.certificate.as_ref() else {
        return Err(FileError::NoCertificate.into());
    };
    let cert_file = src.certificate.as_deref().map_or_else(
        || "the certificate".to_string(),
        |p| p.display().to_string(),
    );
    let key_file = src
        .private_key
        .as_deref()
        .or(src.certificate.as_deref())
        .map_or_else(|| "the key".to_string(), |p| p.display().to_string());
    if !pkcs12::key_matches(identity.signer.as_ref(), cert) {
        return Err(FileError::KeyMismatch {
            key: key_file,
            cert: cert_file,
        }
        .into());
    }
    if now < cert.not_before() {
        return Err(FileError::NotYetValid {
            cert: cert_file,
            at: cert.not_before(),
        }
        .into());
    }
    if now > cert.not_after() {
        return Err(FileError::Expired {
            cert: cert_file,
            at: cert.not_after(),
        }
        .into());
    }
    Ok(())
}

/// Reads a whole file; the error names the file and the OS reason.
fn read(path: &Path, what: &'static str) -> Result<Vec<u8>> {
    crate::files::read_file(path, crate::files::CAP_PEM, what)
        .map(|data| data.to_vec())
        .map_err(|e| FileError::read(path, what, e).into())
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
