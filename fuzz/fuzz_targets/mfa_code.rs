//! What an MFA command (`--mfa-process`, a profile's `mfa_process`) printed, and a code as
//! `--token-code` gives it.
//!
//! Invariants: an accepted code is exactly six ASCII digits, the output trimmed; every refusal
//! is the same message whatever was printed or typed (it never repeats the output, which may
//! hold the code).
#![no_main]

use aws_signing_helper::sts::check_token_code;
use aws_signing_helper::sts::mfa::code_from_output;
use libfuzzer_sys::fuzz_target;

const COMMAND: &str = "ykman oath accounts code -s aws";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

fn six_digits(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

fn shown(e: &aws_signing_helper::Error) -> String {
    format!("{e}\n{e:?}")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match code_from_output(data, COMMAND, SERIAL) {
        Ok(code) => {
            assert!(six_digits(&code), "accepted {:?}", code.as_str());
            assert_eq!(code.as_str(), text.trim());
        }
        Err(e) => {
            assert!(!six_digits(text.trim()));
            let refusal = code_from_output(b"", COMMAND, SERIAL).unwrap_err();
            assert_eq!(shown(&e), shown(&refusal));
        }
    }
    if let Ok(typed) = std::str::from_utf8(data) {
        match check_token_code(typed) {
            Ok(()) => assert!(six_digits(typed)),
            Err(e) => {
                assert!(!six_digits(typed));
                assert_eq!(shown(&e), shown(&check_token_code("").unwrap_err()));
            }
        }
    }
});
