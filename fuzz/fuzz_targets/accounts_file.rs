//! The accounts file (JSON, name → account ARN prefix or 12-digit id) and `--account` values
//! (a name of the file, a 12-digit id, an `arn:PARTITION:iam::ID:` prefix). Input: the
//! `--account` value (first line), then the file's text.
//!
//! Invariants: a resolved prefix is `arn:PARTITION:iam::ID:` with a 12-digit id and a
//! partition without `:`; given back as `--account` it resolves to itself, with or without a
//! file; a 12-digit `--account` that names no entry is that account in the `aws` partition;
//! a role ARN made from it is a role ARN of that account.
#![no_main]

use std::path::Path;

use aws_signing_helper::sts::accounts::{parse_accounts, resolve};
use aws_signing_helper::sts::check_role_arn;
use libfuzzer_sys::fuzz_target;

fn check_prefix(prefix: &str) -> &str {
    let parts: Vec<&str> = prefix.split(':').collect();
    assert_eq!(parts.len(), 6, "{prefix:?}");
    assert_eq!(
        (parts[0], parts[2], parts[3], parts[5]),
        ("arn", "iam", "", ""),
        "{prefix:?}"
    );
    assert!(!parts[1].is_empty(), "{prefix:?}");
    assert!(
        parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()),
        "{prefix:?}"
    );
    assert!(prefix.ends_with(':'));
    parts[4]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (account, file_text) = text.split_once('\n').unwrap_or((text, ""));
    let file = Path::new("accounts.json");
    let map = parse_accounts(file_text, file).ok();
    let loaded = map.as_ref().map(|m| (file, m));
    for (i, resolved) in [resolve(account, loaded), resolve(account, None)]
        .into_iter()
        .enumerate()
    {
        let Ok(prefix) = resolved else { continue };
        let id = check_prefix(&prefix).to_string();
        assert_eq!(
            resolve(&prefix, None).ok().as_deref(),
            Some(prefix.as_str())
        );
        let named = i == 0
            && map
                .as_ref()
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(account)));
        // Unless the file gives the prefix's own text another meaning.
        if let Some(m) = map
            .as_ref()
            .filter(|m| !m.keys().any(|k| k.eq_ignore_ascii_case(&prefix)))
        {
            assert_eq!(
                resolve(&prefix, Some((file, m))).ok().as_deref(),
                Some(prefix.as_str())
            );
        }
        if !named && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(prefix, format!("arn:aws:iam::{account}:"));
        }
        // The partition is what the user wrote: only a standard one makes a checked role ARN.
        if prefix.starts_with("arn:aws:") {
            let role = format!("{prefix}role/Admin");
            let arn = check_role_arn(&role).expect("a resolved prefix makes a role ARN");
            assert_eq!(arn.account, id);
        }
    }
});
