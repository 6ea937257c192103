//! `--cert-selector`: inline `Key=…,Value=…` pairs, or `file://PATH` whose JSON contents are
//! the rest of the input. Whatever parses is matched against a certificate.
//!
//! Input: a selector line, then (after the first newline) the file contents a `file://`
//! selector reads.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use aws_signing_helper::identity::selector::CertSelector;
use aws_signing_helper::identity::{file, Certificate};
use libfuzzer_sys::fuzz_target;

fn leaf() -> &'static Certificate {
    static LEAF: OnceLock<Certificate> = OnceLock::new();
    LEAF.get_or_init(|| {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/leaf.pem");
        file::load_certificates(&data)
            .expect("fuzz/data/leaf.pem")
            .remove(0)
    })
}

fuzz_target!(|data: &[u8]| {
    let (line, contents) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    let mut read = None;
    let parsed = CertSelector::parse_with(text, |path| {
        read = Some(path.to_string());
        Ok(contents.to_vec())
    });
    assert_eq!(read.is_some(), text.starts_with("file://"));
    if let Ok(selector) = parsed {
        let matched = selector.matches(leaf());
        if selector == CertSelector::default() {
            assert!(matched, "an empty selector matches everything");
        }
    }
});
