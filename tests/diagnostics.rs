//! sign-string and read-certificate-data with files, --cert-selector, and their flag rules.

mod common;

use aws_signing_helper::identity::file::load_certificates;
use aws_signing_helper::identity::{chain, Digest};
use common::*;

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sign_string_with_files_verifies_for_every_format_and_digest() {
    let pki = Pki::new();
    for alg in ["rsa:2048", "ec:P-256", "ec:P-384", "ec:P-521"] {
        let name = alg.replace(':', "-");
        let (cert_path, key) = pki.leaf(&name, alg);
        let cert = load_certificates(&cert_path).unwrap().remove(0);
        for format in ["json", "text", "bin"] {
            for (digest, d) in [
                ("SHA256", Digest::Sha256),
                ("SHA384", Digest::Sha384),
                ("SHA512", Digest::Sha512),
            ] {
                let mut a = args(&["sign-string", "--private-key", key.to_str().unwrap()]);
                a.extend(args(&["--format", format, "--digest", digest]));
                // With and without the certificate: the key alone is enough.
                for with_cert in [false, true] {
                    let mut a = a.clone();
                    if with_cert {
                        a.extend(args(&["--certificate", cert_path.to_str().unwrap()]));
                    }
                    let sig = sign_string_signature(&run_bin(&a, &[]), format);
                    assert!(
                        chain::verify(
                            &cert,
                            d,
                            &sign_string_payload(Some(cert.public_key())),
                            &sig
                        ),
                        "{alg} {format} {digest}"
                    );
                }
            }
        }
    }
    // Default format is json.
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            pki.path("ec-P-256.key").to_str().unwrap(),
        ]),
        &[],
    );
    assert!(out.stdout.starts_with(b"\"30"));
}

#[test]
fn sign_string_flag_errors() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("k", "ec:P-256");
    let (other_cert, _) = pki.leaf("other", "ec:P-256");
    let k = key.to_str().unwrap();
    let out = run_bin(
        &args(&["sign-string", "--private-key", k, "--format", "JSON"]),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON is not included in json,text,bin"));
    let out = run_bin(
        &args(&["sign-string", "--private-key", k, "--digest", "sha256"]),
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("sha256 is not included in SHA256,SHA384,SHA512"));
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            k,
            "--no-tpm-key-password",
            "--reuse-pin",
        ]),
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "if any flags in the group [no-tpm-key-password reuse-pin] are set none of the others can be; [no-tpm-key-password reuse-pin] were all set"
    ));
    // sign-string has no --intermediates.
    let out = run_bin(
        &args(&["sign-string", "--private-key", k, "--intermediates", "x"]),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            k,
            "--certificate",
            other_cert.to_str().unwrap(),
        ]),
        &[],
    );
    assert_clean_failure(&out, "does not match the certificate");
    let out = run_bin(&args(&["sign-string"]), &[]);
    assert_clean_failure(&out, "unable to use cert store signer on linux");
    let out = run_bin(
        &args(&[
            "sign-string",
            "--cert-selector",
            "Key=x509Subject,Value=CN=k",
        ]),
        &[],
    );
    assert_clean_failure(&out, "OS certificate stores are not available on Linux");
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            "handle:0x81000001",
            "--tpm-key-password",
            "x",
        ]),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let _ = cert;
}

#[test]
fn read_certificate_data_of_files() {
    let pki = Pki::new();
    let (ec, _) = pki.leaf("ec", "ec:P-384");
    let (rsa, _) = pki.leaf("rsa", "rsa:2048");
    for (path, key_type, algs) in [
        (&ec, "EC", ["ECSHA256", "ECSHA384", "ECSHA512"]),
        (&rsa, "RSA", ["RSASHA256", "RSASHA384", "RSASHA512"]),
    ] {
        let out = run_bin(
            &args(&[
                "read-certificate-data",
                "--certificate",
                path.to_str().unwrap(),
            ]),
            &[],
        );
        assert!(out.status.success());
        let cert = load_certificates(path).unwrap().remove(0);
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"keyType\":\"{key_type}\",\"certificateData\":\"{}\",\"serialNumber\":\"{}\",\"supportedAlgorithms\":[\"{}\",\"{}\",\"{}\"]}}",
                cert.base64(),
                cert.serial_decimal(),
                algs[0],
                algs[1],
                algs[2]
            )
        );
    }
    let out = run_bin(
        &args(&["read-certificate-data", "--certificate", "/nonexistent.pem"]),
        &[],
    );
    assert_clean_failure(&out, "/nonexistent.pem");
    let out = run_bin(&args(&["read-certificate-data"]), &[]);
    assert_clean_failure(&out, "unable to use cert store signer on linux");
    let out = run_bin(
        &args(&[
            "read-certificate-data",
            "--certificate",
            "a",
            "--system-store-name",
            "MY",
        ]),
        &[],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("[certificate system-store-name]"));
}

#[test]
fn cert_selector_is_validated_then_refused() {
    let pki = Pki::new();
    let file = pki.write("sel.json", br#"[{"Key":"x509Subject","Value":"CN=a"}]"#);
    for cmd in ["read-certificate-data", "sign-string", "credential-process"] {
        let ok = format!("file://{}", file.display());
        for (sel, needle) in [
            (
                "Key=x509Subject,Value=CN=a Key=x509Serial,Value=0A",
                "OS certificate stores are not available on Linux",
            ),
            (
                ok.as_str(),
                "OS certificate stores are not available on Linux",
            ),
            ("laksdjadf", "unable to parse cert selector string"),
            ("Key=x509Foo,Value=1", "cert selector contained invalid key"),
            (
                "Key=x509Issuer,Value=a Key=x509Issuer,Value=b",
                "duplicate x509Issuer keys can't be present in cert selector",
            ),
            (
                "file:///nonexistent.json",
                "unable to read cert selector file",
            ),
        ] {
            let mut a = args(&[cmd, "--cert-selector", sel]);
            if cmd == "credential-process" {
                a.extend(args(&[
                    "--trust-anchor-arn",
                    TA_ARN,
                    "--profile-arn",
                    PROFILE_ARN,
                    "--role-arn",
                    ROLE_ARN,
                ]));
            }
            let out = run_bin(&a, &[]);
            assert_clean_failure(&out, needle);
        }
    }
}

/// sign-string with keys OpenSSL 3.5 wrote: the same signature on every run (deterministic
/// ML-DSA, as the official tool signs), verifying with the certificate's public key.
#[test]
fn sign_string_with_openssl_mldsa_keys_is_deterministic() {
    let dir = std::path::Path::new("/work/shared/fixtures/mldsa-openssl35");
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent",
            dir.display()
        );
        println!("skipped: {} is absent", dir.display());
        return;
    }
    for level in ["44", "65", "87"] {
        let cert_path = dir.join(format!("mldsa{level}-cert.pem"));
        let cert = load_certificates(&cert_path).unwrap().remove(0);
        let a = args(&[
            "sign-string",
            "--certificate",
            cert_path.to_str().unwrap(),
            "--private-key",
            dir.join(format!("mldsa{level}-key-pkcs8-aes256cbc.pem"))
                .to_str()
                .unwrap(),
            "--pkcs8-password",
            "password",
            "--format",
            "bin",
        ]);
        let first = sign_string_signature(&run_bin(&a, &[]), "bin");
        let second = sign_string_signature(&run_bin(&a, &[]), "bin");
        assert_eq!(first, second, "ML-DSA-{level}: deterministic");
        assert!(
            chain::verify(&cert, Digest::Sha256, &sign_string_payload(None), &first),
            "ML-DSA-{level}: the signature verifies with the certificate"
        );
    }
}
