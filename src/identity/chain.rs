//! Signature checks with a certificate's public key: "does this key match this certificate"
//! and "did this CA issue this certificate", for chains built from token certificates.

use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
use der::Encode;

use super::{Certificate, Curve, Digest, KeyType, MlDsaLevel};

/// Verifies `signature` over `message` with the certificate's key, as our signers produce them
/// (RSA PKCS#1 v1.5 / DER ECDSA over `digest(message)`, pure ML-DSA).
pub fn verify(cert: &Certificate, digest: Digest, message: &[u8], signature: &[u8]) -> bool {
    let Some(key_type) = cert.key_type() else {
        return false;
    };
    let alg: &'static dyn VerificationAlgorithm = match (key_type, digest) {
        (KeyType::Rsa, Digest::Sha256) => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        (KeyType::Rsa, Digest::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (KeyType::Rsa, Digest::Sha512) => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        (KeyType::Ec(Curve::P256), Digest::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (KeyType::Ec(Curve::P256), Digest::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
        (KeyType::Ec(Curve::P256), Digest::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (KeyType::MlDsa(MlDsaLevel::MlDsa44), _) => &sig::ML_DSA_44,
        (KeyType::MlDsa(MlDsaLevel::MlDsa65), _) => &sig::ML_DSA_65,
        (KeyType::MlDsa(MlDsaLevel::MlDsa87), _) => &sig::ML_DSA_87,
    };
    sig::UnparsedPublicKey::new(alg, cert.public_key())
        .verify(message, signature)
        .is_ok()
}

/// Whether `issuer` issued `child`: the issuer name equals the subject name and the issuer's key
/// verifies the child's signature.
pub fn is_issued_by(child: &Certificate, issuer: &Certificate) -> bool {
    let c = child.parsed();
    if c.tbs_certificate().issuer() != issuer.parsed().tbs_certificate().subject() {
        return false;
    }
    let Ok(tbs) = c.tbs_certificate().to_der() else {
        return false;
    };
    let Some(signature) = c.signature().as_bytes() else {
        return false;
    };
    let Some(digest) = digest_of_signature(&c.signature_algorithm().oid) else {
        // Other algorithms (SHA-1, PSS, …): we cannot check, so we do not claim the issuer.
        return false;
    };
    verify(issuer, digest, &tbs, signature)
}

/// The digest of a signature algorithm we can verify (RSA PKCS#1 v1.5 and ECDSA with SHA-2,
/// ML-DSA), `None` for others.
pub fn digest_of_signature(oid: &der::asn1::ObjectIdentifier) -> Option<Digest> {
    Some(match oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Digest::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Digest::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => Digest::Sha512,
        "2.16.840.1.101.3.4.3.17" | "2.16.840.1.101.3.4.3.18" | "2.16.840.1.101.3.4.3.19" => {
            Digest::Sha256
        }
        _ => return None,
    })
}

/// Whether the certificate is self-signed (a root).
pub fn is_self_signed(cert: &Certificate) -> bool {
    is_issued_by(cert, cert)
}

/// The chain of `leaf` from `pool`: each next certificate is the verified issuer of the previous
/// one; stops at a self-signed root (not included: the trust anchor holds it) or when no issuer
/// is found. Never includes the leaf or a certificate twice.
pub fn build(leaf: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut chain: Vec<Certificate> = Vec::new();
    let mut current = leaf.clone();
    while chain.len() < 8 {
        let Some(next) = pool.iter().find(|c| {
            *c != leaf && !chain.contains(c) && *c != &current && is_issued_by(&current, c)
        }) else {
            break;
        };
        if is_self_signed(next) {
            break;
        }
        chain.push(next.clone());
        current = next.clone();
    }
    chain
}

/// Adds the `--intermediates` certificates to an identity's chain, for every key source alike:
/// the file may hold only `CERTIFICATE` blocks (or be one DER certificate), and a certificate
/// already present (the leaf, or one from the certificate file or token) is not sent twice.
pub fn append_intermediates(
    leaf: Option<&Certificate>,
    chain: &mut Vec<Certificate>,
    path: &std::path::Path,
) -> crate::error::Result<()> {
    for cert in super::file::load_intermediates(path)? {
        if Some(&cert) != leaf && !chain.contains(&cert) {
            chain.push(cert);
        }
    }
    Ok(())
}

/// A CA certificate given as the client certificate is refused before any request, as
/// `doctor` reports it (the service answers only "Untrusted certificate").
pub fn refuse_ca_as_leaf(cert: &Certificate, cert_file: &str) -> crate::error::Result<()> {
    if cert.is_ca() {
        return Err(super::FileError::CaAsLeaf {
            cert: cert_file.to_string(),
        }
        .into());
    }
    Ok(())
}
