//! Command-line definitions: every command and flag of the official tool, plus ours.
//!
//! Flags keep the official names, defaults and meaning. Booleans accept `--flag`,
//! `--flag=true|false` (Go's ParseBool spellings); integers accept Go's base prefixes. The
//! parser is configured for pflag's semantics ([`pflag`]): last value wins, dash-leading
//! values, extra arguments ignored with a warning.

use aws_signing_helper::credentials::output::Format;
use aws_signing_helper::identity::KeySpec;
use aws_signing_helper::pki::KeyAlg;
use aws_signing_helper::protocol::rolesanywhere::{ClientConfig, SessionParams};
use clap::{ArgMatches, Args, Parser, Subcommand};
use zeroize::Zeroizing;

/// The official tool's version, which we report and put in the User-Agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The hidden positional that collects the extra arguments cobra ignores (we warn about them).
pub const EXTRA_ARGS: &str = "extra_args";

/// The whole command tree as the binary parses it: [`Cli`] plus `--version` (an alias of the
/// `version` command, as cobra tools have), with pflag's semantics ([`pflag`]).
pub fn command() -> clap::Command {
    pflag(
        <Cli as clap::CommandFactory>::command().arg(
            clap::Arg::new("version")
                .long("version")
                .action(clap::ArgAction::Version)
                .help("Print the version (as the version command does)"),
        ),
    )
}

/// Configures clap to accept what pflag (the official tool's flag parser) accepts, with the same
/// result: a repeated flag's last value wins; a separate value starting with `-` is the value
/// (`--pkcs8-password -dashpw`); extra positional arguments of a command are collected in the
/// hidden [`EXTRA_ARGS`] (cobra ignores them; see [`extra_args_warning`]). Booleans keep
/// needing `=` for a value, as in pflag.
pub fn pflag(cmd: clap::Command) -> clap::Command {
    configure(cmd.args_override_self(true))
}

fn configure(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.mut_args(|a| {
        if takes_separate_value(&a) {
            a.allow_hyphen_values(true)
        } else {
            a
        }
    });
    // Commands with positionals of their own (completion SHELL, exec -- CMD) keep clap's
    // checks; every other leaf command ignores extra arguments, as cobra does.
    if !cmd.has_subcommands() && cmd.get_positionals().next().is_none() {
        cmd = cmd.arg(
            clap::Arg::new(EXTRA_ARGS)
                .num_args(1..)
                .action(clap::ArgAction::Append)
                .value_parser(clap::value_parser!(std::ffi::OsString))
                .hide(true),
        );
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, configure);
    }
    cmd
}

/// A flag written `--flag value` (not a boolean, which takes its value only after `=`).
fn takes_separate_value(a: &clap::Arg) -> bool {
    !a.is_positional() && a.get_action().takes_values() && !a.is_require_equals_set()
}

/// A boolean flag: `--flag` or `--flag=false`, never `--flag false` (all our flags that need
/// `=` for their value are booleans parsed by [`go_bool`]).
fn is_bool_flag(a: &clap::Arg) -> bool {
    a.is_require_equals_set() && a.get_num_args() == Some((0..=1).into())
}

/// The one warning line about extra arguments the command ignored, if there were any: they
/// are named, and `--bool-flag false` is explained (pflag sets the flag and ignores `false`).
pub fn extra_args_warning(cmd: &clap::Command, matches: &ArgMatches) -> Option<String> {
    if let Some((name, sub)) = matches.subcommand() {
        return extra_args_warning(cmd.find_subcommand(name)?, sub);
    }
    let values: Vec<String> = matches
        .try_get_many::<std::ffi::OsString>(EXTRA_ARGS)
        .ok()
        .flatten()?
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    let indices: Vec<usize> = matches.indices_of(EXTRA_ARGS)?.collect();
    let mut booleans = Vec::new();
    for arg in cmd.get_arguments().filter(|a| is_bool_flag(a)) {
        let (Some(long), Some(at)) = (arg.get_long(), matches.indices_of(arg.get_id().as_str()))
        else {
            continue;
        };
        for i in at {
            let next = indices.iter().position(|v| *v == i + 1);
            let word = next.map(|p| &values[p]);
            match word.map(|w| (w, go_bool(w))) {
                Some((w, Ok(false))) => booleans.push(format!(
                    "\"--{long} {w}\" turns --{long} ON; write --{long}={w} to turn it off"
                )),
                Some((w, Ok(true))) => booleans.push(format!(
                    "--{long} takes its value only after '=' (--{long}={w})"
                )),
                _ => {}
            }
        }
    }
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    let mut line = format!(
        "warning: ignoring extra arguments {} (neither flags nor flag values; a line continuation lost in ~/.aws/config can cause this)",
        quoted.join(" ")
    );
    if !booleans.is_empty() {
        line = format!(
            "warning: ignoring extra arguments {}: {}",
            quoted.join(" "),
            booleans.join("; ")
        );
    }
    Some(line)
}

