//! `read-certificate-data`: the JSON summary of a certificate file, or the list of
//! certificates a PKCS#11 URI matches (with URIs to pass back as `--certificate`).

use std::io::Write;

use crate::cli::ReadCertificateDataArgs;
use aws_signing_helper::identity::selector::{self, go_name_string, CertSelector};
use aws_signing_helper::identity::{pkcs11, Certificate, KeyType};
use aws_signing_helper::{Error, Result};

/// The JSON object printed for a certificate file.
pub fn certificate_json(cert: &Certificate) -> String {
    let (key_type, algorithms): (String, Vec<String>) = match cert.key_type() {
        Some(KeyType::Ec(_)) => (
            "EC".into(),
            vec!["ECSHA256".into(), "ECSHA384".into(), "ECSHA512".into()],
        ),
        Some(KeyType::Rsa) => (
            "RSA".into(),
            vec!["RSASHA256".into(), "RSASHA384".into(), "RSASHA512".into()],
        ),
        Some(KeyType::MlDsa(level)) => (level.name().into(), vec![level.name().into()]),
        None => (
            String::new(),
            vec!["SHA256".into(), "SHA384".into(), "SHA512".into()],
        ),
    };
    // serde_json keeps insertion order only with a struct; build the object by hand.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        key_type: String,
        certificate_data: String,
        serial_number: String,
        supported_algorithms: Vec<String>,
    }
    let data = Data {
        key_type,
        certificate_data: cert.base64(),
        serial_number: cert.serial_decimal(),
        supported_algorithms: algorithms,
    };
    // Serializing strings and a list of strings cannot fail.
    serde_json::to_string(&data).unwrap_or_default()
}

/// The listing of token certificates.
pub fn listing(certs: &[(Certificate, String)]) -> String {
    if certs.is_empty() {
        return "No matching identities\n".to_string();
    }
    let mut out = String::from("Matching identities\n");
    for (i, (cert, uri)) in certs.iter().enumerate() {
        let fingerprint =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der());
        let tbs = cert.parsed().tbs_certificate();
        out.push_str(&format!(
            "{}) Hex Fingerprint: {}\nSubject: {}\nIssuer: {}\nSerial Number: {}\nURI: {}\n\n",
            i + 1,
            hex::encode(fingerprint.as_ref()),
            go_name_string(tbs.subject()),
            go_name_string(tbs.issuer()),
            cert.serial_hex_upper(),
            uri
        ));
    }
    out
}

/// Runs the command.
pub fn run(args: &ReadCertificateDataArgs) -> Result<()> {
    let text: Vec<u8> = if !args.cert_selector.is_empty() {
        CertSelector::parse(&args.cert_selector)?;
        return Err(selector::no_store_on_linux());
    } else if args.certificate.starts_with("pkcs11:") {
        let certs = pkcs11::list_certificates(&args.certificate, &args.pkcs11_lib)?;
        listing(&certs).into_bytes()
    } else if args.certificate.is_empty() {
        return Err(
            Error::new("unable to use cert store signer on linux: no --certificate given")
                .hint("pass --certificate with a PEM file or a pkcs11: URI"),
        );
    } else {
        let certs = aws_signing_helper::identity::file::load_certificates(std::path::Path::new(
            &args.certificate,
        ))?;
        // load_certificates never returns an empty list.
        let Some(first) = certs.first() else {
            return Err(Error::new(format!(
                "could not parse PEM data in {}",
                args.certificate
            )));
        };
        certificate_json(first).into_bytes()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(format!("cannot write to stdout: {e}")))
}
