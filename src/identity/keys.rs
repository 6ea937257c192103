//! Software signers built from private-key DER (PKCS#8, SEC1, PKCS#1) and PKCS#8 decryption.
//!
//! Errors here do not name a file: the caller (see `file.rs`) knows which file it read and turns a
//! [`KeyProblem`] into a one-line message.

use der::asn1::{AnyRef, ObjectIdentifier as Oid};
use der::{Decode, Tagged};
use ecdsa::signature::hazmat::PrehashSigner;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use zeroize::Zeroizing;

use super::certificate::{key_type_of, oid};
use super::{Curve, Digest, KeyType, MlDsaLevel, Signer};
use crate::error::{Error, Result};

/// Why a private key could not be turned into a signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The key is well-formed but of a type we cannot sign with (the text names the type).
    Unsupported(String),
    /// The bytes are not a key we can read (the text says what is wrong, never the key bytes).
    Invalid(String),
}

impl std::fmt::Display for KeyProblem {
    /// The message without a file name: `unsupported algorithm: …` / `unable to parse private key: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::Unsupported(what) => write!(f, "unsupported algorithm: {what}"),
            KeyProblem::Invalid(why) => write!(f, "unable to parse private key: {why}"),
        }
    }
}

impl std::error::Error for KeyProblem {}

impl KeyProblem {
    /// What to do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KeyProblem::Unsupported(_) => Some("use an RSA, ECDSA P-256/P-384/P-521 or ML-DSA key"),
            KeyProblem::Invalid(_) => None,
        }
    }

    /// The error shown to the user.
    pub fn into_error(self) -> Error {
        self.into()
    }
}

crate::error::typed_error!(KeyProblem, KeyError);