/// The hint for a single-dash long flag (`-certificate`), which pflag refuses too: the
/// two-dash flag it most likely means, if the command has it.
pub fn single_dash_hint<I, T>(cmd: &clap::Command, args: I) -> Option<String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.into().to_string_lossy().into_owned())
        .collect();
    let mut leaf = cmd;
    for a in &args {
        if let Some(sub) = leaf.find_subcommand(a) {
            leaf = sub;
        }
    }
    args.iter().find_map(|a| {
        let name = a.strip_prefix('-').filter(|n| !n.starts_with('-'))?;
        let name = name.split('=').next()?;
        (name.len() > 1 && leaf.get_arguments().any(|x| x.get_long() == Some(name)))
            .then(|| format!("flags take two dashes: use --{name} instead of -{name}"))
    })
}

/// What `help WORDS…` shows when clap alone would not do as cobra's help command does.
#[derive(Debug, PartialEq, Eq)]
pub enum HelpTopic {
    /// cobra's "Unknown help topic" line (printed with the root usage, on stderr, exit 0).
    Unknown(String),
    /// The help of this command path; the words after it are arguments, which cobra ignores.
    Command(Vec<String>),
}

/// `help TOPIC…` where clap and cobra differ: an unknown first topic, or words after a
/// command that has no such subcommand. `None`: clap's help subcommand does the same as cobra.
pub fn help_topic<I, T>(cmd: &clap::Command, args: I) -> Option<HelpTopic>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.into().to_string_lossy().into_owned())
        .collect();
    let (first, topics) = args.split_first()?;
    if first != "help" || topics.is_empty() {
        return None;
    }
    let mut at = cmd;
    let mut path = Vec::new();
    for t in topics {
        match at.find_subcommand(t) {
            Some(sub) => {
                at = sub;
                path.push(t.clone());
            }
            // cobra's Find: a word after a command is an argument, not a topic.
            None if !path.is_empty() => return Some(HelpTopic::Command(path)),
            None => {
                let quoted: Vec<String> = topics.iter().map(|t| format!("`{t}`")).collect();
                return Some(HelpTopic::Unknown(format!(
                    "Unknown help topic [{}]",
                    quoted.join(" ")
                )));
            }
        }
    }
    None
}

#[derive(Debug, Parser)]
#[command(
    name = "aws_signing_helper",
    version = VERSION,
    disable_version_flag = true,
    arg_required_else_help = true,
    about = "Temporary AWS credentials for workloads outside AWS, from IAM Roles Anywhere.",
    long_about = "Temporary AWS credentials for workloads outside AWS.\n\n\
        Proves your identity to IAM Roles Anywhere with an X.509 certificate and its private key, \
        signs a CreateSession request, and hands the temporary credentials to AWS SDKs and tools \
        (credential_process, the shared credentials file, or a local metadata endpoint).\n\n\
        A drop-in replacement for AWS's aws_signing_helper: same commands, flags and output."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Variants hold their flags inline; the enum is parsed once per process, so size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print credentials as JSON for the credential_process setting of the AWS CLI and SDKs
    #[command(name = "credential-process")]
    CredentialProcess(CredentialProcessArgs),
    /// Serve credentials on a local IMDSv2-compatible endpoint (and a container-credentials route)
    Serve(crate::commands::serve::ServeArgs),
    /// Keep a profile of the AWS shared credentials file filled with fresh credentials
    Update(crate::commands::update::UpdateArgs),
    /// Sign a fixed test string with the selected key, to check that the key works
    #[command(name = "sign-string")]
    SignString(SignStringArgs),
    /// Show the certificate of a file, or list the certificates a PKCS#11 URI matches
    #[command(name = "read-certificate-data")]
    ReadCertificateData(ReadCertificateDataArgs),
    /// Print the version
    Version,
    /// Run a local IAM Roles Anywhere CreateSession emulator (for tests and trying things out)
    Emulator(crate::commands::emulator::EmulatorArgs),
    /// Show the main job end to end against the local emulator, no AWS account needed
    Demo(crate::commands::demo::DemoArgs),
    /// Make a trust anchor CA and client certificates with the extensions Roles Anywhere needs
    Pki(crate::commands::pki::PkiArgs),
    /// Check a certificate, key, chain and ARNs offline against what Roles Anywhere will check
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Generate the autocompletion script for a shell (bash, zsh, fish, powershell)
    Completion(crate::commands::completion::CompletionArgs),
    /// Print the manual page (roff): aws_signing_helper man | man -l -
    Man,
    /// STS GetSessionToken with long-term keys, usually with MFA (cached)
    #[command(name = "session-token")]
    SessionToken(crate::commands::session_token::SessionTokenArgs),
    /// STS AssumeRole from env keys, a profile, an MFA session or Roles Anywhere (cached)
    #[command(name = "assume-role")]
    AssumeRole(crate::commands::assume_role::AssumeRoleCommand),
    /// Run a command with temporary credentials in its environment: exec [FLAGS] -- CMD ARGS...
    Exec(crate::commands::exec::ExecArgs),
    /// Print a profile's (or role's) temporary credentials for a shell: export PROFILE --output env
    Export(crate::commands::exec::ExportArgs),
    /// Show which credentials this environment holds (no secrets); --verify asks STS
    Whoami(crate::commands::whoami::WhoamiArgs),
    /// aws-sts-helpers' functions ec2switch, ec2now, ec2mfa, ec2unset: eval "$(aws_signing_helper shell-init bash)"
    #[command(name = "shell-init")]
    ShellInit(crate::commands::shell::ShellInitArgs),
    /// What the shell-init functions call (messages on stderr, statements to eval on stdout)
    #[command(name = "shell-env", hide = true)]
    ShellEnv(crate::commands::shell::ShellEnvArgs),
    /// aws-sts-helpers' generate-sts-role-token: AssumeRole with the environment's keys, its JSON or --shell statements
    #[command(name = "generate-sts-role-token")]
    GenerateStsRoleToken(crate::commands::assume_role::SeedRoleTokenArgs),
    /// Print (or --open) an AWS console sign-in URL for a profile's or the environment's temporary credentials
    Login(crate::commands::login::LoginArgs),
    /// Make a CA, client certificate, trust anchor, role and profile and write a [profile] with credential_process (idempotent; --delete removes them)
    Setup(crate::commands::setup::SetupArgs),
    /// Long-term keys in a key store (kernel keyring, Secret Service, encrypted file): add, list, remove, rotate
    Keys(crate::commands::keys::KeysArgs),
    /// Copy long-term keys from ~/aws-creds and ~/.aws/credentials into the key store (deletes nothing)
    #[command(name = "import-keys")]
    ImportKeys(crate::commands::keys::ImportArgs),
}

