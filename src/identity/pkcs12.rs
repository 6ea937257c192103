//! PKCS#12 (`.p12`/`.pfx`) files: a private key with its certificate and chain.
//!
//! Both OpenSSL 3 defaults (PBES2/AES, SHA-256 MAC) and the legacy algorithms (3DES, RC2, SHA-1 MAC)
//! are read. The leaf is the certificate whose public key matches the private key.

use std::path::Path;

use der::{Decode, Reader, Tagged};
use zeroize::Zeroizing;

use super::file::{ask_password, PasswordPrompts, Prompter};
use super::keys::{self, same_ec_point};
use super::{Certificate, FileError, KeyType, Signer};
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
    let wrong = |given: bool| -> crate::Error {
        FileError::WrongPassword {
            path: path.to_path_buf(),
            what: PROMPTS.what,
            given,
            prompted: false,
        }
        .into()
    };
    let archive = match password.filter(|p| !p.is_empty()) {
        Some(pw) => match open(data, pw) {
            Opened::Ok(a) => a,
            Opened::WrongPassword => return Err(wrong(true)),
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
                    None => return Err(wrong(false)),
                }
            }
        },
    };
    contents(path, archive)
}

struct Broken(String);

impl Broken {
    fn context_file(self, path: &Path) -> Error {
        FileError::Pkcs12 {
            path: path.to_path_buf(),
            why: self.0,
        }
        .into()
    }
}

enum Opened {
    Ok(p12_keystore::Pkcs12Archive),
    WrongPassword,
    Broken(Broken),
}

/// The scrypt OID (1.3.6.1.4.1.11591.4.11) in DER, tag and length included.
const SCRYPT_OID_DER: [u8; 11] = [
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b,
];

/// Whether scrypt parameters anywhere in the clear part of the file have an N that is not a
/// power of two above 1: pkcs5 0.8.1 (under p12-keystore) panics on N = 0 instead of failing.
fn bad_scrypt_parameters(data: &[u8]) -> bool {
    data.windows(SCRYPT_OID_DER.len())
        .enumerate()
        .filter(|(_, w)| *w == SCRYPT_OID_DER)
        .any(|(i, _)| {
            let Ok(mut reader) = der::SliceReader::new(&data[i + SCRYPT_OID_DER.len()..]) else {
                return false;
            };
            reader
                .decode::<pkcs8::pkcs5::pbes2::ScryptParams>()
                .is_ok_and(|p| p.cost_parameter < 2 || !p.cost_parameter.is_power_of_two())
        })
}

fn open(data: &[u8], password: &str) -> Opened {
    use p12_keystore::error::Error as E;
    if bad_scrypt_parameters(data) {
        return Opened::Broken(Broken(
            "its scrypt parameters are invalid (N must be a power of two above 1)".into(),
        ));
    }
    // Parameters inside encrypted content only p12-keystore sees; should one of them still make
    // it panic, that is a broken file, not a crash of the helper.
    let parsed =
        std::panic::catch_unwind(|| p12_keystore::Pkcs12Archive::from_pkcs12(data, password));
    let Ok(parsed) = parsed else {
        return Opened::Broken(Broken(
            "the PKCS#12 reader failed on its encryption parameters".into(),
        ));
    };
    match parsed {
        Ok(a) => Opened::Ok(a),
        Err(E::MacError(_)) | Err(E::UnpadError) => Opened::WrongPassword,
        Err(e) => Opened::Broken(Broken(e.to_string())),
    }
}

fn contents(path: &Path, archive: p12_keystore::Pkcs12Archive) -> Result<Contents> {
    let mut certs = Vec::new();
    for bag in &archive.certs {
        let cert =
            Certificate::from_der(bag.cert.as_der()).map_err(|e| FileError::Certificate {
                path: path.to_path_buf(),
                prefix: "",
                source: e,
            })?;
        if !certs.contains(&cert) {
            certs.push(cert);
        }
    }
    if archive.keys.is_empty() {
        return Err(FileError::Pkcs12Lacks {
            path: path.to_path_buf(),
            key: true,
        }
        .into());
    }
    if certs.is_empty() {
        return Err(FileError::Pkcs12Lacks {
            path: path.to_path_buf(),
            key: false,
        }
        .into());
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
        Some(problem) => Err(FileError::Key {
            path: path.to_path_buf(),
            problem,
            in_parens: true,
        }
        .into()),
        None => Err(FileError::Pkcs12NoMatch {
            path: path.to_path_buf(),
        }
        .into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    struct NoPrompt;

    impl Prompter for NoPrompt {
        fn ask(&mut self, _: &str) -> Option<Zeroizing<String>> {
            None
        }
    }

    /// A PFX without MAC whose one EncryptedData uses PBES2 with scrypt N = 0 (built by hand).
    const SCRYPT_N_ZERO: &str = "30819e02010330819806092a864886f70d010701a0818a04818730818430818106092a864886f70d010706a0743072020100306d06092a864886f70d010701304e06092a864886f70d01050d3041302006092b06010401da47040b3013040873616c7473616c74020100020108020101301d060960864801650304012a041000000000000000000000000000000000801000000000000000000000000000000000";

    /// Found with the encrypted_pkcs8 fuzzer's crash (pkcs5 panics on scrypt N = 0), which
    /// p12-keystore reaches too: the file is refused instead of crashing the helper.
    #[test]
    fn scrypt_n_zero_is_an_error_not_a_panic() {
        let data = hex::decode(SCRYPT_N_ZERO).unwrap();
        assert!(looks_like_pfx(&data));
        assert!(bad_scrypt_parameters(&data));
        let e = load(Path::new("hostile.p12"), &data, None, &mut NoPrompt)
            .err()
            .expect("refused");
        assert!(
            e.message().contains("hostile.p12") && e.message().contains("scrypt"),
            "{e}"
        );
        // With N = 16 the same file is merely undecryptable.
        let fine = SCRYPT_N_ZERO.replace("020100020108020101", "020110020108020101");
        assert!(!bad_scrypt_parameters(&hex::decode(fine).unwrap()));
    }
}
