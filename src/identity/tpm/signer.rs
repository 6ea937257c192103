//! TPM 2.0 signing with a persistent key or a `TSS2 PRIVATE KEY` file, over [`Client`].
//!
//! The TPM is opened for every signature, not kept open: the signer then holds only plain data
//! (it must be `Send + Sync`), a long-running `update` survives a restart of the resource manager
//! or of swtpm, and no transient object is left in the TPM between signatures. The cost is one
//! connection, and for key files one `TPM2_Load` (plus a `TPM2_CreatePrimary` for hierarchy
//! parents), per signature.
//!
//! Authorisation is a password session; the key's auth value lives in zeroizing memory and
//! appears in no message.

use zeroize::Zeroizing;

use super::client::Client;
use super::error::{command as tpm_error, TpmError};
use super::marshal::{alg, attr, rc, Failure, Params, Public, Signature};
use super::transport::{Target, TransportError};
use super::TpmKeyFile;
use crate::error::Result;
use crate::identity::pkcs11::{curve_bytes, ecdsa_raw_to_der};
use crate::identity::{Curve, Digest, KeyType, Signer};

/// Which TPM key.
#[derive(Debug, Clone)]
pub enum TpmKey {
    /// A persistent handle (`handle:0x81000001`).
    Persistent(u32),
    /// A `TSS2 PRIVATE KEY` file (the path is for messages).
    File { path: String, key: TpmKeyFile },
}

impl TpmKey {
    fn describe(&self) -> String {
        match self {
            TpmKey::Persistent(h) => format!("handle:0x{h:08x}"),
            TpmKey::File { path, .. } => path.clone(),
        }
    }
}

/// Why a TPM operation failed: the password was wrong, or something else.
#[derive(Debug)]
pub enum TpmFailure {
    BadAuth,
    Other(TpmError),
}

impl From<TpmError> for TpmFailure {
    fn from(e: TpmError) -> Self {
        TpmFailure::Other(e)
    }
}

impl From<TransportError> for TpmFailure {
    fn from(e: TransportError) -> Self {
        TpmFailure::Other(e.into())
    }
}

fn is_hierarchy(handle: u32) -> bool {
    matches!(
        handle,
        0x4000_0001 | 0x4000_0007 | 0x4000_000b | 0x4000_000c
    )
}

fn hierarchy_name(handle: u32) -> &'static str {
    match handle {
        0x4000_0001 => "owner",
        0x4000_0007 => "null",
        0x4000_000b => "endorsement",
        _ => "platform",
    }
}

fn persistent(client: &mut Client, handle: u32, what: &str) -> Result<Public, TpmError> {
    client.read_public(handle).map_err(|e| {
        let missing = matches!(&e, Failure::Tpm(c) if matches!(c.code(), rc::HANDLE | rc::VALUE));
        TpmError::Command {
            what: format!("cannot find {what} 0x{handle:08x} in the TPM"),
            failure: e,
            hint: missing.then_some(
                "list the persistent handles with tpm2_getcap handles-persistent (and check TPM_DEVICE)",
            ),
        }
    })
}

/// Makes the key usable through `client`: the persistent object, or the file's key loaded under
/// its parent (flushed when `client` is dropped).
fn load_key(client: &mut Client, key: &TpmKey) -> Result<u32, TpmError> {
    match key {
        TpmKey::Persistent(h) => Ok(*h),
        TpmKey::File { path, key } => {
            let parent = if is_hierarchy(key.parent) {
                let name = hierarchy_name(key.parent);
                client
                    .create_primary(key.parent, &Public::storage_primary())
                    .map_err(|e| TpmError::Command {
                        what: format!("cannot create the primary key of the {name} hierarchy (parent of {path})"),
                        failure: e,
                        hint: Some("hierarchy passwords are not supported: the hierarchy must have an empty auth value"),
                    })?
            } else {
                persistent(client, key.parent, "the parent key")?;
                key.parent
            };
            client
                .load(parent, &key.private, &key.public)
                .map_err(|e| tpm_error(format!("cannot load the TPM key {path}"), e))
        }
    }
}

