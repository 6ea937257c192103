//! Test and starter PKI: a CA fit to be a Roles Anywhere trust anchor, and client certificates
//! with the extensions Roles Anywhere demands (keyUsage digitalSignature, extendedKeyUsage
//! clientAuth; the CA with basicConstraints CA:TRUE and keyCertSign).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Key types we can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlg {
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

    /// A new key pair of this type.
    pub fn generate(self) -> Result<KeyPair> {
        KeyPair::generate_for(self.rcgen())
            .map_err(|e| Error::new(format!("cannot generate a {self:?} key: {e}")))
    }
}

/// A certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

fn pki_err(what: &str) -> impl Fn(rcgen::Error) -> Error + '_ {
    move |e| Error::new(format!("cannot {what}: {e}"))
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

/// A self-signed root CA usable as a Roles Anywhere trust anchor.
pub fn new_ca(common_name: &str, alg: KeyAlg, days: i64) -> Result<Issued> {
    let key = alg.generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name, None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, days);
    let cert = params
        .self_signed(&key)
        .map_err(pki_err("create the CA certificate"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}

/// Options for a client certificate.
pub struct ClientSpec<'a> {
    pub common_name: &'a str,
    pub organization: Option<&'a str>,
    pub alg: KeyAlg,
    pub days: i64,
    pub dns_names: Vec<String>,
}

/// A client certificate for Roles Anywhere, signed by the CA in `ca_cert_pem`/`ca_key_pem`.
pub fn issue_client(ca_cert_pem: &str, ca_key_pem: &str, spec: &ClientSpec) -> Result<Issued> {
    let ca_key = KeyPair::from_pem(ca_key_pem).map_err(pki_err("read the CA private key"))?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)
        .map_err(pki_err("read the CA certificate"))?;
    let key = spec.alg.generate()?;
    let mut params = CertificateParams::new(spec.dns_names.clone())
        .map_err(pki_err("use the subject alternative names"))?;
    params.distinguished_name = name(spec.common_name, spec.organization);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, spec.days);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(pki_err("sign the client certificate"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}

/// Writes `contents` to `path` with mode 0600 (new file, or truncating an existing one).
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    opts.open(path)
        .and_then(|mut f| f.write_all(contents))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}
