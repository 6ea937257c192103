//! Private key files as `--private-key` reads them: PEM or DER PKCS#8, encrypted PKCS#8, SEC1
//! and PKCS#1, with a fixed password so the decryption paths run too. A key that loads must
//! sign.
#![no_main]

use std::path::Path;

use aws_signing_helper::identity::file::{self, Prompter};
use aws_signing_helper::identity::{keys, Digest, Signer};
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
    let sig = signer.sign(b"fuzz", Digest::Sha256);
    assert!(sig.is_ok_and(|s| !s.is_empty()), "a loaded key must sign");
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
