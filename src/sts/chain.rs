//! Running a resolved profile [`Chain`]: the base credentials (static keys, a
//! `credential_process`, the environment, instance metadata or container credentials), then
//! each role in turn, every AssumeRole cached as usual.

use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::assume_role::{assume_role, AssumeParams};
use super::chain_error::ChainError;
use super::profile::{Base, Chain};
use super::session::{Mfa, Sts};
use super::source::Source;
use super::{aws_keys, AccessKeys};
use crate::credentials::output::Meta;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::protocol::http::{self, HttpClient, HttpOptions};

/// What a chain produced.
pub struct Ran {
    /// The keys to sign the next call with (the last credentials of the chain).
    pub source: Source,
    /// The temporary credentials, when the chain made some (a role, a process, metadata);
    /// `None` when it ended at static keys.
    pub credentials: Option<(Credentials, Meta)>,
}

/// Runs `chain`. `mfa` carries a `--token-code` (used for the device it names, or for any
/// device when it names none) and an `--mfa-process` (for every device, before the profiles'
/// `mfa_process`); `last_duration` overrides the last role's `duration_seconds`.
pub fn run(ctx: &Sts, chain: &Chain, mfa: &Mfa, last_duration: Option<i64>) -> Result<Ran> {
    let (mut source, mut made) = base(&chain.base)?;
    for (i, step) in chain.roles.iter().enumerate() {
        let last = i + 1 == chain.roles.len();
        let duration = match (last, last_duration) {
            (true, Some(d)) => d,
            _ => step.duration_seconds.unwrap_or(3600),
        };
        let step_mfa = Mfa {
            serial_number: step.mfa_serial.clone(),
            token_code: match (&step.mfa_serial, mfa.serial()) {
                (Some(s), Some(given)) if s == given => mfa.token_code.clone(),
                (Some(_), None) => mfa.token_code.clone(),
                _ => None,
            },
            // --mfa-process wins over the profile's mfa_process.
            process: mfa
                .process()
                .map(str::to_string)
                .or_else(|| step.mfa_process.clone()),
            process_timeout: mfa.process_timeout,
        };
        let params = AssumeParams {
            role_arn: step.role_arn.clone(),
            session_name: step.role_session_name.clone(),
            external_id: step.external_id.clone(),
            duration,
            source_identity: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            mfa_session_duration: 43_200,
        };
        let (creds, meta) =
            assume_role(ctx, &source, &step_mfa, &params).map_err(|source| ChainError::Role {
                profile: step.profile.clone(),
                chain: chain.describe(),
                source,
            })?;
        source = Source::Keys {
            keys: AccessKeys::from(&creds),
            label: meta.source.clone(),
        };
        made = Some((creds, meta));
    }
    Ok(Ran {
        source,
        credentials: made,
    })
}

fn keys_source(creds: &Credentials, label: String) -> Source {
    Source::Keys {
        keys: AccessKeys::from(creds),
        label,
    }
}

fn base(base: &Base) -> Result<(Source, Option<(Credentials, Meta)>)> {
    let fetched = |creds: Credentials, label: String| {
        let meta = Meta {
            source: label.clone(),
            mfa: false,
            arn: None,
        };
        (keys_source(&creds, label), Some((creds, meta)))
    };
    Ok(match base {
        Base::Keys { profile, keys } => (
            Source::Keys {
                keys: keys.clone(),
                label: format!("profile {profile}"),
            },
            None,
        ),
        Base::Environment => {
            let keys = aws_keys::from_env().ok_or(ChainError::EnvKeysUnset)?;
            (
                Source::Keys {
                    keys,
                    label: "env".into(),
                },
                None,
            )
        }
        Base::Process { profile, command } => fetched(
            credential_process(command, profile)?,
            format!("credential_process of profile {profile}"),
        ),
        Base::Ec2InstanceMetadata => {
            fetched(instance_metadata()?, "EC2 instance metadata".to_string())
        }
        Base::EcsContainer => fetched(container()?, "container credentials".to_string()),
    })
}

/// The `credential_process` output (version 1).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: Option<i64>,
    access_key_id: Option<String>,
    secret_access_key: Option<Zeroizing<String>>,
    session_token: Option<Zeroizing<String>>,
    expiration: Option<String>,
    account_id: Option<String>,
}

/// The most a credential process may print.
const MAX_PROCESS_OUTPUT: usize = 1 << 20;

/// Runs a profile's `credential_process` as the AWS CLI does: split like a POSIX shell line
/// (no shell runs it), stdin and stderr passed through, stdout read as the JSON.
pub fn credential_process(command: &str, profile: &str) -> Result<Credentials> {
    let what = format!("credential_process of profile {profile:?}");
    let argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ChainError::CommandLine {
            what: what.clone(),
            command: command.to_string(),
        })?;
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| ChainError::CannotRun {
            what: what.clone(),
            program: argv[0].clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(ChainError::Failed {
            what,
            status: out.status,
        }
        .into());
    }
    let stdout = Zeroizing::new(out.stdout);
    if stdout.len() > MAX_PROCESS_OUTPUT {
        return Err(ChainError::TooMuchOutput { what }.into());
    }
    let parsed: ProcessOutput =
        serde_json::from_slice(&stdout).map_err(|e| ChainError::NotJson {
            what: what.clone(),
            source: e.into(),
        })?;
    if parsed.version != Some(1) {
        return Err(ChainError::Version {
            what,
            version: parsed.version,
        }
        .into());
    }
    into_credentials(
        &what,
        parsed.access_key_id,
        parsed.secret_access_key,
        parsed.session_token,
        parsed.expiration,
        parsed.account_id,
    )
}

