//! The flags the STS commands share, and their mapping to the library's `sts` parameters.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cli::{go_bool, go_int, CredentialArgs};
use aws_signing_helper::credentials::output::Meta;
use aws_signing_helper::protocol::rolesanywhere::ClientConfig;
use aws_signing_helper::sts::session::{CacheOptions, ClientOptions, Mfa, Sts};
use aws_signing_helper::sts::source::{self, RolesAnywhereSource, SourceKind as Kind, SourceSpec};
use aws_signing_helper::{keystore, Error, Result};

/// Where and how STS is called.
#[derive(Debug, Clone, Args)]
pub struct StsEndpointArgs {
    /// STS region: its regional endpoint and signing region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the $AWS_PROFILE profile's region in ~/.aws/config, else the global endpoint]
    #[arg(long, default_value = "")]
    pub region: String,
    /// STS endpoint URL [default: $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, the profile's services sts endpoint_url or endpoint_url, else AWS's]
    #[arg(long, value_parser = crate::cli::endpoint_url)]
    pub endpoint: Option<String>,
    /// Seconds to wait for each request
    #[arg(long, default_value = "30", value_parser = go_int)]
    pub timeout: i64,
    /// Skip TLS certificate verification (insecure; prints a warning)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_verify_ssl: bool,
    /// Log the requests (canonical request, string to sign; no secrets) to stderr
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub debug: bool,
}

/// The credentials cache.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Cache directory [default: $AWS_SIGNING_HELPER_CACHE_DIR, else $XDG_CACHE_HOME/aws-signing-helper/sts, else ~/.cache/aws-signing-helper/sts]
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the cache
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_cache: bool,
    /// Reuse cached credentials only while they stay valid for more than this many seconds
    #[arg(long, default_value = "300", value_parser = go_int)]
    pub cache_margin: i64,
}

/// The output format.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// How to print the credentials
    #[arg(long, value_enum, default_value = "process")]
    pub output: crate::cli::OutputFormat,
}

/// An MFA device and code.
#[derive(Debug, Clone, Args)]
pub struct MfaArgs {
    /// MFA device: its ARN (arn:aws:iam::ACCOUNT:mfa/NAME) or a hardware serial number
    #[arg(long)]
    pub serial_number: Option<String>,
    /// The 6-digit MFA code [default: from --mfa-process, else asked for on the terminal]
    #[arg(long, conflicts_with = "mfa_process")]
    pub token_code: Option<String>,
    /// Command whose output is the MFA code, split like a shell line, e.g. 'ykman oath accounts code -s NAME' [default: the profile's mfa_process in ~/.aws/config]
    #[arg(long, value_name = "CMD")]
    pub mfa_process: Option<String>,
    /// Seconds the --mfa-process command may run
    #[arg(long, default_value = "60", value_parser = go_int)]
    pub mfa_process_timeout: i64,
}

/// Where the keys that sign the STS call come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// Roles Anywhere when its flags are given, else --profile, else the environment's keys
    /// (unless they were set by this tool), else $AWS_PROFILE / the default profile
    Auto,
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
    Env,
    /// A profile of the shared credentials file
    Profile,
    /// IAM Roles Anywhere (the certificate flags)
    Rolesanywhere,
}

/// Source selection.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Where the source credentials come from
    #[arg(long, value_enum, default_value = "auto")]
    pub source: SourceKind,
    /// Profile of ~/.aws/credentials holding long-term keys (or an account of the aws-creds directory) [default: $AWS_PROFILE, else default]
    #[arg(long)]
    pub profile: Option<String>,
    /// aws-sts-helpers' credential directory (NAME.access_key, NAME.secret_key), read after the AWS files [default: $AWS_SIGNING_HELPER_CREDS_DIR, else ~/aws-creds]
    #[arg(long)]
    pub creds_dir: Option<PathBuf>,
    #[command(flatten)]
    pub key_store: KeyStoreArgs,
}

/// The key store backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyStoreKind {
    /// The Linux kernel's persistent keyring (per user; expires after days unused)
    Keyring,
    /// The desktop Secret Service (GNOME Keyring, KWallet) over D-Bus
    SecretService,
    /// An age-encrypted file (scrypt passphrase), for servers and CI
    File,
}

/// Where long-term keys are kept out of plaintext.
#[derive(Debug, Clone, Args, Default)]
pub struct KeyStoreArgs {
    /// Key store asked first for a profile's long-term keys [default: $AWS_SIGNING_HELPER_KEY_STORE, else none]
    #[arg(long, value_enum)]
    pub key_store: Option<KeyStoreKind>,
    /// The file store's file [default: $AWS_SIGNING_HELPER_KEY_STORE_FILE, else ~/.config/aws-signing-helper/keys.age]
    #[arg(long)]
    pub key_store_file: Option<PathBuf>,
}

