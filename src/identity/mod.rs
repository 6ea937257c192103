//! Who we are to Roles Anywhere: a leaf certificate, its chain, and a signer holding the key.
//!
//! Key sources (files, PKCS#11 tokens, TPM 2.0) each produce an [`Identity`]. Everything
//! downstream (SigV4-X509 signing, `sign-string`) talks to the [`Signer`] trait only.

pub(crate) mod certificate;
pub mod chain;
pub mod file;
pub mod file_error;
pub mod keys;
pub mod mldsa;
pub mod pem;
pub mod pkcs11;
pub mod pkcs12;
pub(crate) mod remembered;
pub(crate) mod rsa;
pub mod selector;
pub mod source;
pub(crate) mod spec;
pub mod tpm;

pub use certificate::Certificate;
pub use file_error::FileError;
pub use spec::KeySpec;

use crate::error::Result;

/// The digest a caller asks for. Roles Anywhere always uses SHA-256; `sign-string` may ask for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    #[default]
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    /// Hashes `data` with this digest.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Digest::Sha256 => &aws_lc_rs::digest::SHA256,
            Digest::Sha384 => &aws_lc_rs::digest::SHA384,
            Digest::Sha512 => &aws_lc_rs::digest::SHA512,
        };
        aws_lc_rs::digest::digest(alg, data).as_ref().to_vec()
    }
}

/// Elliptic curves we sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

/// ML-DSA parameter sets (FIPS 204).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlDsaLevel {
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl MlDsaLevel {
    /// `ML-DSA-44`, `ML-DSA-65` or `ML-DSA-87`.
    pub fn name(self) -> &'static str {
        match self {
            MlDsaLevel::MlDsa44 => "ML-DSA-44",
            MlDsaLevel::MlDsa65 => "ML-DSA-65",
            MlDsaLevel::MlDsa87 => "ML-DSA-87",
        }
    }
}

/// The type of a key, which decides the SigV4-X509 algorithm name and the signature encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    Ec(Curve),
    MlDsa(MlDsaLevel),
}

impl KeyType {
    /// The `Authorization` algorithm name Roles Anywhere expects for this key type.
    pub fn sigv4_algorithm(self) -> &'static str {
        match self {
            KeyType::Rsa => "AWS4-X509-RSA-SHA256",
            KeyType::Ec(_) => "AWS4-X509-ECDSA-SHA256",
            KeyType::MlDsa(_) => "AWS4-X509-MLDSA",
        }
    }
}

/// Something that can sign with a private key it holds (a file key, a token, a TPM).
pub trait Signer: Send + Sync {
    /// The key's type.
    fn key_type(&self) -> KeyType;

    /// The contents of the public key's `subjectPublicKey` BIT STRING: PKCS#1 `RSAPublicKey` DER
    /// for RSA, the uncompressed point `04‖X‖Y` for EC, the raw public key for ML-DSA.
    /// `None` when the source cannot tell (e.g. a token key without a certificate).
    fn public_key(&self) -> Option<Vec<u8>>;

    /// Signs `message`. RSA: PKCS#1 v1.5 over `digest(message)`. EC: ECDSA over `digest(message)`,
    /// DER-encoded. ML-DSA: pure ML-DSA over `message` itself (the digest is ignored).
    fn sign(&self, message: &[u8], digest: Digest) -> Result<Vec<u8>>;
}

/// A certificate, its chain, and the signer for its key.
pub struct Identity {
    /// The leaf certificate (sent as `X-Amz-X509`).
    pub certificate: Option<Certificate>,
    /// The chain certificates in the order they are sent (`X-Amz-X509-Chain`), DER each.
    pub chain: Vec<Certificate>,
    /// Signs with the private key.
    pub signer: Box<dyn Signer>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certificate", &self.certificate)
            .field("chain", &self.chain)
            .field("key_type", &self.signer.key_type())
            .finish()
    }
}
