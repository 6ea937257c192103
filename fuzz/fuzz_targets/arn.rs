//! ARNs as the user passes them (`--role-arn`, `--profile-arn`, `--trust-anchor-arn`): the
//! generic parser and the local checks of the CreateSession parameters.
#![no_main]

use aws_signing_helper::protocol::arn::Arn;
use aws_signing_helper::protocol::rolesanywhere::SessionParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(arn) = text.parse::<Arn>() {
        // Whatever parses must put the pieces back together.
        let joined = format!(
            "arn:{}:{}:{}:{}:{}",
            arn.partition, arn.service, arn.region, arn.account, arn.resource
        );
        assert_eq!(joined, text);
        let _ = arn.resource_name();
    }
    let _ = Arn::parse_flag(text, "role", "--role-arn");
    // Three ARNs separated by newlines, then the duration in the first line's place if numeric.
    let mut parts = text.splitn(4, '\n');
    let (a, b, c, d) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let params = SessionParams {
        trust_anchor_arn: a.to_string(),
        profile_arn: b.to_string(),
        role_arn: c.to_string(),
        duration_seconds: d.trim().parse().unwrap_or(3600),
        role_session_name: None,
    };
    if let Ok(checked) = params.check() {
        assert_eq!(checked.trust_anchor.region, checked.profile.region);
    }
});
