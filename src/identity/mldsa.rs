//! ML-DSA keys: the PKCS#8 form we write, and deterministic signing.
//!
//! An ML-DSA PKCS#8 `privateKey` (draft-ietf-lamps-dilithium-certificates) is a CHOICE of
//! `seed [0] IMPLICIT OCTET STRING` (32 bytes), `expandedKey OCTET STRING`, or
//! `both SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING }`. We read all three (aws-lc
//! parses them and checks that a seed and an expanded key agree) and write `both`: what
//! OpenSSL 3.5 writes by default, and the only form the official tool reads (it regenerates the
//! key from the seed).
//!
//! Signatures are deterministic (FIPS 204 ML-DSA.Sign with `rnd` = 32 zero bytes), as the
//! official tool's are (circl `SignTo(…, randomized=false, …)` in mldsa_utils.go). aws-lc-rs
//! signs only hedged, so this file calls aws-lc's exported `ml_dsa_*_sign_internal`; all the
//! crate's ML-DSA `unsafe` is here.

use aws_lc_rs::encoding::AsRawBytes;
use aws_lc_rs::signature::{self as lc, KeyPair as _};
use der::asn1::OctetStringRef;
use der::{Encode, Header, Tag};
use zeroize::Zeroizing;

use super::certificate::oid;
use super::keys::KeyError;
use super::MlDsaLevel;
use crate::error::Result;

/// The length of an ML-DSA seed (all levels).
pub const SEED_LEN: usize = 32;

/// aws-lc-rs's signing algorithm for `level`.
pub fn signing_alg(level: MlDsaLevel) -> &'static lc::PqdsaSigningAlgorithm {
    match level {
        MlDsaLevel::MlDsa44 => &lc::ML_DSA_44_SIGNING,
        MlDsaLevel::MlDsa65 => &lc::ML_DSA_65_SIGNING,
        MlDsaLevel::MlDsa87 => &lc::ML_DSA_87_SIGNING,
    }
}

fn der_err(e: der::Error) -> KeyError {
    KeyError::Encode(e)
}

/// The PKCS#8 `PrivateKeyInfo` DER of the key with `seed`, its `privateKey` in the `both` form
/// (the seed and the expanded key it gives), as OpenSSL 3.5 writes it.
pub fn both_form_pkcs8(level: MlDsaLevel, seed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let pair =
        lc::PqdsaKeyPair::from_seed(signing_alg(level), seed).map_err(|e| KeyError::Seed {
            level: level.name(),
            why: e.description_().to_string(),
        })?;
    let expanded = pair
        .private_key()
        .as_raw_bytes()
        .map_err(|_| KeyError::Expand {
            level: level.name(),
        })?;
    let mut content = Zeroizing::new(Vec::new());
    OctetStringRef::new(seed)
        .and_then(|s| s.encode_to_vec(&mut content))
        .and_then(|_| OctetStringRef::new(expanded.as_ref()))
        .and_then(|s| s.encode_to_vec(&mut content))
        .map_err(der_err)?;
    let mut both = Zeroizing::new(Vec::new());
    der::Length::try_from(content.len())
        .and_then(|len| Header::new(Tag::Sequence, len).encode_to_vec(&mut both))
        .map_err(der_err)?;
    both.extend_from_slice(&content);
    let info = pkcs8::PrivateKeyInfoRef {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: level_oid(level),
            parameters: None,
        },
        private_key: OctetStringRef::new(&both).map_err(der_err)?,
        public_key: None,
    };
    let mut out = Zeroizing::new(Vec::new());
    info.encode_to_vec(&mut out).map_err(der_err)?;
    Ok(out)
}

/// The seed of a seed-only PKCS#8 `privateKey` (`[0] IMPLICIT OCTET STRING`, 32 bytes), as
/// aws-lc writes it.
pub fn seed_of_seed_form(private_key: &[u8]) -> Option<&[u8]> {
    match private_key {
        [0x80, 0x20, seed @ ..] if seed.len() == SEED_LEN => Some(seed),
        _ => None,
    }
}

fn level_oid(level: MlDsaLevel) -> der::asn1::ObjectIdentifier {
    match level {
        MlDsaLevel::MlDsa44 => oid::ML_DSA_44,
        MlDsaLevel::MlDsa65 => oid::ML_DSA_65,
        MlDsaLevel::MlDsa87 => oid::ML_DSA_87,
    }
}

/// An ML-DSA key that signs deterministically.
pub struct MlDsaKey {
    pair: lc::PqdsaKeyPair,
    level: MlDsaLevel,
    /// The expanded private key aws-lc's signing function takes.
    expanded: Zeroizing<Vec<u8>>,
}

