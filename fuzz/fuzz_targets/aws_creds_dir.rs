//! aws-sts-helpers' credential directory: the value of a key file (`NAME.access_key`,
//! `NAME.secret_key`, `NAME.user`) or of the MFA cache's `.cache.NAME.expiration` (whole
//! minutes from the file's time). Input: 8 bytes of the `.expiration` file's modification time
//! (seconds from 1970, signed), then the file's bytes.
//!
//! Invariants: a value is the input's text trimmed, never empty, and reads back the same; a
//! cache end is exactly that many minutes after the file's time, a time the credentials'
//! expiration can show, and the minutes it makes read back to the same end.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use aws_signing_helper::sts::creds_dir::{parse_cache_end, parse_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (time, bytes) = data.split_at(8);
    let secs = i64::from_le_bytes(time.try_into().expect("8 bytes"));
    let modified = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    let Some(modified) = modified else { return };

    let value = match parse_value(bytes) {
        Err(_) => {
            assert!(std::str::from_utf8(bytes).is_err());
            return;
        }
        Ok(None) => {
            assert!(std::str::from_utf8(bytes).unwrap().trim().is_empty());
            return;
        }
        Ok(Some(v)) => v,
    };
    let text = std::str::from_utf8(bytes).unwrap();
    assert_eq!(value.as_str(), text.trim());
    assert!(!value.is_empty());
    assert_eq!(
        parse_value(value.as_bytes())
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some(value.as_str())
    );

    let Some(end) = parse_cache_end(&value, modified) else {
        return;
    };
    let minutes: u64 = value
        .parse()
        .expect("an end comes from a number of minutes");
    let lifetime = end
        .duration_since(modified)
        .expect("an end is never before the file's time");
    assert_eq!(Some(lifetime.as_secs()), minutes.checked_mul(60));
    assert_eq!(lifetime.subsec_nanos(), 0);
    // The credentials' expiration is shown as RFC 3339: the end must be a time jiff can show.
    let shown = jiff::Timestamp::try_from(end).expect("an end can be shown");
    assert!(shown.to_string().parse::<jiff::Timestamp>().is_ok());
    assert_eq!(parse_cache_end(&minutes.to_string(), modified), Some(end));
});
