//! What the STS commands share: flags, the source of the signing keys, and the two cached
//! flows (MFA session via GetSessionToken, AssumeRole with any source, Roles Anywhere included).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use zeroize::Zeroizing;

use crate::cli::{go_bool, go_int, CredentialArgs};
use crate::commands::credential_process::{self, user_agent};
use aws_signing_helper::credentials::output::Meta;
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::files::aws_config;
use aws_signing_helper::files::cache::{self, Key, Store};
use aws_signing_helper::protocol::http::{HttpClient, HttpOptions};
use aws_signing_helper::protocol::rolesanywhere::RetryPolicy;
use aws_signing_helper::sts::aws_keys;
use aws_signing_helper::sts::{self, AccessKeys, Call, Endpoint};
use aws_signing_helper::{Error, Result};

/// Where and how STS is called.
#[derive(Debug, Clone, Args)]
pub struct StsEndpointArgs {
    /// STS region: its regional endpoint and signing region [default: $AWS_REGION, $AWS_DEFAULT_REGION, the $AWS_PROFILE profile's region in ~/.aws/config, else the global endpoint]
    #[arg(long, default_value = "")]
    pub region: String,
    /// STS endpoint URL [default: $AWS_ENDPOINT_URL_STS, $AWS_ENDPOINT_URL, the profile's services sts endpoint_url or endpoint_url, else AWS's]
    #[arg(long, default_value = "")]
    pub endpoint: String,
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
    /// The 6-digit MFA code [default: asked for on the terminal]
    #[arg(long)]
    pub token_code: Option<String>,
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
    /// Profile of ~/.aws/credentials holding long-term keys [default: $AWS_PROFILE, else default]
    #[arg(long)]
    pub profile: Option<String>,
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

impl RaSourceArgs {
    fn given(&self) -> bool {
        !(self.trust_anchor_arn.is_empty()
            && self.certificate.is_empty()
            && self.cert_selector.is_empty()
            && self.ra_role_arn.is_empty())
    }