impl MlDsaKey {
    /// The key of a PKCS#8 `PrivateKeyInfo` (any of the three forms).
    pub fn from_pkcs8(level: MlDsaLevel, der: &[u8]) -> std::result::Result<Self, String> {
        let pair = lc::PqdsaKeyPair::from_pkcs8(signing_alg(level), der)
            .map_err(|e| e.description_().to_string())?;
        let expanded = pair
            .private_key()
            .as_raw_bytes()
            .map_err(|_| "cannot expand the key".to_string())?;
        let expanded = Zeroizing::new(expanded.as_ref().to_vec());
        if expanded.len() != private_key_len(level) {
            return Err(format!(
                "expanded key of {} bytes, expected {}",
                expanded.len(),
                private_key_len(level)
            ));
        }
        Ok(MlDsaKey {
            pair,
            level,
            expanded,
        })
    }

    pub fn level(&self) -> MlDsaLevel {
        self.level
    }

    /// The raw public key.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// Pure ML-DSA over `message` with an empty context, deterministic variant.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        // FIPS 204 Algorithm 2: M' = IntegerToBytes(0, 1) || IntegerToBytes(|ctx|, 1) || ctx || M,
        // with ctx empty; Algorithm 2 line 5 with rnd = {0}^32 is the deterministic variant.
        const PRE: [u8; 2] = [0, 0];
        const RND: [u8; 32] = [0; 32];
        let f: ffi::SignInternal = match self.level {
            MlDsaLevel::MlDsa44 => ffi::sign_44,
            MlDsaLevel::MlDsa65 => ffi::sign_65,
            MlDsaLevel::MlDsa87 => ffi::sign_87,
        };
        let mut sig = vec![0u8; self.pair.algorithm().signature_len()];
        let mut len = 0usize;
        // SAFETY: `expanded` holds exactly the expanded private key length of this level
        // (checked in from_pkcs8), `sig` the signature length aws-lc-rs reports for it; all
        // other pointers come with their lengths and outlive the call, which keeps none.
        let ok = unsafe {
            f(
                self.expanded.as_ptr(),
                sig.as_mut_ptr(),
                &mut len,
                message.as_ptr(),
                message.len(),
                PRE.as_ptr(),
                PRE.len(),
                RND.as_ptr(),
            )
        };
        if ok != 1 || len != sig.len() {
            return Err(KeyError::SignFailed {
                alg: self.level.name(),
            }
            .into());
        }
        Ok(sig)
    }
}

/// The expanded private key length of `level` (FIPS 204 Table 2).
fn private_key_len(level: MlDsaLevel) -> usize {
    match level {
        MlDsaLevel::MlDsa44 => 2560,
        MlDsaLevel::MlDsa65 => 4032,
        MlDsaLevel::MlDsa87 => 4896,
    }
}

/// aws-lc's ML-DSA signing functions (crypto/fipsmodule/ml_dsa/ml_dsa.h, OPENSSL_EXPORT).
/// aws-lc-sys builds aws-lc with its version as symbol prefix, so these names follow the
/// `aws-lc-sys` version in Cargo.lock: after an update the link fails loudly until they are
/// renamed (the signing tests then check the result).
mod ffi {
    use std::os::raw::c_int;

    pub type SignInternal = unsafe extern "C" fn(
        private_key: *const u8,
        sig: *mut u8,
        sig_len: *mut usize,
        message: *const u8,
        message_len: usize,
        pre: *const u8,
        pre_len: usize,
        rnd: *const u8,
    ) -> c_int;

    extern "C" {
        #[link_name = "aws_lc_0_47_0_ml_dsa_44_sign_internal"]
        pub fn sign_44(
            private_key: *const u8,
            sig: *mut u8,
            sig_len: *mut usize,
            message: *const u8,
            message_len: usize,
            pre: *const u8,
            pre_len: usize,
            rnd: *const u8,
        ) -> c_int;
        #[link_name = "aws_lc_0_47_0_ml_dsa_65_sign_internal"]
        pub fn sign_65(
            private_key: *const u8,
            sig: *mut u8,
            sig_len: *mut usize,
            message: *const u8,
            message_len: usize,
            pre: *const u8,
            pre_len: usize,
            rnd: *const u8,
        ) -> c_int;
        #[link_name = "aws_lc_0_47_0_ml_dsa_87_sign_internal"]
        pub fn sign_87(
            private_key: *const u8,
            sig: *mut u8,
            sig_len: *mut usize,
            message: *const u8,
            message_len: usize,
            pre: *const u8,
            pre_len: usize,
            rnd: *const u8,
        ) -> c_int;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    fn verify_alg(level: MlDsaLevel) -> &'static lc::PqdsaVerificationAlgorithm {
        match level {
            MlDsaLevel::MlDsa44 => &lc::ML_DSA_44,
            MlDsaLevel::MlDsa65 => &lc::ML_DSA_65,
            MlDsaLevel::MlDsa87 => &lc::ML_DSA_87,
        }
    }

