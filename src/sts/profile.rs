//! Profiles of the shared AWS files resolved the way the AWS CLI resolves them: `role_arn` with
//! `source_profile` (chains of any depth) or `credential_source`, `mfa_serial`, `external_id`,
//! `role_session_name`, `duration_seconds`, `region`, `credential_process`, and static keys.
//!
//! Files: `$AWS_CONFIG_FILE` (else `~/.aws/config`, sections `[default]` and `[profile NAME]`)
//! and `$AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`, sections `[NAME]`). A key set in
//! both wins from the credentials file, as in the CLI. A profile whose `source_profile` names
//! itself takes its own static keys; any other loop is refused with the chain printed.

use std::collections::HashMap;

use super::aws_keys;
use super::profile_error::ProfileError;
use super::AccessKeys;
use crate::error::Result;
use crate::files::aws_config::Ini;

/// Where the first credentials of a chain come from.
#[derive(Debug, Clone)]
pub enum Base {
    /// Static keys of a profile.
    Keys { profile: String, keys: AccessKeys },
    /// A profile's `credential_process` command, run as the CLI runs it (through the shell).
    Process { profile: String, command: String },
    /// `credential_source = Environment`.
    Environment,
    /// `credential_source = Ec2InstanceMetadata`.
    Ec2InstanceMetadata,
    /// `credential_source = EcsContainer`.
    EcsContainer,
}

/// One AssumeRole of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    /// The profile that names the role.
    pub profile: String,
    pub role_arn: String,
    pub mfa_serial: Option<String>,
    /// A command printing the device's code (`mfa_process`, an extension of this tool).
    pub mfa_process: Option<String>,
    pub external_id: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<i64>,
}

/// A resolved profile: the base credentials, then the roles to assume in order.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The profile asked for.
    pub profile: String,
    pub base: Base,
    /// The first role is assumed with the base credentials, each next one with the previous.
    pub roles: Vec<RoleStep>,
    /// The `region` of the profile asked for.
    pub region: Option<String>,
}

impl Chain {
    /// Whether the chain is more than a profile's static keys.
    pub fn is_plain_keys(&self) -> bool {
        self.roles.is_empty() && matches!(self.base, Base::Keys { .. })
    }

    /// `admin -> base (keys)`, for messages and `whoami`.
    pub fn describe(&self) -> String {
        let base = match &self.base {
            Base::Keys { profile, .. } => format!("profile {profile} (keys)"),
            Base::Process { profile, .. } => format!("profile {profile} (credential_process)"),
            Base::Environment => "environment".into(),
            Base::Ec2InstanceMetadata => "EC2 instance metadata".into(),
            Base::EcsContainer => "container credentials".into(),
        };
        let mut parts: Vec<String> = self
            .roles
            .iter()
            .rev()
            .map(|r| format!("profile {} ({})", r.profile, r.role_arn))
            .collect();
        parts.push(base);
        parts.join(" <- ")
    }
}

/// The two shared files, parsed.
#[derive(Debug, Default)]
pub struct SharedFiles {
    config: Ini,
    credentials: Ini,
}

impl SharedFiles {
    /// Reads both files (a missing file is empty).
    pub fn load() -> Result<SharedFiles> {
        Ok(SharedFiles {
            config: aws_keys::read_ini(crate::files::SharedFile::Config)?.unwrap_or_default(),
            credentials: aws_keys::read_ini(crate::files::SharedFile::Credentials)?
                .unwrap_or_default(),
        })
    }

    /// From the files' texts (tests, fuzzing).
    pub fn from_texts(config: &str, credentials: &str) -> SharedFiles {
        SharedFiles {
            config: Ini::parse(config),
            credentials: Ini::parse(credentials),
        }
    }

    fn config_section(&self, name: &str) -> Option<&HashMap<String, String>> {
        if name == "default" {
            self.config
                .section("default")
                .or_else(|| self.config.section("profile default"))
        } else {
            self.config.section(&format!("profile {name}"))
        }
    }

    /// Whether either file has the profile.
    pub fn has(&self, name: &str) -> bool {
        self.config_section(name).is_some() || self.credentials.section(name).is_some()
    }

