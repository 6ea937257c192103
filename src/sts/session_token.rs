//! GetSessionToken: an MFA session from an IAM user's long-term keys, cached per key, device
//! and endpoint.

use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::files::cache::Key;
use crate::sts::session::{check_duration, Mfa, Sts};
use crate::sts::sts_error::StsError;
use crate::sts::{self, AccessKeys, Call};

/// GetSessionToken with long-term `keys` (and MFA when `serial` is given), cached per
/// access key, MFA device and endpoint.
pub fn session_token(
    ctx: &Sts,
    keys: &AccessKeys,
    label: &str,
    mfa: &Mfa,
    duration: i64,
    duration_flag: &str,
) -> Result<(Credentials, Meta)> {
    check_duration(
        duration_flag,
        duration,
        sts::SESSION_TOKEN_DURATION,
        "GetSessionToken",
    )?;
    let serial = mfa.serial();
    let account = match serial {
        Some(s) => sts::check_serial_number(s)?,
        None => None,
    };
    if mfa.token_code.is_some() && serial.is_none() {
        return Err(StsError::TokenCodeWithoutSerial.into());
    }
    if let Some(code) = &mfa.token_code {
        sts::check_token_code(code)?;
    }
    if keys.session_token.is_some() {
        return Err(StsError::TemporaryKeys {
            label: label.to_string(),
        }
        .into());
    }
    let key = cache_key(ctx, keys, serial);
    ctx.cached(&key, || {
        let call = Call::new("GetSessionToken").param("DurationSeconds", duration.to_string());
        let body = match serial {
            Some(serial) => ctx.with_mfa_code(mfa, serial, |code| {
                let call = call
                    .clone()
                    .param("SerialNumber", serial)
                    .param("TokenCode", code);
                sts::send(&ctx.client, keys, &ctx.endpoint, &call, ctx.policy)
            })?,
            None => sts::send(&ctx.client, keys, &ctx.endpoint, &call, ctx.policy)?,
        };
        let creds = sts::parse_session_token(&body, account.clone())?;
        let meta = Meta {
            source: match serial {
                Some(s) => format!("session-token via {label}, MFA {s}"),
                None => format!("session-token via {label}"),
            },
            mfa: serial.is_some(),
            arn: None,
        };
        Ok((creds, meta))
    })
}

/// The cache key of the sessions of `keys` (with MFA device `serial`) at `ctx`'s endpoint.
fn cache_key(ctx: &Sts, keys: &AccessKeys, serial: Option<&str>) -> Key {
    Key::new(
        "session-token",
        &[
            "session-token",
            &keys.cache_identity(),
            serial.unwrap_or(""),
            &ctx.endpoint.url(),
        ],
    )
}

/// What the cache holds for the sessions of `keys` with MFA device `serial`.
pub enum Cached {
    /// A session valid for longer than the cache margin.
    Valid(Credentials, Meta),
    /// An entry, but expired (or about to, or unreadable).
    Stale,
    /// No entry (or no cache).
    Absent,
}

/// The cached session [`session_token`] would reuse, without calling STS.
pub fn cached(ctx: &Sts, keys: &AccessKeys, serial: Option<&str>) -> Cached {
    let Some(store) = &ctx.store else {
        return Cached::Absent;
    };
    let key = cache_key(ctx, keys, serial);
    match store.get(&key) {
        Some((creds, meta)) => Cached::Valid(creds, meta),
        None if store.exists(&key) => Cached::Stale,
        None => Cached::Absent,
    }
}
