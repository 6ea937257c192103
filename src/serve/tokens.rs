//! IMDSv2 session tokens: 100 random characters, a TTL of 1..=21600 seconds, at most
//! [`MAX_TOKENS`] alive at once. Token values are secrets: zeroized on drop, never logged.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use base64::Engine as _;
use zeroize::Zeroizing;

/// Tokens kept at most; inserting one more evicts the one expiring first.
pub const MAX_TOKENS: usize = 256;
/// The largest TTL a client may ask for, and the TTL when it asks for none.
pub const MAX_TTL_SECONDS: u64 = 21_600;
/// Length of a token in characters.
pub const TOKEN_LEN: usize = 100;

/// A stored token value, zeroized when dropped.
struct Key(Zeroizing<String>);

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}
impl Eq for Key {}
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state)
    }
}
impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

/// Parses the `X-aws-ec2-metadata-token-ttl-seconds` value like Go's `strconv.Atoi` (optional
/// sign, decimal digits) and checks it is within 1..=21600. `None` (no header) means 21600.
pub fn parse_ttl(value: Option<&[u8]>) -> Option<u64> {
    let Some(raw) = value else {
        return Some(MAX_TTL_SECONDS);
    };
    let (negative, digits) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || negative {
        // A negative number is never in range; other text is not a number.
        return None;
    }
    let mut n: u64 = 0;
    for d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        if n > MAX_TTL_SECONDS {
            return None;
        }
    }
    (n >= 1).then_some(n)
}

/// A new token: the first 100 characters of the standard base64 of 128 random bytes.
pub fn generate() -> Option<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 128]);
    aws_lc_rs::rand::fill(&mut raw[..]).ok()?;
    let mut text = Zeroizing::new(String::with_capacity(172));
    base64::engine::general_purpose::STANDARD.encode_string(&raw[..], &mut text);
    text.truncate(TOKEN_LEN);
    Some(text)
}

/// The live tokens and their expiry (monotonic clock, injected by the caller).
#[derive(Default)]
pub struct TokenStore {
    tokens: HashMap<Key, Instant>,
}

impl TokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tokens held (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when no token is held.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Drops every token whose expiry is before `now`.
    pub fn purge(&mut self, now: Instant) {
        self.tokens.retain(|_, expiry| now <= *expiry);
    }

    /// Stores `token`, valid for `ttl` from `now`. Expired tokens are purged first; if the store
    /// is still full the token expiring first is evicted.
    pub fn insert(&mut self, token: Zeroizing<String>, ttl: Duration, now: Instant) {
        self.purge(now);
        while self.tokens.len() >= MAX_TOKENS {
            let earliest = self
                .tokens
                .iter()
                .min_by_key(|(_, expiry)| **expiry)
                .map(|(key, _)| key.0.clone());
            match earliest {
                Some(key) => {
                    self.tokens.remove(key.as_str());
                    log::debug!("evicting earliest expiring token");
                }
                None => break,
            }
        }
        self.tokens.insert(Key(token), now + ttl);
    }

    /// The remaining lifetime of `token` at `now`, or `None` if unknown or expired (an expired
    /// token is removed).
    pub fn check(&mut self, token: &str, now: Instant) -> Option<Duration> {
        let expiry = *self.tokens.get(token)?;
        if now > expiry {
            self.tokens.remove(token);
            return None;
        }
        Some(expiry - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(n: usize) -> Zeroizing<String> {
        Zeroizing::new(format!("token-{n}"))
    }

    #[test]
    fn ttl_rules() {
        assert_eq!(parse_ttl(None), Some(21_600));
        assert_eq!(parse_ttl(Some(b"1")), Some(1));
        assert_eq!(parse_ttl(Some(b"21600")), Some(21_600));
        assert_eq!(
            parse_ttl(Some(b"+5")),
            Some(5),
            "Go's Atoi accepts a leading +"
        );
        assert_eq!(parse_ttl(Some(b"0005")), Some(5));
        for bad in [
            &b"0"[..],
            b"21601",
            b"-5",
            b"-0",
            b"abc",
            b"",
            b"+",
            b"5s",
            b" 5",
            b"1.5",
            b"99999999999999999999999999",
            b"\xff",
        ] {
            assert_eq!(
                parse_ttl(Some(bad)),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn tokens_are_100_base64_chars_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/'));
        assert_ne!(a.as_str(), b.as_str());
    }

    #[test]
    fn expiry_is_checked_against_the_injected_clock() {
        let t0 = Instant::now();
        let mut s = TokenStore::new();
        s.insert(tok(1), Duration::from_secs(10), t0);
        assert_eq!(s.check("token-1", t0), Some(Duration::from_secs(10)));
        assert_eq!(
            s.check("token-1", t0 + Duration::from_secs(10)),
            Some(Duration::ZERO),
            "valid up to and including the expiry instant"
        );
        assert_eq!(s.check("token-1", t0 + Duration::from_millis(10_001)), None);
        assert!(s.is_empty(), "an expired token is removed when seen");
        assert_eq!(s.check("nope", t0), None);
    }

    #[test]
    fn the_257th_token_evicts_the_earliest_expiring() {
        let t0 = Instant::now();
        let mut s = TokenStore::new();
        // Token 0 expires first although it is not the first inserted.
        for n in 1..MAX_TOKENS {
            s.insert(tok(n), Duration::from_secs(100 + n as u64), t0);
        }
        s.insert(tok(0), Duration::from_secs(50), t0);
        assert_eq!(s.len(), MAX_TOKENS);
        s.insert(tok(999), Duration::from_secs(1000), t0);
        assert_eq!(s.len(), MAX_TOKENS);
        assert_eq!(s.check("token-0", t0), None);
        assert!(s.check("token-1", t0).is_some());
        assert!(s.check("token-999", t0).is_some());
    }

    #[test]
    fn expired_tokens_are_purged_on_insert() {
        let t0 = Instant::now();
        let mut s = TokenStore::new();
        for n in 0..10 {
            s.insert(tok(n), Duration::from_secs(1), t0);
        }
        s.insert(tok(10), Duration::from_secs(1), t0 + Duration::from_secs(5));
        assert_eq!(s.len(), 1);
    }
}
