//! The `Authorization` header the emulator receives from clients.
#![no_main]

use aws_signing_helper::protocol::sigv4;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(p) = sigv4::parse_authorization(text) else {
        return;
    };
    // What we write, we read back the same.
    let written = sigv4::authorization(
        &p.algorithm,
        &p.credential_id,
        &p.scope,
        &p.signed_headers.join(";"),
        &p.signature,
    );
    assert_eq!(sigv4::parse_authorization(&written), Some(p));
});
