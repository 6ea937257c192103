//! Test and starter PKI: a CA fit to be a Roles Anywhere trust anchor, and client certificates
//! with the extensions Roles Anywhere demands (keyUsage digitalSignature, extendedKeyUsage
//! clientAuth; the CA with basicConstraints CA:TRUE and keyCertSign).

use der::{Decode, DecodePem, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
    SanType, SerialNumber, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::identity::{mldsa, MlDsaLevel};

#[path = "pki_error.rs"]
pub mod error;
use error::Cause;
pub use error::PkiError;

/// Key types we can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    EcP256,
    EcP384,
    Rsa2048,
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl KeyAlg {
    fn rcgen(self) -> &'static SignatureAlgorithm {
        match self {
            KeyAlg::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlg::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlg::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyAlg::MlDsa44 => &rcgen::PKCS_ML_DSA_44,
            KeyAlg::MlDsa65 => &rcgen::PKCS_ML_DSA_65,
            KeyAlg::MlDsa87 => &rcgen::PKCS_ML_DSA_87,
        }
    }

    fn mldsa_level(self) -> Option<MlDsaLevel> {
        match self {
            KeyAlg::MlDsa44 => Some(MlDsaLevel::MlDsa44),
            KeyAlg::MlDsa65 => Some(MlDsaLevel::MlDsa65),
            KeyAlg::MlDsa87 => Some(MlDsaLevel::MlDsa87),
            KeyAlg::EcP256 | KeyAlg::EcP384 | KeyAlg::Rsa2048 => None,
        }
    }

    /// A new key pair of this type.
    pub fn generate(self) -> Result<PkiKey, PkiError> {
        let failed = |e: Cause| PkiError::cannot(format!("generate a {self:?} key"))(e);
        let Some(level) = self.mldsa_level() else {
            return KeyPair::generate_for(self.rcgen())
                .map(PkiKey::Rcgen)
                .map_err(|e| failed(e.into()));
        };
        // aws-lc writes the seed-only form; we write the seed and the expanded key together,
        // as OpenSSL 3.5 does by default (see identity::mldsa).
        let pair = aws_lc_rs::signature::PqdsaKeyPair::generate(mldsa::signing_alg(level))
            .map_err(|e| failed(e.into()))?;
        let seed_form = pair.to_pkcs8v1().map_err(|e| failed(e.into()))?;
        let info =
            pkcs8::PrivateKeyInfoRef::try_from(seed_form.as_ref()).map_err(|e| failed(e.into()))?;
        let seed = mldsa::seed_of_seed_form(info.private_key.as_bytes())
            .ok_or_else(|| failed("aws-lc wrote no seed".into()))?;
        let pkcs8 = mldsa::both_form_pkcs8(level, seed).map_err(PkiError::MlDsaKey)?;
        PkiKey::mldsa(self, pkcs8)
    }
}

/// A private key of the PKI commands: rcgen's for EC and RSA; ours for ML-DSA, which rcgen can
/// generate but neither read back nor write in the form OpenSSL and the official tool read.
pub enum PkiKey {
    Rcgen(KeyPair),
    MlDsa {
        key: mldsa::MlDsaKey,
        alg: KeyAlg,
        pkcs8: Zeroizing<Vec<u8>>,
    },
}

impl PkiKey {
    fn mldsa(alg: KeyAlg, pkcs8: Zeroizing<Vec<u8>>) -> Result<PkiKey, PkiError> {
        let level = alg.mldsa_level().ok_or(PkiError::NotMlDsa { alg })?;
        let key =
            mldsa::MlDsaKey::from_pkcs8(level, &pkcs8).map_err(|why| PkiError::InvalidMlDsa {
                level: level.name(),
                why,
            })?;
        Ok(PkiKey::MlDsa { key, alg, pkcs8 })
    }

