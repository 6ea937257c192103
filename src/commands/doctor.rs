//! `doctor`: offline checks of a certificate, key, chain and ARNs against what Roles Anywhere
//! will check, with the fix for each problem; the report goes to stdout, exit 1 on a failure.

use crate::commands::error::CommandError;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use zeroize::Zeroizing;

use aws_signing_helper::doctor::{self, Input, Status};
use aws_signing_helper::identity::file::{self, FileSource};
use aws_signing_helper::identity::{pkcs12, Certificate};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Certificate file (PEM or DER, may hold the chain after the leaf; PKCS#12 when no --private-key)
    #[arg(long, default_value = "")]
    pub certificate: String,
    /// Private key file (optional: without it the key is not checked)
    #[arg(long, default_value = "")]
    pub private_key: String,
    /// PEM file of intermediate CA certificates
    #[arg(long, default_value = "")]
    pub intermediates: String,
    /// Password of an encrypted PKCS#8 private key or a PKCS#12 file
    #[arg(long, default_value = "")]
    pub pkcs8_password: String,
    /// The trust anchor's CA certificate(s), PEM (repeatable); without it the chain is not checked
    #[arg(long = "trust-anchor", value_name = "FILE")]
    pub trust_anchor: Vec<PathBuf>,
    /// ARN of the Roles Anywhere trust anchor
    #[arg(long, default_value = "")]
    pub trust_anchor_arn: String,
    /// ARN of the Roles Anywhere profile
    #[arg(long, default_value = "")]
    pub profile_arn: String,
    /// ARN of the IAM role
    #[arg(long, default_value = "")]
    pub role_arn: String,
    /// The --region you will pass to credential-process, if any
    #[arg(long, default_value = "")]
    pub region: String,
    /// Warn when the certificate expires within this many days
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: i64,
    /// A certificate revocation list (PEM or DER) to check the certificate against (repeatable)
    #[arg(long = "crl", value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Also write the role trust policy it suggests to this file (for
    /// aws iam create-role --assume-role-policy-document file://FILE)
    #[arg(long, value_name = "FILE")]
    pub trust_policy_out: Option<PathBuf>,
}

/// Leaf, chain, and whether the key matches (None: no key given).
fn load(args: &DoctorArgs) -> Result<(Certificate, Vec<Certificate>, Option<bool>)> {
    if args.certificate.is_empty() {
        return Err(Error::new("doctor needs --certificate").hint(
            "pass --certificate (and --private-key, --trust-anchor and the ARNs to check them too)",
        ));
    }
    let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
    let src = FileSource {
        certificate: path(&args.certificate),
        private_key: path(&args.private_key),
        intermediates: path(&args.intermediates),
        password: (!args.pkcs8_password.is_empty())
            .then(|| Zeroizing::new(args.pkcs8_password.clone())),
    };
    match file::load(&src) {
        Ok(identity) => {
            let Some(leaf) = identity.certificate else {
                return Err(Error::new("undefined certificate value").hint("pass --certificate"));
            };
            let matches = pkcs12::key_matches(identity.signer.as_ref(), &leaf);
            Ok((leaf, identity.chain, Some(matches)))
        }
        // Without --private-key a certificate alone is fine: the key is just not checked.
        Err(e) if args.private_key.is_empty() => {
            let Ok(mut certs) = file::load_certificates(&PathBuf::from(&args.certificate)) else {
                return Err(e);
            };
            let leaf = certs.remove(0);
            if let Some(p) = src.intermediates.as_deref() {
                for c in file::load_certificates(p)? {
                    if c != leaf && !certs.contains(&c) {
                        certs.push(c);
                    }
                }
            }
            Ok((leaf, certs, None))
        }
        Err(e) => Err(e),
    }
}

pub fn run(args: &DoctorArgs) -> Result<()> {
    let (leaf, chain, key_matches) = load(args)?;
    let mut anchors = Vec::new();
    for p in &args.trust_anchor {
        anchors.extend(
            file::load_certificates(p).map_err(CommandError::flag(format!(
                "--trust-anchor {}",
                p.display()
            )))?,
        );
    }
    let mut crls = Vec::new();
    for p in &args.crl {
        let bytes = aws_signing_helper::files::read_file(
            p,
            aws_signing_helper::files::CAP_PEM,
            "CRL file",
        )?;
        let der = match der::pem::decode_vec(&bytes) {
            Ok((_, der)) => der,
            Err(_) => bytes.to_vec(),
        };
        crls.push((format!("--crl {}", p.display()), der));
    }
    let synced = std::path::Path::new("/run/systemd/timesync/synchronized")
        .exists()
        .then_some(true);
    let input = Input {
        leaf: &leaf,
        chain: &chain,
        key_matches,
        trust_anchors: &anchors,
        trust_anchor_arn: &args.trust_anchor_arn,
        profile_arn: &args.profile_arn,
        role_arn: &args.role_arn,
        region: &args.region,
        // Whole seconds: the report shows this time.
        now: jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .unwrap_or_else(|_| jiff::Timestamp::now()),
        warn_days: args.warn_days,
        clock_synchronized: synced,
        crls: &crls,
    };
    let findings = doctor::diagnose(&input);
    let derived = doctor::derive(&leaf, &args.trust_anchor_arn);

    let mut r = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        r,
        "Checking {} (serial {}, subject {:?}, issuer {:?})\n",
        args.certificate,
        leaf.serial_hex_upper(),
        leaf.subject(),
        leaf.issuer()
    );
    for f in &findings {
        let _ = writeln!(r, "  [{:<4}] {}: {}", f.status.label(), f.check, f.message);
        if f.status >= Status::Warn {
            if let Some(fix) = &f.fix {
                let _ = writeln!(r, "         fix: {fix}");
            }
        }
    }
    let _ = writeln!(r, "\nWhat the service will derive from this certificate:\n");
    let _ = writeln!(
        r,
        "  role session name : {} (the serial in hex, unless --role-session-name is given)",
        derived.session_name
    );
    let _ = writeln!(r, "  sourceIdentity    : {}", derived.source_identity);
    let _ = writeln!(r, "  principal tags    : (default attribute mapping)");
    for (k, v) in &derived.tags {
        let _ = writeln!(r, "    {k} = {v}");
    }
    let _ = writeln!(
        r,
        "\nA role trust policy that accepts only this certificate's CN{}:\n",
        if args.trust_anchor_arn.is_empty() {
            ""
        } else {
            " from this trust anchor"
        }
    );
    for line in derived.trust_policy.lines() {
        let _ = writeln!(r, "  {line}");
    }
    if let Some(path) = &args.trust_policy_out {
        aws_signing_helper::pki::write_public(
            path,
            format!("{}\n", derived.trust_policy).as_bytes(),
        )
        .map_err(CommandError::flag("--trust-policy-out"))?;
    }
    let fails = findings.iter().filter(|f| f.status == Status::Fail).count();
    let warns = findings.iter().filter(|f| f.status == Status::Warn).count();
    if fails == 0 {
        let _ = writeln!(
            r,
            "\nResult: nothing the service would refuse ({warns} warning(s))."
        );
    } else {
        let _ = writeln!(
            r,
            "\nResult: {fails} problem(s) the service would refuse, {warns} warning(s)."
        );
    }
    print!("{r}");
    if fails > 0 {
        return Err(Error::new(format!(
            "doctor: {fails} problem(s) would make Roles Anywhere refuse this identity (see the report above)"
        )));
    }
    Ok(())
}
