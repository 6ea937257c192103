//! `keys rotate`: a new access key for a stored entry, then the old one deleted.
//!
//! Steps: IAM CreateAccessKey (for the entry's user, else the caller's), signed with the old
//! key; the new key stored under the entry's name; STS GetCallerIdentity with the new key
//! (polled for up to [`VERIFY_FOR`]: a new key takes a few seconds to work everywhere); IAM
//! DeleteAccessKey of the old key, signed with the new one. When a step fails the error
//! says what state things are in and what to run next.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{check_name, Backend, Entry, Halfway, RotateError};
use crate::error::Result;
use crate::iam::{self, Iam};
use crate::sts::session::Sts;
use crate::sts::{self, AccessKeys, Call};

/// How long the new key is given to start working.
pub const VERIFY_FOR: Duration = Duration::from_secs(30);

/// What a rotation did.
pub struct Rotated {
    pub old_id: String,
    pub new_id: String,
    pub user: String,
}

/// Rotates entry `name` of `store`.
pub fn rotate(store: &dyn Backend, name: &str, iam: &Iam, sts_ctx: &Sts) -> Result<Rotated> {
    check_name(name)?;
    let old = store.get(name)?.ok_or_else(|| RotateError::NoKey {
        name: name.to_string(),
        location: store.location(),
    })?;
    let old_keys = old.keys();
    let created = iam
        .send(
            &old_keys,
            &iam::call("CreateAccessKey").opt("UserName", old.user.as_deref()),
        )
        .map_err(|source| RotateError::Create {
            name: name.to_string(),
            source,
        })?;
    let p = "CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/";
    let v = sts::xml_values(
        &created,
        &[
            &format!("{p}AccessKeyId"),
            &format!("{p}SecretAccessKey"),
            &format!("{p}UserName"),
        ],
    )?;
    let (Some(new_id), Some(new_secret)) = (v[0].clone(), v[1].clone()) else {
        return Err(RotateError::NoNewKey {
            name: name.to_string(),
            old_id: old.access_key_id.clone(),
        }
        .into());
    };
    let new_id = new_id.to_string();
    let user = v[2]
        .as_ref()
        .map(|u| u.to_string())
        .or(old.user.clone())
        .unwrap_or_default();
    let new_keys = AccessKeys {
        access_key_id: new_id.clone(),
        secret_access_key: Zeroizing::new(new_secret.to_string()),
        session_token: None,
    };
    let entry = Entry::new(
        name,
        &new_keys,
        Some(user.clone()).filter(|u| !u.is_empty()),
    );
    let halfway = Halfway {
        name: name.to_string(),
        new_id: new_id.clone(),
        old_id: old.access_key_id.clone(),
        user: user.clone(),
    };
    store.put(&entry).map_err(|source| RotateError::Store {
        keys: halfway.clone(),
        source,
    })?;
    verify(sts_ctx, &new_keys).map_err(|source| RotateError::Verify {
        keys: halfway.clone(),
        source,
    })?;
    iam.send(
        &new_keys,
        &iam::call("DeleteAccessKey")
            .opt("UserName", Some(user.as_str()).filter(|u| !u.is_empty()))
            .param("AccessKeyId", &old.access_key_id),
    )
    .map_err(|source| RotateError::Delete {
        keys: halfway,
        source,
    })?;
    Ok(Rotated {
        old_id: old.access_key_id,
        new_id,
        user,
    })
}

/// GetCallerIdentity with `keys`, retried until it works or [`VERIFY_FOR`] has passed.
fn verify(ctx: &Sts, keys: &AccessKeys) -> Result<()> {
    let deadline = Instant::now() + VERIFY_FOR;
    loop {
        let sent = sts::send(
            &ctx.client,
            keys,
            &ctx.endpoint,
            &Call::new("GetCallerIdentity"),
            ctx.policy,
        )
        .and_then(|body| sts::parse_caller_identity(&body));
        match sent {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(e) => {
                log::debug!("the new key does not work yet: {e}");
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
}