    #[test]
    fn signatures_are_deterministic_and_verify() {
        for level in [
            MlDsaLevel::MlDsa44,
            MlDsaLevel::MlDsa65,
            MlDsaLevel::MlDsa87,
        ] {
            let pair = lc::PqdsaKeyPair::generate(signing_alg(level)).unwrap();
            let der = pair.to_pkcs8v1().unwrap();
            let key = MlDsaKey::from_pkcs8(level, der.as_ref()).unwrap();
            let a = key.sign(b"message").unwrap();
            let b = key.sign(b"message").unwrap();
            assert_eq!(a, b, "{level:?}: deterministic");
            assert_ne!(a, key.sign(b"other").unwrap());
            let pk = lc::UnparsedPublicKey::new(verify_alg(level), key.public_key());
            assert!(pk.verify(b"message", &a).is_ok(), "{level:?}");
            assert!(pk.verify(b"messagf", &a).is_err(), "{level:?}");
            // aws-lc-rs's own (hedged) signatures differ from run to run; ours do not.
            let mut s1 = vec![0; signing_alg(level).signature_len()];
            let mut s2 = s1.clone();
            pair.sign(b"message", &mut s1).unwrap();
            pair.sign(b"message", &mut s2).unwrap();
            assert_ne!(s1, s2);
        }
    }

    /// Keys OpenSSL 3.5 wrote (default "both" form): re-encoding their seed gives the very
    /// same bytes, so what we write is what OpenSSL writes.
    #[test]
    fn both_form_is_byte_for_byte_what_openssl_35_writes() {
        let dir = std::path::Path::new("/work/shared/fixtures/mldsa-openssl35");
        if !dir.is_dir() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is absent",
                dir.display()
            );
            println!("skipped: {} is absent", dir.display());
            return;
        }
        for (level, name) in [
            (MlDsaLevel::MlDsa44, "44"),
            (MlDsaLevel::MlDsa65, "65"),
            (MlDsaLevel::MlDsa87, "87"),
        ] {
            let pem = std::fs::read_to_string(dir.join(format!("mldsa{name}-key.pem"))).unwrap();
            let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
            assert_eq!(label, "PRIVATE KEY");
            let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
            let mut reader = der::SliceReader::new(info.private_key.as_bytes()).unwrap();
            let seed = der::Reader::sequence(&mut reader, |r| {
                let seed = <&OctetStringRef>::decode(r)?.as_bytes().to_vec();
                let _expanded = <&OctetStringRef>::decode(r)?;
                Ok::<_, der::Error>(seed)
            })
            .unwrap();
            assert_eq!(seed.len(), SEED_LEN);
            assert_eq!(
                both_form_pkcs8(level, &seed).unwrap().as_slice(),
                der.as_slice(),
                "ML-DSA-{name}"
            );
        }
    }

    #[test]
    fn both_form_holds_the_seed_and_the_expanded_key() {
        for level in [
            MlDsaLevel::MlDsa44,
            MlDsaLevel::MlDsa65,
            MlDsaLevel::MlDsa87,
        ] {
            let pair = lc::PqdsaKeyPair::generate(signing_alg(level)).unwrap();
            let seed_der = pair.to_pkcs8v1().unwrap();
            let info = pkcs8::PrivateKeyInfoRef::from_der(seed_der.as_ref()).unwrap();
            let seed = seed_of_seed_form(info.private_key.as_bytes()).unwrap();
            let der = both_form_pkcs8(level, seed).unwrap();
            let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
            assert_eq!(info.algorithm.oid, level_oid(level));
            assert!(info.algorithm.parameters.is_none());
            let mut reader = der::SliceReader::new(info.private_key.as_bytes()).unwrap();
            let (s, e) = der::Reader::sequence(&mut reader, |r| {
                Ok::<_, der::Error>((
                    <&OctetStringRef>::decode(r)?.as_bytes().to_vec(),
                    <&OctetStringRef>::decode(r)?.as_bytes().to_vec(),
                ))
            })
            .unwrap();
            assert_eq!(s, seed);
            assert_eq!(e.len(), private_key_len(level));
            let back = MlDsaKey::from_pkcs8(level, &der).unwrap();
            assert_eq!(back.public_key(), pair.public_key().as_ref());
            // Expanded-only: the same key.
            let expanded = pkcs8::PrivateKeyInfoRef {
                algorithm: info.algorithm,
                private_key: OctetStringRef::new(
                    &OctetStringRef::new(&e).unwrap().to_der().unwrap(),
                )
                .unwrap(),
                public_key: None,
            }
            .to_der();
            let expanded = expanded.unwrap();
            let back = MlDsaKey::from_pkcs8(level, &expanded).unwrap();
            assert_eq!(back.public_key(), pair.public_key().as_ref());
        }
        assert!(both_form_pkcs8(MlDsaLevel::MlDsa44, &[1; 31]).is_err());
    }
}
