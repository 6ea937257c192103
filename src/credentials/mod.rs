//! Temporary credentials and the ways we print them.

pub mod output;
pub mod refresh;

use serde::Serialize;
use zeroize::Zeroizing;

/// A set of temporary AWS credentials. Secrets are zeroized on drop and redacted in `Debug`.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Zeroizing<String>,
    /// RFC 3339, as the service sent it.
    pub expiration: String,
    /// The account the credentials belong to (from the role ARN), which SDKs read.
    pub account_id: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &"** redacted **")
            .field("expiration", &self.expiration)
            .field("account_id", &self.account_id)
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

impl Credentials {
    /// The `credential_process` JSON: `{"Version":1,"AccessKeyId":…,"SecretAccessKey":…,
    /// "SessionToken":…,"Expiration":…,"AccountId":…}` (no trailing newline).
    pub fn to_process_json(&self) -> Zeroizing<String> {
        let out = ProcessOutput {
            version: 1,
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: &self.session_token,
            expiration: &self.expiration,
            account_id: self.account_id.as_deref(),
        };
        // Serializing a struct of strings to a String cannot fail.
        Zeroizing::new(serde_json::to_string(&out).unwrap_or_default())
    }

    /// The expiration as a timestamp, if it parses.
    pub fn expiration_time(&self) -> Option<jiff::Timestamp> {
        self.expiration.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_json_has_official_key_order_and_account() {
        let c = Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: Zeroizing::new("s".into()),
            session_token: Zeroizing::new("t".into()),
            expiration: "2024-01-01T01:00:00Z".into(),
            account_id: Some("111122223333".into()),
        };
        assert_eq!(
            c.to_process_json().as_str(),
            r#"{"Version":1,"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2024-01-01T01:00:00Z","AccountId":"111122223333"}"#
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("\"s\"") && dbg.contains("redacted"));
    }
}