fn into_credentials(
    what: &str,
    id: Option<String>,
    secret: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
    expiration: Option<String>,
    account_id: Option<String>,
) -> Result<Credentials> {
    let missing = |field: &'static str| ChainError::Lacks {
        what: what.to_string(),
        field,
    };
    Ok(Credentials {
        access_key_id: id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("AccessKeyId"))?,
        secret_access_key: secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("SecretAccessKey"))?,
        session_token: token.unwrap_or_default(),
        expiration: expiration.unwrap_or_default(),
        account_id,
    })
}

/// The credentials JSON of instance metadata and container endpoints.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
    expiration: Option<String>,
    account_id: Option<String>,
}

fn metadata_client(url: &str) -> Result<HttpClient> {
    HttpClient::new(
        url,
        &HttpOptions {
            no_verify_ssl: false,
            ca_bundle: None,
            timeout: Duration::from_secs(5),
            user_agent: http::user_agent(),
        },
    )
}

use crate::env::var as env;

fn get_ok(
    client: &HttpClient,
    url: &str,
    headers: &[(String, String)],
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let resp = client
        .get(url, headers)
        .map_err(|source| ChainError::Transport {
            what: what.to_string(),
            method: "GET",
            url: url.to_string(),
            source,
        })?;
    if resp.status != 200 {
        return Err(ChainError::Status {
            what: what.to_string(),
            method: "GET",
            url: url.to_string(),
            status: resp.status,
        }
        .into());
    }
    Ok(Zeroizing::new(resp.body))
}

fn parse_metadata(what: &str, body: &[u8]) -> Result<Credentials> {
    let m: MetadataCredentials =
        serde_json::from_slice(body).map_err(|e| ChainError::NotCredentials {
            what: what.to_string(),
            source: e.into(),
        })?;
    into_credentials(
        what,
        m.access_key_id,
        m.secret_access_key,
        m.token,
        m.expiration,
        m.account_id,
    )
}

/// Credentials from EC2 instance metadata (IMDSv2), at `AWS_EC2_METADATA_SERVICE_ENDPOINT` or
/// the link-local address.
pub fn instance_metadata() -> Result<Credentials> {
    let what = "credential_source = Ec2InstanceMetadata";
    let base =
        env("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| "http://169.254.169.254".into());
    let base = base.trim_end_matches('/');
    let client = metadata_client(base)?;
    let token_url = format!("{base}/latest/api/token");
    let resp = client
        .put_empty(
            &token_url,
            &[(
                "X-aws-ec2-metadata-token-ttl-seconds".into(),
                "21600".into(),
            )],
        )
        .map_err(|source| ChainError::Transport {
            what: what.to_string(),
            method: "PUT",
            url: token_url.clone(),
            source,
        })?;
    if resp.status != 200 {
        return Err(ChainError::Status {
            what: what.to_string(),
            method: "PUT",
            url: token_url,
            status: resp.status,
        }
        .into());
    }
    let token = Zeroizing::new(String::from_utf8_lossy(&resp.body).into_owned());
    let headers = vec![("X-aws-ec2-metadata-token".to_string(), token.to_string())];
    let roles_url = format!("{base}/latest/meta-data/iam/security-credentials/");
    let roles = get_ok(&client, &roles_url, &headers, what)?;
    let role = String::from_utf8_lossy(&roles)
        .lines()
        .next()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ChainError::NoInstanceRole {
            what: what.to_string(),
        })?;
    let body = get_ok(&client, &format!("{roles_url}{role}"), &headers, what)?;
    parse_metadata(what, &body)
}

/// Credentials from the container endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI` or
/// `…_RELATIVE_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `…_TOKEN_FILE`).
pub fn container() -> Result<Credentials> {
    let what = "credential_source = EcsContainer";
    let url = match (
        env("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
    ) {
        (Some(full), _) => full,
        (None, Some(rel)) => format!("http://169.254.170.2{rel}"),
        (None, None) => {
            return Err(ChainError::NoContainerUri {
                what: what.to_string(),
            }
            .into())
        }
    };
    let token = match (
        env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
    ) {
        (Some(t), _) => Some(Zeroizing::new(t)),
        (None, Some(path)) => Some(crate::files::read_text(
            std::path::Path::new(&path),
            crate::files::CAP_CONFIG,
            "container authorization token file",
        )?),
        (None, None) => None,
    };
    let headers: Vec<(String, String)> = token
        .map(|t| vec![("Authorization".to_string(), t.trim().to_string())])
        .unwrap_or_default();
    let client = metadata_client(&url)?;
    let body = get_ok(&client, &url, &headers, what)?;
    parse_metadata(what, &body)
}
