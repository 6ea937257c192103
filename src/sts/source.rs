//! Where the keys that sign an STS call come from: the environment, a profile of the shared
//! files, or a Roles Anywhere session.

use crate::error::Result;
use crate::protocol::rolesanywhere::ClientConfig;
use crate::protocol::sigv4;
use crate::sts::profile::{Chain, SharedFiles};
use crate::sts::sts_error::StsError;
use crate::sts::{aws_keys, AccessKeys};

/// Which source to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Roles Anywhere when it is configured, else a named profile, else the environment's
    /// keys (unless this tool set them), else `$AWS_PROFILE` / the default profile.
    Auto,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` [/ `AWS_SESSION_TOKEN`].
    Env,
    /// A profile of the shared credentials or config file.
    Profile,
    /// IAM Roles Anywhere.
    RolesAnywhere,
}

/// Whether the command offers Roles Anywhere as a source, and with what.
#[derive(Debug, Clone)]
pub enum RolesAnywhereSource {
    /// The command has no Roles Anywhere flags (GetSessionToken needs an IAM user's keys).
    Unavailable,
    /// Available, but not configured.
    NotGiven,
    /// Configured.
    Given(Box<ClientConfig>),
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub kind: SourceKind,
    /// A profile named explicitly (`None`: `$AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    pub rolesanywhere: RolesAnywhereSource,
    /// aws-sts-helpers' credential directory (`None`: `$AWS_SIGNING_HELPER_CREDS_DIR`, else
    /// `~/aws-creds`), the last place a profile's keys are looked for.
    pub creds_dir: Option<std::path::PathBuf>,
    /// The key store asked first for a profile's keys (`None`: `$AWS_SIGNING_HELPER_KEY_STORE`'s,
    /// if set).
    pub key_store: Option<crate::keystore::Config>,
}

/// The source of the keys, resolved.
pub enum Source {
    /// Keys from the environment or a profile; `label` says which.
    Keys { keys: AccessKeys, label: String },
    /// A Roles Anywhere session, fetched only when needed.
    RolesAnywhere(Box<ClientConfig>),
    /// A profile that is more than keys (roles, `credential_process`, a credential source),
    /// run only when needed.
    Profile(Box<Chain>),
}

/// Resolves the source.
pub fn resolve(spec: &SourceSpec) -> Result<Source> {
    if let Some(store) = &spec.key_store {
        crate::keystore::select(store.clone());
    }
    let ra_given = matches!(spec.rolesanywhere, RolesAnywhereSource::Given(_));
    let kind = match spec.kind {
        SourceKind::Auto if ra_given => SourceKind::RolesAnywhere,
        SourceKind::Auto if spec.profile.is_some() => SourceKind::Profile,
        SourceKind::Auto => {
            if aws_keys::from_env().is_some() && !aws_keys::env_is_ours() {
                SourceKind::Env
            } else {
                SourceKind::Profile
            }
        }
        k => k,
    };
    match kind {
        SourceKind::RolesAnywhere => match &spec.rolesanywhere {
            RolesAnywhereSource::Given(config) => Ok(Source::RolesAnywhere(config.clone())),
            RolesAnywhereSource::NotGiven => Err(StsError::RolesAnywhereFlags.into()),
            RolesAnywhereSource::Unavailable => Err(StsError::RolesAnywhereUnavailable.into()),
        },
        SourceKind::Env => aws_keys::from_env()
            .map(|keys| Source::Keys {
                keys,
                label: "env".into(),
            })
            .ok_or_else(|| StsError::EnvKeysUnset.into()),
        SourceKind::Profile | SourceKind::Auto => {
            let name = spec
                .profile
                .clone()
                .unwrap_or_else(aws_keys::default_profile);
            let ours = spec.profile.is_none() && aws_keys::env_is_ours();
            let files = SharedFiles::load()?;
            if files.is_composite(&name) {
                return Ok(Source::Profile(Box::new(files.resolve(&name)?)));
            }
            match aws_keys::find_in_profile(&name, spec.creds_dir.as_deref())? {
                Some(keys) => Ok(Source::Keys {
                    keys,
                    label: format!("profile {name}"),
                }),
                None => Err(aws_keys::missing_keys(&name, ours)),
            }
        }
    }
}

/// The `mfa_process` of the profile in use (`profile`, else `$AWS_PROFILE`, else `default`) in
/// the config file; `None` for a profile chain, which reads each role's own.
pub fn mfa_process(profile: Option<&str>, source: &Source) -> Result<Option<String>> {
    if matches!(source, Source::Profile(_)) {
        return Ok(None);
    }
    let name = profile
        .map(str::to_string)
        .unwrap_or_else(aws_keys::default_profile);
    Ok(SharedFiles::load()?.config_get(&name, "mfa_process"))
}

/// What identifies a Roles Anywhere source for the cache: the ARNs, endpoint, and the
/// certificate (its file's SHA-256, so a new certificate is a new identity).
pub fn identity_parts(ra: &ClientConfig) -> Vec<String> {
    let cert_hash = crate::files::read_file(
        std::path::Path::new(&ra.key.certificate),
        crate::files::CAP_PEM,
        "certificate file",
    )
    .map(|b| sigv4::sha256_hex(&b))
    .unwrap_or_default();
    vec![
        "rolesanywhere".into(),
        ra.session.trust_anchor_arn.clone(),
        ra.session.profile_arn.clone(),
        ra.session.role_arn.clone(),
        ra.endpoint.clone(),
        ra.key.certificate.clone(),
        cert_hash,
        ra.key.cert_selector.clone(),
    ]
}