    /// Reads a PKCS#8 PEM private key (what [`PkiKey::pem`] writes, or OpenSSL's).
    pub fn from_pem(pem: &str, what: &str) -> Result<PkiKey, PkiError> {
        let (label, der) =
            der::pem::decode_vec(pem.as_bytes()).map_err(|source| PkiError::NotPem {
                what: what.to_string(),
                source,
            })?;
        let der = Zeroizing::new(der);
        let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice());
        let mldsa = info.ok().and_then(|i| match i.algorithm.oid {
            crate::identity::certificate::oid::ML_DSA_44 => Some(KeyAlg::MlDsa44),
            crate::identity::certificate::oid::ML_DSA_65 => Some(KeyAlg::MlDsa65),
            crate::identity::certificate::oid::ML_DSA_87 => Some(KeyAlg::MlDsa87),
            _ => None,
        });
        match mldsa {
            Some(alg) if label == "PRIVATE KEY" => PkiKey::mldsa(alg, der),
            _ => Ok(KeyPair::from_pem(pem)
                .map(PkiKey::Rcgen)
                .map_err(|e| PkiError::cannot(format!("read {what}"))(e.into()))?),
        }
    }

    /// The PKCS#8 PEM of the key.
    pub fn pem(&self) -> Result<Zeroizing<String>, PkiError> {
        match self {
            PkiKey::Rcgen(k) => Ok(Zeroizing::new(k.serialize_pem())),
            PkiKey::MlDsa { pkcs8, .. } => {
                der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, pkcs8)
                    .map(Zeroizing::new)
                    .map_err(|e| PkiError::cannot("encode the private key")(e.into()))
            }
        }
    }
}

impl PublicKeyData for PkiKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            PkiKey::Rcgen(k) => k.der_bytes(),
            PkiKey::MlDsa { key, .. } => key.public_key(),
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            PkiKey::Rcgen(k) => k.algorithm(),
            PkiKey::MlDsa { alg, .. } => alg.rcgen(),
        }
    }
}

impl rcgen::SigningKey for PkiKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        match self {
            PkiKey::Rcgen(k) => k.sign(msg),
            // Deterministic, like every ML-DSA signature we make.
            PkiKey::MlDsa { key, .. } => key.sign(msg).map_err(|_| rcgen::Error::RingUnspecified),
        }
    }
}

/// A certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

fn pki_err(what: &str) -> impl Fn(rcgen::Error) -> PkiError + '_ {
    move |e| PkiError::cannot(what)(e.into())
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

fn name(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, o);
    }
    dn
}

/// A fresh random serial number: 16 random bytes, positive, never zero.
///
/// rcgen's default derives the serial from the public key, so two certificates for one key
/// (a re-issue from the same CSR) would share a serial and a Roles Anywhere session name.
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = vec![0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| PkiError::Rng {
        what: "serial number",
    })?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from(bytes))
}

/// A self-signed root CA usable as a Roles Anywhere trust anchor.
pub fn new_ca(common_name: &str, alg: KeyAlg, days: i64) -> Result<Issued, PkiError> {
    new_ca_with(&CaSpec {
        common_name,
        organization: None,
        alg,
        days,
        path_len: None,
    })
}

/// Options for a CA certificate.
pub struct CaSpec<'a> {
    pub common_name: &'a str,
    pub organization: Option<&'a str>,
    pub alg: KeyAlg,
    pub days: i64,
    /// `pathLenConstraint`: how many intermediate CAs may follow (None: unlimited).
    pub path_len: Option<u8>,
}

/// A self-signed root CA usable as a Roles Anywhere trust anchor: basicConstraints critical
/// CA:TRUE, keyUsage keyCertSign + cRLSign (+ digitalSignature), a subject key identifier.
pub fn new_ca_with(spec: &CaSpec) -> Result<Issued, PkiError> {
    check_days(spec.days)?;
    let key = spec.alg.generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(spec.common_name, spec.organization);
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::Ca(match spec.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, spec.days);
    let cert = params
        .self_signed(&key)
        .map_err(pki_err("create the CA certificate"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.pem()?,
    })
}

/// Options for a client certificate.
pub struct ClientSpec<'a> {
    pub common_name: &'a str,
    pub organization: Option<&'a str>,
    pub alg: KeyAlg,
    pub days: i64,
    /// Subject alternative names: `dns:NAME`, `uri:URI`, `email:ADDR`, `ip:ADDR`, or a bare DNS name.
    pub sans: Vec<String>,
}

/// Validity must be at least a day and end before 9999 (rcgen's and X.509's limit).
fn check_days(days: i64) -> Result<(), PkiError> {
    if !(1..=36500).contains(&days) {
        return Err(PkiError::Days { days });
    }
    Ok(())
}

/// Parses `--san` values (see [`ClientSpec::sans`]).
pub fn parse_sans(sans: &[String]) -> Result<Vec<SanType>, PkiError> {
    sans.iter()
        .map(|s| {
            let bad = |why: &'static str| PkiError::San {
                san: s.clone(),
                why,
            };
            let (kind, value) = match s.split_once(':') {
                Some((k, v))
                    if ["dns", "uri", "email", "ip"].contains(&k.to_ascii_lowercase().as_str()) =>
                {
                    (k.to_ascii_lowercase(), v)
                }
                _ => ("dns".to_string(), s.as_str()),
            };
            if value.is_empty() {
                return Err(bad("the value is empty"));
            }
            let ia5 = |v: &str| {
                rcgen::string::Ia5String::try_from(v.to_string())
                    .map_err(|_| bad("only ASCII characters are allowed"))
            };
            Ok(match kind.as_str() {
                "uri" => SanType::URI(ia5(value)?),
                "email" => SanType::Rfc822Name(ia5(value)?),
                "ip" => SanType::IpAddress(value.parse().map_err(|_| bad("not an IP address"))?),
                _ => SanType::DnsName(ia5(value)?),
            })
        })
        .collect()
}

