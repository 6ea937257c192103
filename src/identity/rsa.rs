//! RSA private keys, held and used by AWS-LC through its C API.
//!
//! Why not aws-lc-rs's `RsaKeyPair`: it refuses keys under 2048 bits, which the official tool
//! (and Roles Anywhere) accept, and its parser always runs `RSA_check_key`, about 15% of a whole
//! `credential-process` run. We build the key from its PKCS#1 components instead and check it
//! cheaply (sizes, n = p·q). That loses no safety: AWS-LC verifies every RSA signature with the
//! public key before returning it (its defence against fault attacks), so an inconsistent key
//! fails at signing with an error and never yields a signature that could leak the key.
//! Signing is AWS-LC's blinded, constant-time `RSA_sign`.
//!
//! All `unsafe` of the crate's RSA support is in this file.

use std::ptr::NonNull;

use aws_lc_sys as sys;
use der::Decode;
use zeroize::Zeroizing;

use super::keys::KeyProblem;
use super::{Digest, KeyType, Signer};
use crate::error::Result;

/// The smallest modulus we accept (the official tool's tests use 1024-bit keys).
pub const MIN_BITS: u32 = 1024;
/// The largest modulus we accept.
pub const MAX_BITS: u32 = 8192;

/// An RSA private key held by AWS-LC.
pub struct RsaKey {
    rsa: NonNull<sys::RSA>,
    public: Vec<u8>,
}

// SAFETY: AWS-LC's `RSA` is safe to use from several threads for signing: the lazily built
// Montgomery contexts and blinding state are guarded by the object's internal lock.
unsafe impl Send for RsaKey {}
// SAFETY: see above; `sign` only passes the pointer to thread-safe AWS-LC functions.
unsafe impl Sync for RsaKey {}

impl Drop for RsaKey {
    fn drop(&mut self) {
        // SAFETY: `rsa` came from RSA_new and is freed exactly once here; RSA_free clears the
        // private key material.
        unsafe { sys::RSA_free(self.rsa.as_ptr()) }
    }
}

/// An owned BIGNUM until it is handed to an RSA object.
struct Bn(*mut sys::BIGNUM);

impl Bn {
    fn from_be(bytes: &[u8]) -> std::result::Result<Bn, KeyProblem> {
        // SAFETY: the pointer/length pair describes a live slice; BN_bin2bn copies it.
        let bn = unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), std::ptr::null_mut()) };
        if bn.is_null() {
            return Err(KeyProblem::Invalid(
                "out of memory reading the RSA key".into(),
            ));
        }
        Ok(Bn(bn))
    }

    /// Gives up ownership (to an RSA object).
    fn into_raw(self) -> *mut sys::BIGNUM {
        let p = self.0;
        std::mem::forget(self);
        p
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: we own the BIGNUM; BN_clear_free wipes it (it may hold private material).
        unsafe { sys::BN_clear_free(self.0) }
    }
}

impl RsaKey {
    /// Builds the key from PKCS#1 `RSAPrivateKey` DER. Errors carry a reason, never key material.
    pub fn from_pkcs1_der(der: &[u8]) -> std::result::Result<Self, KeyProblem> {
        let key = pkcs1::RsaPrivateKeyRef::from_der(der)
            .map_err(|e| KeyProblem::Invalid(format!("not an RSA private key ({e})")))?;
        if key.other_prime_infos.is_some() {
            return Err(KeyProblem::Unsupported("multi-prime RSA key".into()));
        }
        let n = Bn::from_be(key.modulus.as_bytes())?;
        let e = Bn::from_be(key.public_exponent.as_bytes())?;
        let d = Bn::from_be(key.private_exponent.as_bytes())?;
        let p = Bn::from_be(key.prime1.as_bytes())?;
        let q = Bn::from_be(key.prime2.as_bytes())?;
        let dmp1 = Bn::from_be(key.exponent1.as_bytes())?;
        let dmq1 = Bn::from_be(key.exponent2.as_bytes())?;
        let iqmp = Bn::from_be(key.coefficient.as_bytes())?;
        check_modulus(&n, &p, &q)?;

        // SAFETY: RSA_new returns a fresh object or null.
        let rsa = NonNull::new(unsafe { sys::RSA_new() })
            .ok_or_else(|| KeyProblem::Invalid("out of memory creating the RSA key".into()))?;
        // Own it from here on so every early return frees it.
        let mut out = RsaKey {
            rsa,
            public: Vec::new(),
        };
        // SAFETY: each set0 call takes ownership of its BIGNUMs on success (we release ours with
        // into_raw only then); on failure nothing was taken and `Bn`'s drop frees them.
        unsafe {
            let r = out.rsa.as_ptr();
            if sys::RSA_set0_key(r, n.0, e.0, d.0) != 1 {
                return Err(KeyProblem::Invalid("inconsistent RSA key (n, e, d)".into()));
            }
            let (_, _, _) = (n.into_raw(), e.into_raw(), d.into_raw());
            if sys::RSA_set0_factors(r, p.0, q.0) != 1 {
                return Err(KeyProblem::Invalid("inconsistent RSA key (p, q)".into()));
            }
            let (_, _) = (p.into_raw(), q.into_raw());
            if sys::RSA_set0_crt_params(r, dmp1.0, dmq1.0, iqmp.0) != 1 {
                return Err(KeyProblem::Invalid(
                    "inconsistent RSA key (CRT parameters)".into(),
                ));
            }
            let (_, _, _) = (dmp1.into_raw(), dmq1.into_raw(), iqmp.into_raw());
        }
        // SAFETY: `out.rsa` is a valid RSA object.
        let bits = unsafe { sys::RSA_bits(out.rsa.as_ptr()) };
        if bits < MIN_BITS {
            return Err(KeyProblem::Unsupported(format!(
                "RSA key of {bits} bits (at least {MIN_BITS} needed)"
            )));
        }
        if bits > MAX_BITS {
            return Err(KeyProblem::Unsupported(format!(
                "RSA key of {bits} bits (at most {MAX_BITS} supported)"
            )));
        }
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut len: usize = 0;
        // SAFETY: buf/len are valid out-pointers; on success `buf` is an OPENSSL_malloc buffer of
        // `len` bytes, which we copy and then free.
        unsafe {
            if sys::RSA_public_key_to_bytes(&mut buf, &mut len, out.rsa.as_ptr()) != 1
                || buf.is_null()
            {
                return Err(KeyProblem::Invalid(
                    "cannot encode the RSA public key".into(),
                ));
            }
            out.public = std::slice::from_raw_parts(buf, len).to_vec();
            sys::OPENSSL_free(buf.cast());
        }
        Ok(out)
    }
}

