//! TPM 2.0 signing through `tss-esapi` (cargo feature `tpm`).
//!
//! The TPM is opened for every signature, not kept open: the signer then holds only
//! plain data (it must be `Send + Sync`, which an ESAPI context is not), a long-running
//! `update` survives a restart of the resource manager or of swtpm, and no transient object is
//! left in the TPM between signatures. The cost is one connection, and for key files one
//! `TPM2_Load` (plus a `TPM2_CreatePrimary` for hierarchy parents), per signature.
//!
//! Every object the context loads or creates is flushed when the context is dropped, on errors
//! too (`tss_esapi::Context`'s `Drop`). Authorisation is a password session; the key's auth
//! value lives in zeroizing memory and appears in no message.

use std::convert::TryFrom;
use std::str::FromStr;

use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
use tss_esapi::constants::tss::{TPM2_RH_NULL, TPM2_ST_HASHCHECK};
use tss_esapi::handles::{KeyHandle, ObjectHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Auth, Digest as TpmDigest, EccPoint, EccScheme, HashScheme, Private, Public, PublicBuilder,
    PublicEccParametersBuilder, RsaScheme, Signature, SignatureScheme, SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::traits::UnMarshall;
use tss_esapi::tss2_esys::TPMT_TK_HASHCHECK;
use tss_esapi::Context;
use zeroize::Zeroizing;

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

/// Names the TSS error (and what it is about), for messages.
fn tss(what: &str, e: tss_esapi::Error) -> Error {
    let kind = match e {
        tss_esapi::Error::Tss2Error(rc) => rc.kind(),
        tss_esapi::Error::WrapperError(_) => None,
    };
    let err = Error::new(format!("{what}: {e}"));
    match kind {
        Some(Tss2ResponseCodeKind::Lockout) => err.hint(
            "the TPM is in dictionary-attack lockout after wrong passwords; wait for it to recover or reset it with tpm2_dictionarylockout --clear-lockout",
        ),
        Some(Tss2ResponseCodeKind::Handle) | Some(Tss2ResponseCodeKind::Value) => err.hint(
            "check that the key (or its parent) is present in this TPM: tpm2_getcap handles-persistent",
        ),
        Some(Tss2ResponseCodeKind::Integrity) => err.hint(
            "the key file was not created under this parent (or this TPM); create it again with the TPM it is used on",
        ),
        _ => err,
    }
}

fn is_bad_auth(e: &tss_esapi::Error) -> bool {
    matches!(
        e,
        tss_esapi::Error::Tss2Error(rc)
            if matches!(rc.kind(), Some(Tss2ResponseCodeKind::AuthFail) | Some(Tss2ResponseCodeKind::BadAuth))
    )
}

/// Opens the TPM named by the TCTI configuration.
fn open(tcti: &str) -> Result<Context> {
    let conf = TctiNameConf::from_str(tcti).map_err(|e| {
        Error::new(format!("invalid TPM_DEVICE {tcti:?}: {e}"))
            .hint("set TPM_DEVICE to a device node (/dev/tpmrm0) or swtpm:host=127.0.0.1,port=2321")
    })?;
    if let Some(path) = tcti.strip_prefix("device:") {
        if !path.is_empty() && !std::path::Path::new(path).exists() {
            return Err(Error::new(format!("TPM device {path} does not exist")).hint(
                "check that this machine has a TPM (ls /dev/tpm*), or set TPM_DEVICE (e.g. swtpm:host=127.0.0.1,port=2321)",
            ));
        }
    }
    Context::new(conf).map_err(|e| {
        // TCTI failures (nothing listening, no permission) have no TPM response code text.
        let why = match e.to_string() {
            t if t == "response code not recognized" => {
                "it does not answer, or access is denied".to_string()
            }
            t => t,
        };
        Error::new(format!("cannot open the TPM ({tcti}): {why}")).hint(
            "check that the TPM exists and is readable (group tss), or set TPM_DEVICE (e.g. /dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321)",
        )
    })
}

/// The standard ECC P-256 storage primary template: AES-128-CFB,
/// fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt, SHA-256 names,
/// empty unique.
fn primary_template() -> std::result::Result<Public, tss_esapi::Error> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_no_da(true)
        .with_restricted(true)
        .with_decrypt(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(
            PublicEccParametersBuilder::new_restricted_decryption_key(
                SymmetricDefinitionObject::AES_128_CFB,
                EccCurve::NistP256,
            )
            .build()?,
        )
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
}

fn persistent(ctx: &mut Context, handle: u32, what: &str) -> Result<ObjectHandle> {
    let tpm_handle = TpmHandle::try_from(handle).map_err(|e| tss(what, e))?;
    ctx.execute_without_session(|c| c.tr_from_tpm_public(tpm_handle))
        .map_err(|e| {
            tss(&format!("cannot find {what} 0x{handle:08x} in the TPM"), e).hint(
                "list the persistent handles with tpm2_getcap handles-persistent (and check TPM_DEVICE)",
            )
        })
}

/// Makes the key usable in `ctx`: the persistent object, or the file's key loaded under its
/// parent. Objects are flushed when `ctx` is dropped.
fn load_key(ctx: &mut Context, key: &TpmKey) -> Result<KeyHandle> {
    match key {
        TpmKey::Persistent(h) => Ok(KeyHandle::from(persistent(ctx, *h, "the key")?)),
        TpmKey::File { path, key } => {
            let public = Public::unmarshall(&key.public)
                .map_err(|e| tss(&format!("invalid TPMv2 PUBLIC blob in {path}"), e))?;
            let private = Private::try_from(key.private.clone())
                .map_err(|e| tss(&format!("invalid TPMv2 PRIVATE blob in {path}"), e))?;
            let parent = match key.parent {
                0x4000_0001 | 0x4000_0007 | 0x4000_000b | 0x4000_000c => {
                    let hierarchy = match key.parent {
                        0x4000_0001 => Hierarchy::Owner,
                        0x4000_0007 => Hierarchy::Null,
                        0x4000_000b => Hierarchy::Endorsement,
                        _ => Hierarchy::Platform,
                    };
                    let template = primary_template()
                        .map_err(|e| tss("cannot build the primary key template", e))?;
                    ctx.execute_with_session(Some(AuthSession::Password), |c| {
                        c.create_primary(hierarchy, template, None, None, None, None)
                    })
                    .map_err(|e| {
                        tss(
                            &format!("cannot create the primary key of the {hierarchy:?} hierarchy (parent of {path})"),
                            e,
                        )
                        .hint("hierarchy passwords are not supported: the hierarchy must have an empty auth value")
                    })?
                    .key_handle
                }
                p => KeyHandle::from(persistent(ctx, p, "the parent key")?),
            };
            ctx.execute_with_session(Some(AuthSession::Password), |c| {
                c.load(parent, private, public)
            })
            .map_err(|e| tss(&format!("cannot load the TPM key {path}"), e))
        }
    }
}

/// A TPM key.
pub struct TpmSigner {
    tcti: String,
    key: TpmKey,
    auth: Zeroizing<Vec<u8>>,
    key_type: KeyType,
    public_key: Vec<u8>,
    /// The key's own signing scheme hash, when the key fixes one.
    fixed_hash: Option<HashingAlgorithm>,
}

impl std::fmt::Debug for TpmSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpmSigner")
            .field("tcti", &self.tcti)
            .field("key", &self.key.describe())
            .field("key_type", &self.key_type)
            .finish()
    }
}

