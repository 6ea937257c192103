//! Offline checks of a Roles Anywhere identity: everything the service checks about the
//! certificate, its chain, the key and the ARNs, each failure explained with its fix, plus what
//! the service will derive from the certificate (session name, sourceIdentity, principal tags).
//!
//! Pure: the caller loads the files and passes the clock; the chain check is the emulator's
//! ([`crate::emulator::verify::check_chain`]), so doctor and the emulator cannot disagree.

use der::asn1::ObjectIdentifier as Oid;
use jiff::Timestamp;
use x509_cert::ext::pkix::{
    name::GeneralName, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
};

use crate::emulator::verify::{self, ChainProblem};
use crate::identity::{Certificate, KeyType};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    /// Not checked, or for information only.
    Info,
    /// Works today, but deserves attention.
    Warn,
    /// The service would refuse the request.
    Fail,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Info => "info",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One result: which check, how it came out, what it means, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    pub message: String,
    pub fix: Option<String>,
}

fn finding(check: &'static str, status: Status, message: impl Into<String>) -> Finding {
    Finding {
        check,
        status,
        message: message.into(),
        fix: None,
    }
}

impl Finding {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What doctor looks at.
pub struct Input<'a> {
    pub leaf: &'a Certificate,
    /// Intermediates, in the order they would be sent.
    pub chain: &'a [Certificate],
    /// Whether the private key belongs to the certificate; `None` when no key was given.
    pub key_matches: Option<bool>,
    /// `--trust-anchor` certificates (empty: the chain is not checked).
    pub trust_anchors: &'a [Certificate],
    /// The ARNs and `--region` ("" when not given).
    pub trust_anchor_arn: &'a str,
    pub profile_arn: &'a str,
    pub role_arn: &'a str,
    pub region: &'a str,
    pub now: Timestamp,
    /// Warn when the certificate expires within this many days.
    pub warn_days: i64,
    /// Whether the system clock is known to be synchronized (`None`: cannot tell).
    pub clock_synchronized: Option<bool>,
    /// `--crl` files: DER certificate revocation lists, with their names for messages.
    pub crls: &'a [(String, Vec<u8>)],
}

/// True when a finding says the service would refuse.
pub fn any_failure(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.status == Status::Fail)
}

const SERVICE_SAYS: &str =
    "the service would answer \"Untrusted certificate. Insufficient certificate\"";

/// Runs every check.
pub fn diagnose(input: &Input) -> Vec<Finding> {
    let mut out = Vec::new();
    check_key(input, &mut out);
    check_validity(input, &mut out);
    check_leaf_extensions(input.leaf, &mut out);
    check_cas(input, &mut out);
    check_chain(input, &mut out);
    check_algorithms(input, &mut out);
    check_arns(input, &mut out);
    check_clock(input, &mut out);
    check_crls(input, &mut out);
    out
}