/// A cheap consistency check at load time: n = p·q, and e is an odd number above 1.
fn check_modulus(n: &Bn, p: &Bn, q: &Bn) -> std::result::Result<(), KeyProblem> {
    // SAFETY: all BIGNUMs are valid; the context and product are created, used and freed here.
    let equal = unsafe {
        let ctx = sys::BN_CTX_new();
        let product = sys::BN_new();
        let ok = !ctx.is_null()
            && !product.is_null()
            && sys::BN_mul(product, p.0, q.0, ctx) == 1
            && sys::BN_cmp(product, n.0) == 0;
        sys::BN_free(product);
        sys::BN_CTX_free(ctx);
        ok
    };
    if !equal {
        return Err(KeyProblem::Invalid(
            "inconsistent RSA key (n is not p·q)".into(),
        ));
    }
    Ok(())
}

impl Signer for RsaKey {
    fn key_type(&self) -> KeyType {
        KeyType::Rsa
    }

    fn public_key(&self) -> Option<Vec<u8>> {
        Some(self.public.clone())
    }

    fn sign(&self, message: &[u8], digest: Digest) -> Result<Vec<u8>> {
        let nid = match digest {
            Digest::Sha256 => sys::NID_sha256,
            Digest::Sha384 => sys::NID_sha384,
            Digest::Sha512 => sys::NID_sha512,
        };
        let hash = Zeroizing::new(digest.hash(message));
        // SAFETY: `rsa` is valid for the lifetime of `self`.
        let size = unsafe { sys::RSA_size(self.rsa.as_ptr()) } as usize;
        let mut sig = vec![0u8; size];
        let mut sig_len: std::os::raw::c_uint = 0;
        // SAFETY: `sig` has RSA_size bytes as RSA_sign requires; `hash` is a live slice.
        let ok = unsafe {
            sys::RSA_sign(
                nid,
                hash.as_ptr(),
                hash.len(),
                sig.as_mut_ptr(),
                &mut sig_len,
                self.rsa.as_ptr(),
            )
        };
        if ok != 1 {
            return Err(super::keys::KeyError::RsaInconsistent.into());
        }
        sig.truncate(sig_len as usize);
        Ok(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl_key(bits: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "-out", "k.pem", bits])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(ok.status.success());
        let pem = std::fs::read_to_string(dir.path().join("k.pem")).unwrap();
        der::pem::decode_vec(pem.as_bytes()).unwrap().1
    }

    #[test]
    fn signs_and_verifies_and_refuses_broken_keys() {
        let der = openssl_key("2048");
        let key = RsaKey::from_pkcs1_der(&der).unwrap();
        let sig = key.sign(b"message", Digest::Sha256).unwrap();
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            key.public_key().unwrap(),
        );
        public.verify(b"message", &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());

        // A key whose CRT exponent was damaged loads (the check is cheap) but cannot sign:
        // AWS-LC verifies its own signature and refuses to return a wrong one.
        let mut parsed = pkcs1::RsaPrivateKeyRef::from_der(&der).unwrap();
        let mut dmp1 = parsed.exponent1.as_bytes().to_vec();
        let last = dmp1.len() - 1;
        dmp1[last] ^= 0x02;
        parsed.exponent1 = pkcs1::UintRef::new(&dmp1).unwrap();
        let bad = der::Encode::to_der(&parsed).unwrap();
        let bad_key = RsaKey::from_pkcs1_der(&bad).unwrap();
        let err = bad_key.sign(b"message", Digest::Sha256).unwrap_err();
        assert!(err.message().contains("inconsistent"), "{err}");

        // n ≠ p·q is caught at load.
        let mut parsed = pkcs1::RsaPrivateKeyRef::from_der(&der).unwrap();
        let mut n = parsed.modulus.as_bytes().to_vec();
        n[10] ^= 0x01;
        parsed.modulus = pkcs1::UintRef::new(&n).unwrap();
        let bad = der::Encode::to_der(&parsed).unwrap();
        assert!(matches!(
            RsaKey::from_pkcs1_der(&bad),
            Err(KeyProblem::Invalid(_))
        ));
    }

    #[test]
    fn small_keys_work_and_tiny_ones_are_refused() {
        let key = RsaKey::from_pkcs1_der(&openssl_key("1024")).unwrap();
        assert!(key.sign(b"m", Digest::Sha512).is_ok());
        assert!(matches!(
            RsaKey::from_pkcs1_der(&openssl_key("512")),
            Err(KeyProblem::Unsupported(_))
        ));
    }
}
