//! The few settings the AWS SDKs read from the environment and the shared config file that
//! change how we call Roles Anywhere: CA bundle, FIPS/dual-stack, endpoint URLs,
//! retry attempts; for the STS commands also the region and the STS endpoint.
//!
//! Environment variables win over the profile in `~/.aws/config` (or `$AWS_CONFIG_FILE`); the
//! profile is `$AWS_PROFILE` or `default`.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::Result;

/// What we take from the environment and the shared config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub ca_bundle: Option<PathBuf>,
    pub use_fips: bool,
    pub use_dualstack: bool,
    /// `AWS_ENDPOINT_URL_ROLESANYWHERE` or the profile's `services` entry for rolesanywhere.
    pub service_endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL` or the profile's `endpoint_url`.
    pub global_endpoint_url: Option<String>,
    pub max_attempts: Option<u32>,
    /// The profile's `region` (STS commands; Roles Anywhere takes its region from the ARNs).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL_STS` or the profile's `services` entry for sts.
    pub sts_endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_IAM` or the profile's `services` entry for iam.
    pub iam_endpoint_url: Option<String>,
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the profile's `ignore_configured_endpoint_urls`.
    pub ignore_endpoint_urls: bool,
}

/// A read-only view of one INI file: section name → key → value. Sub-sections (`service =`
/// followed by indented keys) are stored as `service.key`.
#[derive(Debug, Default)]
pub struct Ini {
    sections: HashMap<String, HashMap<String, String>>,
}

impl Ini {
    /// Parses INI text leniently (unknown lines are skipped).
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut parent: Option<String> = None;
        for raw in text.lines() {
            let line = raw.trim_end_matches('\r');
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if trimmed.starts_with('[') && trimmed.ends_with(']') {
                let name = trimmed[1..trimmed.len() - 1]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                ini.sections.entry(name.clone()).or_default();
                section = Some(name);
                parent = None;
                continue;
            }
            let Some(sec) = &section else { continue };
            let Some((k, v)) = trimmed.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            let indented = line.starts_with(' ') || line.starts_with('\t');
            let map = ini.sections.entry(sec.clone()).or_default();
            if indented {
                if let Some(p) = &parent {
                    map.insert(format!("{p}.{k}"), v);
                }
            } else {
                if v.is_empty() {
                    parent = Some(k.clone());
                } else {
                    parent = None;
                }
                map.insert(k, v);
            }
        }
        ini
    }

    /// The keys of a section.
    pub fn section(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.sections.get(name)
    }

    /// The section names, sorted.
    pub fn section_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.sections.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

use crate::env::var as env;

fn truthy(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}

/// The user's home directory.
pub fn home_dir() -> Option<PathBuf> {
    env("HOME").map(PathBuf::from)
}

/// Reads the settings from the environment and the shared config file (`$AWS_PROFILE`'s).
pub fn load() -> Result<Settings> {
    load_for(None)
}

/// [`load`] for a profile named on the command line (it wins over `$AWS_PROFILE`).
pub fn load_for(profile: Option<&str>) -> Result<Settings> {
    let profile_env = profile.map(str::to_string).or_else(|| env("AWS_PROFILE"));
    let profile = profile_env.clone().unwrap_or_else(|| "default".to_string());
    let file = crate::files::SharedFile::Config;
    let ini = match file.read() {
        Ok(text) => text.map(|t| Ini::parse(&t)).unwrap_or_default(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: file.path().unwrap_or_default(),
                source,
            }
            .into())
        }
    };
    let section_name = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let empty = HashMap::new();
    let prof = match ini.section(&section_name) {
        Some(p) => p,
        None => {
            if profile_env.is_some() && !profile_in_credentials_file(&profile) {
                return Err(ConfigError::NoProfile { profile }.into());
            }
            &empty
        }
    };
    let get = |k: &str| prof.get(k).filter(|v| !v.is_empty()).cloned();
    let ignore_endpoints = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| truthy(&v))
        || get("ignore_configured_endpoint_urls").is_some_and(|v| truthy(&v));
    let services_endpoint = |service: &str| {
        get("services").and_then(|s| {
            ini.section(&format!("services {s}"))
                .and_then(|m| m.get(&format!("{service}.endpoint_url")).cloned())
        })
    };
    let max_attempts = match env("AWS_MAX_ATTEMPTS").or_else(|| get("max_attempts")) {
        Some(v) => Some(
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ConfigError::MaxAttempts { value: v })?,
        ),
        None => None,
    };
    Ok(Settings {
        ca_bundle: env("AWS_CA_BUNDLE")
            .or_else(|| get("ca_bundle"))
            .map(PathBuf::from),
        use_fips: env("AWS_USE_FIPS_ENDPOINT")
            .or_else(|| get("use_fips_endpoint"))
            .is_some_and(|v| truthy(&v)),
        use_dualstack: env("AWS_USE_DUALSTACK_ENDPOINT")
            .or_else(|| get("use_dualstack_endpoint"))
            .is_some_and(|v| truthy(&v)),
        service_endpoint_url: if ignore_endpoints {
            None
        } else {
            env("AWS_ENDPOINT_URL_ROLESANYWHERE").or_else(|| services_endpoint("rolesanywhere"))
        },
        global_endpoint_url: if ignore_endpoints {
            None
        } else {
            env("AWS_ENDPOINT_URL").or_else(|| get("endpoint_url"))
        },
        max_attempts,
        region: get("region"),
        sts_endpoint_url: if ignore_endpoints {
            None
        } else {
            env("AWS_ENDPOINT_URL_STS").or_else(|| services_endpoint("sts"))
        },
        iam_endpoint_url: if ignore_endpoints {
            None
        } else {
            env("AWS_ENDPOINT_URL_IAM").or_else(|| services_endpoint("iam"))
        },
        ignore_endpoint_urls: ignore_endpoints,
    })
}

/// Why the shared config could not be read.
#[derive(Debug)]
pub enum ConfigError {
    /// The config file at `path` cannot be read or trusted.
    Read {
        path: PathBuf,
        source: crate::files::Error,
    },
    /// `$AWS_PROFILE` names `profile`, in neither shared file.
    NoProfile { profile: String },
    /// `max_attempts` / `AWS_MAX_ATTEMPTS` is `value`, not a whole number of 1 or more.
    MaxAttempts { value: String },
}

impl ConfigError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { source, .. } if source.io_error().is_some() => None,
            ConfigError::Read { source, .. } => source.hint(),
            ConfigError::NoProfile { .. } => Some("AWS_PROFILE names a profile that is in neither ~/.aws/config nor ~/.aws/credentials; unset it or fix the name".into()),
            ConfigError::MaxAttempts { .. } => Some("use a whole number of 1 or more".into()),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Read { path, source } => match source.io_error() {
                Some(io) => write!(f, "cannot read AWS config file {}: {io}", path.display()),
                None => write!(f, "{source}"),
            },
            ConfigError::NoProfile { profile } => {
                write!(f, "failed to get shared config profile, {profile}")
            }
            ConfigError::MaxAttempts { value } => {
                write!(f, "invalid max_attempts / AWS_MAX_ATTEMPTS value {value:?}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

crate::error::typed_error!(ConfigError);

/// `$AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_path() -> Result<PathBuf> {
    Ok(crate::files::SharedFile::Config.path_required()?)
}