    pub fn credential_args(&self, sts: &StsEndpointArgs) -> CredentialArgs {
        CredentialArgs {
            role_arn: self.ra_role_arn.clone(),
            profile_arn: self.profile_arn.clone(),
            trust_anchor_arn: self.trust_anchor_arn.clone(),
            session_duration: self.ra_session_duration,
            region: self.ra_region.clone(),
            endpoint: self.ra_endpoint.clone(),
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
    }

    /// What identifies this source for the cache: the ARNs, endpoint, and the certificate
    /// (its file's SHA-256, so a new certificate is a new identity).
    fn identity_parts(&self) -> Vec<String> {
        let cert_hash = aws_signing_helper::files::read_file(
            std::path::Path::new(&self.certificate),
            aws_signing_helper::files::CAP_PEM,
            "certificate file",
        )
        .map(|b| aws_signing_helper::protocol::sigv4::sha256_hex(&b))
        .unwrap_or_default();
        vec![
            "rolesanywhere".into(),
            self.trust_anchor_arn.clone(),
            self.profile_arn.clone(),
            self.ra_role_arn.clone(),
            self.ra_endpoint.clone(),
            self.certificate.clone(),
            cert_hash,
            self.cert_selector.clone(),
        ]
    }
}

/// The source of the keys, resolved.
pub enum Source {
    /// Keys from the environment or a profile; `label` says which.
    Keys { keys: AccessKeys, label: String },
    /// A Roles Anywhere session, fetched only when needed.
    RolesAnywhere(Box<RaSourceArgs>),
}

impl Source {
    /// The source from the flags (`ra` is `None` for commands without Roles Anywhere flags).
    pub fn resolve(args: &SourceArgs, ra: Option<&RaSourceArgs>) -> Result<Source> {
        let ra_given = ra.is_some_and(RaSourceArgs::given);
        let kind = match args.source {
            SourceKind::Auto if ra_given => SourceKind::Rolesanywhere,
            SourceKind::Auto if args.profile.is_some() => SourceKind::Profile,
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
            SourceKind::Rolesanywhere => match ra {
                Some(ra) if ra_given => Ok(Source::RolesAnywhere(Box::new(ra.clone()))),
                Some(_) => Err(Error::new("--source rolesanywhere needs the Roles Anywhere flags")
                    .hint("pass --certificate, --private-key, --trust-anchor-arn, --profile-arn and --ra-role-arn")),
                None => Err(Error::new("--source rolesanywhere is not available for this command")
                    .hint("GetSessionToken needs an IAM user's long-term keys: use --source env or --profile")),
            },
            SourceKind::Env => aws_keys::from_env()
                .map(|keys| Source::Keys {
                    keys,
                    label: "env".into(),
                })
                .ok_or_else(|| {
                    Error::new("missing long-term AWS keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
                        .hint("export both, or pass --profile NAME naming a profile of ~/.aws/credentials")
                }),
            SourceKind::Profile | SourceKind::Auto => {
                let name = args.profile.clone().unwrap_or_else(aws_keys::default_profile);
                let keys = aws_keys::from_profile(&name).map_err(|e| {
                    if args.profile.is_none() && aws_keys::env_is_ours() {
                        Error::new(format!(
                            "{} (the AWS_* variables of this shell were set by aws_signing_helper and are not used as a source)",
                            e.message()
                        ))
                        .hint("pass --profile NAME with long-term keys, or --source env to chain from the current credentials")
                    } else {
                        e
                    }
                })?;
                Ok(Source::Keys {
                    keys,
                    label: format!("profile {name}"),
                })
            }
        }
    }
}

/// A client and endpoint for STS, the retry policy and the cache.
pub struct Ctx {
    pub endpoint: Endpoint,
    pub client: HttpClient,
    pub policy: RetryPolicy,
    pub store: Option<Store>,
}

impl Ctx {
    /// Builds the context; `cache` is `None` for commands that never cache.
    pub fn new(sts_args: &StsEndpointArgs, cache: Option<&CacheArgs>) -> Result<Ctx> {
        if sts_args.timeout < 1 {
            return Err(Error::new(format!(
                "--timeout {} must be at least 1 second",
                sts_args.timeout
            )));
        }
        let settings = aws_config::load()?;
        let endpoint = sts::resolve_endpoint(&sts_args.region, &sts_args.endpoint, &settings)?;
        let client = HttpClient::new(
            &endpoint.url(),
            &HttpOptions {
                no_verify_ssl: sts_args.no_verify_ssl,
                ca_bundle: settings.ca_bundle.clone(),
                timeout: Duration::from_secs(sts_args.timeout.unsigned_abs()),
                user_agent: user_agent(),
            },
        )?;
        let store = match cache {
            Some(c) if !c.no_cache => {
                if c.cache_margin < 0 {
                    return Err(Error::new(format!(
                        "--cache-margin {} must not be negative",
                        c.cache_margin
                    )));
                }
                let dir = c
                    .cache_dir
                    .clone()
                    .or_else(cache::default_dir)
                    .ok_or_else(|| {
                        Error::new("cannot find a cache directory: HOME is not set")
                            .hint("pass --cache-dir DIR or --no-cache")
                    })?;
                Some(Store::open(
                    &dir,
                    Duration::from_secs(c.cache_margin.unsigned_abs()),
                )?)
            }
            _ => None,
        };
        Ok(Ctx {
            endpoint,
            client,
            policy: RetryPolicy {
                max_attempts: settings.max_attempts.unwrap_or(3),
                ..RetryPolicy::default()
            },
            store,
        })
    }

