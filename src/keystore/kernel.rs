//! The Linux kernel keyring backend (keyrings(7)).
//!
//! Entries are `user` keys described `aws-signing-helper:NAME` in the caller's persistent
//! keyring (persistent-keyring(7)): per user, kept across logins, but expired by the kernel
//! after `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds without use (3 days by
//! default; every use resets the timer). Where the kernel has no persistent keyrings, the
//! user keyring (kept until the user's last process exits) is used instead. Keys grant
//! everything to their possessor and their user and nothing to group or others; they live in
//! kernel memory only, never in a file.

use linux_keyutils::{
    Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, KeyType, Permission,
};

use super::{check_name, Backend, Entry, KeyStoreError, Kind, PREFIX};
use crate::error::Result;

/// The most links of the keyring we list.
const MAX_LINKS: usize = 64 << 10;

/// The kernel keyring backend.
pub struct Keyring {
    ring: KeyRing,
    persistent: bool,
}

fn failed(what: &str, source: KeyError) -> KeyStoreError {
    KeyStoreError::Keyring {
        what: what.to_string(),
        source,
    }
}

impl Keyring {
    /// The persistent keyring, linked to this process's keyring (so its keys are possessed),
    /// else the user keyring.
    pub fn open() -> Result<Keyring, KeyStoreError> {
        match KeyRing::get_persistent(KeyRingIdentifier::Process) {
            Ok(ring) => Ok(Keyring {
                ring,
                persistent: true,
            }),
            Err(_) => KeyRing::from_special_id(KeyRingIdentifier::User, true)
                .map(|ring| Keyring {
                    ring,
                    persistent: false,
                })
                .map_err(|e| failed("open the persistent or user keyring", e)),
        }
    }

    fn find_key(&self, name: &str) -> Result<Option<Key>> {
        check_name(name)?;
        match self.ring.search(&format!("{PREFIX}{name}")) {
            Ok(k) => Ok(Some(k)),
            Err(KeyError::KeyDoesNotExist)
            | Err(KeyError::KeyExpired)
            | Err(KeyError::KeyRevoked) => Ok(None),
            Err(e) => Err(failed(&format!("search for {name:?}"), e).into()),
        }
    }

    fn read(&self, key: Key, name: &str) -> Result<Entry> {
        let bytes = zeroize::Zeroizing::new(
            key.read_to_vec()
                .map_err(|e| failed(&format!("read {name:?}"), e))?,
        );
        Ok(Entry::from_json(
            &bytes,
            &format!("{PREFIX}{name} in the kernel keyring"),
        )?)
    }
}

impl Backend for Keyring {
    fn kind(&self) -> Kind {
        Kind::Keyring
    }

    fn location(&self) -> String {
        if self.persistent {
            "the persistent kernel keyring".into()
        } else {
            "the user kernel keyring".into()
        }
    }

    fn get(&self, name: &str) -> Result<Option<Entry>> {
        match self.find_key(name)? {
            Some(k) => self.read(k, name).map(Some),
            None => Ok(None),
        }
    }

    fn put(&self, entry: &Entry) -> Result<()> {
        check_name(&entry.name)?;
        let json = entry.to_json();
        let key = self
            .ring
            .add_key(&format!("{PREFIX}{}", entry.name), &json[..])
            .map_err(|e| failed(&format!("store {:?}", entry.name), e))?;
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::ALL)
            .build();
        key.set_perms(perms)
            .map_err(|e| failed(&format!("restrict the permissions of {:?}", entry.name), e))?;
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<bool> {
        let Some(key) = self.find_key(name)? else {
            return Ok(false);
        };
        key.invalidate()
            .or_else(|_| self.ring.unlink_key(key))
            .map_err(|e| failed(&format!("remove {name:?}"), e))?;
        Ok(true)
    }

    fn list(&self) -> Result<Vec<Entry>> {
        let links = self
            .ring
            .get_links(MAX_LINKS)
            .map_err(|e| failed("list the keyring", e))?;
        let mut out = Vec::new();
        for key in links.iter().filter_map(|l| l.as_key()) {
            let Ok(meta) = key.metadata() else { continue };
            if meta.get_type() != KeyType::User {
                continue;
            }
            let Some(name) = meta.get_description().strip_prefix(PREFIX) else {
                continue;
            };
            let name = name.to_string();
            out.push(self.read(key, &name)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
