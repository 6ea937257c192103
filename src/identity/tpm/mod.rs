//! TPM 2.0 keys: persistent handles (`handle:0x81000001`) and `TSS2 PRIVATE KEY`
//! key files ("TPM 2.0 Key File" ASN.1).
//!
//! Here: the handle and key-file parsers with the official errors, the password rules
//! (`--tpm-key-password`, `--no-tpm-key-password`, `AWS_SIGNING_HELPER_TPM_KEY_PASSWORD`, then a
//! prompt) and the certificate. The TPM itself is reached without any C library: [`transport`]
//! (`TPM_DEVICE`: device node, swtpm/mssim over TCP or a Unix socket), [`marshal`] (the wire
//! format), [`client`] (the commands) and [`signer`] (keys and signatures).

mod client;
pub mod error;
pub mod marshal;
pub(crate) mod signer;
pub mod transport;

use std::path::Path;

use zeroize::Zeroizing;

use super::source::Purpose;
use super::Digest;
use super::{Certificate, Identity};
use crate::error::Result;
use crate::identity::KeySpec;
pub use error::TpmError;

/// The PEM line that marks a TPM key file.
pub const PEM_BEGIN: &str = "-----BEGIN TSS2 PRIVATE KEY-----";

/// The environment variable that may hold the TPM key password.
pub const PASSWORD_ENV: &str = "AWS_SIGNING_HELPER_TPM_KEY_PASSWORD";

/// OID of a loadable key (`id-loadablekey`).
const LOADABLE_KEY: &str = "2.23.133.10.1.3";

/// Parses `handle:0x81000001` or `handle:81000001`.
pub fn parse_handle(text: &str) -> Result<u32> {
    let parts: Vec<&str> = text.split(':').collect();
    let [_, value] = parts[..] else {
        return Err(TpmError::HandleFormat {
            text: text.to_string(),
        }
        .into());
    };
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    u32::from_str_radix(digits, 16).map_err(|_| {
        TpmError::HandleValue {
            value: value.to_string(),
        }
        .into()
    })
}

/// A parsed `TSS2 PRIVATE KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpmKeyFile {
    pub empty_auth: bool,
    pub parent: u32,
    /// TPM2B_PUBLIC contents (without the 2-byte size).
    pub public: Vec<u8>,
    /// TPM2B_PRIVATE contents (without the 2-byte size).
    pub private: Vec<u8>,
}

/// One DER TLV: (tag, content, rest).
fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn tpm2b(content: &[u8], what: &'static str) -> Result<Vec<u8>, TpmError> {
    let bad = || TpmError::Blob { what };
    let (size, body) = content.split_at_checked(2).ok_or_else(bad)?;
    if usize::from(u16::from_be_bytes([size[0], size[1]])) != body.len() {
        return Err(bad());
    }
    Ok(body.to_vec())
}

impl TpmKeyFile {
    /// Parses the DER of a `TSS2 PRIVATE KEY` block.
    pub fn parse(der: &[u8]) -> Result<TpmKeyFile> {
        Ok(TpmKeyFile::parse_typed(der)?)
    }