/// Each `--crl`: signed by the leaf's issuer (found among the chain and trust anchors), current,
/// and whether it lists the leaf.
fn check_crls(input: &Input, out: &mut Vec<Finding>) {
    use der::{Decode, Encode};
    for (name, der) in input.crls {
        let crl = match x509_cert::crl::CertificateList::from_der(der) {
            Ok(c) => c,
            Err(e) => {
                out.push(
                    finding(
                        "revocation",
                        Status::Fail,
                        format!("{name} is not a CRL ({e})"),
                    )
                    .fix("pass a PEM or DER X.509 CRL (pki crl writes one)"),
                );
                continue;
            }
        };
        let tbs = &crl.tbs_cert_list;
        if &tbs.issuer != input.leaf.parsed().tbs_certificate().issuer() {
            out.push(finding(
                "revocation",
                Status::Info,
                format!("{name} is issued by another CA than the certificate's: not applicable"),
            ));
            continue;
        }
        let issuer = input
            .chain
            .iter()
            .chain(input.trust_anchors)
            .find(|c| c.parsed().tbs_certificate().subject() == &tbs.issuer);
        let verified = issuer.and_then(|ca| {
            let digest = crate::identity::chain::digest_of_signature(&crl.signature_algorithm.oid)?;
            let body = tbs.to_der().ok()?;
            let sig = crl.signature.as_bytes()?;
            Some(crate::identity::chain::verify(ca, digest, &body, sig))
        });
        match verified {
            Some(true) => {}
            Some(false) => out.push(
                finding("revocation", Status::Fail, format!("{name} is not signed by its issuer's key"))
                    .fix("use the CRL the CA itself wrote"),
            ),
            None => out.push(
                finding("revocation", Status::Warn, format!("{name}: its signature was not checked (pass the issuing CA with --trust-anchor)")),
            ),
        }
        let next = tbs.next_update.map(|t| {
            jiff::Timestamp::from_second(t.to_unix_duration().as_secs() as i64).unwrap_or(input.now)
        });
        if next.is_some_and(|n| n < input.now) {
            out.push(
                finding(
                    "revocation",
                    Status::Warn,
                    format!("{name} is out of date (nextUpdate passed)"),
                )
                .fix("write a fresh CRL (pki crl) and import it again"),
            );
        }
        let serial = input.leaf.parsed().tbs_certificate().serial_number();
        let listed = tbs
            .revoked_certificates
            .as_ref()
            .and_then(|list| list.iter().find(|r| &r.serial_number == serial));
        match listed {
            Some(r) => out.push(
                finding(
                    "revocation",
                    Status::Fail,
                    format!(
                        "the certificate (serial {}) is revoked in {name} since {}; the service refuses it once the CRL is imported",
                        input.leaf.serial_hex_upper(),
                        r.revocation_date
                    ),
                )
                .fix("issue a new client certificate"),
            ),
            None => out.push(finding(
                "revocation",
                Status::Ok,
                format!("not revoked in {name}"),
            )),
        }
    }
}

/// A short name for a certificate in messages: its subject.
fn label(cert: &Certificate) -> String {
    let s = cert.subject();
    if s.is_empty() {
        format!("serial {}", cert.serial_hex_upper())
    } else {
        format!("\"{s}\"")
    }
}

fn check_key(input: &Input, out: &mut Vec<Finding>) {
    out.push(match input.key_matches {
        Some(true) => finding("key", Status::Ok, "the private key belongs to the certificate"),
        Some(false) => finding("key", Status::Fail, "the private key does not belong to the certificate: the request signature would not verify")
            .fix("pass the key the certificate was issued for; compare `openssl x509 -noout -pubkey -in CERT` with `openssl pkey -pubout -in KEY`"),
        None => finding("key", Status::Info, "no private key given: not checked")
            .fix("pass --private-key to check that it belongs to the certificate"),
    });
}

fn days_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.as_second() - a.as_second()) / 86_400
}

fn check_validity(input: &Input, out: &mut Vec<Finding>) {
    let now = input.now;
    let leaf = input.leaf;
    if now < leaf.not_before() {
        out.push(
            finding(
                "validity",
                Status::Fail,
                format!(
                    "the certificate is not valid yet: notBefore is {} and it is now {now}",
                    leaf.not_before()
                ),
            )
            .fix("check this machine's clock; if it is right, wait or reissue the certificate with an earlier notBefore"),
        );
    } else if now > leaf.not_after() {
        out.push(
            finding(
                "validity",
                Status::Fail,
                format!("the certificate expired at {}", leaf.not_after()),
            )
            .fix("issue a new certificate, e.g. `aws_signing_helper pki issue --cn NAME` or `pki sign-csr`"),
        );
    } else {
        let left = days_between(now, leaf.not_after());
        if left < input.warn_days {
            out.push(
                finding(
                    "validity",
                    Status::Warn,
                    format!(
                        "the certificate expires soon: {} ({left} days left)",
                        leaf.not_after()
                    ),
                )
                .fix("renew it before then; credentials stop at the certificate's expiry"),
            );
        } else {
            out.push(finding(
                "validity",
                Status::Ok,
                format!("valid until {} ({left} days left)", leaf.not_after()),
            ));
        }
    }
    for (what, cert) in input
        .chain
        .iter()
        .map(|c| ("intermediate", c))
        .chain(input.trust_anchors.iter().map(|c| ("trust anchor", c)))
    {
        if !cert.is_valid_at(now) {
            let when = if now < cert.not_before() {
                format!("is not valid before {}", cert.not_before())
            } else {
                format!("expired at {}", cert.not_after())
            };
            out.push(
                finding(
                    "validity",
                    Status::Fail,
                    format!("the {what} {} {when}", label(cert)),
                )
                .fix(format!("renew the {what} and reissue what it signed")),
            );
        }
    }
}