/// `--output`: how credentials are printed (the library's [`Format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// credential_process JSON (the official output)
    Process,
    /// export statements for bash, zsh and sh: eval "$(… --output env)"
    Env,
    /// set -gx statements for fish: … --output env-fish | source
    EnvFish,
    /// $Env: assignments for PowerShell: … --output env-powershell | Invoke-Expression
    EnvPowershell,
    /// NAME=value lines (.env files, docker --env-file)
    Dotenv,
    /// pretty JSON with the credentials and where they came from
    Json,
    /// aws-sts-helpers' generate-sts-role-token JSON (access_key, expiration, secret_key, session_token)
    SeedJson,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Format {
        match f {
            OutputFormat::Process => Format::Process,
            OutputFormat::Env => Format::Env,
            OutputFormat::EnvFish => Format::EnvFish,
            OutputFormat::EnvPowershell => Format::EnvPowershell,
            OutputFormat::Dotenv => Format::Dotenv,
            OutputFormat::Json => Format::Json,
            OutputFormat::SeedJson => Format::SeedJson,
        }
    }
}

/// `--key-type` of `pki` and `demo` (the library's [`KeyAlg`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    #[value(name = "ec-p256")]
    EcP256,
    #[value(name = "ec-p384")]
    EcP384,
    #[value(name = "rsa-2048")]
    Rsa2048,
    #[value(name = "ml-dsa-44")]
    MlDsa44,
    #[value(name = "ml-dsa-65")]
    MlDsa65,
    #[value(name = "ml-dsa-87")]
    MlDsa87,
}

impl From<KeyType> for KeyAlg {
    fn from(k: KeyType) -> KeyAlg {
        match k {
            KeyType::EcP256 => KeyAlg::EcP256,
            KeyType::EcP384 => KeyAlg::EcP384,
            KeyType::Rsa2048 => KeyAlg::Rsa2048,
            KeyType::MlDsa44 => KeyAlg::MlDsa44,
            KeyType::MlDsa65 => KeyAlg::MlDsa65,
            KeyType::MlDsa87 => KeyAlg::MlDsa87,
        }
    }
}

/// `--endpoint`: given, it must not be empty (an empty value, e.g. from an unset shell
/// variable, would otherwise fall back to AWS's public endpoint without a word).
pub fn endpoint_url(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("--endpoint is empty: pass the endpoint's URL (e.g. https://127.0.0.1:8443), or leave the flag out for AWS's endpoint".into());
    }
    Ok(s.to_string())
}

/// Go's strconv.ParseBool spellings.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Go's strconv.ParseInt with base 0: `0x`, `0o`, `0b` prefixes and leading-`0` octal.
pub fn go_int(s: &str) -> Result<i64, String> {
    let invalid = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d.to_string())
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d.to_string())
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d.to_string())
        } else if body.len() > 1 && body.starts_with('0') {
            (8, body[1..].to_string())
        } else {
            (10, body)
        };
    if digits.is_empty() {
        return Err(invalid());
    }
    let magnitude = i128::from_str_radix(&digits, radix).map_err(|_| invalid())?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// The flags shared by `credential-process`, `serve` and `update`.