/// Why a software key could not sign, or an ML-DSA key could not be made.
#[derive(Debug)]
pub enum KeyError {
    /// The `alg` (ECDSA, ML-DSA-65, …) signature computation failed.
    SignFailed { alg: &'static str },
    /// The RSA key's parts do not belong together.
    RsaInconsistent,
    /// The `level` seed is not one (`why`).
    Seed { level: &'static str, why: String },
    /// The `level` key could not be expanded from its seed.
    Expand { level: &'static str },
    /// The ML-DSA private key does not encode.
    Encode(der::Error),
}

impl KeyError {
    /// What to do about it, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KeyError::RsaInconsistent => {
                Some("regenerate or re-export the key; it does not match itself")
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::SignFailed { alg } => write!(f, "{alg} signing failed"),
            KeyError::RsaInconsistent => f.write_str(
                "RSA signing failed: the private key is inconsistent (its parts do not belong together)",
            ),
            KeyError::Seed { level, why } => write!(f, "invalid {level} seed ({why})"),
            KeyError::Expand { level } => write!(f, "cannot expand the {level} key"),
            KeyError::Encode(e) => write!(f, "cannot encode the ML-DSA private key: {e}"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

type KeyResult<T> = std::result::Result<T, KeyProblem>;

/// Builds a signer from an unencrypted PKCS#8 `PrivateKeyInfo`.
pub fn signer_from_pkcs8_der(der: &[u8]) -> Result<Box<dyn Signer>> {
    from_pkcs8(der).map_err(KeyProblem::into_error)
}

/// Whether `der` is structurally a PKCS#8 `PrivateKeyInfo` (whatever its algorithm).
pub fn is_pkcs8(der: &[u8]) -> bool {
    PrivateKeyInfoRef::from_der(der).is_ok()
}

/// Whether `der` is structurally an `EncryptedPrivateKeyInfo` (whatever its scheme).
pub fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    // A scheme the pkcs5 crate does not know fails to decode; fall back to the outer shape.
    EncryptedPrivateKeyInfoRef::from_der(der).is_ok() || encrypted_shape(der)
}

/// `SEQUENCE { SEQUENCE { OID, … }, OCTET STRING }`: the outer shape of `EncryptedPrivateKeyInfo`.
fn encrypted_shape(der: &[u8]) -> bool {
    let Ok(outer) = AnyRef::from_der(der) else {
        return false;
    };
    if outer.tag() != der::Tag::Sequence {
        return false;
    }
    let Ok(mut reader) = der::SliceReader::new(outer.value()) else {
        return false;
    };
    use der::Reader;
    let alg: der::Result<AnyRef<'_>> = reader.decode();
    let data: der::Result<AnyRef<'_>> = reader.decode();
    match (alg, data) {
        (Ok(alg), Ok(data)) => {
            alg.tag() == der::Tag::Sequence
                && data.tag() == der::Tag::OctetString
                && reader.is_finished()
        }
        _ => false,
    }
}

/// Builds a signer from PKCS#8 DER: RSA, EC (named P-256/P-384/P-521) or ML-DSA.
pub fn from_pkcs8(der: &[u8]) -> KeyResult<Box<dyn Signer>> {
    let info = PrivateKeyInfoRef::from_der(der)
        .map_err(|e| KeyProblem::Invalid(format!("not a PKCS#8 PrivateKeyInfo ({e})")))?;
    let alg = spki::AlgorithmIdentifierOwned {
        oid: info.algorithm.oid,
        parameters: info.algorithm.parameters.map(der::Any::from),
    };
    match key_type_of(&alg) {
        Some(KeyType::Rsa) => rsa_from_pkcs8(der),
        Some(KeyType::Ec(curve)) => ec_from_sec1(info.private_key.as_bytes(), Some(curve)),
        Some(KeyType::MlDsa(level)) => mldsa_from_pkcs8(der, level),
        None if alg.oid == oid::EC_PUBLIC_KEY => Err(KeyProblem::Unsupported(ec_params_name(
            info.algorithm.parameters,
        ))),
        None => Err(KeyProblem::Unsupported(format!(
            "{} key",
            algorithm_name(&alg.oid)
        ))),
    }
}

/// Builds a signer from SEC1 `ECPrivateKey` DER (`EC PRIVATE KEY`).
pub fn from_sec1(der: &[u8]) -> KeyResult<Box<dyn Signer>> {
    ec_from_sec1(der, None)
}

/// Builds a signer from PKCS#1 `RSAPrivateKey` DER (`RSA PRIVATE KEY`).
pub fn from_pkcs1(der: &[u8]) -> KeyResult<Box<dyn Signer>> {
    super::rsa::RsaKey::from_pkcs1_der(der).map(|k| Box::new(k) as Box<dyn Signer>)
}

fn rsa_from_pkcs8(der: &[u8]) -> KeyResult<Box<dyn Signer>> {
    let info = PrivateKeyInfoRef::from_der(der)
        .map_err(|e| KeyProblem::Invalid(format!("not a PKCS#8 PrivateKeyInfo ({e})")))?;
    from_pkcs1(info.private_key.as_bytes())
}

fn mldsa_from_pkcs8(der: &[u8], level: MlDsaLevel) -> KeyResult<Box<dyn Signer>> {
    let key = super::mldsa::MlDsaKey::from_pkcs8(level, der).map_err(|e| {
        KeyProblem::Invalid(format!(
            "invalid {} key ({e}); seed, expanded and seed+expanded encodings are accepted",
            level.name(),
        ))
    })?;
    Ok(Box::new(MlDsaSigner { key }))
}

/// Parses SEC1 `ECPrivateKey`; `curve` comes from the PKCS#8 algorithm parameters if any.
fn ec_from_sec1(der: &[u8], curve: Option<Curve>) -> KeyResult<Box<dyn Signer>> {
    let key = sec1::EcPrivateKey::from_der(der)
        .map_err(|e| KeyProblem::Invalid(format!("not an EC private key ({e})")))?;
    let inner_curve = match key.parameters.and_then(|p| p.named_curve()) {
        None => None,
        Some(o) => Some(curve_of(&o).ok_or_else(|| {
            KeyProblem::Unsupported(format!("EC key on curve {}", curve_name(&o)))
        })?),
    };
    let curve = match (curve, inner_curve) {
        (Some(a), Some(b)) if a != b => {
            return Err(KeyProblem::Invalid(
                "the curve in the PKCS#8 header differs from the one in the EC key".into(),
            ))
        }
        (Some(c), _) | (None, Some(c)) => c,
        // No named curve anywhere: the scalar length tells the curve (32, 48 or 66 bytes).
        (None, None) => match key.private_key.len() {
            32 => Curve::P256,
            48 => Curve::P384,
            66 => Curve::P521,
            _ => {
                return Err(KeyProblem::Unsupported(
                    "EC key without a named curve".into(),
                ))
            }
        },
    };
    let signer = EcSigner::new(curve, key.private_key)?;
    if let Some(public) = key.public_key {
        if !same_ec_point(curve, public, &signer.public_point()) {
            return Err(KeyProblem::Invalid(
                "the EC public key stored with the private key does not match it".into(),
            ));
        }
    }
    Ok(Box::new(signer))
}

fn curve_of(o: &Oid) -> Option<Curve> {
    match *o {
        oid::SECP256R1 => Some(Curve::P256),
        oid::SECP384R1 => Some(Curve::P384),
        oid::SECP521R1 => Some(Curve::P521),
        _ => None,
    }
}

fn curve_name(o: &Oid) -> String {
    match o.to_string().as_str() {
        "1.3.132.0.10" => "secp256k1".into(),
        "1.2.840.10045.3.1.1" => "P-192".into(),
        "1.3.132.0.33" => "P-224".into(),
        s if s.starts_with("1.3.36.3.3.2.8.1.1.") => format!("brainpool ({s})"),
        s => s.to_string(),
    }
}

fn ec_params_name(params: Option<AnyRef<'_>>) -> String {
    match params.map(|p| p.decode_as::<Oid>()) {
        Some(Ok(o)) => format!("EC key on curve {}", curve_name(&o)),
        _ => "EC key with explicit curve parameters".into(),
    }
}

/// A readable name for a PKCS#8 algorithm OID we do not sign with.
fn algorithm_name(o: &Oid) -> String {
    let s = o.to_string();
    let name = match s.as_str() {
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.3.1" | "1.2.840.10046.2.1" => "Diffie-Hellman",
        "1.2.156.10197.1.301" => "SM2",
        s if s.starts_with("2.16.840.1.101.3.4.3.") => "SLH-DSA",
        s if s.starts_with("2.16.840.1.101.3.4.4.") => "ML-KEM",
        _ => return format!("algorithm {s}"),
    };
    name.to_string()
}

/// Whether two SEC1 encodings (compressed or not) denote the same point on `curve`.
pub fn same_ec_point(curve: Curve, a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    match (uncompressed(curve, a), uncompressed(curve, b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The uncompressed `04‖X‖Y` form of a SEC1 point, or `None` if it is not a point on `curve`.
pub fn uncompressed(curve: Curve, point: &[u8]) -> Option<Vec<u8>> {
    match curve {
        Curve::P256 => ecdsa::VerifyingKey::<p256::NistP256>::from_sec1_bytes(point)
            .ok()
            .map(|k| k.to_sec1_point(false).as_bytes().to_vec()),
        Curve::P384 => ecdsa::VerifyingKey::<p384::NistP384>::from_sec1_bytes(point)
            .ok()
            .map(|k| k.to_sec1_point(false).as_bytes().to_vec()),
        Curve::P521 => ecdsa::VerifyingKey::<p521::NistP521>::from_sec1_bytes(point)
            .ok()
            .map(|k| k.to_sec1_point(false).as_bytes().to_vec()),
    }
}

/// RSA PKCS#1 v1.5 via aws-lc-rs.
/// ECDSA over a prehash, via the RustCrypto curve crates (any digest on any curve).
enum EcSigner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl EcSigner {
    fn new(curve: Curve, scalar: &[u8]) -> KeyResult<Self> {
        let bad = |_| KeyProblem::Invalid("invalid EC private key scalar".into());
        Ok(match curve {
            Curve::P256 => {
                EcSigner::P256(p256::ecdsa::SigningKey::from_slice(scalar).map_err(bad)?)
            }
            Curve::P384 => {
                EcSigner::P384(p384::ecdsa::SigningKey::from_slice(scalar).map_err(bad)?)
            }
            Curve::P521 => {
                EcSigner::P521(p521::ecdsa::SigningKey::from_slice(scalar).map_err(bad)?)
            }
        })
    }

    fn public_point(&self) -> Vec<u8> {
        match self {
            EcSigner::P256(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            EcSigner::P384(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            EcSigner::P521(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }
}

impl Signer for EcSigner {
    fn key_type(&self) -> KeyType {
        KeyType::Ec(match self {
            EcSigner::P256(_) => Curve::P256,
            EcSigner::P384(_) => Curve::P384,
            EcSigner::P521(_) => Curve::P521,
        })
    }

    fn public_key(&self) -> Option<Vec<u8>> {
        Some(self.public_point())
    }

    fn sign(&self, message: &[u8], digest: Digest) -> Result<Vec<u8>> {
        let prehash = digest.hash(message);
        let fail = |_| KeyError::SignFailed { alg: "ECDSA" };
        Ok(match self {
            EcSigner::P256(k) => {
                let sig: p256::ecdsa::DerSignature = k.sign_prehash(&prehash).map_err(fail)?;
                sig.as_bytes().to_vec()
            }
            EcSigner::P384(k) => {
                let sig: p384::ecdsa::DerSignature = k.sign_prehash(&prehash).map_err(fail)?;
                sig.as_bytes().to_vec()
            }
            EcSigner::P521(k) => {
                let sig: p521::ecdsa::DerSignature = k.sign_prehash(&prehash).map_err(fail)?;
                sig.as_bytes().to_vec()
            }
        })
    }
}

/// Pure ML-DSA, deterministic as the official tool signs (the digest is ignored).
struct MlDsaSigner {
    key: super::mldsa::MlDsaKey,
}

impl Signer for MlDsaSigner {
    fn key_type(&self) -> KeyType {
        KeyType::MlDsa(self.key.level())
    }

    fn public_key(&self) -> Option<Vec<u8>> {
        Some(self.key.public_key().to_vec())
    }

    fn sign(&self, message: &[u8], _digest: Digest) -> Result<Vec<u8>> {
        self.key.sign(message)
    }
}

/// Why an `EncryptedPrivateKeyInfo` could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecryptProblem {
    /// Decryption failed or gave something that is not DER: the password is wrong.
    WrongPassword,
    /// The encryption scheme is not one we implement (text names it).
    Unsupported(String),
    /// The structure itself is broken.
    Malformed(String),
}

/// Decrypts an `EncryptedPrivateKeyInfo` (PBES2: PBKDF2 or scrypt, AES-CBC) to PKCS#8 DER.
pub fn decrypt_pkcs8(
    der: &[u8],
    password: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, DecryptProblem> {
    check_encrypted_pkcs8(der)?;
    let info = EncryptedPrivateKeyInfoRef::from_der(der)
        .map_err(|e| DecryptProblem::Malformed(e.to_string()))?;
    let plain = info
        .encryption_algorithm
        .decrypt(password, info.encrypted_data.as_bytes())
        .map_err(|e| match e {
            pkcs8::pkcs5::Error::DecryptFailed => DecryptProblem::WrongPassword,
            other => unsupported_scheme(&other.to_string()),
        })?;
    let plain = Zeroizing::new(plain);
    // A wrong password that happens to leave valid padding yields garbage, not a PKCS#8 structure.
    if !is_pkcs8(&plain) {
        return Err(DecryptProblem::WrongPassword);
    }
    Ok(plain)
}

/// Checks, without a password, that an `EncryptedPrivateKeyInfo` uses a scheme we can decrypt.
pub fn check_encrypted_pkcs8(der: &[u8]) -> std::result::Result<(), DecryptProblem> {
    let info = EncryptedPrivateKeyInfoRef::from_der(der).map_err(|e| {
        if encrypted_shape(der) {
            unsupported_scheme(&e.to_string())
        } else {
            DecryptProblem::Malformed(format!("not an encrypted PKCS#8 key ({e})"))
        }
    })?;
    match info.encryption_algorithm {
        pkcs8::pkcs5::EncryptionScheme::Pbes2(params) => check_kdf_cost(&params.kdf),
        _ => Err(unsupported_scheme("legacy PBES1")),
    }
}

/// The most scrypt work a key file may ask for, as 128·N·r·p bytes: the memory of one lane times
/// the lanes, which run one after the other. OpenSSL writes 16 MiB and by default refuses to
/// decrypt above 32 MiB; 1 GiB took about 7 s on a 2-core machine, so the limit is 256 MiB.
const MAX_SCRYPT_WORK: u64 = 256 << 20;

/// The most PBKDF2 iterations a key file may ask for. OpenSSL writes 2048 and the p12-keystore
/// crate refuses more than this for PKCS#12 too; a million SHA-1 iterations already take about
/// half a second, and the field allows four billion.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// Refuses KDF parameters that would take unbounded memory or time: a key file is input too.
fn check_kdf_cost(kdf: &pkcs8::pkcs5::pbes2::Kdf) -> std::result::Result<(), DecryptProblem> {
    if let pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(p) = kdf {
        if p.iteration_count > MAX_PBKDF2_ITERATIONS {
            return Err(DecryptProblem::Unsupported(format!(
                "the key's PBKDF2 iteration count {} is above the limit of {MAX_PBKDF2_ITERATIONS}; re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc",
                p.iteration_count
            )));
        }
    }
    if let pkcs8::pkcs5::pbes2::Kdf::Scrypt(p) = kdf {
        // RFC 7914: N is a power of two above 1. pkcs5 0.8.1 panics on N = 0 instead of
        // returning an error, so this must be refused before decrypting.
        if p.cost_parameter < 2 || !p.cost_parameter.is_power_of_two() {
            return Err(DecryptProblem::Malformed(format!(
                "the key's scrypt cost parameter N={} is not a power of two above 1",
                p.cost_parameter
            )));
        }
        let memory = 128u64
            .saturating_mul(p.cost_parameter)
            .saturating_mul(u64::from(p.block_size));
        let work = memory.saturating_mul(u64::from(p.parallelization));
        if work > MAX_SCRYPT_WORK || p.parallelization > 16 {
            return Err(DecryptProblem::Unsupported(format!(
                "the key's scrypt parameters (N={}, r={}, p={}) would need {} MiB of memory {} times over, above the limit of {} MiB in all; re-encrypt it with openssl pkcs8 -topk8 -scrypt",
                p.cost_parameter,
                p.block_size,
                p.parallelization,
                memory >> 20,
                p.parallelization,
                MAX_SCRYPT_WORK >> 20
            )));
        }
    }
    Ok(())
}

fn unsupported_scheme(why: &str) -> DecryptProblem {
    DecryptProblem::Unsupported(format!(
        "the key encryption scheme is not supported ({why}); re-encrypt it with PBES2: openssl pkcs8 -topk8 -v2 aes-256-cbc"
    ))
}

#[cfg(test)]
mod kdf_cost_tests {
    use super::*;
    use der::{Decode, Encode};
    use pkcs8::pkcs5::{pbes2::Kdf, EncryptionScheme};
    use pkcs8::EncryptedPrivateKeyInfoOwned;

    /// A P-256 key made by the openssl CLI and encrypted with `pkcs8 -topk8 ARGS` (password
    /// `pw`), as DER.
    fn openssl_encrypted(args: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let ok = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        };
        run(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "k.pem",
        ]);
        let mut all = vec!["pkcs8", "-topk8"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "-in", "k.pem", "-outform", "DER", "-out", "k.der", "-passout", "pass:pw",
        ]);
        run(&all);
        std::fs::read(dir.path().join("k.der")).unwrap()
    }

    /// A real scrypt-encrypted key (openssl CLI), with N raised in its parameters afterwards.
    #[test]
    fn scrypt_parameters_that_need_too_much_memory_are_refused() {
        let der = openssl_encrypted(&["-scrypt"]);
        assert!(
            check_encrypted_pkcs8(&der).is_ok(),
            "OpenSSL's own parameters are fine"
        );
        let mut info = EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
        let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else {
            panic!("not PBES2")
        };
        let Kdf::Scrypt(scrypt) = &mut params.kdf else {
            panic!("not scrypt")
        };
        scrypt.cost_parameter = 1 << 24;
        let hostile = info.to_der().unwrap();
        match check_encrypted_pkcs8(&hostile) {
            Err(DecryptProblem::Unsupported(msg)) => assert!(msg.contains("MiB"), "{msg}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(matches!(
            decrypt_pkcs8(&hostile, b"pw"),
            Err(DecryptProblem::Unsupported(_))
        ));
        // The lanes multiply the time: 16 lanes of 128 MiB are refused, 2 of 128 MiB are not.
        let with = |n: u64, r: u16, p: u16| {
            let mut info = EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
            let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else {
                panic!("not PBES2")
            };
            let Kdf::Scrypt(scrypt) = &mut params.kdf else {
                panic!("not scrypt")
            };
            (
                scrypt.cost_parameter,
                scrypt.block_size,
                scrypt.parallelization,
            ) = (n, r, p);
            info.to_der().unwrap()
        };
        assert!(check_encrypted_pkcs8(&with(1 << 17, 8, 2)).is_ok());
        assert!(check_encrypted_pkcs8(&with(1 << 17, 8, 16)).is_err());
        assert!(check_encrypted_pkcs8(&with(1 << 20, 8, 1)).is_err());
        // Found by the encrypted_pkcs8 fuzzer: N = 0 made pkcs5 panic inside decryption.
        for n in [0, 1, 3, (1 << 12) + 1] {
            assert!(
                matches!(
                    decrypt_pkcs8(&with(n, 8, 1), b"pw"),
                    Err(DecryptProblem::Malformed(_))
                ),
                "N={n}"
            );
        }
    }

    /// A PBKDF2 key whose iteration count is raised far above the limit is refused at once
    /// instead of spending tens of seconds in the KDF.
    #[test]
    fn pbkdf2_iteration_counts_above_the_limit_are_refused() {
        let der = openssl_encrypted(&["-v2", "aes-256-cbc", "-iter", "2048"]);
        assert!(decrypt_pkcs8(&der, b"pw").is_ok());
        let with_count = |n: u32| {
            let mut info = EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
            let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else {
                panic!("not PBES2")
            };
            let Kdf::Pbkdf2(pbkdf2) = &mut params.kdf else {
                panic!("not PBKDF2")
            };
            pbkdf2.iteration_count = n;
            info.to_der().unwrap()
        };
        // At the limit the parameters are accepted (the password check itself is not run here).
        assert!(check_encrypted_pkcs8(&with_count(MAX_PBKDF2_ITERATIONS)).is_ok());
        let hostile = with_count(50 * MAX_PBKDF2_ITERATIONS);
        let started = std::time::Instant::now();
        match decrypt_pkcs8(&hostile, b"pw") {
            Err(DecryptProblem::Unsupported(msg)) => assert!(msg.contains("iteration"), "{msg}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
