//! PKCS#12 files given as `--certificate`: with no password (the empty one is tried, then
//! nobody answers the prompt) and with a fixed password.
#![no_main]

use std::path::Path;

use aws_signing_helper::identity::file::Prompter;
use aws_signing_helper::identity::pkcs12;
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

struct NoPrompt;

impl Prompter for NoPrompt {
    fn ask(&mut self, _: &str) -> Option<Zeroizing<String>> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = pkcs12::looks_like_pfx(data);
    let path = Path::new("fuzz.p12");
    let password = Zeroizing::new("fuzz-password".to_string());
    for pw in [None, Some(&password)] {
        if let Ok(contents) = pkcs12::load(path, data, pw, &mut NoPrompt) {
            assert!(pkcs12::key_matches(
                contents.signer.as_ref(),
                &contents.leaf
            ));
            assert!(!contents.chain.contains(&contents.leaf));
        }
    }
});
