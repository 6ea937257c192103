//! PKCS#12 (`.p12`/`.pfx`) files: a private key with its certificate and chain.
//!
//! Both OpenSSL 3 defaults (PBES2/AES, SHA-256 MAC) and the legacy algorithms (3DES, RC2, SHA-1 MAC)
//! are read. The leaf is the certificate whose public key matches the private key.

use std::path::Path;

use der::{Decode, Reader, Tagged};
use zeroize::Zeroizing;

use super::file::{ask_password, PasswordPrompts, Prompter};
use super::keys::{self, same_ec_point};
use super::{Certificate, KeyType, Signer};
use crate::error::{Error, Result};

/// Whether `data` has the outer shape of a PFX: `SEQUENCE { INTEGER 3, SEQUENCE {…}, … }`.
pub fn looks_like_pfx(data: &[u8]) -> bool {
    let Ok(outer) = der::asn1::AnyRef::from_der(data) else {
        return false;
    };
    if outer.tag() != der::Tag::Sequence {
        return false;
    }
    let Ok(mut reader) = der::SliceReader::new(outer.value()) else {
        return false;
    };
    matches!(reader.decode::<u8>(), Ok(3))
}

const PROMPTS: PasswordPrompts = PasswordPrompts {
    first: "Please enter your PKCS#12 password:",
    retry: "Incorrect PKCS#12 password. Please try again:",
    what: "PKCS#12",
};

/// What a PKCS#12 file gave us.
pub struct Contents {
    pub signer: Box<dyn Signer>,
    pub leaf: Certificate,
    pub chain: Vec<Certificate>,
}

/// Opens a PKCS#12 file: `password` if given, else the empty password, else a terminal prompt.
pub fn load(
    path: &Path,
    data: &[u8],
    password: Option<&Zeroizing<String>>,
    prompter: &mut dyn Prompter,
) -> Result<Contents> {
    let file = path.display();
    let archive = match password.filter(|p| !p.is_empty()) {
        Some(pw) => match open(data, pw) {
            Opened::Ok(a) => a,
            Opened::WrongPassword => {
                return Err(Error::new(format!("incorrect PKCS#12 password for {file}"))
                    .hint("check the --pkcs8-password value"))
            }
            Opened::Broken(e) => return Err(e.context_file(path)),
        },
        None => match open(data, "") {
            Opened::Ok(a) => a,
            Opened::Broken(e) => return Err(e.context_file(path)),
            Opened::WrongPassword => {
                let mut result = None;
                ask_password(path, &PROMPTS, prompter, |pw| match open(data, pw) {
                    Opened::Ok(a) => {
                        result = Some(Ok(a));
                        true
                    }
                    Opened::WrongPassword => false,
                    Opened::Broken(e) => {
                        result = Some(Err(e.context_file(path)));
                        true
                    }
                })?;
                match result {
                    Some(r) => r?,
                    // ask_password returns Ok only once the closure accepted a password.
                    None => {
                        return Err(Error::new(format!("incorrect PKCS#12 password for {file}")))
                    }
                }
            }
        },
    };
    contents(path, archive)
}

struct Broken(String);

impl Broken {
    fn context_file(self, path: &Path) -> Error {
        Error::new(format!(
            "could not parse PKCS#12 file {}: {}",
            path.display(),
            self.0
        ))
    }
}

enum Opened {
    Ok(p12_keystore::Pkcs12Archive),
    WrongPassword,
    Broken(Broken),
}

fn open(data: &[u8], password: &str) -> Opened {
    use p12_keystore::error::Error as E;
    match p12_keystore::Pkcs12Archive::from_pkcs12(data, password) {
        Ok(a) => Opened::Ok(a),
        Err(E::MacError(_)) | Err(E::UnpadError) => Opened::WrongPassword,
        Err(e) => Opened::Broken(Broken(e.to_string())),
    }
}

fn contents(path: &Path, archive: p12_keystore::Pkcs12Archive) -> Result<Contents> {
    let file = path.display();
    let mut certs = Vec::new();
    for bag in &archive.certs {
        let cert = Certificate::from_der(bag.cert.as_der())
            .map_err(|e| Error::new(format!("{} in {file}", e.message())))?;
        if !certs.contains(&cert) {
            certs.push(cert);
        }
    }
    if archive.keys.is_empty() {
        return Err(
            Error::new(format!("the PKCS#12 file {file} contains no private key")).hint(
                "export the certificate together with its private key, or pass --private-key",
            ),
        );
    }
    if certs.is_empty() {
        return Err(
            Error::new(format!("the PKCS#12 file {file} contains no certificate"))
                .hint("export the private key together with its certificate"),
        );
    }
    let mut first_error = None;
    for bag in &archive.keys {
        let signer = match keys::from_pkcs8(bag.key.as_der()) {
            Ok(s) => s,
            Err(problem) => {
                first_error.get_or_insert(problem);
                continue;
            }
        };
        if let Some(pos) = certs.iter().position(|c| key_matches(signer.as_ref(), c)) {
            let leaf = certs.remove(pos);
            return Ok(Contents {
                signer,
                leaf,
                chain: certs,
            });
        }
    }
    match first_error {
        Some(problem) => {
            let e = problem.into_error();
            let msg = format!("{} (in {file})", e.message());
            Err(match e.hint_text() {
                Some(h) => Error::new(msg).hint(h),
                None => Error::new(msg),
            })
        }
        None => Err(Error::new(format!(
            "the private key in {file} does not match any certificate in it"
        ))
        .hint("export the certificate that belongs to the private key")),
    }
}

/// Whether the signer's public key is the certificate's (curve points compared, not encodings).
pub fn key_matches(signer: &dyn Signer, cert: &Certificate) -> bool {
    let Some(public) = signer.public_key() else {
        return true;
    };
    match (signer.key_type(), cert.key_type()) {
        (KeyType::Ec(curve), Some(KeyType::Ec(cert_curve))) if curve == cert_curve => {
            same_ec_point(curve, cert.public_key(), &public)
        }
        (a, Some(b)) if a == b => cert.public_key() == public.as_slice(),
        _ => false,
    }
}