fn check_leaf_extensions(leaf: &Certificate, out: &mut Vec<Finding>) {
    let tbs = leaf.parsed().tbs_certificate();
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.digital_signature() => out.push(finding(
            "key usage",
            Status::Ok,
            "keyUsage includes digitalSignature",
        )),
        Ok(Some(_)) => out.push(
            finding(
                "key usage",
                Status::Fail,
                format!("keyUsage lacks digitalSignature: the certificate may not sign requests; {SERVICE_SAYS}"),
            )
            .fix("reissue it with keyUsage=critical,digitalSignature (pki issue and pki sign-csr set it)"),
        ),
        Ok(None) => out.push(
            finding(
                "key usage",
                Status::Warn,
                "no keyUsage extension: accepted today, but Roles Anywhere documents digitalSignature as required",
            )
            .fix("reissue it with keyUsage=critical,digitalSignature"),
        ),
        Err(e) => out.push(finding(
            "key usage",
            Status::Fail,
            format!("the keyUsage extension is malformed ({e})"),
        )),
    }
    const CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if eku.0.contains(&CLIENT_AUTH) => out.push(finding(
            "extended key usage",
            Status::Ok,
            "extendedKeyUsage includes clientAuth",
        )),
        Ok(Some(_)) => out.push(
            finding(
                "extended key usage",
                Status::Fail,
                format!("extendedKeyUsage lacks clientAuth (TLS Web Client Authentication); {SERVICE_SAYS}"),
            )
            .fix("reissue it with extendedKeyUsage=clientAuth (pki issue and pki sign-csr set it)"),
        ),
        Ok(None) => out.push(
            finding(
                "extended key usage",
                Status::Warn,
                "no extendedKeyUsage extension: accepted, but clientAuth is the documented requirement",
            )
            .fix("reissue it with extendedKeyUsage=clientAuth"),
        ),
        Err(e) => out.push(finding(
            "extended key usage",
            Status::Fail,
            format!("the extendedKeyUsage extension is malformed ({e})"),
        )),
    }
    if let Ok(Some((_, bc))) = tbs.get_extension::<BasicConstraints>() {
        if bc.ca {
            out.push(
                finding(
                    "basic constraints",
                    Status::Fail,
                    format!(
                        "the client certificate is a CA (basicConstraints CA:TRUE); {SERVICE_SAYS}"
                    ),
                )
                .fix("issue a separate end-entity certificate with CA:FALSE for the workload"),
            );
        }
    }
}

/// The CA certificates of the path from the leaf up, found by issuer/subject name.
fn path_above<'a>(input: &'a Input) -> Vec<&'a Certificate> {
    let mut path: Vec<&'a Certificate> = Vec::new();
    let mut current = input.leaf;
    for _ in 0..8 {
        if current.issuer() == current.subject() && !std::ptr::eq(current, input.leaf) {
            break;
        }
        let issuer = current.issuer();
        let next = input
            .chain
            .iter()
            .chain(input.trust_anchors)
            .find(|c| c.subject() == issuer && !path.contains(c));
        match next {
            Some(c) => {
                path.push(c);
                current = c;
            }
            None => break,
        }
    }
    path
}