#[derive(Debug, Clone, Args, Default)]
pub struct CredentialArgs {
    /// ARN of the IAM role to assume (query parameter roleArn)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub role_arn: String,
    /// ARN of the Roles Anywhere profile
    #[arg(long, default_value = "", hide_default_value = true)]
    pub profile_arn: String,
    /// ARN of the Roles Anywhere trust anchor; its region is the default signing region
    #[arg(long, default_value = "", hide_default_value = true)]
    pub trust_anchor_arn: String,
    /// Duration of the session in seconds (the service accepts 900 to 43200, capped by the profile)
    #[arg(long, default_value = "3600", value_parser = go_int)]
    pub session_duration: i64,
    /// Signing region and endpoint region (default: the trust anchor ARN's region)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub region: String,
    /// Base URL of the CreateSession endpoint, e.g. https://host:port
    #[arg(long, value_parser = endpoint_url)]
    pub endpoint: Option<String>,
    /// Skip TLS certificate verification (insecure; prints a warning)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_verify_ssl: bool,
    /// Use the proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (always the case; kept for compatibility)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub with_proxy: bool,
    /// Print the canonical request, string to sign and HTTP exchange to stderr, secrets redacted
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub debug: bool,
    /// Certificate file (PEM or DER, may hold the chain after the leaf; PKCS#12 when no --private-key)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub certificate: String,
    /// Private key file (PEM or DER: PKCS#1, SEC1, PKCS#8, encrypted PKCS#8)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub private_key: String,
    /// PEM file of intermediate CA certificates, sent as the chain in file order
    #[arg(long, default_value = "", hide_default_value = true)]
    pub intermediates: String,
    /// Select a certificate from an OS certificate store (inline Key=...,Value=... pairs or file://PATH)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub cert_selector: String,
    /// Windows system certificate store name
    #[arg(long, default_value = "MY")]
    pub system_store_name: String,
    /// Among several matching store certificates, use the one that expires last
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub use_latest_expiring_certificate: bool,
    /// PKCS#11 module to load (default: p11-kit-proxy)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub pkcs11_lib: String,
    /// Use the PKCS#11 user PIN as the context-specific PIN too
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub reuse_pin: bool,
    /// Password of the TPM key
    #[arg(long, default_value = "", hide_default_value = true)]
    pub tpm_key_password: String,
    /// The TPM key (by handle) has no password
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_tpm_key_password: bool,
    /// Role session name (sent only when not empty)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub role_session_name: String,
    /// Password of an encrypted PKCS#8 private key or a PKCS#12 file (prompted for on a terminal if needed)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub pkcs8_password: String,
    /// Seconds to wait for each CreateSession attempt before giving up on it
    #[arg(long, default_value = "30", value_parser = go_int)]
    pub timeout: i64,
}

#[derive(Debug, Clone, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// How to print the credentials (default: the official credential_process JSON)
    #[arg(long, value_enum, default_value = "process")]
    pub output: OutputFormat,
    /// Reuse unexpired credentials from an earlier run with the same certificate, key, ARNs and
    /// options instead of a new CreateSession [env: AWS_SIGNING_HELPER_CACHE=1]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub cache: Option<bool>,
    /// Directory of the credential cache (default: $XDG_CACHE_HOME/aws-signing-helper/process
    /// or ~/.cache/aws-signing-helper/process) [env: AWS_SIGNING_HELPER_CACHE_DIR]
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Get new credentials when fewer than this many seconds remain before the cached ones
    /// expire [env: AWS_SIGNING_HELPER_CACHE_MARGIN] [default: 900]
    #[arg(long, value_name = "SECONDS", value_parser = go_int)]
    pub cache_margin: Option<i64>,
}

/// `sign-string --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignFormat {
    #[default]
    Json,
    Text,
    Bin,
}

fn parse_format(s: &str) -> Result<SignFormat, String> {
    match s {
        "json" => Ok(SignFormat::Json),
        "text" => Ok(SignFormat::Text),
        "bin" => Ok(SignFormat::Bin),
        _ => Err(format!("{s} is not included in json,text,bin")),
    }
}

fn parse_digest(s: &str) -> Result<aws_signing_helper::identity::Digest, String> {
    use aws_signing_helper::identity::Digest;
    match s {
        "SHA256" => Ok(Digest::Sha256),
        "SHA384" => Ok(Digest::Sha384),
        "SHA512" => Ok(Digest::Sha512),
        _ => Err(format!("{s} is not included in SHA256,SHA384,SHA512")),
    }
}

