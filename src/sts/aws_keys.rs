//! Where STS calls get the keys they are signed with: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`) or a profile of
//! the shared credentials file (`$AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`,
//! section `[NAME]`) or of the config file (`[profile NAME]`, `aws_access_key_id` …), else
//! aws-sts-helpers' credential directory (`~/aws-creds/NAME.access_key` …, see
//! [`crate::sts::creds_dir`]): the AWS files win, as every other AWS tool reads them first.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::files::aws_config::Ini;
use crate::files::SharedFile;
use crate::sts::sts_error::StsError;
use crate::sts::AccessKeys;

use crate::env::var as env;

/// Keys from the environment, if both the id and the secret are set.
pub fn from_env() -> Option<AccessKeys> {
    let id = env("AWS_ACCESS_KEY_ID")?;
    let secret = Zeroizing::new(env("AWS_SECRET_ACCESS_KEY")?);
    Some(AccessKeys {
        access_key_id: id,
        secret_access_key: secret,
        session_token: env("AWS_SESSION_TOKEN").map(Zeroizing::new),
    })
}

/// Whether the environment's keys were put there by us (`--output env` or `exec`).
pub fn env_is_ours() -> bool {
    env(crate::credentials::output::SOURCE_VAR).is_some()
}

/// The profile to use when none is given: `$AWS_PROFILE`, else `default`.
pub fn default_profile() -> String {
    env("AWS_PROFILE").unwrap_or_else(|| "default".to_string())
}

pub(crate) fn credentials_path() -> Option<PathBuf> {
    SharedFile::Credentials.path()
}

/// The shared file `file` parsed (`None`: there is none), read by the trusted reader.
pub(crate) fn read_ini(file: SharedFile) -> Result<Option<Ini>> {
    match file.path() {
        Some(p) => read_ini_at(&p, file.what()),
        None => Ok(None),
    }
}

fn read_ini_at(path: &Path, what: &'static str) -> Result<Option<Ini>> {
    match crate::files::shared_files::read_trusted(path, what) {
        Ok(text) => Ok(text.map(|t| Ini::parse(&t))),
        Err(source) => Err(StsError::Read {
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

/// Keys from profile `name` of the shared credentials file, else of the config file, else of
/// the aws-creds directory.
pub fn from_profile(name: &str) -> Result<AccessKeys> {
    find_in_profile(name, None)?.ok_or_else(|| missing_keys(name, false))
}

/// Keys from profile `name`, or `None` when no file gives the profile both keys. A configured
/// key store (`--key-store`, `$AWS_SIGNING_HELPER_KEY_STORE`) is asked first; `creds_dir` is
/// the aws-creds directory, asked last (`None`: its default).
pub fn find_in_profile(name: &str, creds_dir: Option<&Path>) -> Result<Option<AccessKeys>> {
    if let Some(keys) = crate::keystore::find(name)? {
        return Ok(Some(keys));
    }
    let sources = [
        (read_ini(SharedFile::Credentials)?, name.to_string()),
        (
            read_ini(SharedFile::Config)?,
            if name == "default" {
                "default".to_string()
            } else {
                format!("profile {name}")
            },
        ),
    ];
    for (ini, section) in &sources {
        let Some(map) = ini.as_ref().and_then(|i| i.section(section)) else {
            continue;
        };
        let get = |k: &str| map.get(k).filter(|v| !v.is_empty()).cloned();
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Ok(Some(AccessKeys {
                access_key_id: id,
                secret_access_key: Zeroizing::new(secret),
                session_token: get("aws_session_token").map(Zeroizing::new),
            }));
        }
    }
    Ok(crate::sts::creds_dir::find(creds_dir, name)?.map(|k| k.keys))
}

/// The error for a profile without keys; `env_is_ours` adds why the environment's keys were
/// not used instead.
pub fn missing_keys(name: &str, env_is_ours: bool) -> Error {
    let where_ = credentials_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.aws/credentials".into());
    StsError::MissingKeys {
        name: name.into(),
        credentials_file: where_,
        env_is_ours,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_from_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n[other]\nregion = x\n",
        )
        .unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            "[profile cfg]\naws_access_key_id=AKIA2\naws_secret_access_key=s2\n",
        )
        .unwrap();
        // Read directly (the environment is shared by parallel tests; the lookup logic is
        // the same with explicit paths).
        let ini = read_ini_at(&creds, "credentials file").unwrap().unwrap();
        assert_eq!(
            ini.section("default").unwrap()["aws_access_key_id"],
            "AKIA1"
        );
        let ini = read_ini_at(&cfg, "AWS config file").unwrap().unwrap();
        assert_eq!(
            ini.section("profile cfg").unwrap()["aws_secret_access_key"],
            "s2"
        );
        assert!(read_ini_at(&dir.path().join("none"), "AWS config file")
            .unwrap()
            .is_none());
    }
}
