//! Private key files as `--private-key` reads them: PEM or DER PKCS#8, encrypted PKCS#8, SEC1
//! and PKCS#1, with a fixed password so the decryption paths run too. A key that loads must
//! sign.
#![no_main]

use std::path::Path;

use aws_signing_helper::identity::file::{self, Prompter};
use aws_signing_helper::identity::{keys, Digest, KeyType, Signer};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

/// Nobody at the terminal.
struct NoPrompt;

impl Prompter for NoPrompt {
    fn ask(&mut self, _: &str) -> Option<Zeroizing<String>> {
        None
    }
}

fn exercise(signer: &dyn Signer) {
    let _ = signer.key_type();
    let _ = signer.public_key();
    match signer.sign(b"fuzz", Digest::Sha256) {
        Ok(sig) => assert!(!sig.is_empty(), "a loaded key gave an empty signature"),
        // RSA keys are checked cheaply at load (sizes, n = p·q); one whose other parts are
        // corrupt fails here with a clear error: AWS-LC verifies every signature before
        // returning it. Any other failure of a loaded key is a bug.
        Err(e) => assert!(
            signer.key_type() == KeyType::Rsa && e.message().contains("inconsistent"),
            "a loaded key failed to sign: {e}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let password = Zeroizing::new("fuzz-password".to_string());
    let path = Path::new("fuzz.key");
    if let Ok(signer) = file::private_key_from_bytes(path, data, Some(&password), &mut NoPrompt) {
        exercise(signer.as_ref());
    }
    // The DER decoders directly, whatever the outer format detection decided.
    for signer in [
        keys::from_pkcs8(data),
        keys::from_sec1(data),
        keys::from_pkcs1(data),
    ]
    .into_iter()
    .flatten()
    {
        exercise(signer.as_ref());
    }
});