/// The flags of `sign-string`.
#[derive(Debug, Clone, Args)]
pub struct SignStringArgs {
    /// Certificate file or PKCS#11 URI (optional: a key alone can sign)
    #[arg(long, default_value = "")]
    pub certificate: String,
    /// Private key file, PKCS#11 URI, TPM key file or handle:0x81000001
    #[arg(long, default_value = "")]
    pub private_key: String,
    /// Describe what is signed on stderr
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub debug: bool,
    /// Select a certificate from an OS certificate store (not available on Linux)
    #[arg(long, default_value = "")]
    pub cert_selector: String,
    /// Windows system certificate store name
    #[arg(long, default_value = "MY")]
    pub system_store_name: String,
    /// Among several matching store certificates, use the one that expires last
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub use_latest_expiring_certificate: bool,
    /// PKCS#11 module to load (default: p11-kit-proxy)
    #[arg(long, default_value = "")]
    pub pkcs11_lib: String,
    /// Use the PKCS#11 user PIN as the context-specific PIN too
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub reuse_pin: bool,
    /// Password of the TPM key
    #[arg(long, default_value = "")]
    pub tpm_key_password: String,
    /// The TPM key (by handle) has no password
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub no_tpm_key_password: bool,
    /// Password of an encrypted PKCS#8 private key
    #[arg(long, default_value = "")]
    pub pkcs8_password: String,
    /// Output format: json (hex in quotes), text (hex) or bin (raw bytes)
    #[arg(long, default_value = "json", value_parser = parse_format)]
    pub format: SignFormat,
    /// Digest: SHA256, SHA384 or SHA512 (ignored for ML-DSA)
    #[arg(long, default_value = "SHA256", value_parser = parse_digest)]
    pub digest: aws_signing_helper::identity::Digest,
}

impl SignStringArgs {
    /// Where the key (and maybe certificate) comes from.
    pub fn key_spec(&self) -> KeySpec {
        KeySpec {
            certificate: self.certificate.clone(),
            private_key: self.private_key.clone(),
            intermediates: None,
            cert_selector: self.cert_selector.clone(),
            pkcs11_lib: self.pkcs11_lib.clone(),
            reuse_pin: self.reuse_pin,
            tpm_key_password: secret(&self.tpm_key_password),
            no_tpm_key_password: self.no_tpm_key_password,
            pkcs8_password: secret(&self.pkcs8_password),
        }
    }
}

/// A password flag: `None` when empty.
fn secret(flag: &str) -> Option<Zeroizing<String>> {
    (!flag.is_empty()).then(|| Zeroizing::new(flag.to_string()))
}

/// The longest `--timeout` we wait (a day); larger values mean the same and would overflow the
/// clock arithmetic of the HTTP client.
const MAX_TIMEOUT_SECONDS: u64 = 24 * 60 * 60;

impl CredentialArgs {
    /// The CreateSession parameters of these flags, checked where the flags alone can tell.
    pub fn client_config(&self) -> Result<ClientConfig, aws_signing_helper::Error> {
        if self.timeout < 1 {
            return Err(aws_signing_helper::Error::new(format!(
                "--timeout {} must be at least 1 second",
                self.timeout
            )));
        }
        let timeout = self.timeout.unsigned_abs().min(MAX_TIMEOUT_SECONDS);
        Ok(ClientConfig {
            key: self.key_spec(),
            session: self.session_params(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone().unwrap_or_default(),
            no_verify_ssl: self.no_verify_ssl,
            timeout: std::time::Duration::from_secs(timeout),
        })
    }

    /// The ARNs, duration and session name.
    pub fn session_params(&self) -> SessionParams {
        SessionParams {
            role_arn: self.role_arn.clone(),
            profile_arn: self.profile_arn.clone(),
            trust_anchor_arn: self.trust_anchor_arn.clone(),
            duration_seconds: self.session_duration,
            role_session_name: (!self.role_session_name.is_empty())
                .then(|| self.role_session_name.clone()),
        }
    }

    /// Where the certificate, key and chain come from.
    pub fn key_spec(&self) -> KeySpec {
        KeySpec {
            certificate: self.certificate.clone(),
            private_key: self.private_key.clone(),
            intermediates: (!self.intermediates.is_empty())
                .then(|| std::path::PathBuf::from(&self.intermediates)),
            cert_selector: self.cert_selector.clone(),
            pkcs11_lib: self.pkcs11_lib.clone(),
            reuse_pin: self.reuse_pin,
            tpm_key_password: secret(&self.tpm_key_password),
            no_tpm_key_password: self.no_tpm_key_password,
            pkcs8_password: secret(&self.pkcs8_password),
        }
    }
}

/// The flags of `read-certificate-data`.
#[derive(Debug, Clone, Args)]
pub struct ReadCertificateDataArgs {
    /// Certificate file, or a PKCS#11 URI whose certificates are listed
    #[arg(long, default_value = "")]
    pub certificate: String,
    /// Select certificates from an OS certificate store (not available on Linux)
    #[arg(long, default_value = "")]
    pub cert_selector: String,
    /// Windows system certificate store name
    #[arg(long, default_value = "MY")]
    pub system_store_name: String,
    /// PKCS#11 module to load (default: p11-kit-proxy)
    #[arg(long, default_value = "")]
    pub pkcs11_lib: String,
    /// Accepted for compatibility; has no effect
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = go_bool)]
    pub debug: bool,
}