/// The extensions Roles Anywhere needs in a client certificate, on top of `params`.
fn client_profile(params: &mut CertificateParams, days: i64) -> Result<(), PkiError> {
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    validity(params, days);
    Ok(())
}

fn issuer_from(ca_cert_pem: &str, ca_key_pem: &str) -> Result<Issuer<'static, PkiKey>, PkiError> {
    let ca_key = PkiKey::from_pem(ca_key_pem, "the CA private key")?;
    let ca_spki = ca_key.subject_public_key_info();
    let ca = x509_cert::Certificate::from_pem(ca_cert_pem.as_bytes())
        .map_err(|e| PkiError::cannot("read the CA certificate")(e.into()))?;
    let cert_spki = ca
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap_or_default();
    if cert_spki != ca_spki {
        return Err(PkiError::CaKeyMismatch);
    }
    Issuer::from_ca_cert_pem(ca_cert_pem, ca_key).map_err(pki_err("read the CA certificate"))
}

/// A client certificate for Roles Anywhere, signed by the CA in `ca_cert_pem`/`ca_key_pem`.
pub fn issue_client(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    spec: &ClientSpec,
) -> Result<Issued, PkiError> {
    check_days(spec.days)?;
    let issuer = issuer_from(ca_cert_pem, ca_key_pem)?;
    let key = spec.alg.generate()?;
    let mut params = CertificateParams::default();
    params.subject_alt_names = parse_sans(&spec.sans)?;
    params.distinguished_name = name(spec.common_name, spec.organization);
    client_profile(&mut params, spec.days)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(pki_err("sign the client certificate"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.pem()?,
    })
}

/// Signs a PEM certificate signing request as a Roles Anywhere client certificate: the CSR's
/// subject and SANs (plus `extra_sans`) are kept, everything else is ours (keyUsage
/// digitalSignature, extendedKeyUsage clientAuth, CA:FALSE, `days` of validity).
pub fn sign_csr(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    csr_pem: &str,
    days: i64,
    extra_sans: &[String],
) -> Result<String, PkiError> {
    check_days(days)?;
    let issuer = issuer_from(ca_cert_pem, ca_key_pem)?;
    let requested = x509_cert::request::CertReq::from_pem(csr_pem.as_bytes())
        .map_err(|source| PkiError::Csr { source })?;
    let mut csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(|e| match e {
        rcgen::Error::InvalidCertificationRequestSignature => PkiError::CsrSignature,
        rcgen::Error::UnsupportedExtension => PkiError::CsrExtension,
        other => PkiError::cannot("use the CSR")(other.into()),
    })?;
    let requested_names = std::mem::take(&mut csr.params.subject_alt_names);
    let dn = csr.params.distinguished_name.clone();
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.subject_alt_names = requested_names;
    params.subject_alt_names.extend(parse_sans(extra_sans)?);
    client_profile(&mut params, days)?;
    csr.params = params;
    let cert = csr
        .signed_by(&issuer)
        .map_err(pki_err("sign the certificate request"))?;
    // rcgen re-encodes the public key from the CSR's signature algorithm; make sure the
    // certificate carries exactly the key the CSR holds (e.g. a P-384 key signed with SHA-256).
    let issued = x509_cert::Certificate::from_der(cert.der())
        .map_err(|e| PkiError::cannot("read back the issued certificate")(e.into()))?;
    if issued.tbs_certificate().subject_public_key_info() != &requested.info.public_key {
        return Err(PkiError::CsrPublicKey);
    }
    Ok(cert.pem())
}