fn check_cas(input: &Input, out: &mut Vec<Finding>) {
    let path = path_above(input);
    let mut all_ok = true;
    // Intermediates that sit below a CA in the path, counted from the leaf up.
    for (depth, ca) in path.iter().enumerate() {
        let what = if input.trust_anchors.contains(ca) {
            "trust anchor"
        } else {
            "intermediate CA"
        };
        let tbs = ca.parsed().tbs_certificate();
        match tbs.get_extension::<BasicConstraints>() {
            Ok(Some((_, bc))) if bc.ca => {
                if let Some(n) = bc.path_len_constraint {
                    if depth > usize::from(n) {
                        all_ok = false;
                        out.push(
                            finding(
                                "CA constraints",
                                Status::Fail,
                                format!("the {what} {} allows {n} intermediate CA(s) below it (pathLenConstraint) but the chain has {depth}; {SERVICE_SAYS}", label(ca)),
                            )
                            .fix("shorten the chain, or reissue the CA with a larger path length (pki ca --path-len N)"),
                        );
                    }
                }
            }
            _ => {
                all_ok = false;
                out.push(
                    finding(
                        "CA constraints",
                        Status::Fail,
                        format!("the {what} {} lacks basicConstraints CA:TRUE, so it may not issue certificates; {SERVICE_SAYS}", label(ca)),
                    )
                    .fix("re-create the CA with basicConstraints=critical,CA:TRUE (aws_signing_helper pki ca does) and reissue the client certificate"),
                );
            }
        }
        if let Ok(Some((_, ku))) = tbs.get_extension::<KeyUsage>() {
            if !ku.key_cert_sign() {
                all_ok = false;
                out.push(
                    finding(
                        "CA constraints",
                        Status::Fail,
                        format!(
                            "the {what} {} has a keyUsage without keyCertSign",
                            label(ca)
                        ),
                    )
                    .fix("re-create the CA with keyUsage=critical,keyCertSign,cRLSign"),
                );
            }
        }
    }
    for anchor in input.trust_anchors {
        if !verify::is_ca(anchor) && !path.contains(&anchor) {
            all_ok = false;
            out.push(
                finding(
                    "CA constraints",
                    Status::Fail,
                    format!("the trust anchor {} lacks basicConstraints CA:TRUE; Roles Anywhere will not use it as a trust anchor", label(anchor)),
                )
                .fix("re-create the CA with basicConstraints=critical,CA:TRUE (aws_signing_helper pki ca does)"),
            );
        }
    }
    if all_ok && !path.is_empty() {
        out.push(finding(
            "CA constraints",
            Status::Ok,
            format!(
                "{} CA certificate(s) above the client certificate, each with CA:TRUE and a fitting path length",
                path.len()
            ),
        ));
    }
}

fn explain_webpki(e: &webpki::Error, input: &Input) -> Finding {
    use webpki::Error as W;
    let leaf = input.leaf;
    let names_issuer = input
        .chain
        .iter()
        .chain(input.trust_anchors)
        .any(|c| c.subject() == leaf.issuer());
    let (message, fix) = match e {
        W::UnknownIssuer | W::InvalidSignatureForPublicKey if names_issuer => (
            format!("a CA named {:?} is present but did not sign the certificate (a different CA with the same name?)", leaf.issuer()),
            "pass the CA that actually issued the certificate as --trust-anchor (and its intermediates with --intermediates)".to_string(),
        ),
        W::UnknownIssuer | W::InvalidSignatureForPublicKey => (
            format!(
                "the chain does not lead to a trust anchor: the certificate was issued by {:?}, which is neither a --trust-anchor nor among the intermediates",
                leaf.issuer()
            ),
            "register the CA that issued this certificate as the trust anchor, or pass the missing intermediate CA certificates with --intermediates".to_string(),
        ),
        W::CertExpired { .. } | W::CertNotValidYet { .. } => (
            "a certificate of the chain is outside its validity period".to_string(),
            "see the validity findings above".to_string(),
        ),
        W::RequiredEkuNotFoundContext(_) | W::EmptyEkuExtension => (
            "the certificate's extendedKeyUsage does not allow clientAuth".to_string(),
            "reissue it with extendedKeyUsage=clientAuth".to_string(),
        ),
        W::CaUsedAsEndEntity => (
            "the client certificate is a CA certificate".to_string(),
            "issue an end-entity certificate (CA:FALSE) for the workload".to_string(),
        ),
        W::EndEntityUsedAsCa => (
            "a certificate of the chain is used as a CA but is not one (no basicConstraints CA:TRUE)".to_string(),
            "re-create that CA with basicConstraints=critical,CA:TRUE".to_string(),
        ),
        W::PathLenConstraintViolated => (
            "a CA's pathLenConstraint is exceeded by the chain".to_string(),
            "shorten the chain or reissue the CA with a larger path length".to_string(),
        ),
        W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => (
            "a certificate of the chain is signed with an algorithm the service does not accept".to_string(),
            "reissue it signed with SHA-256 or stronger (RSA, ECDSA) or ML-DSA".to_string(),
        ),
        W::UnsupportedCriticalExtension => (
            "a certificate of the chain has a critical extension the service does not understand".to_string(),
            "reissue it without that critical extension".to_string(),
        ),
        other => (
            format!("the chain does not verify ({other:?})"),
            "check the chain with `openssl verify -purpose sslclient -CAfile CA.pem -untrusted INTERMEDIATES.pem CERT.pem`".to_string(),
        ),
    };
    finding("chain", Status::Fail, format!("{message}; {SERVICE_SAYS}")).fix(fix)
}

