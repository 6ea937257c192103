//! `EncryptedPrivateKeyInfo`: the scheme check made before any password is asked for, and the
//! decryption with a fixed password.
#![no_main]

use aws_signing_helper::identity::keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keys::is_encrypted_pkcs8(data);
    let checked = keys::check_encrypted_pkcs8(data);
    match keys::decrypt_pkcs8(data, b"fuzz-password") {
        Ok(plain) => {
            assert!(checked.is_ok(), "decrypted what the check refused");
            assert!(keys::is_pkcs8(&plain));
        }
        Err(_) => {}
    }
});
