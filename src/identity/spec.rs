//! [`KeySpec`]: where the certificate and the private key come from, as plain data. The binary
//! builds it once from the flags; every key source reads only this.

use std::path::PathBuf;

use zeroize::Zeroizing;

/// The certificate, key and chain to use, and the options of the key sources.
#[derive(Clone, Default)]
pub struct KeySpec {
    /// A certificate file (PEM, DER, PKCS#12; may hold the key or chain), a `pkcs11:` URI, or
    /// empty. With no `private_key`, also the key reference (a TPM key file, `handle:…`).
    pub certificate: String,
    /// A private key file, a `pkcs11:` URI, a TPM key file or `handle:0x81…`; empty: none.
    pub private_key: String,
    /// More chain certificates (PEM `CERTIFICATE` blocks or one DER certificate).
    pub intermediates: Option<PathBuf>,
    /// An OS certificate store selector (parsed and checked, then refused on Linux).
    pub cert_selector: String,
    /// The PKCS#11 module (empty: p11-kit-proxy).
    pub pkcs11_lib: String,
    /// Use the PKCS#11 user PIN as the context-specific PIN too.
    pub reuse_pin: bool,
    /// The TPM key's password.
    pub tpm_key_password: Option<Zeroizing<String>>,
    /// The TPM key has no password.
    pub no_tpm_key_password: bool,
    /// The password of an encrypted PKCS#8 key or a PKCS#12 file.
    pub pkcs8_password: Option<Zeroizing<String>>,
}

impl KeySpec {
    /// The key reference: `private_key`, or `certificate` when no key is given.
    pub fn key_ref(&self) -> &str {
        if self.private_key.is_empty() {
            &self.certificate
        } else {
            &self.private_key
        }
    }
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |p: &Option<Zeroizing<String>>| p.as_ref().map(|_| "<redacted>");
        f.debug_struct("KeySpec")
            .field("certificate", &self.certificate)
            .field("private_key", &self.private_key)
            .field("intermediates", &self.intermediates)
            .field("cert_selector", &self.cert_selector)
            .field("pkcs11_lib", &self.pkcs11_lib)
            .field("reuse_pin", &self.reuse_pin)
            .field("tpm_key_password", &redacted(&self.tpm_key_password))
            .field("no_tpm_key_password", &self.no_tpm_key_password)
            .field("pkcs8_password", &redacted(&self.pkcs8_password))
            .finish()
    }
}