/// The key type, its `subjectPublicKey` bits and fixed scheme hash, from a TPM public area.
fn describe_public(
    public: &Public,
    what: &str,
) -> Result<(KeyType, Vec<u8>, Option<HashingAlgorithm>)> {
    let attrs = public.object_attributes();
    if !attrs.sign_encrypt() {
        return Err(Error::new(format!(
            "the TPM key {what} is not a signing key (its sign attribute is clear)"
        ))
        .hint(
            "create the key with tpm2_create -a 'sign|...' (the default attributes include sign)",
        ));
    }
    if attrs.restricted() {
        return Err(Error::new(format!(
            "the TPM key {what} is a restricted signing key, which cannot sign external data"
        ))
        .hint("use an unrestricted signing key"));
    }
    match public {
        Public::Rsa {
            parameters, unique, ..
        } => {
            let fixed = match parameters.rsa_scheme() {
                RsaScheme::Null => None,
                RsaScheme::RsaSsa(h) => Some(h.hashing_algorithm()),
                _ => {
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: the RSA key {what} is not for RSASSA (PKCS#1 v1.5) signatures"
                    )))
                }
            };
            let exponent = match parameters.exponent().value() {
                0 => 65537u32,
                e => e,
            };
            let e_bytes = exponent.to_be_bytes();
            let encode = || -> std::result::Result<Vec<u8>, der::Error> {
                use der::Encode;
                pkcs1::RsaPublicKey {
                    modulus: der::asn1::UintRef::new(unique.value())?,
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
        Public::Ecc {
            parameters, unique, ..
        } => {
            let curve = match parameters.ecc_curve() {
                EccCurve::NistP256 => Curve::P256,
                EccCurve::NistP384 => Curve::P384,
                EccCurve::NistP521 => Curve::P521,
                other => {
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: ECC curve {other:?} of {what}"
                    ))
                    .hint("use a NIST P-256, P-384 or P-521 key"))
                }
            };
            let fixed = match parameters.ecc_scheme() {
                EccScheme::Null => None,
                EccScheme::EcDsa(h) => Some(h.hashing_algorithm()),
                _ => {
                    return Err(Error::new(format!(
                        "unsupported TPMv2 key type: the ECC key {what} is not for ECDSA signatures"
                    )))
                }
            };
            let n = curve_bytes(curve);
            let (x, y) = (unique.x().value(), unique.y().value());
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
        _ => Err(Error::new(format!(
            "unsupported TPMv2 key type: {what} is neither an RSA nor an ECC key"
        ))),
    }
}

