//! `credential-process`: one CreateSession, credentials as JSON on stdout (optionally cached).

use std::io::Write;
use std::time::Duration;

use aws_signing_helper::files::aws_config;
use zeroize::Zeroizing;

use crate::cli::{go_bool, go_int, CredentialArgs, CredentialProcessArgs};
use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::files::process_cache::{self, CacheOptions, KeyInputs};
use aws_signing_helper::protocol::endpoint;
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::{Error, Result};

/// Loads the identity and calls CreateSession with everything the flags and environment say.
pub fn fetch(args: &CredentialArgs) -> Result<Credentials> {
    rolesanywhere::fetch(&args.client_config()?).map(|f| f.credentials)
}

use aws_signing_helper::env::var as env_value;

/// The cache settings from the flags and environment; `None` when the cache is off.
pub fn cache_options(args: &CredentialProcessArgs) -> Result<Option<CacheOptions>> {
    let enabled = match args.cache {
        Some(on) => on,
        None => match env_value("AWS_SIGNING_HELPER_CACHE") {
            Some(v) => go_bool(&v).map_err(|_| {
                Error::new(format!("AWS_SIGNING_HELPER_CACHE={v:?} is not a boolean"))
                    .hint("set it to 1 or true to cache, 0 or false not to")
            })?,
            None => false,
        },
    };
    if !enabled {
        return Ok(None);
    }
    let dir = match args
        .cache_dir
        .clone()
        .or_else(|| env_value("AWS_SIGNING_HELPER_CACHE_DIR").map(std::path::PathBuf::from))
    {
        Some(d) => d,
        None => process_cache::default_dir()?,
    };
    let margin = match args.cache_margin {
        Some(m) => m,
        None => match env_value("AWS_SIGNING_HELPER_CACHE_MARGIN") {
            Some(v) => go_int(&v).map_err(|e| {
                Error::new(format!("AWS_SIGNING_HELPER_CACHE_MARGIN: {e}"))
                    .hint("give a number of seconds, e.g. 900")
            })?,
            None => i64::try_from(process_cache::DEFAULT_MARGIN.as_secs()).unwrap_or(900),
        },
    };
    let margin = u64::try_from(margin).map_err(|_| {
        Error::new(format!("--cache-margin {margin} is negative"))
            .hint("give a number of seconds, e.g. 900 (the default)")
    })?;
    Ok(Some(CacheOptions {
        dir,
        margin: Duration::from_secs(margin),
    }))
}

/// The cache key for these flags, or `None` when the identity does not come from files we can
/// read (then the normal path runs and reports any problem itself).
pub fn cache_key(args: &CredentialArgs) -> Result<Option<String>> {
    if args.certificate.is_empty()
        || !args.cert_selector.is_empty()
        || args.certificate.starts_with("pkcs11:")
        || args.private_key.starts_with("pkcs11:")
        || args.private_key.starts_with("handle:")
    {
        return Ok(None);
    }
    let read = |p: &str| -> Option<Zeroizing<Vec<u8>>> {
        if p.is_empty() {
            Some(Zeroizing::new(Vec::new()))
        } else {
            // Unreadable, special or oversized files: no cache; the loader reports them.
            aws_signing_helper::files::read_file(
                std::path::Path::new(p),
                aws_signing_helper::files::CAP_PEM,
                "input file",
            )
            .ok()
        }
    };
    let (Some(certificate), Some(private_key), Some(intermediates)) = (
        read(&args.certificate),
        read(&args.private_key),
        read(&args.intermediates),
    ) else {
        return Ok(None);
    };
    let params = args.session_params();
    let arns = params.check()?;
    let settings = aws_config::load()?;
    let target = endpoint::resolve(
        &args.region,
        &arns.trust_anchor.region,
        args.endpoint.as_deref().unwrap_or(""),
        &settings,
    )?;
    let endpoint = format!("{}{}", target.origin, target.path);
    Ok(Some(
        KeyInputs {
            certificate: &certificate,
            private_key: &private_key,
            intermediates: &intermediates,
            password: &args.pkcs8_password,
            trust_anchor_arn: &args.trust_anchor_arn,
            profile_arn: &args.profile_arn,
            role_arn: &args.role_arn,
            endpoint: &endpoint,
            region: &target.region,
            duration_seconds: args.session_duration,
            role_session_name: &args.role_session_name,
        }
        .key(),
    ))
}

/// Runs the command.
pub fn run(args: &CredentialProcessArgs) -> Result<()> {
    let cached = match cache_options(args)? {
        Some(opts) => match cache_key(&args.credentials)? {
            Some(key) => {
                let (creds, outcome) =
                    process_cache::get_or_fetch(&opts, &key, jiff::Timestamp::now, || {
                        let fetched = rolesanywhere::fetch(&args.credentials.client_config()?)?;
                        Ok((fetched.credentials, fetched.certificate_not_after))
                    })?;
                log::debug!("credential cache {}: {outcome:?}", opts.dir.display());
                Some(creds)
            }
            None => {
                log::debug!("credential cache not used: the identity is not read from files");
                None
            }
        },
        None => None,
    };
    let creds = match cached {
        Some(c) => c,
        None => fetch(&args.credentials)?,
    };
    let meta = crate::commands::sts_common::rolesanywhere_meta(&args.credentials.role_arn);
    let text = aws_signing_helper::credentials::output::render(args.output.into(), &creds, &meta);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(format!("cannot write the credentials to stdout: {e}")))
}
