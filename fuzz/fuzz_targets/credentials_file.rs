//! The shared credentials file editor. Input: the profile name on the first line, the file text
//! after it. Invariants: setting the same credentials twice is the same as once, setting A then
//! B is the same as setting B, and every byte outside the target section is kept.
#![no_main]

use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::files::credentials_file::{check_profile_name, set_profile};
use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

fn creds(n: &str) -> Credentials {
    Credentials {
        access_key_id: format!("ASIAFUZZ{n}"),
        secret_access_key: Zeroizing::new(format!("secret/{n}+key=")),
        session_token: Zeroizing::new(format!("token{n}==")),
        expiration: "2030-01-01T00:00:00Z".into(),
        account_id: None,
    }
}

/// The section name of a `[name]` header line, optionally followed by a `#`/`;` comment. Written
/// again here from the file format rather than taken from the editor, so the two check each other.
fn header(line: &str) -> Option<&str> {
    let t = line.trim().strip_prefix('[')?;
    let (name, rest) = t.split_once(']')?;
    let rest = rest.trim();
    (rest.is_empty() || rest.starts_with(['#', ';'])).then(|| name.trim())
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (profile, text) = input.split_once('\n').unwrap_or((input, ""));
    let a = creds("A");
    let once = set_profile(text, profile, &a);
    if check_profile_name(profile).is_err() {
        return;
    }
    let twice = set_profile(&once, profile, &a);
    assert_eq!(once, twice, "not idempotent");
    let b = creds("B");
    assert_eq!(
        set_profile(&once, profile, &b),
        set_profile(text, profile, &b),
        "A then B differs from B"
    );

    // Bytes before the target section's header (inclusive) and from the next header on are kept.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match lines.iter().position(|l| header(l) == Some(profile)) {
        None => assert!(once.starts_with(text), "text before a new section changed"),
        Some(start) => {
            let end = lines[start + 1..]
                .iter()
                .position(|l| header(l).is_some())
                .map_or(lines.len(), |p| start + 1 + p);
            let head: String = lines[..=start].concat();
            let tail: String = lines[end..].concat();
            assert!(once.starts_with(&head), "lines before the section changed");
            assert!(once.ends_with(&tail), "lines after the section changed");
            // Inside the section, every line that is not one of the three keys is kept, in order.
            let mut section = &once[head.len()..once.len() - tail.len()];
            if !head.ends_with('\n') {
                // The header was the last line and had no line break; the editor added one.
                section = section
                    .strip_prefix("\r\n")
                    .or_else(|| section.strip_prefix('\n'))
                    .unwrap_or(section);
            }
            let is_key = |l: &str| {
                let t = l.trim_start();
                !t.starts_with(['#', ';', '['])
                    && t.split_once('=').is_some_and(|(k, _)| {
                        let k = k.trim().to_ascii_lowercase();
                        [
                            "aws_access_key_id",
                            "aws_secret_access_key",
                            "aws_session_token",
                        ]
                        .contains(&k.as_str())
                    })
            };
            let kept_before: Vec<&str> = lines[start + 1..end]
                .iter()
                .map(|l| l.trim_end_matches(['\n', '\r']))
                .filter(|l| !is_key(l))
                .collect();
            let kept_after: Vec<&str> = section
                .split_inclusive('\n')
                .map(|l| l.trim_end_matches(['\n', '\r']))
                .filter(|l| !is_key(l))
                .collect();
            assert_eq!(
                kept_before, kept_after,
                "other lines of the section changed"
            );
        }
    }
    // The section now holds each key once, with the new value.
    for (key, value) in [
        ("aws_access_key_id", a.access_key_id.as_str()),
        ("aws_secret_access_key", a.secret_access_key.as_str()),
        ("aws_session_token", a.session_token.as_str()),
    ] {
        assert!(once.contains(&format!("{key} = {value}")), "{key} missing");
    }
});