/// A TPM key.
pub struct TpmSigner {
    target: Target,
    key: TpmKey,
    auth: Zeroizing<Vec<u8>>,
    key_type: KeyType,
    public_key: Vec<u8>,
    /// The key's own signing scheme hash, when the key fixes one.
    fixed_hash: Option<u16>,
}

impl std::fmt::Debug for TpmSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpmSigner")
            .field("device", &self.target.origin)
            .field("key", &self.key.describe())
            .field("key_type", &self.key_type)
            .finish()
    }
}

/// The key type, its `subjectPublicKey` bits and fixed scheme hash, from a TPM public area.
fn describe_public(
    public: &Public,
    what: &str,
) -> Result<(KeyType, Vec<u8>, Option<u16>), TpmError> {
    let key = || what.to_string();
    if public.attributes & attr::SIGN == 0 {
        return Err(TpmError::NotSigning { key: key() });
    }
    if public.attributes & attr::RESTRICTED != 0 {
        return Err(TpmError::Restricted { key: key() });
    }
    match &public.params {
        Params::Rsa {
            scheme,
            exponent,
            modulus,
            ..
        } => {
            let fixed = match scheme.alg {
                alg::NULL => None,
                alg::RSASSA => Some(scheme.hash),
                _ => return Err(TpmError::RsaScheme { key: key() }),
            };
            let exponent = match exponent {
                0 => 65537u32,
                e => *e,
            };
            let e_bytes = exponent.to_be_bytes();
            let encode = || -> std::result::Result<Vec<u8>, der::Error> {
                use der::Encode;
                pkcs1::RsaPublicKey {
                    modulus: der::asn1::UintRef::new(modulus)?,
                    public_exponent: der::asn1::UintRef::new(&e_bytes)?,
                }
                .to_der()
            };
            let der = encode().map_err(|source| TpmError::RsaPublic { key: key(), source })?;
            Ok((KeyType::Rsa, der, fixed))
        }
        Params::Ecc {
            scheme,
            curve,
            x,
            y,
            ..
        } => {
            let curve = match *curve {
                alg::NIST_P256 => Curve::P256,
                alg::NIST_P384 => Curve::P384,
                alg::NIST_P521 => Curve::P521,
                other => {
                    return Err(TpmError::Curve {
                        key: key(),
                        curve: other,
                    })
                }
            };
            let fixed = match scheme.alg {
                alg::NULL => None,
                alg::ECDSA => Some(scheme.hash),
                _ => return Err(TpmError::EcScheme { key: key() }),
            };
            let n = curve_bytes(curve);
            if x.len() > n || y.len() > n {
                return Err(TpmError::EcPoint { key: key() });
            }
            let mut point = vec![0x04];
            for coord in [x, y] {
                point.extend(std::iter::repeat_n(0u8, n - coord.len()));
                point.extend_from_slice(coord);
            }
            Ok((KeyType::Ec(curve), point, fixed))
        }
    }
}

fn hashing_algorithm(digest: Digest) -> u16 {
    match digest {
        Digest::Sha256 => alg::SHA256,
        Digest::Sha384 => alg::SHA384,
        Digest::Sha512 => alg::SHA512,
    }
}

fn hash_len(hash: u16) -> Option<usize> {
    match hash {
        alg::SHA256 => Some(32),
        alg::SHA384 => Some(48),
        alg::SHA512 => Some(64),
        _ => None,
    }
}

impl TpmSigner {
    /// Reads the key's public area (from the TPM for persistent keys, from the file otherwise).
    pub fn new(target: Target, key: TpmKey, auth: Zeroizing<Vec<u8>>) -> Result<TpmSigner> {
        let what = key.describe();
        let public = match &key {
            TpmKey::Persistent(h) => persistent(&mut Client::open(&target)?, *h, "the key")?,
            TpmKey::File { path, key } => {
                Public::decode(&key.public).map_err(|source| TpmError::PublicBlob {
                    path: path.clone(),
                    source,
                })?
            }
        };
        let (key_type, public_key, fixed_hash) = describe_public(&public, &what)?;
        Ok(TpmSigner {
            target,
            key,
            auth,
            key_type,
            public_key,
            fixed_hash,
        })
    }

