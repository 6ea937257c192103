//! RFC 7512 `pkcs11:` URIs as `--certificate` / `--private-key` give them.
//!
//! Invariants: what parses prints (without the PIN) as a URI that parses back to the same
//! search attributes, and the printed form never carries the PIN.
#![no_main]

use aws_signing_helper::identity::pkcs11::uri::Pkcs11Uri;
use libfuzzer_sys::fuzz_target;

fn search_attributes(u: &Pkcs11Uri) -> impl PartialEq + std::fmt::Debug {
    (
        (u.token.clone(), u.manufacturer.clone(), u.model.clone()),
        (u.serial.clone(), u.slot_description.clone()),
        (u.slot_manufacturer.clone(), u.slot_id, u.object.clone()),
        (u.id.clone(), u.object_type.clone()),
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let uri = match Pkcs11Uri::parse(text) {
        Ok(uri) => uri,
        Err(e) => {
            // Errors name the attribute at fault, never the PIN's value (checked for digit PINs
            // long enough not to occur in an error's own wording or elsewhere in the URI).
            if let Some((before, query)) = text.split_once('?') {
                for attr in query.split('&') {
                    if let Some(pin) = attr.strip_prefix("pin-value=") {
                        let digits = pin.len() >= 8 && pin.bytes().all(|b| b.is_ascii_digit());
                        // (Errors quote path attributes with `{:?}`, whose escapes such
                        // as `\0` may spell digits of their own.)
                        let in_path = before.contains(pin) || format!("{before:?}").contains(pin);
                        if digits && !in_path {
                            assert!(!e.to_string().contains(pin), "PIN in error: {e}");
                        }
                    }
                }
            }
            return;
        }
    };
    let printed = uri.to_uri_string();
    // Values are printed percent-encoded, so `=` only follows an attribute name.
    assert!(!printed.contains("pin-value="), "{printed}");
    assert!(!printed.contains('?'), "{printed}");
    let again = Pkcs11Uri::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
    assert_eq!(
        search_attributes(&uri),
        search_attributes(&again),
        "{printed}"
    );
    assert_eq!(printed, again.to_uri_string());
    assert_eq!(format!("{uri:?}"), printed);
});
