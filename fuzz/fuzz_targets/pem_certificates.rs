//! Certificate files as `--certificate` and `--intermediates` read them: the PEM block reader,
//! PEM with any mix of blocks and text, or one DER certificate.
#![no_main]

use std::path::Path;

use aws_signing_helper::identity::{file, pem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(blocks) = pem::parse(data) {
        assert!(pem::is_pem(data) || blocks.is_empty());
    }
    let path = Path::new("fuzz.pem");
    if let Ok(certs) = file::certificates_from_bytes(path, data) {
        assert!(!certs.is_empty());
        for c in &certs {
            let _ = (c.subject(), c.serial_decimal(), c.not_after(), c.key_type());
        }
    }
    if let Ok(chain) = file::intermediates_from_bytes(path, data) {
        assert!(!chain.is_empty() || pem::is_pem(data));
    }
});
