//! AssumeRole from any source (keys, an MFA session, Roles Anywhere), cached per source
//! identity, role and request parameters.

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::cache::Key;
use crate::protocol::rolesanywhere;
use crate::sts::session::{check_duration, Mfa, Sts};
use crate::sts::session_token::session_token;
use crate::sts::source::Source;
use crate::sts::sts_error::StsError;
use crate::sts::{self, AccessKeys, Call};

/// The longest role session STS grants when the caller's credentials are temporary.
pub const CHAINED_MAX_DURATION: i64 = 3600;

/// What to ask AssumeRole for.
#[derive(Debug, Clone)]
pub struct AssumeParams {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: i64,
    pub source_identity: Option<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    /// Duration of an MFA session started on the way.
    pub mfa_session_duration: i64,
}

impl AssumeParams {
    /// Local checks of everything STS would reject, so errors name our flags.
    pub fn check(&self) -> Result<crate::protocol::arn::Arn> {
        let arn = sts::check_role_arn(&self.role_arn)?;
        check_duration(
            "--duration",
            self.duration,
            sts::ASSUME_ROLE_DURATION,
            "AssumeRole",
        )?;
        if let Some(n) = &self.session_name {
            sts::check_text("--role-session-name", n, 2..=64, "")?;
        }
        if let Some(x) = &self.external_id {
            sts::check_text("--external-id", x, 2..=1224, ":/")?;
        }
        if let Some(s) = &self.source_identity {
            sts::check_text("--source-identity", s, 2..=64, "")?;
        }
        if self.tags.len() > 50 {
            return Err(StsError::TooManyTags.into());
        }
        for (k, v) in &self.tags {
            sts::check_text("--tag key", k, 1..=128, ":/ ")?;
            if v.chars().count() > 256 {
                return Err(StsError::TagValue { key: k.clone() }.into());
            }
        }
        for k in &self.transitive_tag_keys {
            if !self.tags.iter().any(|(t, _)| t == k) {
                return Err(StsError::TransitiveTagKey { key: k.clone() }.into());
            }
        }
        Ok(arn)
    }
}

