//! What a TPM (or something posing as one on `TPM_DEVICE`) answers: response headers,
//! handles and parameter areas, public areas and signatures. Invariants: no panic; a public
//! area that decodes encodes back to the same bytes; a signature that decodes re-encodes to
//! the bytes it consumed.
#![no_main]

use aws_signing_helper::identity::tpm::marshal::{self, Public, Reader, Signature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = marshal::check_header(data);
    for handles in 0..3 {
        let _ = marshal::response(data, handles);
    }
    if let Ok(public) = Public::decode(data) {
        let encoded = public.encode().expect("a decoded public area encodes");
        let again = Public::decode(&encoded).expect("and decodes again");
        assert_eq!(again.encode().unwrap(), encoded);
    }
    let mut r = Reader(data);
    if let Ok(sig) = Signature::decode(&mut r) {
        let used = data.len() - r.0.len();
        assert_eq!(sig.encode().expect("a decoded signature encodes"), &data[..used]);
    }
});