fn check_chain(input: &Input, out: &mut Vec<Finding>) {
    if input.trust_anchors.is_empty() {
        out.push(
            finding(
                "chain",
                Status::Info,
                "no --trust-anchor given: the chain was not checked",
            )
            .fix("pass the trust anchor's CA certificate with --trust-anchor CA.pem"),
        );
        return;
    }
    let result = verify::check_chain(input.trust_anchors, input.leaf, input.chain, input.now);
    out.push(match result {
        Ok(()) => {
            let path = path_above(input);
            let mut names = vec![label(input.leaf)];
            names.extend(path.iter().map(|c| label(c)));
            finding(
                "chain",
                Status::Ok,
                format!("chains to the trust anchor: {}", names.join(" <- ")),
            )
        }
        Err(ChainProblem::NoUsableAnchor) => finding(
            "chain",
            Status::Fail,
            format!("no --trust-anchor certificate is a usable CA (basicConstraints CA:TRUE); {SERVICE_SAYS}"),
        )
        .fix("re-create the CA with basicConstraints=critical,CA:TRUE (aws_signing_helper pki ca does)"),
        Err(ChainProblem::BadLeaf(e)) => finding(
            "chain",
            Status::Fail,
            format!("the certificate cannot be used as a client certificate ({e:?}); {SERVICE_SAYS}"),
        )
        .fix("reissue it as a plain X.509 v3 end-entity certificate"),
        Err(ChainProblem::Path(e)) => explain_webpki(&e, input),
        Err(ChainProblem::KeyUsage) => finding(
            "chain",
            Status::Fail,
            format!("the chain verifies, but keyUsage lacks digitalSignature; {SERVICE_SAYS}"),
        )
        .fix("reissue it with keyUsage=critical,digitalSignature"),
    });
}

/// Signature algorithms of certificates the service accepts, by OID.
fn signature_algorithm(oid: &Oid) -> Result<&'static str, &'static str> {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.1.11" => Ok("sha256WithRSAEncryption"),
        "1.2.840.113549.1.1.12" => Ok("sha384WithRSAEncryption"),
        "1.2.840.113549.1.1.13" => Ok("sha512WithRSAEncryption"),
        "1.2.840.113549.1.1.10" => Ok("RSASSA-PSS"),
        "1.2.840.10045.4.3.2" => Ok("ecdsa-with-SHA256"),
        "1.2.840.10045.4.3.3" => Ok("ecdsa-with-SHA384"),
        "1.2.840.10045.4.3.4" => Ok("ecdsa-with-SHA512"),
        "2.16.840.1.101.3.4.3.17" => Ok("ML-DSA-44"),
        "2.16.840.1.101.3.4.3.18" => Ok("ML-DSA-65"),
        "2.16.840.1.101.3.4.3.19" => Ok("ML-DSA-87"),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => Err("SHA-1"),
        "1.2.840.113549.1.1.4" => Err("MD5"),
        "1.2.840.113549.1.1.2" => Err("MD2"),
        _ => Err("an unknown algorithm"),
    }
}

fn rsa_bits(cert: &Certificate) -> Option<usize> {
    use der::Decode;
    let key: pkcs1::RsaPublicKey<der::asn1::UintRef<'_>> =
        pkcs1::RsaPublicKey::from_der(cert.public_key()).ok()?;
    let m = key.modulus.as_bytes();
    let m = &m[m.iter().position(|b| *b != 0).unwrap_or(m.len())..];
    let top = m.first().map_or(0, |b| 8 - b.leading_zeros() as usize);
    Some(m.len().saturating_sub(1) * 8 + top)
}

