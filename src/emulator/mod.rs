//! A local IAM Roles Anywhere: `CreateSession` and the control plane.
//!
//! [`verify_request`] checks one request exactly as the service does without
//! any I/O ([`verify_session`] also against the control plane's [`State`]); [`control`] answers
//! the control-plane operations (trust anchors, profiles, CRLs, tags), also without I/O;
//! [`Emulator`] serves both over HTTP or HTTPS on a background thread, answering in the
//! service's shapes, with fault injection for client tests.

pub mod control;
mod server;
pub mod start_error;
mod tls;
pub mod verify;

use std::time::Duration;

pub use control::State;
pub use server::Emulator;
pub use start_error::StartError;
pub use verify::{
    verify_request, verify_session, ServiceError, SessionGrant, REVOKED_CERTIFICATE,
    UNTRUSTED_CERTIFICATE,
};

use crate::identity::Certificate;

/// What the emulator accepts and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// CA certificates; requests must chain to one of them.
    pub trust_anchors: Vec<Certificate>,
    /// Largest `durationSeconds` accepted (the service accepts 900..=43200, capped by profile).
    pub max_duration_seconds: u32,
    /// How far `X-Amz-Date` may be from the server clock.
    pub clock_skew: Duration,
    /// Fault injection: answer the first N requests with `fail_status`.
    pub fail_first: u32,
    /// The status of injected failures (e.g. 503, 429, 500).
    pub fail_status: u16,
    /// Accept connections and requests but never answer.
    pub stall: bool,
    /// After N successful sessions, answer every request with 500.
    pub fail_after: Option<u32>,
    /// Log each request's outcome as one line on stderr (never credentials or signatures).
    pub log_requests: bool,
    /// Test knob: credentials expire after this long, whatever `durationSeconds` asked for
    /// (lets refresh logic be tested in seconds rather than a quarter of an hour).
    pub credential_lifetime: Option<Duration>,
    /// Test knob: the server's clock runs this far ahead (negative: behind) of the machine's,
    /// for its checks and its `Date` header (lets clock-skew correction be tested).
    pub clock_offset: jiff::SignedDuration,
    /// Where the control plane's resources are kept (JSON, written privately after each
    /// change and read at start); `None` keeps them in memory only.
    pub state_file: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            trust_anchors: Vec::new(),
            max_duration_seconds: 43200,
            clock_skew: Duration::from_secs(300),
            fail_first: 0,
            fail_status: 503,
            stall: false,
            fail_after: None,
            log_requests: false,
            credential_lifetime: None,
            clock_offset: jiff::SignedDuration::ZERO,
            state_file: None,
        }
    }
}

/// `n` random characters from `alphabet` (bias from the modulo is irrelevant here).
fn random_string(alphabet: &[u8], n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system RNG failing is not recoverable; an all-zero draw still yields valid text.
        bytes.iter_mut().for_each(|b| *b = 0);
    }
    bytes
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect()
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Formats 16 bytes as a UUID (version 4 layout).
fn uuid_from(bytes: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(bytes) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A random request id.
pub(crate) fn request_id() -> String {
    let mut b = [0u8; 16];
    // On RNG failure the id is merely not unique.
    let _ = aws_lc_rs::rand::fill(&mut b);
    uuid_from(&b)
}

impl SessionGrant {
    /// The 201 response body in the service's shape, with fresh random credentials.
    pub fn response_json(&self) -> String {
        let digest = |s: &str| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
        // Stable ids: the role id depends on the role, the subject id on the certificate subject.
        let role_digest = digest(&self.role_arn);
        let role_id: String = role_digest
            .as_ref()
            .iter()
            .take(17)
            .map(|b| char::from(UPPER_ALNUM[usize::from(*b) % UPPER_ALNUM.len()]))
            .collect();
        let subject_id = uuid_from(digest(&format!("{}\n{}", self.issuer, self.subject)).as_ref());
        let access_key_id = format!("ASIA{}", random_string(UPPER_ALNUM, 16));
        let secret = random_string(SECRET_ALPHABET, 40);
        let token = format!("IQoJb3JpZ2luX2Vj{}", random_string(SECRET_ALPHABET, 600));
        serde_json::json!({
            "credentialSet": [{
                "assumedRoleUser": {
                    "arn": format!(
                        "arn:{}:sts::{}:assumed-role/{}/{}",
                        self.partition, self.role_account, self.role_name, self.session_name
                    ),
                    "assumedRoleId": format!("AROA{role_id}:{}", self.session_name),
                },
                "credentials": {
                    "accessKeyId": access_key_id,
                    "expiration": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "secretAccessKey": secret,
                    "sessionToken": token,
                },
                "packedPolicySize": 0,
                "roleArn": self.role_arn,
                "sourceIdentity": self.source_identity,
            }],
            "subjectArn": format!(
                "arn:{}:rolesanywhere:{}:{}:subject/{subject_id}",
                self.partition, self.region, self.account
            ),
        })
        .to_string()
    }
}

#[cfg(test)]
mod control_tests;
#[cfg(test)]
mod tests;
