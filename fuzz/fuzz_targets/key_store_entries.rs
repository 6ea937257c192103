//! The key store: one entry as a backend stores it (JSON inside the kernel keyring's or the
//! Secret Service's secret), and the encrypted file's contents once decrypted
//! (`{"entries": [...]}`). Input: the JSON.
//!
//! Invariants: what parses is written back and parses to the same entries; an entry's `{:?}`
//! never shows its secret key, nor more than 8 characters of its key id; a refused entry's
//! error is the same whatever the input (it never shows part of it).
#![no_main]

use aws_signing_helper::keystore::age_file::Contents;
use aws_signing_helper::keystore::{check_name, mask, Entry};
use libfuzzer_sys::fuzz_target;

fn same(a: &Entry, b: &Entry) {
    assert_eq!(a.name, b.name);
    assert_eq!(a.access_key_id, b.access_key_id);
    assert_eq!(a.secret_access_key.as_str(), b.secret_access_key.as_str());
    assert_eq!(a.user, b.user);
    assert_eq!(a.created, b.created);
}

fn check_entry(e: &Entry) {
    let shown = format!("{e:?}");
    let s = e.secret_access_key.as_str();
    let elsewhere = format!("{:?} {:?} {:?} {:?} Entry name access_key_id user created", e.name, e.user, e.created, mask(&e.access_key_id));
    if s.len() >= 8 && !elsewhere.contains(s) {
        assert!(!shown.contains(s), "Debug shows the secret: {shown}");
    }
    let m = mask(&e.access_key_id);
    assert!(m.chars().filter(|&c| c != '…').count() <= 8, "{m}");
    let _ = check_name(&e.name);
}

fuzz_target!(|data: &[u8]| {
    const AT: &str = "work in the kernel keyring";
    match Entry::from_json(data, AT) {
        Ok(e) => {
            check_entry(&e);
            let again = Entry::from_json(&e.to_json(), AT).expect("written back, it parses");
            same(&e, &again);
        }
        Err(e) => {
            let refusal = Entry::from_json(b"", AT).unwrap_err();
            assert_eq!(format!("{e}\n{e:?}"), format!("{refusal}\n{refusal:?}"));
        }
    }
    if let Some(contents) = Contents::parse(data) {
        contents.entries.iter().for_each(check_entry);
        let again = Contents::parse(&contents.to_json()).expect("written back, it parses");
        assert_eq!(contents.entries.len(), again.entries.len());
        contents.entries.iter().zip(&again.entries).for_each(|(a, b)| same(a, b));
    }
    if let Ok(name) = std::str::from_utf8(data) {
        if check_name(name).is_ok() {
            assert!(!name.is_empty() && name.len() <= 64 && !name.starts_with('.'));
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@+".contains(&b)));
        }
    }
});
