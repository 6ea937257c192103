//! `keys rotate`: a new access key for a stored entry, then the old one deleted.
//!
//! Steps: IAM CreateAccessKey (for the entry's user, else the caller's), signed with the old
//! key; the new key stored under the entry's name; STS GetCallerIdentity with the new key
//! (polled for up to [`VERIFY_FOR`]: a new key takes a few seconds to work everywhere); IAM
//! DeleteAccessKey of the old key, signed with the new one. When a step fails the error
//! says what state things are in and what to run next.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::{check_name, mask, Backend, Entry};
use crate::error::{Error, Result};
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

fn delete_hint(id: &str, user: &str) -> String {
    format!("aws iam delete-access-key --access-key-id {id} --user-name {user}")
}

/// Rotates entry `name` of `store`.
pub fn rotate(store: &dyn Backend, name: &str, iam: &Iam, sts_ctx: &Sts) -> Result<Rotated> {
    check_name(name)?;
    let old = store.get(name)?.ok_or_else(|| {
        Error::new(format!("no key named {name:?} in {}", store.location()))
            .hint("see keys list, or add it with keys add NAME")
    })?;
    let old_keys = old.keys();
    let created = iam
        .send(
            &old_keys,
            &iam::call("CreateAccessKey").opt("UserName", old.user.as_deref()),
        )
        .map_err(|e| {
            Error::new(format!(
                "keys rotate {name}: CreateAccessKey failed, nothing changed: {}",
                e.message()
            ))
            .hint("check that the key may call iam:CreateAccessKey and that its user has fewer than 2 keys")
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
        return Err(Error::new(format!(
            "keys rotate {name}: IAM's CreateAccessKey answer has no key; the old key {} is unchanged",
            mask(&old.access_key_id)
        )));
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
    store.put(&entry).map_err(|e| {
        Error::new(format!(
            "keys rotate {name}: the new key {new_id} was created but could not be stored ({}); the old key {} is still stored and works",
            e.message(),
            mask(&old.access_key_id)
        ))
        .hint(format!("delete the new key: {}", delete_hint(&new_id, &user)))
    })?;
    verify(sts_ctx, &new_keys).map_err(|e| {
        Error::new(format!(
            "keys rotate {name}: the new key {} is stored, but STS did not accept it within {} s ({}); the old key {} was not deleted",
            mask(&new_id),
            VERIFY_FOR.as_secs(),
            e.message(),
            old.access_key_id
        ))
        .hint(format!(
            "once the new key works (aws_signing_helper whoami --verify), delete the old one: {}",
            delete_hint(&old.access_key_id, &user)
        ))
    })?;
    iam.send(
        &new_keys,
        &iam::call("DeleteAccessKey")
            .opt("UserName", Some(user.as_str()).filter(|u| !u.is_empty()))
            .param("AccessKeyId", &old.access_key_id),
    )
    .map_err(|e| {
        Error::new(format!(
            "keys rotate {name}: the new key {} is stored and works; the old key {} was not deleted: {}",
            mask(&new_id),
            old.access_key_id,
            e.message()
        ))
        .hint(format!("delete it with {}", delete_hint(&old.access_key_id, &user)))
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
