//! AWS IAM over its Query API: the same wire format and signer as STS (see [`crate::sts`]),
//! with `Version=2010-05-08`, signing name `iam`, and one global endpoint per partition
//! (`https://iam.amazonaws.com`, signed for us-east-1).
//!
//! Used by `keys rotate` (CreateAccessKey / DeleteAccessKey) and `setup` (roles and their
//! policies). Calls are built with [`call`] and sent with [`Iam::send`]; answers are read
//! with [`crate::sts::xml_values`].

use std::time::Duration;

use zeroize::Zeroizing;

use crate::error::Result;
use crate::files::aws_config;
use crate::protocol::http::{self, HttpClient, HttpOptions, RetryPolicy};
use crate::sts::client::{send, Call, QueryService};
use crate::sts::endpoint::resolve_iam_endpoint;
use crate::sts::{AccessKeys, Endpoint};

/// IAM's Query API.
pub const SERVICE: QueryService = QueryService {
    signing_name: "iam",
    label: "IAM",
    version: "2010-05-08",
    endpoint_settings: "--endpoint-url-iam / AWS_ENDPOINT_URL_IAM",
};

/// An IAM call of `action`, parameters to be added.
pub fn call(action: &'static str) -> Call {
    Call::to(SERVICE, action)
}

/// Where and how IAM is called.
#[derive(Debug, Clone)]
pub struct IamOptions {
    /// Selects the partition only (empty: from the environment or the shared config).
    pub region: String,
    /// Empty: from the environment or the shared config, else the partition's.
    pub endpoint: String,
    pub timeout: Duration,
    pub no_verify_ssl: bool,
    /// The profile of the shared config to take settings from (`None`: `$AWS_PROFILE`).
    pub profile: Option<String>,
}

/// A client for IAM: endpoint, HTTPS client and retry policy.
pub struct Iam {
    pub endpoint: Endpoint,
    client: HttpClient,
    policy: RetryPolicy,
}

impl Iam {
    /// Builds the client from the options and the shared config.
    pub fn new(opts: &IamOptions) -> Result<Iam> {
        let settings = aws_config::load_for(opts.profile.as_deref())?;
        let endpoint = resolve_iam_endpoint(&opts.region, &opts.endpoint, &settings)?;
        let client = HttpClient::new(
            &endpoint.url(),
            &HttpOptions {
                no_verify_ssl: opts.no_verify_ssl,
                ca_bundle: settings.ca_bundle.clone(),
                timeout: opts.timeout,
                user_agent: http::user_agent(),
            },
        )?;
        Ok(Iam {
            endpoint,
            client,
            policy: RetryPolicy {
                max_attempts: settings.max_attempts.unwrap_or(3),
                ..RetryPolicy::default()
            },
        })
    }

    /// Signs `call` with `keys`, sends it through the retry loop and returns the XML answer.
    pub fn send(&self, keys: &AccessKeys, call: &Call) -> Result<Zeroizing<Vec<u8>>> {
        send(&self.client, keys, &self.endpoint, call, self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_calls_carry_its_version_and_endpoint() {
        let c = call("CreateAccessKey").param("UserName", "alice");
        assert_eq!(
            c.body().as_str(),
            "Action=CreateAccessKey&UserName=alice&Version=2010-05-08"
        );
        let s = aws_config::Settings::default();
        let e = resolve_iam_endpoint("eu-west-1", "", &s).unwrap();
        assert_eq!(
            (e.url().as_str(), e.region.as_str()),
            ("https://iam.amazonaws.com/", "us-east-1")
        );
        let e = resolve_iam_endpoint("cn-northwest-1", "", &s).unwrap();
        assert_eq!(e.region, "cn-north-1");
        let e = resolve_iam_endpoint("", "http://127.0.0.1:5000", &s).unwrap();
        assert_eq!(
            (e.host.as_str(), e.region.as_str()),
            ("127.0.0.1:5000", "us-east-1")
        );
        assert!(resolve_iam_endpoint("", "ftp://x", &s)
            .unwrap_err()
            .message()
            .contains("invalid IAM endpoint URL"));
    }
}