/// The config file's section of `profile`: `default`, else `profile NAME`.
pub fn profile_section(profile: &str) -> String {
    if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    }
}

const WRITE_CONFIG: &str = "unable to write to AWS config file";

/// Sets keys of `profile` in the config file at `path` through the safe-file layer (see
/// [`crate::files::credentials_file`]: every other line kept). Returns whether it changed.
pub fn write_profile_keys(
    path: &std::path::Path,
    profile: &str,
    pairs: &[(&str, &str)],
) -> Result<bool> {
    crate::files::credentials_file::check_profile_name(profile)?;
    let section = profile_section(profile);
    crate::files::credentials_file::edit_file(path, "AWS config file", WRITE_CONFIG, |old| {
        Ok(Some(zeroize::Zeroizing::new(
            crate::files::credentials_file::set_keys(old, &section, pairs),
        )))
    })
}

/// Removes `profile` from the config file at `path` when `keep` says it is ours to remove
/// (given the profile's `key` value, `None` when the profile or key is missing). Returns
/// whether the file changed.
pub fn remove_profile(
    path: &std::path::Path,
    profile: &str,
    key: &str,
    ours: impl FnOnce(Option<&str>) -> bool,
) -> Result<bool> {
    let section = profile_section(profile);
    if !path.exists() {
        return Ok(false);
    }
    crate::files::credentials_file::edit_file(path, "AWS config file", WRITE_CONFIG, |old| {
        let value = crate::files::credentials_file::get_key(old, &section, key);
        Ok(ours(value.as_deref()).then(|| {
            zeroize::Zeroizing::new(crate::files::credentials_file::remove_section(
                old, &section,
            ))
        }))
    })
}

/// Whether the credentials file has a section `profile`. Only the section's presence is used
/// (nothing in it), so the plain bounded reader is enough: root running `update` on a user's
/// credentials file (which it may write, keeping the owner) can tell the profile is there.
fn profile_in_credentials_file(profile: &str) -> bool {
    let file = crate::files::SharedFile::Credentials;
    file.path()
        .and_then(|p| crate::files::read_text(&p, crate::files::CAP_CONFIG, file.what()).ok())
        .is_some_and(|text| Ini::parse(&text).section(profile).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_reads_profiles_and_nested_services() {
        let ini = Ini::parse(
            "# c\n[default]\nregion = us-east-1\nservices = local\n\n[profile x]\nca_bundle = /a\n[services local]\nrolesanywhere =\n  endpoint_url = https://127.0.0.1:1\nsts =\n  endpoint_url = https://s\n",
        );
        assert_eq!(ini.section("default").unwrap()["services"], "local");
        assert_eq!(ini.section("profile x").unwrap()["ca_bundle"], "/a");
        assert_eq!(
            ini.section("services local").unwrap()["rolesanywhere.endpoint_url"],
            "https://127.0.0.1:1"
        );
        assert_eq!(
            ini.section("services local").unwrap()["sts.endpoint_url"],
            "https://s"
        );
    }
}