fn check_algorithms(input: &Input, out: &mut Vec<Finding>) {
    let mut ok = true;
    let leaf_alg = signature_algorithm(&input.leaf.parsed().signature_algorithm().oid);
    for cert in std::iter::once(input.leaf).chain(input.chain) {
        if let Err(what) = signature_algorithm(&cert.parsed().signature_algorithm().oid) {
            ok = false;
            out.push(
                finding(
                    "algorithms",
                    Status::Fail,
                    format!(
                        "{} is signed with {what} ({}), which the service rejects",
                        label(cert),
                        cert.parsed().signature_algorithm().oid
                    ),
                )
                .fix("reissue it signed with SHA-256 or stronger (e.g. openssl x509 -req -sha256 ...)"),
            );
        }
    }
    match input.leaf.key_type() {
        None => {
            ok = false;
            out.push(
                finding(
                    "algorithms",
                    Status::Fail,
                    "the certificate's public key type is not supported (RSA, EC P-256/P-384/P-521 or ML-DSA)",
                )
                .fix("issue a certificate for an RSA, EC or ML-DSA key"),
            );
        }
        Some(KeyType::Rsa) => {
            if let Some(bits) = rsa_bits(input.leaf).filter(|b| *b < 2048) {
                ok = false;
                out.push(
                    finding(
                        "algorithms",
                        Status::Warn,
                        format!("the RSA key has only {bits} bits"),
                    )
                    .fix("use RSA 2048 bits or more, or an EC key"),
                );
            }
        }
        Some(_) => {}
    }
    if ok {
        let key = input
            .leaf
            .key_type()
            .map_or("?".to_string(), |k| format!("{k:?}"));
        out.push(finding(
            "algorithms",
            Status::Ok,
            format!(
                "key {key}, signed with {}; requests use {}",
                leaf_alg.unwrap_or("?"),
                input.leaf.key_type().map_or("?", |k| k.sigv4_algorithm())
            ),
        ));
    }
}

fn strip_fips(region: &str) -> String {
    region
        .strip_prefix("fips-")
        .or_else(|| region.strip_suffix("-fips"))
        .map_or_else(|| region.replacen("-fips-", "-", 1), str::to_string)
}

