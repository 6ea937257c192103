//! An X.509 certificate as we use it: its DER bytes plus the few fields we read.

use der::{Decode, Encode};
use jiff::Timestamp;

use super::{Curve, KeyType, MlDsaLevel};

/// Object identifiers of the key types we know.
pub mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
    pub const ML_DSA_44: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.17");
    pub const ML_DSA_65: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.18");
    pub const ML_DSA_87: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.19");
}

/// Maps an SPKI / PKCS#8 algorithm identifier to a key type.
pub fn key_type_of(alg: &spki::AlgorithmIdentifierOwned) -> Option<KeyType> {
    match alg.oid {
        oid::RSA_ENCRYPTION => Some(KeyType::Rsa),
        oid::EC_PUBLIC_KEY => {
            let curve = alg
                .parameters
                .as_ref()?
                .decode_as::<der::asn1::ObjectIdentifier>()
                .ok()?;
            match curve {
                oid::SECP256R1 => Some(KeyType::Ec(Curve::P256)),
                oid::SECP384R1 => Some(KeyType::Ec(Curve::P384)),
                oid::SECP521R1 => Some(KeyType::Ec(Curve::P521)),
                _ => None,
            }
        }
        oid::ML_DSA_44 => Some(KeyType::MlDsa(MlDsaLevel::MlDsa44)),
        oid::ML_DSA_65 => Some(KeyType::MlDsa(MlDsaLevel::MlDsa65)),
        oid::ML_DSA_87 => Some(KeyType::MlDsa(MlDsaLevel::MlDsa87)),
        _ => None,
    }
}

/// A parsed X.509 certificate and its DER encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("serial", &self.serial_decimal())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

/// Why bytes are not a DER certificate.
#[derive(Debug, Clone)]
pub struct CertificateError(der::Error);

impl std::fmt::Display for CertificateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not parse certificate: {}", self.0)
    }
}

impl std::error::Error for CertificateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl CertificateError {
    /// Nothing to add to the parser's reason.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

crate::error::typed_error!(CertificateError);

impl Certificate {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> std::result::Result<Self, CertificateError> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(CertificateError)?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Whether basicConstraints says CA:TRUE (a CA certificate, refused as a client certificate
    /// by the service).
    pub fn is_ca(&self) -> bool {
        matches!(
            self.parsed
                .tbs_certificate()
                .get_extension::<x509_cert::ext::pkix::BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        )
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn parsed(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// Standard base64 of the DER (the `X-Amz-X509` header value).
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// The serial number's big-endian magnitude bytes (leading zero bytes removed).
    pub fn serial_bytes(&self) -> &[u8] {
        let bytes = self.parsed.tbs_certificate().serial_number().as_bytes();
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    }

    /// The serial number in decimal, as used in `Credential=` and `serialNumber`.
    pub fn serial_decimal(&self) -> String {
        decimal_from_be_bytes(self.serial_bytes())
    }

    /// The serial number in upper-case hex without leading zeros.
    pub fn serial_hex_upper(&self) -> String {
        let hex = hex::encode_upper(self.serial_bytes());
        let trimmed = hex.trim_start_matches('0');
        if trimmed.is_empty() {
            "0".to_string()
        } else {
            trimmed.to_string()
        }
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.parsed.tbs_certificate().issuer().to_string()
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> Timestamp {
        to_timestamp(&self.parsed.tbs_certificate().validity().not_before)
    }

    /// End of the validity period.
    pub fn not_after(&self) -> Timestamp {
        to_timestamp(&self.parsed.tbs_certificate().validity().not_after)
    }

    /// The key type of the certificate's public key, if we know it.
    pub fn key_type(&self) -> Option<KeyType> {
        key_type_of(
            &self
                .parsed
                .tbs_certificate()
                .subject_public_key_info()
                .algorithm,
        )
    }

    /// The contents of the `subjectPublicKey` BIT STRING.
    pub fn public_key(&self) -> &[u8] {
        self.parsed
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }

    /// The DER of the whole `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> Vec<u8> {
        // Encoding a structure we just decoded cannot fail; fall back to empty to stay panic-free.
        self.parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap_or_default()
    }

    /// Whether `now` lies within the validity period.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.not_before() <= now && now <= self.not_after()
    }
}

fn to_timestamp(t: &x509_cert::time::Time) -> Timestamp {
    let secs = t.to_unix_duration().as_secs();
    Timestamp::from_second(i64::try_from(secs).unwrap_or(i64::MAX)).unwrap_or(Timestamp::MAX)
}

/// Converts a big-endian unsigned integer to decimal text.
pub fn decimal_from_be_bytes(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = Vec::new(); // little-endian base-10 digits
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return "0".to_string();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_conversion() {
        assert_eq!(decimal_from_be_bytes(&[]), "0");
        assert_eq!(
            decimal_from_be_bytes(&[0x07, 0x5b, 0xcd, 0x15]),
            "123456789"
        );
        assert_eq!(
            decimal_from_be_bytes(&[0x15, 0xD1, 0x96, 0x32, 0x23, 0x4B, 0xF7, 0x59, 0xA3, 0x28]),
            u128::from_str_radix("15D19632234BF759A328", 16)
                .unwrap()
                .to_string()
        );
    }
}
