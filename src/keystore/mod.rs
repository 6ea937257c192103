//! The key store: long-term AWS keys kept out of plaintext files.
//!
//! Three backends, chosen by `--key-store` or `$AWS_SIGNING_HELPER_KEY_STORE`:
//! - `keyring`: the Linux kernel keyring ([`kernel`]), the user's persistent keyring;
//! - `secret-service`: the desktop Secret Service over D-Bus ([`secret_service`]);
//! - `file`: an age-encrypted file, scrypt passphrase ([`age_file`]), for servers and CI.
//!
//! Each entry is one [`Entry`] serialised as JSON inside the secret (the backend's secret
//! value, or the encrypted file). When a store is configured, [`find`] is asked for a
//! profile's keys before the shared credentials files; when none is, nothing here runs (no
//! D-Bus, no keyring calls, no prompts).
//!
//! Errors are typed: [`KeyStoreError`] (never holding a key or a passphrase) and, for
//! `keys rotate`, [`RotateError`], which says which key exists, is stored and works.

pub mod age_file;
pub mod import;
pub mod kernel;
pub mod rotate;
mod rotate_error;
#[cfg(feature = "secret-service")]
pub mod secret_service;
mod store_error;

pub use rotate_error::{Halfway, RotateError};
pub use store_error::{KeyStoreError, Unseal};

use std::path::PathBuf;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::sts::AccessKeys;

/// The environment variable choosing the backend.
pub const STORE_ENV: &str = "AWS_SIGNING_HELPER_KEY_STORE";
/// The environment variable naming the encrypted file (the `file` backend).
pub const FILE_ENV: &str = "AWS_SIGNING_HELPER_KEY_STORE_FILE";
/// The environment variable naming a file (ours, mode 0600) holding the `file` backend's
/// passphrase, for servers and CI.
pub const PASSPHRASE_FILE_ENV: &str = "AWS_SIGNING_HELPER_KEY_STORE_PASSPHRASE_FILE";
/// What every entry's name is prefixed with in the kernel keyring and the Secret Service.
pub const PREFIX: &str = "aws-signing-helper:";

/// The backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyring,
    SecretService,
    File,
}

impl Kind {
    /// `keyring`, `secret-service` or `file`.
    pub fn parse(s: &str, from: &str) -> Result<Kind, KeyStoreError> {
        match s {
            "keyring" => Ok(Kind::Keyring),
            "secret-service" => Ok(Kind::SecretService),
            "file" => Ok(Kind::File),
            _ => Err(KeyStoreError::InvalidKind {
                value: s.to_string(),
                from: from.to_string(),
            }),
        }
    }

    /// The name users write.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Keyring => "keyring",
            Kind::SecretService => "secret-service",
            Kind::File => "file",
        }
    }
}

/// A configured store: the backend, and the encrypted file's path for `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub kind: Kind,
    /// `--key-store-file` (else `$AWS_SIGNING_HELPER_KEY_STORE_FILE`, else
    /// `~/.config/aws-signing-helper/keys.age`).
    pub file: Option<PathBuf>,
}

impl Config {
    /// The store `$AWS_SIGNING_HELPER_KEY_STORE` names, if any.
    pub fn from_env() -> Result<Option<Config>> {
        let Some(v) = std::env::var(STORE_ENV).ok().filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Config {
            kind: Kind::parse(&v, STORE_ENV)?,
            file: None,
        }))
    }

    /// Opens the backend (no secret is read yet).
    pub fn open(&self) -> Result<Box<dyn Backend>> {
        match self.kind {
            Kind::Keyring => Ok(Box::new(kernel::Keyring::open()?)),
            Kind::File => Ok(Box::new(age_file::AgeFile::new(self.file.clone())?)),
            #[cfg(feature = "secret-service")]
            Kind::SecretService => Ok(Box::new(secret_service::SecretService::connect()?)),
            #[cfg(not(feature = "secret-service"))]
            Kind::SecretService => Err(KeyStoreError::NoSecretService.into()),
        }
    }
}

/// One long-term key, as stored (JSON inside the secret).
#[derive(Serialize, Deserialize, Clone)]
pub struct Entry {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    /// The IAM user the key belongs to, when known (`keys rotate` uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When the entry was stored (RFC 3339).
    pub created: String,
}

impl std::fmt::Debug for Entry {
    // Never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("access_key_id", &mask(&self.access_key_id))
            .field("user", &self.user)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// A new entry stored now.
    pub fn new(name: &str, keys: &AccessKeys, user: Option<String>) -> Entry {
        Entry {
            name: name.to_string(),
            access_key_id: keys.access_key_id.clone(),
            secret_access_key: keys.secret_access_key.clone(),
            user,
            created: jiff::Timestamp::now().to_string(),
        }
    }