    /// Returns the cached credentials of `key`, or makes them with `make` and caches them.
    /// The key stays locked meanwhile, so concurrent runs make them once.
    fn cached(
        &self,
        key: &Key,
        make: impl FnOnce() -> Result<(Credentials, Meta)>,
    ) -> Result<(Credentials, Meta)> {
        let Some(store) = &self.store else {
            return make();
        };
        let _lock = store.lock(key)?;
        if let Some(hit) = store.get(key) {
            return Ok(hit);
        }
        let (creds, meta) = make()?;
        store.put(key, &creds, &meta)?;
        Ok((creds, meta))
    }
}

/// The MFA code: the flag's, else asked for on the terminal.
pub fn token_code(flag: Option<&str>, serial: &str) -> Result<Zeroizing<String>> {
    if let Some(code) = flag {
        sts::check_token_code(code)?;
        return Ok(Zeroizing::new(code.to_string()));
    }
    if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
        return Err(Error::new(format!(
            "--token-code is needed for MFA device {serial}, and there is no terminal to ask on"
        ))
        .hint("pass --token-code with the 6-digit code your device shows"));
    }
    let code = rpassword::prompt_password(format!("MFA code for {serial}: "))
        .map(Zeroizing::new)
        .map_err(|e| Error::new(format!("cannot read the MFA code from the terminal: {e}")))?;
    let trimmed = Zeroizing::new(code.trim().to_string());
    sts::check_token_code(&trimmed)?;
    Ok(trimmed)
}

fn check_duration(
    flag: &str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    what: &str,
) -> Result<()> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(Error::new(format!(
        "{flag} {value} is out of range: {what} accepts {} to {} seconds",
        range.start(),
        range.end()
    ))
    .hint(format!(
        "pass {flag} between {} and {}",
        range.start(),
        range.end()
    )))
}

/// GetSessionToken with long-term `keys` (and MFA when `serial` is given), cached per
/// access key, MFA device and endpoint.
pub fn session_token(
    ctx: &Ctx,
    keys: &AccessKeys,
    label: &str,
    mfa: &MfaArgs,
    duration: i64,
    duration_flag: &str,
) -> Result<(Credentials, Meta)> {
    check_duration(
        duration_flag,
        duration,
        sts::SESSION_TOKEN_DURATION,
        "GetSessionToken",
    )?;
    let serial = mfa.serial_number.as_deref().filter(|s| !s.is_empty());
    let account = match serial {
        Some(s) => sts::check_serial_number(s)?,
        None => None,
    };
    if mfa.token_code.is_some() && serial.is_none() {
        return Err(Error::new("--token-code needs --serial-number")
            .hint("pass --serial-number with your MFA device's ARN"));
    }
    if let Some(code) = &mfa.token_code {
        sts::check_token_code(code)?;
    }
    if keys.session_token.is_some() {
        return Err(Error::new(format!(
            "GetSessionToken needs long-term keys, but the {label} credentials are temporary (they have a session token)"
        ))
        .hint("pass --profile NAME naming an IAM user's long-term keys, or unset AWS_SESSION_TOKEN and the other AWS_* variables"));
    }
    let url = ctx.endpoint.url();
    let key = Key::new(
        "session-token",
        &[
            "session-token",
            &keys.access_key_id,
            serial.unwrap_or(""),
            &url,
        ],
    );
    ctx.cached(&key, || {
        let mut call = Call::new("GetSessionToken").param("DurationSeconds", duration.to_string());
        if let Some(serial) = serial {
            let code = token_code(mfa.token_code.as_deref(), serial)?;
            call = call
                .param("SerialNumber", serial)
                .param("TokenCode", code.as_str());
        }
        let body = sts::send(&ctx.client, keys, &ctx.endpoint, &call, ctx.policy)?;
        let creds = sts::parse_session_token(&body, account.clone())?;
        let meta = Meta {
            source: match serial {
                Some(s) => format!("session-token via {label}, MFA {s}"),
                None => format!("session-token via {label}"),
            },
            mfa: serial.is_some(),
            arn: None,
        };
        Ok((creds, meta))
    })
}

/// What to ask AssumeRole for.
#[derive(Debug, Clone)]
pub struct AssumeParams {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: i64,
    pub source_identity: Option<String>,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    /// Duration of an MFA session started on the way.
    pub mfa_session_duration: i64,
}

impl AssumeParams {
    /// Local checks of everything STS would reject, so errors name our flags.
    pub fn check(&self) -> Result<aws_signing_helper::protocol::arn::Arn> {
        let arn = sts::check_role_arn(&self.role_arn)?;
        check_duration(
            "--duration",
            self.duration,
            sts::ASSUME_ROLE_DURATION,
            "AssumeRole",
        )?;
        if let Some(n) = &self.session_name {
            sts::check_text("--role-session-name", n, 2..=64, "")?;
        }
        if let Some(x) = &self.external_id {
            sts::check_text("--external-id", x, 2..=1224, ":/")?;
        }
        if let Some(s) = &self.source_identity {
            sts::check_text("--source-identity", s, 2..=64, "")?;
        }
        if self.tags.len() > 50 {
            return Err(Error::new(
                "too many --tag: STS accepts at most 50 session tags",
            ));
        }
        for (k, v) in &self.tags {
            sts::check_text("--tag key", k, 1..=128, ":/ ")?;
            if v.chars().count() > 256 {
                return Err(Error::new(format!(
                    "--tag {k}: the value is longer than 256 characters"
                )));
            }
        }
        for k in &self.transitive_tag_keys {
            if !self.tags.iter().any(|(t, _)| t == k) {
                return Err(Error::new(format!(
                    "--transitive-tag-key {k:?} is not one of the --tag keys"
                )));
            }
        }
        Ok(arn)
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

/// AssumeRole from `source`, cached per source identity, role and request parameters.
/// With long-term keys and an MFA device, an MFA session is started (or reused from the cache)
/// first, and the role is assumed with it: one MFA code serves every role.
pub fn assume_role(
    ctx: &Ctx,
    sts_args: &StsEndpointArgs,
    source: &Source,
    mfa: &MfaArgs,
    p: &AssumeParams,
) -> Result<(Credentials, Meta)> {
    let arn = p.check()?;
    let serial = mfa.serial_number.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = serial {
        sts::check_serial_number(s)?;
    }
    if let Some(code) = &mfa.token_code {
        if serial.is_none() {
            return Err(Error::new("--token-code needs --serial-number")
                .hint("pass --serial-number with your MFA device's ARN"));
        }
        sts::check_token_code(code)?;
    }
    // Long-term keys + MFA: go through an MFA session. Otherwise the MFA (if any) goes
    // straight into AssumeRole.
    let via_mfa_session = matches!(source, Source::Keys { keys, .. } if keys.session_token.is_none())
        && serial.is_some();
    let mut key_parts: Vec<String> = match source {
        Source::Keys { keys, .. } if via_mfa_session => vec![
            "mfa-session".into(),
            keys.access_key_id.clone(),
            serial.unwrap_or("").into(),
        ],
        Source::Keys { keys, .. } => vec![
            "keys".into(),
            keys.access_key_id.clone(),
            serial.unwrap_or("").into(),
        ],
        Source::RolesAnywhere(ra) => {
            let mut v = ra.identity_parts();
            v.push(serial.unwrap_or("").into());
            v
        }
    };
    key_parts.extend([
        "assume-role".to_string(),
        p.role_arn.clone(),
        p.session_name.clone().unwrap_or_default(),
        p.external_id.clone().unwrap_or_default(),
        p.source_identity.clone().unwrap_or_default(),
        p.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{1}"),
        p.transitive_tag_keys.join("\u{1}"),
        ctx.endpoint.url(),
    ]);
    let refs: Vec<&str> = key_parts.iter().map(String::as_str).collect();
    let key = Key::new(&format!("assume-role-{}", arn.resource_name()), &refs);
    ctx.cached(&key, || {
        let (keys, via, mut mfa_used, direct_mfa) = match source {
            Source::Keys { keys, label } if via_mfa_session => {
                let (session, _) = session_token(
                    ctx,
                    keys,
                    label,
                    mfa,
                    p.mfa_session_duration,
                    "--mfa-session-duration",
                )?;
                (
                    AccessKeys::from(&session),
                    format!("MFA session via {label}"),
                    true,
                    false,
                )
            }
            Source::Keys { keys, label } => (keys.clone(), label.clone(), false, serial.is_some()),
            Source::RolesAnywhere(ra) => {
                let creds = credential_process::fetch(&ra.credential_args(sts_args))?;
                (
                    AccessKeys::from(&creds),
                    format!("rolesanywhere {}", ra.ra_role_arn),
                    false,
                    serial.is_some(),
                )
            }
        };
        let session_name = p.session_name.clone().unwrap_or_else(|| {
            format!("aws-signing-helper-{}", jiff::Timestamp::now().as_second())
        });
        let mut call = Call::new("AssumeRole")
            .param("RoleArn", p.role_arn.as_str())
            .param("RoleSessionName", session_name)
            .param("DurationSeconds", p.duration.to_string())
            .opt("ExternalId", p.external_id.as_deref())
            .opt("SourceIdentity", p.source_identity.as_deref());
        for (i, (k, v)) in p.tags.iter().enumerate() {
            call = call
                .param(format!("Tags.member.{}.Key", i + 1), k.as_str())
                .param(format!("Tags.member.{}.Value", i + 1), v.as_str());
        }
        for (i, k) in p.transitive_tag_keys.iter().enumerate() {
            call = call.param(format!("TransitiveTagKeys.member.{}", i + 1), k.as_str());
        }
        if direct_mfa {
            if let Some(serial) = serial {
                let code = token_code(mfa.token_code.as_deref(), serial)?;
                call = call
                    .param("SerialNumber", serial)
                    .param("TokenCode", code.as_str());
                mfa_used = true;
            }
        }
        let body = sts::send(&ctx.client, &keys, &ctx.endpoint, &call, ctx.policy)?;
        let assumed = sts::parse_assume_role(&body, Some(arn.account.clone()))?;
        let meta = Meta {
            source: format!("assume-role {} from {via}", p.role_arn),
            mfa: mfa_used,
            arn: assumed.assumed_role_arn,
        };
        Ok((assumed.credentials, meta))
    })
}

/// Roles Anywhere credentials with their description, for the output formats.
pub fn rolesanywhere_meta(args: &CredentialArgs) -> Meta {
    Meta {
        source: format!("rolesanywhere {}", args.role_arn),
        mfa: false,
        arn: None,
    }
}
