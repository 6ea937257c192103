//! `pki`: a starter PKI for Roles Anywhere. `pki ca` makes a trust anchor CA, `pki issue` a
//! client certificate with a fresh key, `pki sign-csr` a client certificate for a CSR. Each
//! prints the next steps. Keys are written 0600, encrypted (PKCS#8 PBES2) on request.

use crate::commands::error::CommandError;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use aws_signing_helper::pki::{self, CaSpec, ClientSpec};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct PkiArgs {
    #[command(subcommand)]
    pub command: PkiCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum PkiCommand {
    /// Create a root CA fit to be a Roles Anywhere trust anchor (writes PREFIX.pem, PREFIX.key)
    Ca(CaArgs),
    /// Issue a client certificate with a fresh key (writes PREFIX.pem, PREFIX.key)
    Issue(IssueArgs),
    /// Issue a client certificate for a certificate signing request (PEM CSR)
    SignCsr(SignCsrArgs),
    /// Record that a certificate of the CA is revoked (in CA.revoked.json beside the CA)
    Revoke(RevokeArgs),
    /// Write a CRL signed by the CA listing the revoked certificates (for aws rolesanywhere import-crl)
    Crl(CrlArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RevokeArgs {
    /// The certificate to revoke (PEM or DER)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "serial",
        conflicts_with = "serial"
    )]
    pub cert: Option<PathBuf>,
    /// The serial number to revoke, in hex (as openssl x509 -serial prints it)
    #[arg(long, value_name = "HEX")]
    pub serial: Option<String>,
    /// The CA certificate (PEM); the revocation list is kept beside it
    #[arg(long, value_name = "FILE", default_value = "ca.pem")]
    pub ca: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CrlArgs {
    /// The CA certificate (PEM)
    #[arg(long, value_name = "FILE", default_value = "ca.pem")]
    pub ca: PathBuf,
    /// The CA private key (PEM, PKCS#8 or encrypted PKCS#8)
    #[arg(long, value_name = "FILE", default_value = "ca.key")]
    pub ca_key: PathBuf,
    /// Password of an encrypted CA private key [env: AWS_SIGNING_HELPER_CA_KEY_PASSWORD]
    #[arg(long, value_name = "PASSWORD")]
    pub ca_key_password: Option<String>,
    /// Days until nextUpdate
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// Where to write the CRL (PEM)
    #[arg(long, value_name = "FILE", default_value = "ca.crl.pem")]
    pub out: PathBuf,
}

/// How a new private key is written.
#[derive(Debug, Clone, Args)]
pub struct KeyOutArgs {
    /// Encrypt the new private key with this password (PKCS#8 PBES2, scrypt + AES-256-CBC)
    /// [env: AWS_SIGNING_HELPER_KEY_PASSWORD]
    #[arg(long, value_name = "PASSWORD")]
    pub key_password: Option<String>,
    /// Overwrite existing output files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    /// Common name (CN) of the CA
    #[arg(long, default_value = "Roles Anywhere CA")]
    pub cn: String,
    /// Organization (O) of the CA
    #[arg(long)]
    pub org: Option<String>,
    /// Key type
    #[arg(long, value_enum, default_value = "ec-p256")]
    pub key_type: crate::cli::KeyType,
    /// Validity in days
    #[arg(long, default_value_t = 3650)]
    pub days: i64,
    /// basicConstraints pathLenConstraint: how many intermediate CAs may follow (default: no limit)
    #[arg(long, value_name = "N")]
    pub path_len: Option<u8>,
    /// Output prefix: writes PREFIX.pem (certificate) and PREFIX.key (private key, 0600)
    #[arg(long, value_name = "PREFIX", default_value = "ca")]
    pub out: PathBuf,
    #[command(flatten)]
    pub key_out: KeyOutArgs,
}

/// The issuing CA.
#[derive(Debug, Clone, Args)]
pub struct IssuerArgs {
    /// The CA certificate (PEM)
    #[arg(long, value_name = "FILE", default_value = "ca.pem")]
    pub ca: PathBuf,
    /// The CA private key (PEM, PKCS#8 or encrypted PKCS#8)
    #[arg(long, value_name = "FILE", default_value = "ca.key")]
    pub ca_key: PathBuf,
    /// Password of an encrypted CA private key [env: AWS_SIGNING_HELPER_CA_KEY_PASSWORD]
    #[arg(long, value_name = "PASSWORD")]
    pub ca_key_password: Option<String>,
    /// Validity of the client certificate in days
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Subject alternative name: dns:NAME, uri:URI, email:ADDRESS or ip:ADDRESS (repeatable)
    #[arg(long, value_name = "SAN")]
    pub san: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct IssueArgs {
    /// Common name (CN): becomes the session's sourceIdentity and the x509Subject/CN tag
    #[arg(long)]
    pub cn: String,
    /// Organization (O)
    #[arg(long)]
    pub org: Option<String>,
    /// Key type of the new client key
    #[arg(long, value_enum, default_value = "ec-p256")]
    pub key_type: crate::cli::KeyType,
    /// Output prefix: writes PREFIX.pem (certificate) and PREFIX.key (private key, 0600)
    #[arg(long, value_name = "PREFIX", default_value = "client")]
    pub out: PathBuf,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    #[command(flatten)]
    pub key_out: KeyOutArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SignCsrArgs {
    /// The certificate signing request (PEM)
    #[arg(long, value_name = "FILE")]
    pub csr: PathBuf,
    /// Where to write the certificate (PEM)
    #[arg(long, value_name = "FILE", default_value = "client.pem")]
    pub out: PathBuf,
    /// Overwrite an existing output file
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub issuer: IssuerArgs,
}

pub fn run(args: &PkiArgs) -> Result<()> {
    match &args.command {
        PkiCommand::Ca(a) => ca(a),
        PkiCommand::Issue(a) => issue(a),
        PkiCommand::SignCsr(a) => sign_csr(a),
        PkiCommand::Revoke(a) => revoke(a),
        PkiCommand::Crl(a) => crl(a),
    }
}

/// `CA.revoked.json` beside the CA certificate `ca.pem`.
fn revocations_path(ca: &Path) -> PathBuf {
    ca.with_extension("revoked.json")
}

fn read_revocations(ca: &Path) -> Result<Vec<pki::Revoked>> {
    let path = revocations_path(ca);
    match aws_signing_helper::files::read_file(
        &path,
        aws_signing_helper::files::CAP_CONFIG,
        "revocation list",
    ) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::new(format!(
                "cannot read the revocation list {}: {e}",
                path.display()
            ))
        }),
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

fn revoke(args: &RevokeArgs) -> Result<()> {
    let serial = match (&args.cert, &args.serial) {
        (Some(path), _) => {
            let certs = aws_signing_helper::identity::file::load_certificates(path)?;
            certs
                .first()
                .map(|c| c.serial_hex_upper())
                .ok_or_else(|| Error::new(format!("no certificate in {}", path.display())))?
        }
        (None, Some(hex)) => {
            let clean: String = hex
                .chars()
                .filter(|c| *c != ':')
                .collect::<String>()
                .to_ascii_uppercase();
            if clean.is_empty() || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(
                    Error::new(format!("--serial {hex:?} is not a hex serial number"))
                        .hint("give it as openssl x509 -noout -serial prints it, e.g. 4F1A…"),
                );
            }
            if clean.len() % 2 == 1 {
                format!("0{clean}")
            } else {
                clean
            }
        }
        (None, None) => return Err(Error::new("pki revoke needs --cert FILE or --serial HEX")),
    };
    // The CA must exist: revocations belong to it.
    read_text(&args.ca, "--ca")?;
    let mut list = read_revocations(&args.ca)?;
    if list.iter().any(|r| r.serial == serial) {
        eprintln!("serial {serial} was already revoked");
        return Ok(());
    }
    list.push(pki::Revoked {
        serial: serial.clone(),
        revoked_at: jiff::Timestamp::now().to_string(),
    });
    let json = serde_json::to_vec_pretty(&list)
        .map_err(|e| Error::new(format!("cannot write the revocation list: {e}")))?;
    let path = revocations_path(&args.ca);
    pki::write_public(&path, &json)?;
    eprintln!(
        "revoked serial {serial} ({} in {}); write the CRL with: aws_signing_helper pki crl",
        list.len(),
        path.display()
    );
    Ok(())
}

fn crl(args: &CrlArgs) -> Result<()> {
    let ca_pem = read_text(&args.ca, "--ca")?;
    let key = read_ca_key(&IssuerArgs {
        ca: args.ca.clone(),
        ca_key: args.ca_key.clone(),
        ca_key_password: args.ca_key_password.clone(),
        days: args.days,
        san: Vec::new(),
    })?;
    let list = read_revocations(&args.ca)?;
    // Each CRL's number is later than the previous one's.
    let number = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(1);
    let pem = pki::crl(&ca_pem, &key, &list, number, args.days)?;
    pki::write_public(&args.out, pem.as_bytes())?;
    eprintln!(
        "wrote {} ({} revoked); import it: aws rolesanywhere import-crl --name NAME --trust-anchor-arn TA_ARN --crl-data fileb://{} --enabled",
        args.out.display(),
        list.len(),
        args.out.display()
    );
    Ok(())
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn refuse_overwrite(paths: &[&Path], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match paths.iter().find(|p| p.exists()) {
        Some(p) => Err(Error::new(format!("{} already exists", p.display()))
            .hint("choose another --out, or pass --force to overwrite it")),
        None => Ok(()),
    }
}

fn write_public(path: &Path, contents: &str) -> Result<()> {
    pki::write_public(path, contents.as_bytes())
}

/// A flag's value, else the environment variable's (when set and not empty).
fn flag_or_env(flag: &Option<String>, var: &str) -> Option<Zeroizing<String>> {
    flag.clone()
        .or_else(|| aws_signing_helper::env::var(var))
        .map(Zeroizing::new)
}

/// The key file's contents: the key encrypted with `--key-password` (or its variable), else as
/// is; and whether it was encrypted. Made before anything is written, so a refused password
/// leaves no file behind.
fn key_file(key_pem: &str, out: &KeyOutArgs) -> Result<(Zeroizing<String>, bool)> {
    match flag_or_env(&out.key_password, "AWS_SIGNING_HELPER_KEY_PASSWORD").as_deref() {
        Some(pw) => Ok((
            pki::encrypt_key_pem(key_pem, pw)
                .map_err(|e| CommandError::flag("--key-password")(e.into()))?,
            true,
        )),
        None => Ok((Zeroizing::new(key_pem.to_string()), false)),
    }
}

fn read_text(path: &Path, flag: &str) -> Result<Zeroizing<String>> {
    aws_signing_helper::files::read_text(path, aws_signing_helper::files::CAP_PEM, "PEM file")
        .map_err(|e| {
            e.or_io(|e| {
                let err = Error::new(format!("cannot read {flag} {}: {e}", path.display()));
                if e.kind() == std::io::ErrorKind::NotFound && matches!(flag, "--ca" | "--ca-key") {
                    err.hint("make a CA first: aws_signing_helper pki ca (it writes ca.pem and ca.key here), or pass --ca and --ca-key")
                } else {
                    err
                }
            })
        })
}

/// The CA key as unencrypted PKCS#8 PEM (decrypting it when it is encrypted).
fn read_ca_key(args: &IssuerArgs) -> Result<Zeroizing<String>> {
    let text = read_text(&args.ca_key, "--ca-key")?;
    let password = flag_or_env(&args.ca_key_password, "AWS_SIGNING_HELPER_CA_KEY_PASSWORD");
    pki::plain_key_pem(
        &text,
        password.as_deref().map(String::as_str),
        &format!("--ca-key {}", args.ca_key.display()),
        "--ca-key-password",
        "--ca-key-password or AWS_SIGNING_HELPER_CA_KEY_PASSWORD",
    )
    .map_err(Into::into)
}

fn ca(args: &CaArgs) -> Result<()> {
    let (cert_path, key_path, source_path) = (
        with_ext(&args.out, "pem"),
        with_ext(&args.out, "key"),
        with_ext(&args.out, "trust-anchor.json"),
    );
    refuse_overwrite(&[&cert_path, &key_path, &source_path], args.key_out.force)?;
    let ca = pki::new_ca_with(&CaSpec {
        common_name: &args.cn,
        organization: args.org.as_deref(),
        alg: args.key_type.into(),
        days: args.days,
        path_len: args.path_len,
    })?;
    let (key, encrypted) = key_file(&ca.key_pem, &args.key_out)?;
    write_public(&cert_path, &ca.cert_pem)?;
    pki::write_private(&key_path, key.as_bytes())?;
    let source = serde_json::json!({
        "sourceType": "CERTIFICATE_BUNDLE",
        "sourceData": { "x509CertificateData": ca.cert_pem },
    });
    write_public(&source_path, &format!("{source:#}\n"))?;
    let name: String = args
        .cn
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    println!("Created the CA certificate {} and its private key {}{} ({:?}, {} days, basicConstraints CA:TRUE, keyUsage keyCertSign+cRLSign).",
        cert_path.display(), key_path.display(), if encrypted { " (encrypted)" } else { "" },
        args.key_type, args.days);
    println!("\nNext steps:\n");
    println!("1. Register it as a trust anchor (the region must be the one you will use):\n");
    println!(
        "   aws rolesanywhere create-trust-anchor --name {name} --enabled --source file://{}\n",
        source_path.display()
    );
    println!("2. Create a role that trusts rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity),");
    println!("   and a profile for it: aws rolesanywhere create-profile --name my-profile --role-arns ROLE_ARN --enabled\n");
    println!("3. Issue a client certificate and check it offline:\n");
    println!(
        "   aws_signing_helper pki issue --ca {} --ca-key {} --cn my-workload",
        cert_path.display(),
        key_path.display()
    );
    println!(
        "   aws_signing_helper doctor --certificate client.pem --private-key client.key --trust-anchor {}",
        cert_path.display()
    );
    println!("\nKeep {} offline and private: whoever holds it can get credentials for every role that trusts this anchor.", key_path.display());
    Ok(())
}

fn issue(args: &IssueArgs) -> Result<()> {
    let (cert_path, key_path) = (with_ext(&args.out, "pem"), with_ext(&args.out, "key"));
    refuse_overwrite(&[&cert_path, &key_path], args.key_out.force)?;
    let ca_pem = read_text(&args.issuer.ca, "--ca")?;
    let ca_key = read_ca_key(&args.issuer)?;
    let issued = pki::issue_client(
        &ca_pem,
        &ca_key,
        &ClientSpec {
            common_name: &args.cn,
            organization: args.org.as_deref(),
            alg: args.key_type.into(),
            days: args.issuer.days,
            sans: args.issuer.san.clone(),
        },
    )?;
    let (key, encrypted) = key_file(&issued.key_pem, &args.key_out)?;
    write_public(&cert_path, &issued.cert_pem)?;
    pki::write_private(&key_path, key.as_bytes())?;
    println!(
        "Issued the client certificate {} (CN={}, {:?}, {} days, keyUsage digitalSignature, extendedKeyUsage clientAuth) and its private key {}{}.",
        cert_path.display(),
        args.cn,
        args.key_type,
        args.issuer.days,
        key_path.display(),
        if encrypted { " (encrypted)" } else { "" }
    );
    next_steps(&cert_path, Some(&key_path), &args.issuer.ca);
    Ok(())
}

fn sign_csr(args: &SignCsrArgs) -> Result<()> {
    refuse_overwrite(&[&args.out], args.force)?;
    let csr = read_text(&args.csr, "--csr")?;
    let ca_pem = read_text(&args.issuer.ca, "--ca")?;
    let ca_key = read_ca_key(&args.issuer)?;
    let cert = pki::sign_csr(&ca_pem, &ca_key, &csr, args.issuer.days, &args.issuer.san)
        .map_err(|e| CommandError::flag(format!("--csr {}", args.csr.display()))(e.into()))?;
    write_public(&args.out, &cert)?;
    println!(
        "Issued the client certificate {} for {} ({} days, keyUsage digitalSignature, extendedKeyUsage clientAuth).",
        args.out.display(),
        args.csr.display(),
        args.issuer.days
    );
    next_steps(&args.out, None, &args.issuer.ca);
    Ok(())
}

fn next_steps(cert: &Path, key: Option<&Path>, ca: &Path) {
    // credential_process runs in the AWS CLI's directory: show absolute paths.
    let abs = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let key_abs = key.map_or_else(|| "YOUR_KEY.pem".to_string(), abs);
    let key = key.map_or_else(|| "YOUR_KEY.pem".to_string(), |k| k.display().to_string());
    let cert_abs = abs(cert);
    // The AWS CLI runs credential_process without a shell's PATH lookups one can rely on:
    // name this very binary.
    let bin = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "aws_signing_helper".to_string());
    println!("\nNext steps:\n");
    println!("1. Check it offline against the trust anchor and your ARNs:\n");
    println!(
        "   aws_signing_helper doctor --certificate {} --private-key {key} --trust-anchor {} \\\n     --trust-anchor-arn TA_ARN --profile-arn PROFILE_ARN --role-arn ROLE_ARN\n",
        cert.display(),
        ca.display()
    );
    println!("2. Use it from ~/.aws/config:\n");
    println!("   [profile my-workload]");
    println!(
        "   credential_process = {bin} credential-process --cache --certificate {cert_abs} --private-key {key_abs} --trust-anchor-arn TA_ARN --profile-arn PROFILE_ARN --role-arn ROLE_ARN"
    );
}