/// PKCS#8 PEM `key_pem` encrypted with `password` (PBES2: scrypt + AES-256-CBC, the scheme
/// and parameters OpenSSL 3 reads), as `ENCRYPTED PRIVATE KEY` PEM.
pub fn encrypt_key_pem(key_pem: &str, password: &str) -> Result<Zeroizing<String>, PkiError> {
    if password.is_empty() {
        return Err(PkiError::EmptyPassword);
    }
    let (_, der) = der::pem::decode_vec(key_pem.as_bytes()).map_err(|source| PkiError::NotPem {
        what: "the private key".into(),
        source,
    })?;
    let der = Zeroizing::new(der);
    let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice())
        .map_err(|e| PkiError::cannot("read the private key as PKCS#8")(e.into()))?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .and_then(|_| aws_lc_rs::rand::fill(&mut iv))
        .map_err(|_| PkiError::Rng { what: "salt" })?;
    // log2(N)=14, r=8, p=1: what OpenSSL 3 writes and the most its default memory limit reads.
    let scrypt = pkcs8::pkcs5::scrypt::Params::new(14, 8, 1)
        .map_err(|e| PkiError::cannot("set up the key encryption")(e.into()))?;
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(scrypt, &salt, iv)
        .map_err(|e| PkiError::cannot("set up the key encryption")(e.into()))?;
    let doc = info
        .encrypt_with_params(params, password.as_bytes())
        .map_err(|e| PkiError::cannot("encrypt the private key")(e.into()))?;
    doc.to_pem("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF)
        .map_err(|e| PkiError::cannot("encode the encrypted private key")(e.into()))
}

/// A CA key's PEM as unencrypted PKCS#8, decrypting an `ENCRYPTED PRIVATE KEY` with
/// `password`. `flag` names the key in errors (`--ca-key FILE`), `password_name` the password
/// (`--ca-key-password`), `password_from` where one is given.
pub fn plain_key_pem(
    text: &str,
    password: Option<&str>,
    flag: &str,
    password_name: &str,
    password_from: &str,
) -> Result<Zeroizing<String>, PkiError> {
    use crate::identity::keys::{self, DecryptProblem};
    if !text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Ok(Zeroizing::new(text.to_string()));
    }
    let Some(password) = password else {
        return Err(PkiError::KeyEncrypted {
            flag: flag.to_string(),
            password_from: password_from.to_string(),
        });
    };
    let (_, der) = der::pem::decode_vec(text.as_bytes()).map_err(|source| PkiError::KeyPem {
        flag: flag.to_string(),
        source,
    })?;
    let der = Zeroizing::new(der);
    let plain = keys::decrypt_pkcs8(&der, password.as_bytes()).map_err(|p| match p {
        DecryptProblem::WrongPassword => PkiError::WrongKeyPassword {
            password_name: password_name.to_string(),
            flag: flag.to_string(),
        },
        DecryptProblem::Unsupported(why) | DecryptProblem::Malformed(why) => PkiError::KeyDecrypt {
            flag: flag.to_string(),
            why,
        },
    })?;
    der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &plain)
        .map(Zeroizing::new)
        .map_err(|source| PkiError::KeyEncode {
            flag: flag.to_string(),
            source,
        })
}

/// Writes `contents` to `path` with mode 0600, atomically (a new inode renamed over the old
/// one: an existing 0644 file ends 0600, and a symbolic link at `path` is refused).
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    Ok(crate::files::write_private(path, contents)?)
}

/// Writes a certificate (mode 0644) atomically, by the same rules as [`write_private`].
/// A certificate revoked by the CA: its serial (big-endian bytes) and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    /// Upper-case hex, as `openssl x509 -serial` and `read-certificate-data` show it.
    pub serial: String,
    /// RFC 3339.
    pub revoked_at: String,
}

/// A CRL (RFC 5280, PEM) signed by the CA, listing `revoked`, valid for `days` from now, with
/// `number` as its cRLNumber: ready for `aws rolesanywhere import-crl`.
pub fn crl(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    revoked: &[Revoked],
    number: u64,
    days: i64,
) -> Result<String, PkiError> {
    check_days(days)?;
    let issuer = issuer_from(ca_cert_pem, ca_key_pem)?;
    let now = OffsetDateTime::now_utc();
    let mut revoked_certs = Vec::new();
    for r in revoked {
        let bytes = hex::decode(&r.serial).map_err(|_| PkiError::RevokedSerial {
            serial: r.serial.clone(),
        })?;
        let at = OffsetDateTime::parse(
            &r.revoked_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| PkiError::RevokedTime {
            time: r.revoked_at.clone(),
            source: e.into(),
        })?;
        revoked_certs.push(rcgen::RevokedCertParams {
            serial_number: SerialNumber::from(bytes),
            revocation_time: at,
            reason_code: None,
            invalidity_date: None,
        });
    }
    let params = rcgen::CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update: now + Duration::days(days),
        crl_number: SerialNumber::from(number.to_be_bytes().to_vec()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    params
        .signed_by(&issuer)
        .and_then(|c| c.pem())
        .map_err(pki_err("sign the CRL"))
}

pub fn write_public(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    Ok(crate::files::write_public(path, contents)?)
}