fn check_arns(input: &Input, out: &mut Vec<Finding>) {
    let fix_arn = "copy the ARN from the IAM Roles Anywhere console or `aws rolesanywhere list-trust-anchors` / `list-profiles`";
    let mut parsed = Vec::new();
    for (flag, value, kind) in [
        (
            "--trust-anchor-arn",
            input.trust_anchor_arn,
            Some("trust-anchor"),
        ),
        ("--profile-arn", input.profile_arn, Some("profile")),
        ("--role-arn", input.role_arn, None),
    ] {
        if value.is_empty() {
            out.push(
                finding(
                    "ARNs",
                    Status::Info,
                    format!("{flag} not given: not checked"),
                )
                .fix(format!("pass {flag} to check it")),
            );
            parsed.push(None);
            continue;
        }
        let field = flag.trim_start_matches("--");
        let result = match kind {
            Some(k) => verify::parse_rolesanywhere_arn(value, k, field),
            None => verify::parse_role_arn(value),
        };
        match result {
            Ok(a) => parsed.push(Some(a)),
            Err(e) => {
                let shape = match kind {
                    Some(k) => format!("arn:aws:rolesanywhere:REGION:ACCOUNT:{k}/ID"),
                    None => "arn:aws:iam::ACCOUNT:role/NAME".to_string(),
                };
                out.push(
                    finding(
                        "ARNs",
                        Status::Fail,
                        format!(
                            "{flag} {value:?} is not valid: the service would answer \"{}\"",
                            e.message
                        ),
                    )
                    .fix(format!("it must look like {shape}; {fix_arn}")),
                );
                parsed.push(None);
            }
        }
    }
    let before = out.iter().filter(|f| f.status == Status::Fail).count();
    if let (Some(ta), Some(p)) = (&parsed[0], &parsed[1]) {
        if ta.region != p.region {
            out.push(
                finding(
                    "ARNs",
                    Status::Fail,
                    format!(
                        "region mismatch: the trust anchor is in {} but the profile in {}; the service would answer \"Profile region {} does not match trust anchor region {}\"",
                        ta.region, p.region, p.region, ta.region
                    ),
                )
                .fix("use a trust anchor and a profile of the same region"),
            );
        }
        if ta.account != p.account || ta.partition != p.partition {
            out.push(
                finding(
                    "ARNs",
                    Status::Fail,
                    format!(
                        "the trust anchor (account {}) and the profile (account {}) are not in the same account and partition",
                        ta.account, p.account
                    ),
                )
                .fix("use a trust anchor and a profile of the same account"),
            );
        }
    }
    if let (Some(ta), Some(role)) = (&parsed[0], &parsed[2]) {
        if ta.partition != role.partition {
            out.push(
                finding(
                    "ARNs",
                    Status::Fail,
                    format!(
                        "the role is in partition {} but the trust anchor in {}",
                        role.partition, ta.partition
                    ),
                )
                .fix("use a role of the trust anchor's partition"),
            );
        } else if ta.account != role.account {
            out.push(
                finding(
                    "ARNs",
                    Status::Warn,
                    format!(
                        "the role is in account {} but the trust anchor in {}: the profile must list this role",
                        role.account, ta.account
                    ),
                )
                .fix("check that the profile's role ARNs include --role-arn"),
            );
        }
    }
    if let Some(ta) = &parsed[0] {
        if !input.region.is_empty() && strip_fips(input.region) != ta.region {
            out.push(
                finding(
                    "ARNs",
                    Status::Fail,
                    format!(
                        "region mismatch: --region {} signs the request for another region than the trust anchor's ({}); the service would answer \"Credential should be scoped to a valid region\"",
                        input.region, ta.region
                    ),
                )
                .fix(format!("drop --region (the trust anchor's region is the default) or pass --region {}", ta.region)),
            );
        }
    }
    let after = out.iter().filter(|f| f.status == Status::Fail).count();
    if after == before && parsed.iter().all(Option::is_some) {
        out.push(finding(
            "ARNs",
            Status::Ok,
            "the three ARNs are well-formed and agree on partition, account and region",
        ));
    }
}

fn check_clock(input: &Input, out: &mut Vec<Finding>) {
    let now = input.now;
    // A clock before this build's era is certainly wrong.
    let floor = Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH); // 2025-01-01
    if now < floor {
        out.push(
            finding(
                "clock",
                Status::Fail,
                format!("the local clock says {now}, which cannot be right"),
            )
            .fix("set the system clock (enable NTP, e.g. `timedatectl set-ntp true`)"),
        );
        return;
    }
    let issued_ahead = std::iter::once(input.leaf)
        .chain(input.chain)
        .any(|c| c.not_before() > now && days_between(now, c.not_before()) < 1);
    if issued_ahead {
        out.push(
            finding(
                "clock",
                Status::Warn,
                "a certificate becomes valid within the next day: this clock may be behind",
            )
            .fix("check the clock against a trusted time source; the service allows 5 minutes of skew"),
        );
        return;
    }
    out.push(match input.clock_synchronized {
        Some(true) => finding(
            "clock",
            Status::Ok,
            format!("local time {now} (UTC), synchronized by NTP"),
        ),
        Some(false) => finding(
            "clock",
            Status::Warn,
            format!("local time {now} (UTC), not synchronized: the service refuses requests more than 5 minutes off"),
        )
        .fix("enable time synchronization, e.g. `timedatectl set-ntp true`"),
        None => finding(
            "clock",
            Status::Info,
            format!("local time {now} (UTC); cannot tell offline whether it is synchronized (the service allows 5 minutes of skew)"),
        ),
    });
}

/// What the service derives from the certificate for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The role session name when `--role-session-name` is not given: the serial in hex.
    pub session_name: String,
    /// `sourceIdentity`: the subject's CN.
    pub source_identity: String,
    /// The default principal tags (`x509Subject/*`, `x509Issuer/*`, `x509SAN/*`).
    pub tags: Vec<(String, String)>,
    /// A role trust policy that pins this certificate's CN (and the trust anchor, when known).
    pub trust_policy: String,
}