/// The mutually exclusive flag pairs of `sign-string`: the credential list without the two
/// `intermediates` pairs, plus no-tpm-key-password×reuse-pin.
pub const SIGN_STRING_EXCLUSIONS: &[(&str, &str)] = &[
    ("certificate", "cert-selector"),
    ("certificate", "system-store-name"),
    ("private-key", "cert-selector"),
    ("private-key", "system-store-name"),
    ("private-key", "use-latest-expiring-certificate"),
    ("use-latest-expiring-certificate", "reuse-pin"),
    ("cert-selector", "reuse-pin"),
    ("system-store-name", "reuse-pin"),
    ("tpm-key-password", "cert-selector"),
    ("tpm-key-password", "reuse-pin"),
    ("no-tpm-key-password", "cert-selector"),
    ("no-tpm-key-password", "tpm-key-password"),
    ("no-tpm-key-password", "reuse-pin"),
    ("pkcs8-password", "tpm-key-password"),
];

/// The mutually exclusive flag pairs of `read-certificate-data`.
pub const READ_CERTIFICATE_DATA_EXCLUSIONS: &[(&str, &str)] = &[
    ("certificate", "cert-selector"),
    ("certificate", "system-store-name"),
];

/// The exclusion list of a subcommand (by its name), if it has one.
pub fn exclusions_for(subcommand: &str) -> &'static [(&'static str, &'static str)] {
    match subcommand {
        "credential-process" | "update" | "serve" => CREDENTIAL_EXCLUSIONS,
        "sign-string" => SIGN_STRING_EXCLUSIONS,
        "read-certificate-data" => READ_CERTIFICATE_DATA_EXCLUSIONS,
        _ => &[],
    }
}

/// The fast path for `credential-process`, which the AWS CLI and SDKs run on every API call:
/// builds and parses only that command's flags instead of the whole command tree (a tenth of a
/// run's instructions, and code spread across the binary that start-up would otherwise touch).
/// `None` when the arguments name another command or do not parse as a clean
/// `credential-process` (help, a bad flag, an exclusion): the full parser then handles them, so
/// every message and exit code stays exactly the same.
pub fn fast_credential_process<I, T>(args: I) -> Option<CredentialProcessArgs>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut args = args.into_iter().skip(1).peekable();
    if args.peek()?.clone().into() != "credential-process" {
        return None;
    }
    let matches = pflag(CredentialProcessArgs::augment_args(clap::Command::new(
        "credential-process",
    )))
    .try_get_matches_from(args)
    .ok()?;
    // Extra arguments need the warning the full parser prints.
    if matches.contains_id(EXTRA_ARGS) {
        return None;
    }
    check_exclusions(&matches, CREDENTIAL_EXCLUSIONS).ok()?;
    <CredentialProcessArgs as clap::FromArgMatches>::from_arg_matches(&matches).ok()
}

/// The mutually exclusive flag pairs of the credential commands, in cobra's order.
pub const CREDENTIAL_EXCLUSIONS: &[(&str, &str)] = &[
    ("certificate", "cert-selector"),
    ("certificate", "system-store-name"),
    ("private-key", "cert-selector"),
    ("private-key", "system-store-name"),
    ("private-key", "use-latest-expiring-certificate"),
    ("use-latest-expiring-certificate", "intermediates"),
    ("use-latest-expiring-certificate", "reuse-pin"),
    ("cert-selector", "intermediates"),
    ("cert-selector", "reuse-pin"),
    ("system-store-name", "reuse-pin"),
    ("tpm-key-password", "cert-selector"),
    ("tpm-key-password", "reuse-pin"),
    ("no-tpm-key-password", "cert-selector"),
    ("no-tpm-key-password", "tpm-key-password"),
    ("pkcs8-password", "tpm-key-password"),
];