    fn parse_typed(der: &[u8]) -> Result<TpmKeyFile, TpmError> {
        let bad = |why: &'static str| TpmError::KeyFile { why };
        let (tag, seq, _) = tlv(der).ok_or_else(|| bad("not DER"))?;
        if tag != 0x30 {
            return Err(bad("not a SEQUENCE"));
        }
        let (tag, oid, mut rest) = tlv(seq).ok_or_else(|| bad("no type"))?;
        if tag != 0x06 {
            return Err(bad("no type OID"));
        }
        let oid = der::asn1::ObjectIdentifier::from_bytes(oid)
            .map(|o| o.to_string())
            .map_err(|_| bad("bad type OID"))?;
        if oid != LOADABLE_KEY {
            return Err(TpmError::KeyOid { oid });
        }
        let mut empty_auth = false;
        let mut parent = None;
        let mut octets: Vec<&[u8]> = Vec::new();
        while !rest.is_empty() {
            let (tag, content, next) = tlv(rest).ok_or_else(|| bad("truncated"))?;
            rest = next;
            match tag {
                // [0] EXPLICIT BOOLEAN; any non-zero byte is true (old engines wrote 0x01).
                0xa0 => {
                    let (_, b, _) = tlv(content).ok_or_else(|| bad("bad emptyAuth"))?;
                    empty_auth = b.iter().any(|&x| x != 0);
                }
                0xa1 | 0xa3 => return Err(TpmError::Policy),
                0xa2 => return Err(TpmError::Secret),
                0x02 => {
                    let v = content
                        .iter()
                        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                    parent = Some(v);
                }
                0x04 => octets.push(content),
                _ => return Err(bad("unexpected field")),
            }
        }
        let parent = parent.ok_or_else(|| bad("no parent"))?;
        let parent = u32::try_from(parent)
            .ok()
            .filter(|p| {
                (0x8100_0000..=0x81ff_ffff).contains(p)
                    || [0x4000_0001, 0x4000_0007, 0x4000_000b, 0x4000_000c].contains(p)
            })
            .ok_or(TpmError::Parent)?;
        let [public, private] = octets[..] else {
            return Err(bad("expected pubkey and privkey"));
        };
        Ok(TpmKeyFile {
            empty_auth,
            parent,
            public: tpm2b(public, "PUBLIC")?,
            private: tpm2b(private, "PRIVATE")?,
        })
    }

    /// Reads the first `TSS2 PRIVATE KEY` block of a file.
    pub fn load(path: &Path) -> Result<TpmKeyFile> {
        let data = crate::files::read_file(path, crate::files::CAP_PEM, "TPM key file")
            .map_err(|e| read_error("TPM key file", path, e))?;
        TpmKeyFile::from_pem(&data, &path.display().to_string())
    }

    /// Parses the first `TSS2 PRIVATE KEY` block of a file's contents; `origin` (the file name)
    /// goes into the errors.
    pub fn from_pem(data: &[u8], origin: &str) -> Result<TpmKeyFile> {
        let blocks = super::pem::parse(data).map_err(|why| TpmError::Pem {
            origin: origin.to_string(),
            why,
        })?;
        let block = blocks
            .iter()
            .find(|b| b.label == "TSS2 PRIVATE KEY")
            .ok_or_else(|| TpmError::NoBlock {
                origin: origin.to_string(),
            })?;
        TpmKeyFile::parse_typed(&block.der).map_err(|e| {
            TpmError::InFile {
                origin: origin.to_string(),
                source: Box::new(e),
            }
            .into()
        })
    }
}

/// A failure of the safe-file layer reading the `what` file `path`: the OS reason, or the
/// layer's own refusal.
fn read_error(what: &'static str, path: &Path, e: crate::files::Error) -> TpmError {
    match e {
        crate::files::Error::Io { source, .. } => TpmError::Read {
            what,
            path: path.display().to_string(),
            source,
        },
        other => TpmError::Refused(other),
    }
}

/// The key password from the flags or the environment (`None`: prompt or empty, see callers).
pub fn password(spec: &KeySpec, empty_auth: Option<bool>) -> Result<Option<Zeroizing<String>>> {
    let flag = spec.tpm_key_password.clone().filter(|p| !p.is_empty());
    let env = std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Zeroizing::new);
    let given = flag.or(env);
    if empty_auth == Some(true) && given.is_some() {
        return Err(TpmError::PasswordNotNeeded.into());
    }
    if spec.no_tpm_key_password || empty_auth == Some(true) {
        return Ok(Some(Zeroizing::new(String::new())));
    }
    Ok(given)
}

/// The TPM to use: `TPM_DEVICE` (a device node, a swtpm Unix socket, or a TCTI string such as
/// `swtpm:host=127.0.0.1,port=2321`, `swtpm:path=/run/swtpm.sock`, `mssim:…`, `device:…`), else
/// `/dev/tpmrm0`, else `/dev/tpm0`. See [`transport::parse`].
pub fn device() -> Result<transport::Target> {
    Ok(transport::target()?)
}

