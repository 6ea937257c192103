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
use super::marshal::{alg, attr, rc, Failure, Params, Public, Signature};
use super::transport::Target;
use super::TpmKeyFile;
use crate::error::{Error, Result};
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
    Other(Error),
}

impl From<Error> for TpmFailure {
    fn from(e: Error) -> Self {
        TpmFailure::Other(e)
    }
}

/// One line naming what failed and the TPM's response code, with a hint for the codes a user
/// can do something about.
fn tpm_error(what: &str, f: Failure) -> Error {
    let code = match f {
        Failure::Other(e) => return e.context(what),
        Failure::Tpm(code) => code,
    };
    let err = Error::new(format!("{what}: {code}"));
    match code.code() {
        rc::LOCKOUT => err.hint(
            "the TPM is in dictionary-attack lockout after wrong passwords; wait for it to recover or reset it with tpm2_dictionarylockout --clear-lockout",
        ),
        rc::HANDLE | rc::VALUE => err.hint(
            "check that the key (or its parent) is present in this TPM: tpm2_getcap handles-persistent",
        ),
        rc::INITIALIZE => err.hint(
            "the TPM was not started (TPM2_Startup): start it with tpm2_startup -c, or start swtpm with --flags startup-clear",
        ),
        rc::INTEGRITY => err.hint(
            "the key file was not created under this parent (or this TPM); create it again with the TPM it is used on",
        ),
        _ => err,
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

fn persistent(client: &mut Client, handle: u32, what: &str) -> Result<Public> {
    client.read_public(handle).map_err(|e| {
        let missing = matches!(&e, Failure::Tpm(c) if matches!(c.code(), rc::HANDLE | rc::VALUE));
        let err = tpm_error(&format!("cannot find {what} 0x{handle:08x} in the TPM"), e);
        if missing {
            err.hint("list the persistent handles with tpm2_getcap handles-persistent (and check TPM_DEVICE)")
        } else {
            err
        }
    })
}

/// Makes the key usable through `client`: the persistent object, or the file's key loaded under
/// its parent (flushed when `client` is dropped).
fn load_key(client: &mut Client, key: &TpmKey) -> Result<u32> {
    match key {
        TpmKey::Persistent(h) => Ok(*h),
        TpmKey::File { path, key } => {
            let parent = if is_hierarchy(key.parent) {
                let name = hierarchy_name(key.parent);
                client
                    .create_primary(key.parent, &Public::storage_primary())
                    .map_err(|e| {
                        tpm_error(
                            &format!("cannot create the primary key of the {name} hierarchy (parent of {path})"),
                            e,
                        )
                        .hint("hierarchy passwords are not supported: the hierarchy must have an empty auth value")
                    })?
            } else {
                persistent(client, key.parent, "the parent key")?;
                key.parent
            };
            client
                .load(parent, &key.private, &key.public)
                .map_err(|e| tpm_error(&format!("cannot load the TPM key {path}"), e))
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
fn describe_public(public: &Public, what: &str) -> Result<(KeyType, Vec<u8>, Option<u16>)> {
    if public.attributes & attr::SIGN == 0 {
        return Err(Error::new(format!(
            "the TPM key {what} is not a signing key (its sign attribute is clear)"
        ))
        .hint(
            "create the key with tpm2_create -a 'sign|...' (the default attributes include sign)",
        ));
    }
    if public.attributes & attr::RESTRICTED != 0 {
        return Err(Error::new(format!(
            "the TPM key {what} is a restricted signing key, which cannot sign external data"
        ))
        .hint("use an unrestricted signing key"));
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
                _ => {
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: the RSA key {what} is not for RSASSA (PKCS#1 v1.5) signatures"
                    )))
                }
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
            let der = encode().map_err(|e| {
                Error::new(format!(
                    "the TPM key {what} has a malformed RSA public key: {e}"
                ))
            })?;
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
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: ECC curve 0x{other:04x} of {what}"
                    ))
                    .hint("use a NIST P-256, P-384 or P-521 key"))
                }
            };
            let fixed = match scheme.alg {
                alg::NULL => None,
                alg::ECDSA => Some(scheme.hash),
                _ => {
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: the ECC key {what} is not for ECDSA signatures"
                    )))
                }
            };
            let n = curve_bytes(curve);
            if x.len() > n || y.len() > n {
                return Err(Error::new(format!(
                    "the TPM key {what} has a malformed ECC public point"
                )));
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
            TpmKey::File { path, key } => Public::decode(&key.public)
                .map_err(|e| e.context(format!("invalid TPMv2 PUBLIC blob in {path}")))?,
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
                    return Err(Error::new(format!(
                        "the TPM key {what} only signs with RSASSA-{}, not {digest:?}",
                        alg::name(fixed)
                    ))
                    .hint("ask for the key's digest (sign-string --digest), or create the key without a fixed scheme")
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
                    .ok_or_else(|| {
                        Error::new(format!(
                            "the TPM key {what} fixes the ECDSA hash {}, which is not supported",
                            alg::name(hash)
                        ))
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
                return Err(Error::new("unsupported TPMv2 key type").into());
            }
        };
        if self.auth.len() > 64 {
            return Err(Error::new(format!(
                "the TPM key password for {what} is too long (at most 64 bytes)"
            ))
            .into());
        }

        let mut client = Client::open(&self.target)?;
        let key = load_key(&mut client, &self.key)?;
        let signature = client
            .sign(key, &self.auth, &hashed, scheme, hash)
            .map_err(|e| match e {
                Failure::Tpm(code) if code.is_bad_auth() => TpmFailure::BadAuth,
                e => {
                    TpmFailure::Other(tpm_error(&format!("the TPM could not sign with {what}"), e))
                }
            })?;
        drop(client);
        match (self.key_type, signature) {
            (KeyType::Rsa, Signature::RsaSsa { sig, .. }) => Ok(sig),
            (KeyType::Ec(curve), Signature::EcDsa { r, s, .. }) => {
                let n = curve_bytes(curve);
                if r.len() > n || s.len() > n {
                    return Err(Error::new("the TPM returned a malformed ECDSA signature").into());
                }
                let mut raw = Vec::with_capacity(2 * n);
                for part in [r, s] {
                    raw.extend(std::iter::repeat_n(0u8, n - part.len()));
                    raw.extend_from_slice(&part);
                }
                Ok(ecdsa_raw_to_der(curve, &raw)?)
            }
            _ => Err(Error::new("the TPM returned a signature of an unexpected type").into()),
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
        self.try_sign(message, digest).map_err(|f| match f {
            TpmFailure::BadAuth => Error::new(format!(
                "incorrect TPM key password for {}",
                self.key.describe()
            ))
            .hint(format!(
                "check --tpm-key-password (or {}); use --no-tpm-key-password for a key without one",
                super::PASSWORD_ENV
            )),
            TpmFailure::Other(e) => e,
        })
    }
}
