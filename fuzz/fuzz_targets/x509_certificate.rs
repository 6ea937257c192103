//! One DER certificate and every accessor the tool reads from it.
#![no_main]

use aws_signing_helper::identity::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    assert_eq!(cert.der(), data);
    let _ = cert.base64();
    let serial = cert.serial_bytes();
    let decimal = cert.serial_decimal();
    let hex = cert.serial_hex_upper();
    assert!(decimal.bytes().all(|b| b.is_ascii_digit()));
    assert!(decimal == "0" || !decimal.starts_with('0'));
    assert!(hex == "0" || !hex.starts_with('0'));
    if serial.len() <= 16 {
        let mut n = 0u128;
        for b in serial {
            n = (n << 8) | u128::from(*b);
        }
        assert_eq!(decimal, n.to_string());
        assert_eq!(hex, format!("{n:X}"));
    }
    let _ = (cert.subject(), cert.issuer());
    let (from, to) = (cert.not_before(), cert.not_after());
    let _ = cert.is_valid_at(from);
    let _ = to;
    let _ = cert.key_type();
    let _ = cert.public_key();
    let _ = cert.spki_der();
    let _ = format!("{cert:?}");
});