/// The certificate and chain: from `--certificate` (which may be the combined file holding the
/// key), plus `--intermediates`. `None` when there is no certificate.
fn certificates(spec: &KeySpec) -> Result<(Option<Certificate>, Vec<Certificate>)> {
    let mut chain = Vec::new();
    let mut leaf = None;
    if spec.private_key.is_empty() {
        // A combined file: certificates next to the TSS2 PRIVATE KEY block, if any.
        if !spec.certificate.starts_with("handle:") {
            let path = Path::new(&spec.certificate);
            let data = crate::files::read_file(path, crate::files::CAP_PEM, "certificate")
                .map_err(|e| read_error("certificate", path, e))?;
            let blocks = super::pem::parse(&data).map_err(|why| TpmError::Pem {
                origin: path.display().to_string(),
                why,
            })?;
            for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
                let cert =
                    Certificate::from_der(&block.der).map_err(|source| TpmError::Certificate {
                        path: path.display().to_string(),
                        source,
                    })?;
                if leaf.is_none() {
                    leaf = Some(cert);
                } else {
                    chain.push(cert);
                }
            }
        }
    } else if !spec.certificate.is_empty() {
        let mut certs = super::file::load_certificates(Path::new(&spec.certificate))?.into_iter();
        leaf = certs.next();
        chain.extend(certs);
    }
    if let Some(path) = &spec.intermediates {
        super::chain::append_intermediates(leaf.as_ref(), &mut chain, path)?;
    }
    Ok((leaf, chain))
}

/// Loads a TPM key (and the certificate from `--certificate`, if any). Credential commands need
/// the certificate; `sign-string` does not.
pub fn load(spec: &KeySpec, purpose: Purpose) -> Result<Identity> {
    let key_ref = spec.key_ref();
    let handle = if key_ref.starts_with("handle:") {
        Some(parse_handle(key_ref)?)
    } else {
        None
    };
    let key_file = match handle {
        Some(_) => None,
        None => Some(TpmKeyFile::load(Path::new(key_ref))?),
    };
    let (certificate, chain) = certificates(spec)?;
    if purpose == Purpose::Credentials && certificate.is_none() {
        return Err(TpmError::NoCertificate {
            key: key_ref.to_string(),
        }
        .into());
    }
    let given = password(spec, key_file.as_ref().map(|k| k.empty_auth))?;
    let target = device()?;
    let key = match (handle, key_file) {
        (Some(h), _) => signer::TpmKey::Persistent(h),
        (None, Some(key)) => signer::TpmKey::File {
            path: key_ref.to_string(),
            key,
        },
        (None, None) => return Err(TpmError::NoKey.into()),
    };
    let signer = open_signer(target, key, key_ref, given, certificate.as_ref(), spec)?;
    Ok(Identity {
        certificate,
        chain,
        signer: Box::new(signer),
    })
}

const TPM_PROMPTS: super::file::PasswordPrompts = super::file::PasswordPrompts {
    first: "Please enter your TPM key password:",
    retry: "Incorrect TPM key password. Please try again:",
    what: "TPM key",
};

fn remembered(key_ref: &str) -> Option<Zeroizing<String>> {
    crate::identity::remembered::get(&format!("TPM key {key_ref}"))
}

fn remember(key_ref: &str, password: &Zeroizing<String>) {
    crate::identity::remembered::put(&format!("TPM key {key_ref}"), password);
}

fn auth_bytes(password: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(password.as_bytes().to_vec())
}

