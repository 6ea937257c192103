//! GetFederationToken: temporary credentials for a federated user from an IAM user's
//! long-term keys, the only temporary credentials such keys give that the console accepts
//! (a GetSessionToken session cannot sign in). Cached per access key, name, policy and
//! endpoint.

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::cache::Key;
use crate::sts::session::{check_duration, Sts};
use crate::sts::sts_error::StsError;
use crate::sts::{self, AccessKeys, Call};

/// What GetFederationToken accepts for `DurationSeconds` (one hour at most for the root user).
pub const DURATION: std::ops::RangeInclusive<i64> = 900..=129_600;

/// The inline session policy when no managed policy is given: everything the user's own
/// policies allow (a federation token without a policy can do nothing).
pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// What to ask GetFederationToken for.
#[derive(Debug, Clone)]
pub struct FederationParams {
    /// The federated user's name (2 to 32 characters).
    pub name: String,
    pub duration: i64,
    /// Managed policies limiting the session; none: [`ALLOW_ALL`].
    pub policy_arns: Vec<String>,
}

/// GetFederationToken with long-term `keys`, cached.
pub fn federation_token(
    ctx: &Sts,
    keys: &AccessKeys,
    label: &str,
    p: &FederationParams,
) -> Result<(Credentials, Meta)> {
    check_duration("--duration", p.duration, DURATION, "GetFederationToken")?;
    sts::check_text("--role-session-name", &p.name, 2..=32, "")?;
    for arn in &p.policy_arns {
        let parsed: std::result::Result<crate::protocol::arn::Arn, _> = arn.parse();
        if !parsed.is_ok_and(|a| a.service == "iam" && a.resource.starts_with("policy/")) {
            return Err(StsError::PolicyArn { arn: arn.clone() }.into());
        }
    }
    if keys.session_token.is_some() {
        return Err(StsError::FederationTemporaryKeys {
            label: label.to_string(),
        }
        .into());
    }
    let url = ctx.endpoint.url();
    let policies = p.policy_arns.join("\u{1}");
    let duration = p.duration.to_string();
    let key = Key::new(
        "federation-token",
        &[
            "federation-token",
            &keys.cache_identity(),
            &p.name,
            &policies,
            &url,
        ],
    );
    ctx.cached(&key, || {
        let mut call = Call::new("GetFederationToken")
            .param("Name", p.name.as_str())
            .param("DurationSeconds", duration.as_str());
        if p.policy_arns.is_empty() {
            call = call.param("Policy", ALLOW_ALL);
        }
        for (i, arn) in p.policy_arns.iter().enumerate() {
            call = call.param(format!("PolicyArns.member.{}.arn", i + 1), arn.as_str());
        }
        let body = sts::send(&ctx.client, keys, &ctx.endpoint, &call, ctx.policy)?;
        let (mut creds, arn) = sts::parse_federation_token(&body, None)?;
        creds.account_id = arn
            .as_deref()
            .and_then(|a| a.parse::<crate::protocol::arn::Arn>().ok())
            .map(|a| a.account)
            .filter(|a| !a.is_empty());
        let meta = Meta {
            source: format!("federation-token {} via {label}", p.name),
            mfa: false,
            arn,
        };
        Ok((creds, meta))
    })
}
