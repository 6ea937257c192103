//! Passwords and PINs typed at a terminal prompt, kept for the life of the process.
//!
//! `update` and `serve` load the identity again at every refresh (so rotated files are picked
//! up); someone who typed a key's password once must not be asked again every hour. Only
//! answers that proved correct are kept, in zeroizing memory, keyed by what they unlock.

use std::sync::Mutex;

use zeroize::Zeroizing;

static TYPED: Mutex<Vec<(String, Zeroizing<String>)>> = Mutex::new(Vec::new());

/// The password typed earlier for `key`, if any.
pub fn get(key: &str) -> Option<Zeroizing<String>> {
    TYPED
        .lock()
        .ok()?
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, p)| p.clone())
}

/// Keeps a password that was typed and proved correct for `key`.
pub fn put(key: &str, password: &Zeroizing<String>) {
    if let Ok(mut list) = TYPED.lock() {
        list.retain(|(k, _)| k != key);
        list.push((key.to_string(), password.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_answer_per_key() {
        assert!(get("remembered-test-a").is_none());
        put("remembered-test-a", &Zeroizing::new("one".into()));
        put("remembered-test-a", &Zeroizing::new("two".into()));
        put("remembered-test-b", &Zeroizing::new("three".into()));
        assert_eq!(get("remembered-test-a").unwrap().as_str(), "two");
        assert_eq!(get("remembered-test-b").unwrap().as_str(), "three");
    }
}