/// Opens the key, checks it against the certificate, and checks the password with a test
/// signature: a wrong password from a flag or the environment is an error, a typed one is asked
/// again (at most three times).
fn open_signer(
    target: transport::Target,
    key: signer::TpmKey,
    key_ref: &str,
    given: Option<Zeroizing<String>>,
    certificate: Option<&Certificate>,
    spec: &KeySpec,
) -> Result<signer::TpmSigner> {
    use super::file::{Prompter, TerminalPrompter};
    use signer::TpmFailure;

    let cached = if given.is_none() {
        remembered(key_ref)
    } else {
        None
    };
    let first = given.clone().or(cached.clone()).unwrap_or_default();
    let mut signer = signer::TpmSigner::new(target, key, auth_bytes(&first))?;
    if let Some(cert) = certificate {
        if !super::pkcs12::key_matches(&signer, cert) {
            return Err(TpmError::Mismatch {
                key: key_ref.to_string(),
                cert: spec.certificate.clone(),
            }
            .into());
        }
    }
    let test = b"AWS Roles Anywhere Credential Helper TPM Test1";
    if let Some(password) = given.or(cached) {
        return match signer.try_sign(test, Digest::Sha256) {
            Ok(_) => Ok(signer),
            Err(TpmFailure::BadAuth) if password.is_empty() => Err(TpmError::PasswordMissing {
                key: key_ref.to_string(),
            }
            .into()),
            Err(TpmFailure::BadAuth) => Err(TpmError::WrongPassword {
                key: key_ref.to_string(),
                prompted: false,
            }
            .into()),
            Err(TpmFailure::Other(e)) => Err(e.into()),
        };
    }
    let mut prompter = TerminalPrompter;
    for attempt in 0..3 {
        let prompt = if attempt == 0 {
            TPM_PROMPTS.first
        } else {
            TPM_PROMPTS.retry
        };
        let Some(password) = prompter.ask(prompt) else {
            return Err(TpmError::NoTerminal {
                key: key_ref.to_string(),
            }
            .into());
        };
        signer.set_auth(auth_bytes(&password));
        match signer.try_sign(test, Digest::Sha256) {
            Ok(_) => {
                remember(key_ref, &password);
                return Ok(signer);
            }
            Err(TpmFailure::BadAuth) => continue,
            Err(TpmFailure::Other(e)) => return Err(e.into()),
        }
    }
    Err(TpmError::WrongPassword {
        key: key_ref.to_string(),
        prompted: true,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(parse_handle("handle:0x81000001").unwrap(), 0x8100_0001);
        assert_eq!(parse_handle("handle:81000001").unwrap(), 0x8100_0001);
        assert!(parse_handle("handle:a:b")
            .unwrap_err()
            .message()
            .starts_with("invalid TPM handle format"));
        assert!(parse_handle("handle:zz")
            .unwrap_err()
            .message()
            .starts_with("invalid hex TPM handle value"));
    }

    fn key_file(fields: &[u8]) -> Vec<u8> {
        let mut body = vec![0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03];
        body.extend_from_slice(fields);
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        der
    }

    #[test]
    fn key_files() {
        // emptyAuth as non-DER 0x01, parent owner, 1-byte public and private blobs.
        let fields = [
            0xa0, 0x03, 0x01, 0x01, 0x01, 0x02, 0x04, 0x40, 0x00, 0x00, 0x01, 0x04, 0x03, 0x00,
            0x01, 0xaa, 0x04, 0x03, 0x00, 0x01, 0xbb,
        ];
        let k = TpmKeyFile::parse(&key_file(&fields)).unwrap();
        assert!(k.empty_auth);
        assert_eq!(k.parent, 0x4000_0001);
        assert_eq!(k.public, vec![0xaa]);
        assert_eq!(k.private, vec![0xbb]);
        let mut bad_len = fields;
        bad_len[14] = 2;
        assert_eq!(
            TpmKeyFile::parse(&key_file(&bad_len))
                .unwrap_err()
                .message(),
            "invalid length for TPMv2 PUBLIC blob"
        );
        let mut bad_parent = fields;
        bad_parent[10] = 0x02;
        assert_eq!(
            TpmKeyFile::parse(&key_file(&bad_parent))
                .unwrap_err()
                .message(),
            "invalid parent for TPMv2 key"
        );
        let policy = [0xa1, 0x00];
        assert_eq!(
            TpmKeyFile::parse(&key_file(&policy)).unwrap_err().message(),
            "TPMv2 policy not implemented yet"
        );
        let mut other = key_file(&fields);
        other[9] = 0x04;
        assert!(TpmKeyFile::parse(&other)
            .unwrap_err()
            .message()
            .starts_with("invalid OID for TPMv2 key:2.23.133.10.1.4"));
        assert!(TpmKeyFile::parse(b"\x30\x05junk").is_err());
    }
}