    /// The entry as the JSON the backends store.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        to_json(self)
    }

    /// Parses what a backend stored; `at` names the place in errors.
    pub fn from_json(bytes: &[u8], at: &str) -> Result<Entry, KeyStoreError> {
        // The parser's error is not kept: it can quote the stored text, which holds the secret.
        serde_json::from_slice(bytes).map_err(|_| KeyStoreError::NotEntry { at: at.to_string() })
    }

    /// The keys, for signing.
    pub fn keys(&self) -> AccessKeys {
        AccessKeys {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: None,
        }
    }
}

/// Serialises into a buffer that is wiped on drop and sized so that it never reallocates
/// for entries of normal size (a reallocation would leave an unwiped copy).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64 << 10));
    // Serialising these plain structs into a Vec cannot fail (no maps with non-string keys,
    // no I/O errors from a Vec).
    serde_json::to_writer(&mut *out, value).expect("serialising an entry");
    out
}

/// What a backend does.
pub trait Backend {
    /// `keyring`, `secret-service` or `file`.
    fn kind(&self) -> Kind;
    /// Where the entries are, for messages ("the persistent kernel keyring", a path).
    fn location(&self) -> String;
    /// The entry `name`, if stored.
    fn get(&self, name: &str) -> Result<Option<Entry>>;
    /// Stores `entry`, replacing one of the same name.
    fn put(&self, entry: &Entry) -> Result<()>;
    /// Removes `name`; `false` when it was not stored.
    fn remove(&self, name: &str) -> Result<bool>;
    /// Every entry, sorted by name.
    fn list(&self) -> Result<Vec<Entry>>;
}

/// Checks an entry name: a profile or account name (letters, digits, `-_.@+`, up to 64).
pub fn check_name(name: &str) -> Result<(), KeyStoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(KeyStoreError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// An access key id shown without most of it: `AKIA…WXYZ`.
pub fn mask(id: &str) -> String {
    if id.len() <= 8 || !id.is_ascii() {
        return "…".to_string();
    }
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

static SELECTED: OnceLock<Config> = OnceLock::new();

/// Selects the store for this process (`--key-store` of an STS command); the first call wins.
pub fn select(config: Config) {
    let _ = SELECTED.set(config);
}

/// The store of this process: the selected one, else `$AWS_SIGNING_HELPER_KEY_STORE`'s.
pub fn configured() -> Result<Option<Config>> {
    match SELECTED.get() {
        Some(c) => Ok(Some(c.clone())),
        None => Config::from_env(),
    }
}

/// The keys stored under `name` in the configured store; `None` when no store is configured
/// (nothing is opened then) or it has no such entry.
pub fn find(name: &str) -> Result<Option<AccessKeys>> {
    let Some(config) = configured()? else {
        return Ok(None);
    };
    if check_name(name).is_err() {
        return Ok(None);
    }
    let store = config.open()?;
    let entry = store.get(name)?;
    if let Some(e) = &entry {
        log::debug!(
            "long-term keys {} of {name:?} from the {} key store",
            mask(&e.access_key_id),
            store.kind().name()
        );
    }
    Ok(entry.map(|e| e.keys()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_never_show_the_secret() {
        let keys = AccessKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
            session_token: None,
        };
        let e = Entry::new("work", &keys, Some("alice".into()));
        let back = Entry::from_json(&e.to_json(), "test").unwrap();
        assert_eq!(back.access_key_id, keys.access_key_id);
        assert_eq!(*back.secret_access_key, *keys.secret_access_key);
        assert_eq!(back.user.as_deref(), Some("alice"));
        let shown = format!("{back:?}");
        assert!(
            shown.contains("AKIA…MPLE") && !shown.contains("wJalr"),
            "{shown}"
        );
        assert!(Entry::from_json(b"{}", "x")
            .unwrap_err()
            .to_string()
            .contains("not an aws-signing-helper entry"));
    }

    #[test]
    fn names_kinds_and_masks() {
        assert!(check_name("work-1@acme").is_ok());
        for bad in ["", ".x", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(mask("short"), "…");
        assert_eq!(Kind::parse("file", "x").unwrap(), Kind::File);
        assert!(Kind::parse("plain", "--key-store")
            .unwrap_err()
            .to_string()
            .contains("--key-store"));
    }
}
