//! `~/.aws/config` and `~/.aws/credentials` profiles resolved into role chains as the AWS CLI
//! does. Invariants: no panic or endless loop on any files (source_profile cycles end in an
//! error); a resolved chain has at most one role per profile it visited and describes itself.
#![no_main]

use arbitrary::Arbitrary;
use aws_signing_helper::sts::profile::SharedFiles;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    config: String,
    credentials: String,
    name: String,
}

fuzz_target!(|input: Input| {
    let files = SharedFiles::from_texts(&input.config, &input.credentials);
    for name in [input.name.as_str(), "default", "a"] {
        if let Ok(chain) = files.resolve(name) {
            let sections = input.config.matches('[').count() + input.credentials.matches('[').count();
            assert!(chain.roles.len() <= sections.max(1), "{chain:?}");
            assert!(!chain.describe().is_empty());
        }
    }
});