fn hashing_algorithm(digest: Digest) -> HashingAlgorithm {
    match digest {
        Digest::Sha256 => HashingAlgorithm::Sha256,
        Digest::Sha384 => HashingAlgorithm::Sha384,
        Digest::Sha512 => HashingAlgorithm::Sha512,
    }
}

fn hash_len(alg: HashingAlgorithm) -> Option<usize> {
    match alg {
        HashingAlgorithm::Sha256 => Some(32),
        HashingAlgorithm::Sha384 => Some(48),
        HashingAlgorithm::Sha512 => Some(64),
        _ => None,
    }
}

impl TpmSigner {
    /// Reads the key's public area (from the TPM for persistent keys, from the file otherwise)
    /// and opens the TPM once to check that it is reachable.
    pub fn new(tcti: String, key: TpmKey, auth: Zeroizing<Vec<u8>>) -> Result<TpmSigner> {
        let what = key.describe();
        let public = match &key {
            TpmKey::Persistent(h) => {
                let mut ctx = open(&tcti)?;
                let handle = KeyHandle::from(persistent(&mut ctx, *h, "the key")?);
                ctx.execute_without_session(|c| c.read_public(handle))
                    .map_err(|e| tss(&format!("cannot read the public key of {what}"), e))?
                    .0
            }
            TpmKey::File { path, key } => Public::unmarshall(&key.public)
                .map_err(|e| tss(&format!("invalid TPMv2 PUBLIC blob in {path}"), e))?,
        };
        let (key_type, public_key, fixed_hash) = describe_public(&public, &what)?;
        Ok(TpmSigner {
            tcti,
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

    /// Signs `digest` (already hashed) with `scheme`; tells a wrong password apart.
    pub fn try_sign(
        &self,
        message: &[u8],
        digest: Digest,
    ) -> std::result::Result<Vec<u8>, TpmFailure> {
        let what = self.key.describe();
        let (hashed, scheme) = match self.key_type {
            KeyType::Rsa => {
                let alg = hashing_algorithm(digest);
                if let Some(fixed) = self.fixed_hash.filter(|f| *f != alg) {
                    return Err(Error::new(format!(
                        "the TPM key {what} only signs with RSASSA-{fixed:?}, not {digest:?}"
                    ))
                    .hint("ask for the key's digest (sign-string --digest), or create the key without a fixed scheme")
                    .into());
                }
                (
                    digest.hash(message),
                    SignatureScheme::RsaSsa {
                        hash_scheme: HashScheme::new(alg),
                    },
                )
            }
            KeyType::Ec(curve) => {
                // The digest is computed here and cut (or zero-extended on the left, which keeps
                // its value) to the size of the hash the TPM is told about, the one matching the
                // curve. P-521 gets SHA-512's 64 bytes: extending to 66 would change the value
                // ECDSA uses.
                let alg = self.fixed_hash.unwrap_or(match curve {
                    Curve::P256 => HashingAlgorithm::Sha256,
                    Curve::P384 => HashingAlgorithm::Sha384,
                    Curve::P521 => HashingAlgorithm::Sha512,
                });
                let size = hash_len(alg)
                    .ok_or_else(|| {
                        Error::new(format!(
                            "the TPM key {what} fixes the ECDSA hash {alg:?}, which is not supported"
                        ))
                    })?
                    .min(curve_bytes(curve));
                let mut hashed = digest.hash(message);
                hashed.truncate(size);
                while hashed.len() < size {
                    hashed.insert(0, 0);
                }
                (
                    hashed,
                    SignatureScheme::EcDsa {
                        hash_scheme: HashScheme::new(alg),
                    },
                )
            }
            KeyType::MlDsa(_) => {
                return Err(Error::new("unsupported TPMv2 key type").into());
            }
        };
        let tpm_digest =
            TpmDigest::try_from(hashed).map_err(|e| tss("cannot pass the digest to the TPM", e))?;
        let auth = Auth::try_from(self.auth.to_vec()).map_err(|_| {
            Error::new(format!(
                "the TPM key password for {what} is too long (at most 64 bytes)"
            ))
        })?;
        let validation = TPMT_TK_HASHCHECK {
            tag: TPM2_ST_HASHCHECK,
            hierarchy: TPM2_RH_NULL,
            digest: Default::default(),
        };
        let validation = validation
            .try_into()
            .map_err(|e| tss("cannot build the TPM hashcheck ticket", e))?;

        let mut ctx = open(&self.tcti)?;
        let key = load_key(&mut ctx, &self.key)?;
        ctx.tr_set_auth(key.into(), auth)
            .map_err(|e| tss("cannot set the TPM key password", e))?;
        let signature = ctx
            .execute_with_session(Some(AuthSession::Password), |c| {
                c.sign(key, tpm_digest, scheme, validation)
            })
            .map_err(|e| {
                if is_bad_auth(&e) {
                    TpmFailure::BadAuth
                } else {
                    TpmFailure::Other(tss(&format!("the TPM could not sign with {what}"), e))
                }
            })?;
        drop(ctx);
        match (self.key_type, signature) {
            (KeyType::Rsa, Signature::RsaSsa(s)) => Ok(s.signature().value().to_vec()),
            (KeyType::Ec(curve), Signature::EcDsa(s)) => {
                let n = curve_bytes(curve);
                let (r, s) = (s.signature_r().value(), s.signature_s().value());
                if r.len() > n || s.len() > n {
                    return Err(Error::new("the TPM returned a malformed ECDSA signature").into());
                }
                let mut raw = Vec::with_capacity(2 * n);
                for part in [r, s] {
                    raw.extend(std::iter::repeat_n(0u8, n - part.len()));
                    raw.extend_from_slice(part);
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