    /// Replaces the auth value (after a new prompt).
    pub fn set_auth(&mut self, auth: Zeroizing<Vec<u8>>) {
        self.auth = auth;
    }

    /// Hashes `message` with `digest` and has the TPM sign it; tells a wrong password apart.
    pub fn try_sign(
        &self,
        message: &[u8],
        digest: Digest,
    ) -> std::result::Result<Vec<u8>, TpmFailure> {
        let what = self.key.describe();
        let (hashed, scheme, hash) = match self.key_type {
            KeyType::Rsa => {
                let hash = hashing_algorithm(digest);
                if let Some(fixed) = self.fixed_hash.filter(|f| *f != hash) {
                    return Err(TpmError::FixedHash {
                        key: what,
                        fixed: alg::name(fixed),
                        digest,
                    }
                    .into());
                }
                (digest.hash(message), alg::RSASSA, hash)
            }
            KeyType::Ec(curve) => {
                // The digest is computed here and cut (or zero-extended on the left, which keeps
                // its value) to the size of the hash the TPM is told about, the one matching the
                // curve. P-521 gets SHA-512's 64 bytes: extending to 66 would change the value
                // ECDSA uses.
                let hash = self.fixed_hash.unwrap_or(match curve {
                    Curve::P256 => alg::SHA256,
                    Curve::P384 => alg::SHA384,
                    Curve::P521 => alg::SHA512,
                });
                let size = hash_len(hash)
                    .ok_or_else(|| TpmError::EcHash {
                        key: what.clone(),
                        hash: alg::name(hash),
                    })?
                    .min(curve_bytes(curve));
                let mut hashed = digest.hash(message);
                hashed.truncate(size);
                while hashed.len() < size {
                    hashed.insert(0, 0);
                }
                (hashed, alg::ECDSA, hash)
            }
            KeyType::MlDsa(_) => {
                return Err(TpmError::MlDsa.into());
            }
        };
        if self.auth.len() > 64 {
            return Err(TpmError::PasswordTooLong { key: what }.into());
        }

        let mut client = Client::open(&self.target)?;
        let key = load_key(&mut client, &self.key)?;
        let signature = client
            .sign(key, &self.auth, &hashed, scheme, hash)
            .map_err(|e| match e {
                Failure::Tpm(code) if code.is_bad_auth() => TpmFailure::BadAuth,
                e => TpmFailure::Other(tpm_error(format!("the TPM could not sign with {what}"), e)),
            })?;
        drop(client);
        match (self.key_type, signature) {
            (KeyType::Rsa, Signature::RsaSsa { sig, .. }) => Ok(sig),
            (KeyType::Ec(curve), Signature::EcDsa { r, s, .. }) => {
                let n = curve_bytes(curve);
                if r.len() > n || s.len() > n {
                    return Err(TpmError::BadSignature.into());
                }
                let mut raw = Vec::with_capacity(2 * n);
                for part in [r, s] {
                    raw.extend(std::iter::repeat_n(0u8, n - part.len()));
                    raw.extend_from_slice(&part);
                }
                Ok(ecdsa_raw_to_der(curve, &raw).map_err(TpmError::SignatureDer)?)
            }
            _ => Err(TpmError::SignatureType.into()),
        }
    }
}

impl Signer for TpmSigner {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn public_key(&self) -> Option<Vec<u8>> {
        Some(self.public_key.clone())
    }

    fn sign(&self, message: &[u8], digest: Digest) -> Result<Vec<u8>> {
        self.try_sign(message, digest).map_err(|f| {
            match f {
                TpmFailure::BadAuth => TpmError::WrongPassword {
                    key: self.key.describe(),
                    prompted: false,
                },
                TpmFailure::Other(e) => e,
            }
            .into()
        })
    }
}