impl KeyStoreArgs {
    /// The store these flags name, else the environment's; `None` when neither names one.
    pub fn config(&self) -> Result<Option<keystore::Config>> {
        let kind = match self.key_store {
            Some(KeyStoreKind::Keyring) => keystore::Kind::Keyring,
            Some(KeyStoreKind::SecretService) => keystore::Kind::SecretService,
            Some(KeyStoreKind::File) => keystore::Kind::File,
            None => {
                return Ok(keystore::Config::from_env()?.map(|c| keystore::Config {
                    file: self.key_store_file.clone(),
                    ..c
                }))
            }
        };
        Ok(Some(keystore::Config {
            kind,
            file: self.key_store_file.clone(),
        }))
    }
}

/// Roles Anywhere as the source of an AssumeRole (the credential-process flags; the ones that
/// clash with AssumeRole's carry a `ra-` prefix).
#[derive(Debug, Clone, Args, Default)]
pub struct RaSourceArgs {
    /// Roles Anywhere source: certificate file
    #[arg(long, default_value = "")]
    pub certificate: String,
    /// Roles Anywhere source: private key file
    #[arg(long, default_value = "")]
    pub private_key: String,
    /// Roles Anywhere source: intermediate CA certificates (PEM)
    #[arg(long, default_value = "")]
    pub intermediates: String,
    /// Roles Anywhere source: certificate selector (OS store)
    #[arg(long, default_value = "")]
    pub cert_selector: String,
    /// Roles Anywhere source: PKCS#11 module
    #[arg(long, default_value = "")]
    pub pkcs11_lib: String,
    /// Roles Anywhere source: password of an encrypted private key
    #[arg(long, default_value = "")]
    pub pkcs8_password: String,
    /// Roles Anywhere source: trust anchor ARN
    #[arg(long, default_value = "")]
    pub trust_anchor_arn: String,
    /// Roles Anywhere source: profile ARN
    #[arg(long, default_value = "")]
    pub profile_arn: String,
    /// Roles Anywhere source: the role Roles Anywhere hands out (the first hop)
    #[arg(long, default_value = "")]
    pub ra_role_arn: String,
    /// Roles Anywhere source: region [default: the trust anchor's]
    #[arg(long, default_value = "")]
    pub ra_region: String,
    /// Roles Anywhere source: CreateSession endpoint URL
    #[arg(long, default_value = "")]
    pub ra_endpoint: String,
    /// Roles Anywhere source: session duration in seconds
    #[arg(long, default_value = "3600", value_parser = go_int)]
    pub ra_session_duration: i64,
}

impl StsEndpointArgs {
    /// The library's client options, checked.
    pub fn options(&self) -> Result<ClientOptions> {
        if self.timeout < 1 {
            return Err(Error::new(format!(
                "--timeout {} must be at least 1 second",
                self.timeout
            )));
        }
        Ok(ClientOptions {
            region: self.region.clone(),
            endpoint: self.endpoint.clone().unwrap_or_default(),
            timeout: Duration::from_secs(self.timeout.unsigned_abs().min(24 * 60 * 60)),
            no_verify_ssl: self.no_verify_ssl,
            profile: None,
        })
    }

    /// The STS context for calls from `source`: a profile's `region` is used when `--region`
    /// is not given.
    pub fn context_for(&self, cache: Option<&CacheArgs>, source: &source::Source) -> Result<Sts> {
        let mut opts = self.options()?;
        if let source::Source::Profile(chain) = source {
            // The profile's own settings (region, endpoint), not $AWS_PROFILE's.
            opts.profile = Some(chain.profile.clone());
        }
        Self::build(opts, cache)
    }

    /// The STS context, with the cache when `cache` allows it.
    pub fn context(&self, cache: Option<&CacheArgs>) -> Result<Sts> {
        Self::build(self.options()?, cache)
    }

    fn build(opts: ClientOptions, cache: Option<&CacheArgs>) -> Result<Sts> {
        let cache = match cache {
            Some(c) => c.options()?,
            None => None,
        };
        Sts::new(&opts, cache.as_ref())
    }
}