fn attribute_name(oid: &Oid) -> Option<&'static str> {
    Some(match oid.to_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

fn name_tags(prefix: &str, name: &x509_cert::name::Name, out: &mut Vec<(String, String)>) {
    for atv in name.iter() {
        let Some(attr) = attribute_name(&atv.oid) else {
            continue;
        };
        let value = x509_cert::ext::pkix::name::DirectoryString::try_from(&atv.value)
            .map(|d| d.value().into_owned())
            .or_else(|_| {
                atv.value
                    .decode_as::<der::asn1::Ia5String>()
                    .map(|s| s.to_string())
            })
            .unwrap_or_else(|_| {
                let text = atv.to_string();
                text.split_once('=')
                    .map_or(text.clone(), |(_, v)| v.to_string())
            });
        out.push((format!("{prefix}/{attr}"), value));
    }
}

/// The session name, sourceIdentity, principal tags and a trust-policy snippet for `leaf`.
pub fn derive(leaf: &Certificate, trust_anchor_arn: &str) -> Derived {
    let tbs = leaf.parsed().tbs_certificate();
    let mut tags = Vec::new();
    name_tags("x509Subject", tbs.subject(), &mut tags);
    name_tags("x509Issuer", tbs.issuer(), &mut tags);
    if let Ok(Some((_, SubjectAltName(names)))) = tbs.get_extension::<SubjectAltName>() {
        let first = |pick: &dyn Fn(&GeneralName) -> Option<String>| names.iter().find_map(pick);
        if let Some(v) = first(&|n| match n {
            GeneralName::DnsName(s) => Some(s.to_string()),
            _ => None,
        }) {
            tags.push(("x509SAN/DNS".into(), v));
        }
        if let Some(v) = first(&|n| match n {
            GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
            _ => None,
        }) {
            tags.push(("x509SAN/URI".into(), v));
        }
        if let Some(v) = first(&|n| match n {
            GeneralName::DirectoryName(d) => Some(d.to_string()),
            _ => None,
        }) {
            tags.push(("x509SAN/Name".into(), v));
        }
    }
    let cn = tags
        .iter()
        .find(|(k, _)| k == "x509Subject/CN")
        .map(|(_, v)| v.clone());
    Derived {
        session_name: leaf.serial_hex_upper().to_ascii_lowercase(),
        source_identity: verify::source_identity(leaf),
        tags,
        trust_policy: trust_policy(cn.as_deref().unwrap_or_default(), trust_anchor_arn),
    }
}

/// A role trust policy letting Roles Anywhere assume the role (`sts:AssumeRole`,
/// `sts:TagSession`, `sts:SetSourceIdentity`) for certificates with subject CN `cn`, from the
/// trust anchor `trust_anchor_arn` when it is not empty (`aws:SourceArn`).
pub fn trust_policy(cn: &str, trust_anchor_arn: &str) -> String {
    let policy = TrustPolicy {
        version: "2012-10-17",
        statement: [PolicyStatement {
            effect: "Allow",
            principal: PolicyPrincipal {
                service: "rolesanywhere.amazonaws.com",
            },
            action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            condition: PolicyCondition {
                string_equals: [("aws:PrincipalTag/x509Subject/CN", cn.to_string())].into(),
                arn_equals: (!trust_anchor_arn.is_empty())
                    .then(|| [("aws:SourceArn", trust_anchor_arn.to_string())].into()),
            },
        }],
    };
    // Pretty-printing a JSON value cannot fail.
    serde_json::to_string_pretty(&policy).unwrap_or_default()
}

/// A role trust policy, its keys in the order AWS documents them.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrustPolicy {
    version: &'static str,
    statement: [PolicyStatement; 1],
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyStatement {
    effect: &'static str,
    principal: PolicyPrincipal,
    action: [&'static str; 3],
    condition: PolicyCondition,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyPrincipal {
    service: &'static str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyCondition {
    string_equals: std::collections::BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn_equals: Option<std::collections::BTreeMap<&'static str, String>>,
}

#[cfg(test)]
#[path = "doctor_tests.rs"]
mod tests;