    /// A setting of profile `name`: the credentials file's, else the config file's.
    pub fn get(&self, name: &str, key: &str) -> Option<String> {
        let from = |m: Option<&HashMap<String, String>>| {
            m.and_then(|m| m.get(key))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        from(self.credentials.section(name)).or_else(|| from(self.config_section(name)))
    }

    /// A setting of profile `name` in the config file only (settings of this tool that do
    /// not belong in the credentials file).
    pub fn config_get(&self, name: &str, key: &str) -> Option<String> {
        self.config_section(name)
            .and_then(|m| m.get(key))
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    fn static_keys(&self, name: &str) -> Option<AccessKeys> {
        let id = self.get(name, "aws_access_key_id")?;
        let secret = self.get(name, "aws_secret_access_key")?;
        Some(AccessKeys {
            access_key_id: id,
            secret_access_key: zeroize::Zeroizing::new(secret),
            session_token: self
                .get(name, "aws_session_token")
                .map(zeroize::Zeroizing::new),
        })
    }

    /// The long-term keys of profile `name` as [`aws_keys::find_in_profile`] finds them: the key
    /// store when one is configured, then the files. So a `source_profile` whose keys were
    /// moved into the store (`keys add`, `import-keys`) keeps working.
    fn keys_of(&self, name: &str) -> Result<Option<AccessKeys>> {
        if let Some(keys) = crate::keystore::find(name)? {
            return Ok(Some(keys));
        }
        Ok(self.static_keys(name))
    }

    /// aws-sts-helpers' keys of `name` (`~/aws-creds`), the last place keys are looked for.
    fn seed_keys(name: &str) -> Result<Option<AccessKeys>> {
        Ok(crate::sts::creds_dir::find(None, name)?.map(|k| k.keys))
    }

    /// Whether the profile is more than static keys (a role, a process, a credential source).
    pub fn is_composite(&self, name: &str) -> bool {
        ["role_arn", "credential_process", "credential_source"]
            .iter()
            .any(|k| self.get(name, k).is_some())
    }

    /// Resolves profile `name` into a chain.
    pub fn resolve(&self, name: &str) -> Result<Chain> {
        let mut visited: Vec<String> = Vec::new();
        let mut roles = Vec::new();
        let mut current = name.to_string();
        let base = loop {
            if visited.contains(&current) {
                visited.push(current);
                return Err(ProfileError::Loop { chain: visited }.into());
            }
            visited.push(current.clone());
            if !self.has(&current) {
                // A source profile that lives only in the key store (or ~/aws-creds).
                if current != name {
                    let keys = match self.keys_of(&current)? {
                        Some(keys) => Some(keys),
                        None => Self::seed_keys(&current)?,
                    };
                    if let Some(keys) = keys {
                        break Base::Keys {
                            profile: current.clone(),
                            keys,
                        };
                    }
                }
                return Err(if current == name {
                    ProfileError::NotFound { profile: current }
                } else {
                    ProfileError::SourceNotFound {
                        profile: visited[visited.len() - 2].clone(),
                        source_profile: current,
                    }
                }
                .into());
            }
            let get = |k: &str| self.get(&current, k);
            if let Some(role_arn) = get("role_arn") {
                let duration_seconds = match get("duration_seconds") {
                    Some(d) => {
                        Some(
                            d.trim()
                                .parse::<i64>()
                                .map_err(|_| ProfileError::Duration {
                                    profile: current.clone(),
                                    value: d.clone(),
                                })?,
                        )
                    }
                    None => None,
                };
                roles.push(RoleStep {
                    profile: current.clone(),
                    role_arn,
                    mfa_serial: get("mfa_serial"),
                    mfa_process: self.config_get(&current, "mfa_process"),
                    external_id: get("external_id"),
                    role_session_name: get("role_session_name"),
                    duration_seconds,
                });
                match (get("source_profile"), get("credential_source")) {
                    (Some(_), Some(_)) => {
                        return Err(ProfileError::BothSources { profile: current }.into())
                    }
                    (Some(source), None) if source == current => {
                        // The CLI's self-reference: the role is assumed with this profile's keys.
                        match self.keys_of(&current)? {
                            Some(keys) => {
                                break Base::Keys {
                                    profile: current.clone(),
                                    keys,
                                }
                            }
                            None => {
                                return Err(
                                    ProfileError::SelfSourceNoKeys { profile: current }.into()
                                )
                            }
                        }
                    }
                    (Some(source), None) => {
                        current = source;
                        continue;
                    }
                    (None, Some(source)) => {
                        break match source.as_str() {
                            "Environment" => Base::Environment,
                            "Ec2InstanceMetadata" => Base::Ec2InstanceMetadata,
                            "EcsContainer" => Base::EcsContainer,
                            other => {
                                return Err(ProfileError::CredentialSource {
                                    profile: current,
                                    value: other.to_string(),
                                }
                                .into())
                            }
                        }
                    }
                    (None, None) => return Err(ProfileError::NoSource { profile: current }.into()),
                }
            }
            if let Some(keys) = self.keys_of(&current)? {
                break Base::Keys {
                    profile: current.clone(),
                    keys,
                };
            }
            if let Some(command) = get("credential_process") {
                break Base::Process {
                    profile: current.clone(),
                    command,
                };
            }
            if let Some(keys) = Self::seed_keys(&current)? {
                break Base::Keys {
                    profile: current.clone(),
                    keys,
                };
            }
            return Err(aws_keys::missing_keys(&current, false));
        };
        roles.reverse();
        Ok(Chain {
            profile: name.to_string(),
            base,
            roles,
            region: self.get(name, "region"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile base]
region = us-east-2

[profile admin]
role_arn = arn:aws:iam::111111111111:role/Admin
source_profile = base
mfa_serial = arn:aws:iam::000000000000:mfa/alice
duration_seconds = 7200
region = eu-central-1

[profile deep]
role_arn = arn:aws:iam::222222222222:role/Deep
source_profile = admin
external_id = xyz
role_session_name = me

[profile ra]
credential_process = aws_signing_helper credential-process --certificate c.pem

[profile from-ra]
role_arn = arn:aws:iam::333333333333:role/FromRa
source_profile = ra

[profile self]
role_arn = arn:aws:iam::444444444444:role/Self
source_profile = self
aws_access_key_id = AKIASELF
aws_secret_access_key = s

[profile env]
role_arn = arn:aws:iam::555555555555:role/Env
credential_source = Environment

[profile a]
role_arn = arn:aws:iam::1:role/A
source_profile = b

[profile b]
role_arn = arn:aws:iam::1:role/B
source_profile = a

[profile both]
role_arn = arn:aws:iam::1:role/X
source_profile = base
credential_source = Environment

[profile orphan]
role_arn = arn:aws:iam::1:role/X
";
    const CREDENTIALS: &str = "\
[base]
aws_access_key_id = AKIABASE
aws_secret_access_key = secret
";

    fn files() -> SharedFiles {
        SharedFiles::from_texts(CONFIG, CREDENTIALS)
    }

    #[test]
    fn chains_of_any_depth_resolve_in_order() {
        let f = files();
        let c = f.resolve("deep").unwrap();
        let Base::Keys { profile, keys } = &c.base else {
            panic!("keys base expected")
        };
        assert_eq!(
            (profile.as_str(), keys.access_key_id.as_str()),
            ("base", "AKIABASE")
        );
        let arns: Vec<&str> = c.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::111111111111:role/Admin",
                "arn:aws:iam::222222222222:role/Deep"
            ]
        );
        assert_eq!(c.roles[0].duration_seconds, Some(7200));
        assert_eq!(
            c.roles[0].mfa_serial.as_deref(),
            Some("arn:aws:iam::000000000000:mfa/alice")
        );
        assert_eq!(c.roles[1].external_id.as_deref(), Some("xyz"));
        assert_eq!(c.roles[1].role_session_name.as_deref(), Some("me"));
        assert_eq!(c.region, None);
        assert_eq!(
            f.resolve("admin").unwrap().region.as_deref(),
            Some("eu-central-1")
        );
        assert!(c.describe().starts_with("profile deep ("));
        assert!(c.describe().ends_with("profile base (keys)"));
    }

    #[test]
    fn process_self_and_environment_bases() {
        let f = files();
        let c = f.resolve("from-ra").unwrap();
        assert!(
            matches!(&c.base, Base::Process { command, .. } if command.starts_with("aws_signing_helper"))
        );
        assert_eq!(c.roles.len(), 1);
        let c = f.resolve("self").unwrap();
        assert!(matches!(&c.base, Base::Keys { keys, .. } if keys.access_key_id == "AKIASELF"));
        assert_eq!(c.roles.len(), 1);
        assert!(matches!(f.resolve("env").unwrap().base, Base::Environment));
        assert!(f.resolve("base").unwrap().is_plain_keys());
        assert!(f.is_composite("admin") && !f.is_composite("base"));
    }

    #[test]
    fn loops_and_broken_profiles_are_refused_clearly() {
        let f = files();
        let e = f.resolve("a").unwrap_err().to_string();
        assert!(e.contains("a -> b -> a"), "{e}");
        assert!(f
            .resolve("both")
            .unwrap_err()
            .to_string()
            .contains("both source_profile and credential_source"));
        assert!(f
            .resolve("orphan")
            .unwrap_err()
            .to_string()
            .contains("neither source_profile nor credential_source"));
        assert!(f
            .resolve("nosuch")
            .unwrap_err()
            .to_string()
            .contains("neither the AWS config file"));
    }
}