impl CacheArgs {
    /// `None` with `--no-cache`.
    pub fn options(&self) -> Result<Option<CacheOptions>> {
        if self.no_cache {
            return Ok(None);
        }
        if self.cache_margin < 0 {
            return Err(Error::new(format!(
                "--cache-margin {} must not be negative",
                self.cache_margin
            )));
        }
        Ok(Some(CacheOptions {
            dir: self.cache_dir.clone(),
            margin: Duration::from_secs(self.cache_margin.unsigned_abs()),
        }))
    }
}

impl MfaArgs {
    /// The library's MFA parameters for `source`: `--mfa-process`, else the `mfa_process` of
    /// the profile in use (a profile chain reads its own for each role).
    pub fn mfa(&self, args: &SourceArgs, source: &source::Source) -> Result<Mfa> {
        if self.mfa_process_timeout < 1 {
            return Err(Error::new(format!(
                "--mfa-process-timeout {} must be at least 1 second",
                self.mfa_process_timeout
            )));
        }
        let process = match &self.mfa_process {
            Some(p) if p.trim().is_empty() => {
                return Err(Error::new("--mfa-process is empty")
                    .hint("pass the command that prints the code, e.g. --mfa-process 'ykman oath accounts code -s NAME'"))
            }
            Some(p) => Some(p.clone()),
            None => source::mfa_process(args.profile.as_deref(), source)?,
        };
        Ok(Mfa {
            serial_number: self.serial_number.clone(),
            token_code: self.token_code.clone(),
            process,
            process_timeout: Duration::from_secs(self.mfa_process_timeout.unsigned_abs()),
        })
    }
}

impl From<SourceKind> for Kind {
    fn from(k: SourceKind) -> Kind {
        match k {
            SourceKind::Auto => Kind::Auto,
            SourceKind::Env => Kind::Env,
            SourceKind::Profile => Kind::Profile,
            SourceKind::Rolesanywhere => Kind::RolesAnywhere,
        }
    }
}

impl SourceArgs {
    /// The source these flags select; `ra` is `None` for commands without Roles Anywhere
    /// flags.
    pub fn resolve(
        &self,
        ra: Option<&RaSourceArgs>,
        sts: &StsEndpointArgs,
    ) -> Result<source::Source> {
        let rolesanywhere = match ra {
            None => RolesAnywhereSource::Unavailable,
            Some(ra) if !ra.given() => RolesAnywhereSource::NotGiven,
            Some(ra) => RolesAnywhereSource::Given(Box::new(ra.client_config(sts)?)),
        };
        source::resolve(&SourceSpec {
            kind: self.source.into(),
            profile: self.profile.clone(),
            rolesanywhere,
            creds_dir: self.creds_dir.clone(),
            key_store: self.key_store.config()?,
        })
    }
}

impl RaSourceArgs {
    fn given(&self) -> bool {
        !(self.trust_anchor_arn.is_empty()
            && self.certificate.is_empty()
            && self.cert_selector.is_empty()
            && self.ra_role_arn.is_empty())
    }

    /// The Roles Anywhere parameters of these flags (with the STS flags' TLS and time-out).
    pub fn client_config(&self, sts: &StsEndpointArgs) -> Result<ClientConfig> {
        CredentialArgs {
            role_arn: self.ra_role_arn.clone(),
            profile_arn: self.profile_arn.clone(),
            trust_anchor_arn: self.trust_anchor_arn.clone(),
            session_duration: self.ra_session_duration,
            region: self.ra_region.clone(),
            endpoint: (!self.ra_endpoint.is_empty()).then(|| self.ra_endpoint.clone()),
            no_verify_ssl: sts.no_verify_ssl,
            debug: sts.debug,
            certificate: self.certificate.clone(),
            private_key: self.private_key.clone(),
            intermediates: self.intermediates.clone(),
            cert_selector: self.cert_selector.clone(),
            system_store_name: "MY".into(),
            pkcs11_lib: self.pkcs11_lib.clone(),
            pkcs8_password: self.pkcs8_password.clone(),
            timeout: sts.timeout,
            ..CredentialArgs::default()
        }
        .client_config()
    }
}

/// Parses `--tag KEY=VALUE`.
pub fn parse_tags(tags: &[String]) -> Result<Vec<(String, String)>> {
    tags.iter()
        .map(|t| {
            t.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    Error::new(format!("invalid --tag {t:?}"))
                        .hint("write session tags as KEY=VALUE")
                })
        })
        .collect()
}

/// Roles Anywhere credentials with their description, for the output formats.
pub fn rolesanywhere_meta(role_arn: &str) -> Meta {
    Meta {
        source: format!("rolesanywhere {role_arn}"),
        mfa: false,
        arn: None,
    }
}
