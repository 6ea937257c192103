//! TPM key references: `TSS2 PRIVATE KEY` files (PEM or bare DER, "TPM 2.0 Key File" ASN.1) and
//! `handle:` strings, as `--private-key` gives them.
#![no_main]

use aws_signing_helper::identity::tpm::{parse_handle, TpmKeyFile};
use libfuzzer_sys::fuzz_target;

/// Parent handles a key file may name: persistent keys and the four hierarchies.
fn allowed_parent(p: u32) -> bool {
    (0x8100_0000..=0x81ff_ffff).contains(&p)
        || [0x4000_0001, 0x4000_0007, 0x4000_000b, 0x4000_000c].contains(&p)
}

fn check(parsed: Result<TpmKeyFile, aws_signing_helper::Error>, input_len: usize) {
    if let Ok(key) = parsed {
        assert!(
            allowed_parent(key.parent),
            "parent {:#x} accepted",
            key.parent
        );
        // Both blobs come out of the input, each without its 2-byte size.
        assert!(key.public.len() + key.private.len() + 4 <= input_len);
    }
}

fuzz_target!(|data: &[u8]| {
    check(TpmKeyFile::parse(data), data.len());
    check(TpmKeyFile::from_pem(data, "fuzz.pem"), data.len());
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(handle) = parse_handle(text) {
            // A parsed handle reads back the same in the canonical form.
            assert_eq!(
                parse_handle(&format!("handle:0x{handle:08x}")).ok(),
                Some(handle)
            );
        }
    }
});
