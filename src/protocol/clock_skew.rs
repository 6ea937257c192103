//! Clock-skew correction, as the AWS SDKs do it (the official tool has none): when the service
//! refuses a request because its signing time is too far from the service's clock, and the
//! answer's `Date` header shows how far off this machine's clock is, the request is signed again,
//! once, with the service's time. A warning says the clock needs fixing.

use jiff::{SignedDuration, Timestamp};

use crate::protocol::http::HttpResponse;

/// Smaller offsets are not what the service refuses (it allows 5 minutes); the `Date` header's
/// one-second resolution and the network delay stay far below this.
const MIN_OFFSET: SignedDuration = SignedDuration::from_secs(60);

/// Whether an error answer means "the signing time is too far from ours".
pub fn is_skew_error(code: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    matches!(
        code,
        "RequestTimeTooSkewed" | "RequestExpired" | "RequestInTheFuture"
    ) || m.contains("signature expired")
        || m.contains("signature not yet current")
        || m.contains("too skewed")
}

/// An HTTP `Date` header (RFC 9110 IMF-fixdate, or RFC 2822).
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text.trim())
        .ok()
}

/// The time to sign with: the machine's, corrected at most once per operation.
#[derive(Debug, Default)]
pub struct Correction {
    offset: SignedDuration,
    applied: bool,
}

impl Correction {
    /// The signing time.
    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        now.checked_add(self.offset).unwrap_or(now)
    }

    /// Given an error answer, decides whether to sign again with the service's time; returns
    /// true (and adopts the offset) when the answer is a skew error, its `Date` is at least a
    /// minute from this machine's clock, and no correction was made yet.
    pub fn correct(&mut self, resp: &HttpResponse, code: &str, message: &str) -> bool {
        self.correct_at(resp, code, message, Timestamp::now())
    }

    fn correct_at(
        &mut self,
        resp: &HttpResponse,
        code: &str,
        message: &str,
        now: Timestamp,
    ) -> bool {
        if self.applied || !is_skew_error(code, message) {
            return false;
        }
        let Some(server) = resp.header("date").and_then(parse_http_date) else {
            return false;
        };
        let offset = server.duration_since(now);
        if offset.abs() < MIN_OFFSET {
            return false;
        }
        let (amount, direction) = if offset.is_negative() {
            (-offset.as_secs(), "ahead of")
        } else {
            (offset.as_secs(), "behind")
        };
        log::warn!(
            "this machine's clock is {amount} s {direction} the service's; signing again with the service's time (synchronise the clock, e.g. with NTP)"
        );
        self.offset = offset;
        self.applied = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(date: Option<&str>) -> HttpResponse {
        HttpResponse {
            status: 403,
            headers: date
                .map(|d| vec![("Date".to_string(), d.to_string())])
                .unwrap_or_default(),
            body: Vec::new(),
        }
    }

    const EXPIRED: &str = "Signature expired: 20260101T000000Z is now earlier than 20260101T005500Z (20260101T010000Z - 5 min.)";

    #[test]
    fn adopts_the_service_clock_once() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut c = Correction::default();
        let resp = answer(Some("Thu, 01 Jan 2026 01:00:00 GMT"));
        assert!(c.correct_at(&resp, "AccessDeniedException", EXPIRED, now));
        assert_eq!(c.offset, SignedDuration::from_hours(1));
        // Only once: a second refusal is reported, not retried forever.
        assert!(!c.correct_at(&resp, "AccessDeniedException", EXPIRED, now));
    }

    #[test]
    fn needs_a_skew_error_and_a_distant_date() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let far = answer(Some("Wed, 31 Dec 2025 23:00:00 GMT"));
        assert!(!Correction::default().correct_at(
            &far,
            "AccessDeniedException",
            "Unable to assume role",
            now
        ));
        assert!(!Correction::default().correct_at(&answer(None), "RequestExpired", "", now));
        assert!(!Correction::default().correct_at(
            &answer(Some("yesterday")),
            "RequestExpired",
            "",
            now
        ));
        let near = answer(Some("Thu, 01 Jan 2026 00:00:30 GMT"));
        assert!(!Correction::default().correct_at(&near, "RequestExpired", "", now));
        let mut c = Correction::default();
        assert!(c.correct_at(&far, "RequestTimeTooSkewed", "", now));
        assert_eq!(c.offset, SignedDuration::from_hours(-1));
    }

    #[test]
    fn recognises_skew_errors() {
        assert!(is_skew_error("AccessDeniedException", EXPIRED));
        assert!(is_skew_error(
            "AccessDeniedException",
            "Signature not yet current: 20260101T020000Z is still later than 20260101T010500Z"
        ));
        assert!(is_skew_error("RequestExpired", "Request has expired."));
        assert!(!is_skew_error(
            "AccessDeniedException",
            "Untrusted certificate. Insufficient certificate"
        ));
    }
}