/// Checks cobra-style mutual exclusions: only flags given on the command line count.
/// Returns cobra's message for the first violated pair.
pub fn check_exclusions(matches: &ArgMatches, pairs: &[(&str, &str)]) -> Result<(), String> {
    let given = |name: &str| {
        let id = name.replace('-', "_");
        matches
            .try_contains_id(&id)
            .ok()
            .filter(|present| *present)
            .and_then(|_| matches.value_source(&id))
            == Some(clap::parser::ValueSource::CommandLine)
    };
    for (a, b) in pairs {
        if given(a) && given(b) {
            let mut set = [*a, *b];
            set.sort_unstable();
            return Err(format!(
                "if any flags in the group [{a} {b}] are set none of the others can be; [{} {}] were all set",
                set[0], set[1]
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    fn parse(args: &[&str]) -> Result<(Cli, ArgMatches), clap::Error> {
        let matches = command().try_get_matches_from(args)?;
        Ok((Cli::from_arg_matches(&matches)?, matches))
    }

    fn cp(args: &[&str]) -> (CredentialProcessArgs, Option<String>) {
        let mut argv = vec!["x", "credential-process"];
        argv.extend_from_slice(args);
        let (cli, m) = parse(&argv).unwrap();
        let Command::CredentialProcess(a) = cli.command else {
            panic!("wrong command")
        };
        (a, extra_args_warning(&command(), &m))
    }

    #[test]
    fn the_configured_tree_passes_clap_checks() {
        command().debug_assert();
    }

    #[test]
    fn a_repeated_flag_keeps_its_last_value_like_pflag() {
        let argv = [
            "--certificate",
            "a",
            "--certificate",
            "b",
            "--debug",
            "--debug=false",
            "--session-duration",
            "900",
            "--session-duration",
            "1200",
        ];
        let (a, warning) = cp(&argv);
        assert_eq!(a.credentials.certificate, "b");
        assert!(!a.credentials.debug);
        assert_eq!(a.credentials.session_duration, 1200);
        assert_eq!(warning, None);
        // The fast path parses it the same way.
        let mut full = vec!["x", "credential-process"];
        full.extend_from_slice(&argv);
        let fast = fast_credential_process(full).expect("a clean line");
        assert_eq!(format!("{fast:?}"), format!("{a:?}"));
        // Repeats work in every command, also nested ones; repeatable flags still collect.
        assert!(parse(&["x", "pki", "ca", "--out", "a", "--out", "b"]).is_ok());
        let (cli, _) =
            parse(&["x", "pki", "issue", "--cn", "c", "--san", "a", "--san", "b"]).unwrap();
        let Command::Pki(pki) = cli.command else {
            panic!("wrong command")
        };
        let crate::commands::pki::PkiCommand::Issue(issue) = pki.command else {
            panic!("wrong pki command")
        };
        assert_eq!(issue.issuer.san, ["a", "b"]);
    }

    #[test]
    fn a_separate_value_starting_with_a_dash_is_the_value() {
        let argv = [
            "--pkcs8-password",
            "-dashpw",
            "--session-duration",
            "-1",
            "--role-arn",
            "--certificate",
        ];
        let (a, warning) = cp(&argv);
        assert_eq!(a.credentials.pkcs8_password, "-dashpw");
        assert_eq!(a.credentials.session_duration, -1);
        // pflag takes the next word whatever it is; so do we.
        assert_eq!(a.credentials.role_arn, "--certificate");
        assert_eq!(a.credentials.certificate, "");
        assert_eq!(warning, None);
        let mut full = vec!["x", "credential-process"];
        full.extend_from_slice(&argv);
        let fast = fast_credential_process(full).expect("a clean line");
        assert_eq!(format!("{fast:?}"), format!("{a:?}"));
    }

    #[test]
    fn extra_arguments_are_ignored_with_one_warning() {
        let (a, warning) = cp(&["stray", "--certificate", "c", "more"]);
        assert_eq!(a.credentials.certificate, "c");
        let warning = warning.expect("a warning");
        assert!(!warning.contains('\n'));
        assert!(
            warning.contains(r#"ignoring extra arguments "stray" "more""#),
            "{warning}"
        );
        // The fast path leaves them to the full parser, which warns.
        assert!(fast_credential_process(["x", "credential-process", "stray"]).is_none());
        // Every leaf command ignores them, nested ones too.
        for argv in [
            &["x", "sign-string", "a"][..],
            &["x", "version", "a"],
            &["x", "pki", "ca", "a"],
            &["x", "serve", "a"],
            &["x", "update", "a"],
        ] {
            let (_, m) = parse(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            assert!(
                extra_args_warning(&command(), &m).is_some_and(|w| w.contains(r#""a""#)),
                "{argv:?}"
            );
        }
        // Commands with positionals of their own keep clap's checks.
        // (exec takes one PROFILE word before `--`.)
        assert!(parse(&["x", "exec", "admin", "stray", "--", "true"]).is_err());
        assert!(parse(&["x", "completion", "bash", "zsh"]).is_err());
    }

    #[test]
    fn a_separate_false_after_a_boolean_turns_it_on_and_says_so() {
        let (a, warning) = cp(&["--debug", "false", "--no-verify-ssl", "true"]);
        assert!(
            a.credentials.debug,
            "pflag sets the flag and ignores the word"
        );
        assert!(a.credentials.no_verify_ssl);
        let warning = warning.expect("a warning");
        assert!(
            warning.contains(r#"ignoring extra arguments "false" "true""#),
            "{warning}"
        );
        assert!(
            warning.contains("--debug=false to turn it off"),
            "{warning}"
        );
        assert!(warning.contains("--no-verify-ssl=true"), "{warning}");
        // A word that is the value of a string flag is not an extra argument.
        let (a, warning) = cp(&["--role-arn", "false", "--debug=false"]);
        assert_eq!(a.credentials.role_arn, "false");
        assert_eq!(warning, None);
        // A boolean word that follows no boolean flag gets the plain warning.
        let (_, warning) = cp(&["--debug=true", "x", "false"]);
        let warning = warning.unwrap();
        assert!(!warning.contains("turn it off"), "{warning}");
    }

    #[test]
    fn single_dash_long_flags_stay_errors_with_a_hint() {
        let argv = ["x", "credential-process", "-certificate", "c"];
        let e = parse(&argv).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
        assert_eq!(
            single_dash_hint(&command(), argv).as_deref(),
            Some("flags take two dashes: use --certificate instead of -certificate")
        );
        let argv = ["x", "sign-string", "-format=text"];
        assert!(parse(&argv).is_err());
        assert!(single_dash_hint(&command(), argv)
            .unwrap()
            .contains("use --format"));
        // No hint for a name the command does not have.
        assert_eq!(
            single_dash_hint(&command(), ["x", "credential-process", "-zz"]),
            None
        );
    }

    #[test]
    fn help_topics_and_version_behave_as_in_cobra() {
        let unknown = |line: &str| Some(HelpTopic::Unknown(line.to_string()));
        assert_eq!(
            help_topic(&command(), ["x", "help", "nosuch"]),
            unknown("Unknown help topic [`nosuch`]")
        );
        assert_eq!(
            help_topic(&command(), ["x", "help", "no", "such"]),
            unknown("Unknown help topic [`no` `such`]")
        );
        for known in [
            &["x", "help", "serve"][..],
            &["x", "help", "pki", "ca"],
            &["x", "help"],
            &["x", "serve", "nosuch"],
        ] {
            assert_eq!(help_topic(&command(), known), None, "{known:?}");
        }
        // Words after a command are arguments: its help, as cobra shows.
        assert_eq!(
            help_topic(&command(), ["x", "help", "serve", "extra"]),
            Some(HelpTopic::Command(vec!["serve".into()]))
        );
        assert_eq!(help_topic(&command(), ["x", "help", "serve"]), None);
        let e = parse(&["x", "--version"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
        // Only the root has it, as the version command is only there.
        assert!(parse(&["x", "credential-process", "--version"]).is_err());
    }

    #[test]
    fn defaults_match_the_official_tool() {
        let (cli, _) = parse(&["x", "credential-process"]).unwrap();
        let Command::CredentialProcess(a) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(a.credentials.session_duration, 3600);
        assert_eq!(a.credentials.system_store_name, "MY");
        assert!(!a.credentials.no_verify_ssl);
    }

    #[test]
    fn go_style_values() {
        let (cli, _) = parse(&[
            "x",
            "credential-process",
            "--session-duration",
            "0x384",
            "--no-verify-ssl=false",
            "--debug",
        ])
        .unwrap();
        let Command::CredentialProcess(a) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(a.credentials.session_duration, 900);
        assert!(!a.credentials.no_verify_ssl);
        assert!(a.credentials.debug);
        assert_eq!(go_int("0755"), Ok(493));
        assert!(go_int("abc").unwrap_err().contains("invalid syntax"));
    }

    #[test]
    fn fast_path_parses_like_the_full_parser_or_steps_aside() {
        let argv = [
            "x",
            "credential-process",
            "--session-duration",
            "0x384",
            "--certificate",
            "c",
            "--debug",
        ];
        let fast = fast_credential_process(argv).expect("a clean credential-process line");
        let (cli, _) = parse(&argv).unwrap();
        let Command::CredentialProcess(full) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(format!("{fast:?}"), format!("{full:?}"));
        for other in [
            &["x", "update"][..],
            &["x", "credential-process", "--help"],
            &["x", "credential-process", "--no-such-flag"],
            &[
                "x",
                "credential-process",
                "--certificate",
                "a",
                "--cert-selector",
                "b",
            ],
            &["x"],
        ] {
            assert!(
                fast_credential_process(other.iter().copied()).is_none(),
                "{other:?}"
            );
        }
    }

    #[test]
    fn exclusions_use_cobra_message_and_changed_semantics() {
        let (_, m) = parse(&[
            "x",
            "credential-process",
            "--certificate",
            "a",
            "--cert-selector",
            "b",
        ])
        .unwrap();
        let sub = m.subcommand_matches("credential-process").unwrap();
        assert_eq!(
            check_exclusions(sub, CREDENTIAL_EXCLUSIONS).unwrap_err(),
            "if any flags in the group [certificate cert-selector] are set none of the others can be; [cert-selector certificate] were all set"
        );
        // The MY default of --system-store-name never conflicts by itself.
        let (_, m) = parse(&[
            "x",
            "credential-process",
            "--certificate",
            "a",
            "--private-key",
            "k",
        ])
        .unwrap();
        let sub = m.subcommand_matches("credential-process").unwrap();
        assert!(check_exclusions(sub, CREDENTIAL_EXCLUSIONS).is_ok());
    }
}
