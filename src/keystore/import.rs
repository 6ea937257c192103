//! `import-keys`: long-term keys found in plaintext (aws-sts-helpers' `~/aws-creds` and the
//! shared credentials file) copied into a key store. Nothing is deleted: the report names the
//! plaintext copies the user may now delete.

use std::path::{Path, PathBuf};

use super::{check_name, mask, Backend, Entry};
use crate::error::Result;
use crate::sts::{aws_keys, creds_dir, AccessKeys};

/// A key found in plaintext.
pub struct Found {
    pub name: String,
    pub keys: AccessKeys,
    pub user: Option<String>,
    /// Where it was found, for messages.
    pub from: String,
    /// What the user may delete once it is stored.
    pub plaintext: Vec<String>,
}

/// What happened to one key.
pub enum Outcome {
    /// Stored now.
    Imported,
    /// The store already had this very key under the name.
    AlreadyStored,
    /// Not stored: `why` (a different key of that name is stored, the name is not usable).
    Skipped(String),
}

/// The long-term keys of `creds_dir` (aws-sts-helpers' directory) and of the shared
/// credentials file (profiles with both keys and no session token).
pub fn find_plaintext(creds_dir: Option<&Path>) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    if let Some(dir) = creds_dir {
        for k in creds_dir::list(dir)? {
            let mut plaintext = vec![
                file(dir, &k.name, "access_key"),
                file(dir, &k.name, "secret_key"),
            ];
            if k.user.is_some() {
                plaintext.push(file(dir, &k.name, "user"));
            }
            found.push(Found {
                from: dir.display().to_string(),
                name: k.name,
                keys: k.keys,
                user: k.user,
                plaintext,
            });
        }
    }
    let path = aws_keys::credentials_path();
    if let (Some(ini), Some(p)) = (
        aws_keys::read_ini(crate::files::SharedFile::Credentials)?,
        &path,
    ) {
        for section in ini.section_names() {
            let Some(map) = ini.section(section) else {
                continue;
            };
            let get = |k: &str| map.get(k).filter(|v| !v.is_empty());
            let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key"))
            else {
                continue;
            };
            if get("aws_session_token").is_some() {
                continue; // temporary credentials, refreshed by some tool
            }
            found.push(Found {
                name: section.to_string(),
                keys: AccessKeys {
                    access_key_id: id.clone(),
                    secret_access_key: zeroize::Zeroizing::new(secret.clone()),
                    session_token: None,
                },
                user: None,
                from: format!("{} [{section}]", p.display()),
                plaintext: vec![format!(
                    "{}: the aws_access_key_id and aws_secret_access_key lines of [{section}]",
                    p.display()
                )],
            });
        }
    }
    Ok(found)
}

fn file(dir: &Path, name: &str, suffix: &str) -> String {
    PathBuf::from(dir)
        .join(format!("{name}.{suffix}"))
        .display()
        .to_string()
}

/// Stores each key unless the store has a different one under its name.
pub fn import(store: &dyn Backend, found: &[Found]) -> Result<Vec<Outcome>> {
    let mut out = Vec::new();
    for f in found {
        if let Err(e) = check_name(&f.name) {
            out.push(Outcome::Skipped(e.to_string()));
            continue;
        }
        match store.get(&f.name)? {
            Some(e) if e.access_key_id == f.keys.access_key_id => out.push(Outcome::AlreadyStored),
            Some(e) => out.push(Outcome::Skipped(format!(
                "the key store already holds a different key ({}) named {:?}",
                mask(&e.access_key_id),
                f.name
            ))),
            None => {
                store.put(&Entry::new(&f.name, &f.keys, f.user.clone()))?;
                out.push(Outcome::Imported);
            }
        }
    }
    Ok(out)
}