/// AssumeRole from `source`, cached per source identity, role and request parameters.
/// With long-term keys and an MFA device, an MFA session is started (or reused from the cache)
/// first, and the role is assumed with it: one MFA code serves every role.
pub fn assume_role(
    ctx: &Sts,
    source: &Source,
    mfa: &Mfa,
    p: &AssumeParams,
) -> Result<(Credentials, Meta)> {
    let arn = p.check()?;
    if let Source::Profile(chain) = source {
        let ran = super::chain::run(ctx, chain, mfa, None)?;
        return assume_role(ctx, &ran.source, mfa, p);
    }
    let serial = mfa.serial();
    if let Some(s) = serial {
        sts::check_serial_number(s)?;
    }
    if let Some(code) = &mfa.token_code {
        if serial.is_none() {
            return Err(StsError::TokenCodeWithoutSerial.into());
        }
        sts::check_token_code(code)?;
    }
    let long_term = matches!(source, Source::Keys { keys, .. } if keys.session_token.is_none());
    // STS caps a role session assumed with temporary credentials (role chaining) at one hour.
    if !long_term && p.duration > CHAINED_MAX_DURATION {
        return Err(StsError::ChainedDuration {
            duration: p.duration,
            role_arn: p.role_arn.clone(),
            max: CHAINED_MAX_DURATION,
        }
        .into());
    }
    // Long-term keys + MFA: through a cached MFA session, so one code serves every role; but a
    // role session from that MFA session would be chaining (one hour at most), so for longer
    // sessions AssumeRole gets the long-term keys and the MFA code itself, as aws-vault does.
    let via_mfa_session = long_term && serial.is_some() && p.duration <= CHAINED_MAX_DURATION;
    let mut key_parts: Vec<String> = match source {
        Source::Keys { keys, .. } if via_mfa_session => vec![
            "mfa-session".into(),
            keys.cache_identity(),
            serial.unwrap_or("").into(),
        ],
        Source::Keys { keys, .. } => vec![
            "keys".into(),
            keys.cache_identity(),
            serial.unwrap_or("").into(),
        ],
        Source::RolesAnywhere(ra) => {
            let mut v = super::source::identity_parts(ra);
            v.push(serial.unwrap_or("").into());
            v
        }
        // Run above; never reached.
        Source::Profile(chain) => vec!["profile".into(), chain.describe()],
    };
    key_parts.extend([
        "assume-role".to_string(),
        p.role_arn.clone(),
        p.session_name.clone().unwrap_or_default(),
        p.external_id.clone().unwrap_or_default(),
        p.source_identity.clone().unwrap_or_default(),
        p.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{1}"),
        p.transitive_tag_keys.join("\u{1}"),
        ctx.endpoint.url(),
    ]);
    let refs: Vec<&str> = key_parts.iter().map(String::as_str).collect();
    let key = Key::new(&format!("assume-role-{}", arn.resource_name()), &refs);
    ctx.cached(&key, || {
        let (keys, via, mut mfa_used, direct_mfa) = match source {
            Source::Keys { keys, label } if via_mfa_session => {
                let (session, _) = session_token(
                    ctx,
                    keys,
                    label,
                    mfa,
                    p.mfa_session_duration,
                    "--mfa-session-duration",
                )?;
                (
                    AccessKeys::from(&session),
                    format!("MFA session via {label}"),
                    true,
                    false,
                )
            }
            Source::Keys { keys, label } => (keys.clone(), label.clone(), false, serial.is_some()),
            Source::RolesAnywhere(ra) => {
                let creds = rolesanywhere::fetch(ra)?.credentials;
                (
                    AccessKeys::from(&creds),
                    format!("rolesanywhere {}", ra.session.role_arn),
                    false,
                    serial.is_some(),
                )
            }
            // A profile chain is run before the cache is consulted (see the top).
            Source::Profile(chain) => {
                return Err(StsError::Unresolved {
                    profile: chain.profile.clone(),
                }
                .into())
            }
        };
        let session_name = p.session_name.clone().unwrap_or_else(|| {
            format!("aws-signing-helper-{}", jiff::Timestamp::now().as_second())
        });
        let mut call = Call::new("AssumeRole")
            .param("RoleArn", p.role_arn.as_str())
            .param("RoleSessionName", session_name)
            .param("DurationSeconds", p.duration.to_string())
            .opt("ExternalId", p.external_id.as_deref())
            .opt("SourceIdentity", p.source_identity.as_deref());
        for (i, (k, v)) in p.tags.iter().enumerate() {
            call = call
                .param(format!("Tags.member.{}.Key", i + 1), k.as_str())
                .param(format!("Tags.member.{}.Value", i + 1), v.as_str());
        }
        for (i, k) in p.transitive_tag_keys.iter().enumerate() {
            call = call.param(format!("TransitiveTagKeys.member.{}", i + 1), k.as_str());
        }
        let body = match serial.filter(|_| direct_mfa) {
            Some(serial) => {
                mfa_used = true;
                ctx.with_mfa_code(mfa, serial, |code| {
                    let call = call
                        .clone()
                        .param("SerialNumber", serial)
                        .param("TokenCode", code);
                    sts::send(&ctx.client, &keys, &ctx.endpoint, &call, ctx.policy)
                })?
            }
            None => sts::send(&ctx.client, &keys, &ctx.endpoint, &call, ctx.policy)?,
        };
        let assumed = sts::parse_assume_role(&body, Some(arn.account.clone()))?;
        let meta = Meta {
            source: format!("assume-role {} from {via}", p.role_arn),
            mfa: mfa_used,
            arn: assumed.assumed_role_arn,
        };
        Ok((assumed.credentials, meta))
    })
}
