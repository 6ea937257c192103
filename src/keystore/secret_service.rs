//! The desktop Secret Service backend (freedesktop.org Secret Service API over the D-Bus
//! session bus: GNOME Keyring, KWallet, KeePassXC).
//!
//! Entries are items of the default collection labelled `aws-signing-helper:NAME` with the
//! attributes `application=aws-signing-helper` and `name=NAME`; the secret (the entry's
//! JSON) crosses D-Bus encrypted (the service's `dh-ietf1024-sha256-aes128-cbc-pkcs7`
//! session). A locked collection is unlocked through the service's own prompt.

use std::collections::HashMap;

use secret_service::{EncryptionType, Item};
use zeroize::Zeroizing;

use super::{check_name, Backend, Entry, KeyStoreError, Kind, PREFIX};
use crate::error::Result;

const APPLICATION: &str = "aws-signing-helper";

/// A connection to the Secret Service, with the runtime its client needs.
pub struct SecretService {
    runtime: tokio::runtime::Runtime,
}

fn failed(what: &str, source: secret_service::Error) -> KeyStoreError {
    KeyStoreError::SecretService {
        what: what.to_string(),
        source: Box::new(source),
    }
}

fn attributes(name: Option<&str>) -> HashMap<&str, &str> {
    let mut a = HashMap::from([("application", APPLICATION)]);
    if let Some(n) = name {
        a.insert("name", n);
    }
    a
}

impl SecretService {
    /// Checks that the session bus has a Secret Service.
    pub fn connect() -> Result<SecretService> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(KeyStoreError::DbusClient)?;
        let s = SecretService { runtime };
        s.with(|ss| async move {
            ss.get_default_collection()
                .await
                .map_err(|e| failed("open the default collection", e))?;
            Ok(())
        })?;
        Ok(s)
    }

    /// Runs `f` with a fresh session (one per call: the connection is cheap and the
    /// borrowed client cannot outlive the call).
    fn with<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(secret_service::SecretService<'static>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        self.runtime.block_on(async {
            let ss = secret_service::SecretService::connect(EncryptionType::Dh)
                .await
                .map_err(|e| failed("connect to the session D-Bus", e))?;
            f(ss).await
        })
    }
}

async fn read(item: &Item<'_>, name: &str) -> Result<Entry> {
    item.ensure_unlocked()
        .await
        .map_err(|e| failed(&format!("unlock {name:?}"), e))?;
    let secret = Zeroizing::new(
        item.get_secret()
            .await
            .map_err(|e| failed(&format!("read {name:?}"), e))?,
    );
    Ok(Entry::from_json(
        &secret,
        &format!("{PREFIX}{name} in the Secret Service"),
    )?)
}

async fn items<'a>(
    ss: &'a secret_service::SecretService<'a>,
    name: Option<&str>,
) -> Result<Vec<Item<'a>>> {
    let found = ss
        .search_items(attributes(name))
        .await
        .map_err(|e| failed("search", e))?;
    let mut all = found.unlocked;
    all.extend(found.locked);
    Ok(all)
}

impl Backend for SecretService {
    fn kind(&self) -> Kind {
        Kind::SecretService
    }

    fn location(&self) -> String {
        "the Secret Service's default collection".into()
    }

    fn get(&self, name: &str) -> Result<Option<Entry>> {
        check_name(name)?;
        self.with(|ss| async move {
            match items(&ss, Some(name)).await?.first() {
                Some(item) => read(item, name).await.map(Some),
                None => Ok(None),
            }
        })
    }

    fn put(&self, entry: &Entry) -> Result<()> {
        check_name(&entry.name)?;
        let json = entry.to_json();
        self.with(|ss| async move {
            let collection = ss
                .get_default_collection()
                .await
                .map_err(|e| failed("open the default collection", e))?;
            collection
                .ensure_unlocked()
                .await
                .map_err(|e| failed("unlock the default collection", e))?;
            collection
                .create_item(
                    &format!("{PREFIX}{}", entry.name),
                    attributes(Some(&entry.name)),
                    &json,
                    true,
                    "application/json",
                )
                .await
                .map_err(|e| failed(&format!("store {:?}", entry.name), e))?;
            Ok(())
        })
    }

    fn remove(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        self.with(|ss| async move {
            let found = items(&ss, Some(name)).await?;
            for item in &found {
                item.delete()
                    .await
                    .map_err(|e| failed(&format!("remove {name:?}"), e))?;
            }
            Ok(!found.is_empty())
        })
    }

    fn list(&self) -> Result<Vec<Entry>> {
        self.with(|ss| async move {
            let mut out = Vec::new();
            for item in items(&ss, None).await? {
                let attrs = item
                    .get_attributes()
                    .await
                    .map_err(|e| failed("read an item's attributes", e))?;
                let Some(name) = attrs.get("name") else {
                    continue;
                };
                out.push(read(&item, name).await?);
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }
}
