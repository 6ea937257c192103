//! RSA keys of 1024 to 2047 bits, which aws-lc-rs refuses but the official tool (and Roles
//! Anywhere) accept. Signs through the AWS-LC C API directly (same library, blinded RSA).

use std::ptr::NonNull;

use aws_lc_sys as sys;

use super::keys::KeyProblem;
use super::{Digest, KeyType, Signer};
use crate::error::{Error, Result};

/// The smallest modulus we accept at all.
pub const MIN_BITS: u32 = 1024;

/// An RSA private key held by AWS-LC.
pub struct LegacyRsa {
    rsa: NonNull<sys::RSA>,
    public: Vec<u8>,
}

// SAFETY: AWS-LC's `RSA` is safe to use from several threads for signing: the lazily built
// Montgomery contexts and blinding state are guarded by the object's internal lock.
unsafe impl Send for LegacyRsa {}
// SAFETY: see above; `sign` only passes the pointer to thread-safe AWS-LC functions.
unsafe impl Sync for LegacyRsa {}

impl Drop for LegacyRsa {
    fn drop(&mut self) {
        // SAFETY: `rsa` came from RSA_private_key_from_bytes and is freed exactly once here.
        // RSA_free clears the private key material.
        unsafe { sys::RSA_free(self.rsa.as_ptr()) }
    }
}

impl LegacyRsa {
    /// Parses PKCS#1 `RSAPrivateKey` DER. The error carries a reason, never key material.
    pub fn from_pkcs1_der(der: &[u8]) -> std::result::Result<Self, KeyProblem> {
        // SAFETY: the pointer/length pair describes a live slice; AWS-LC copies what it needs.
        let raw = unsafe { sys::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        let rsa = NonNull::new(raw)
            .ok_or_else(|| KeyProblem::Invalid("invalid RSA private key".into()))?;
        // Own it from here on so every early return frees it.
        let mut key = LegacyRsa {
            rsa,
            public: Vec::new(),
        };
        // SAFETY: `key.rsa` is a valid RSA object for the calls below.
        let (ok, bits) = unsafe {
            (
                sys::RSA_check_key(key.rsa.as_ptr()),
                sys::RSA_bits(key.rsa.as_ptr()),
            )
        };
        if ok != 1 {
            return Err(KeyProblem::Invalid("inconsistent RSA private key".into()));
        }
        if bits < MIN_BITS {
            return Err(KeyProblem::Unsupported(format!(
                "RSA key of {bits} bits (at least {MIN_BITS} needed)"
            )));
        }
        let mut out: *mut u8 = std::ptr::null_mut();
        let mut len: usize = 0;
        // SAFETY: out/len are valid out-pointers; on success `out` is an OPENSSL_malloc buffer of
        // `len` bytes, which we copy and then free.
        unsafe {
            if sys::RSA_public_key_to_bytes(&mut out, &mut len, key.rsa.as_ptr()) != 1
                || out.is_null()
            {
                return Err(KeyProblem::Invalid(
                    "cannot encode the RSA public key".into(),
                ));
            }
            key.public = std::slice::from_raw_parts(out, len).to_vec();
            sys::OPENSSL_free(out.cast());
        }
        Ok(key)
    }
}

impl Signer for LegacyRsa {
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
        let hash = digest.hash(message);
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
            return Err(Error::new("RSA signing failed"));
        }
        sig.truncate(sig_len as usize);
        Ok(sig)
    }
}
