//! Tests of the file loaders with key material made by the `openssl` CLI, rcgen and aws-lc-rs.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_lc_rs::signature::{self as lc, KeyPair as _, VerificationAlgorithm};
use tempfile::TempDir;
use zeroize::Zeroizing;

use super::*;
use crate::identity::{Curve, Digest, KeyType, MlDsaLevel};

const MESSAGE: &[u8] = b"AWS4-X509-RSA-SHA256\n20240101T000000Z\nscope\nhash";

/// Runs `openssl` in `dir`; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI must be installed for these tests");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cat(dir: &Path, out: &str, parts: &[&str]) -> PathBuf {
    let mut data = Vec::new();
    for p in parts {
        data.extend(std::fs::read(dir.join(p)).unwrap());
        data.extend(b"\nsome text between blocks\n");
    }
    let path = dir.join(out);
    std::fs::write(&path, data).unwrap();
    path
}

/// A self-signed certificate for an existing key `key` (PEM), written to `cert`.
fn self_signed(dir: &Path, key: &str, cert: &str) {
    openssl(
        dir,
        &[
            "req", "-x509", "-key", key, "-out", cert, "-subj", "/CN=test", "-days", "2",
        ],
    );
}

/// Generates `name.key.pem` (PKCS#8, as OpenSSL 3 writes it) and `name.cert.pem`.
fn rsa(dir: &Path, name: &str, bits: u32) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
            "-out",
            &format!("{name}.key.pem"),
        ],
    );
    self_signed(dir, &format!("{name}.key.pem"), &format!("{name}.cert.pem"));
}

/// Generates `name.key.pem` (EC PARAMETERS + SEC1 EC PRIVATE KEY) and `name.cert.pem`.
fn ec(dir: &Path, name: &str, curve: &str) {
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            curve,
            "-genkey",
            "-out",
            &format!("{name}.key.pem"),
        ],
    );
    self_signed(dir, &format!("{name}.key.pem"), &format!("{name}.cert.pem"));
}

/// Verifies `signature` over `message` with the certificate's public key using aws-lc-rs.
fn verify_with_cert(cert: &Certificate, digest: Digest, message: &[u8], signature: &[u8]) -> bool {
    let alg: &dyn VerificationAlgorithm = match (cert.key_type().unwrap(), digest) {
        (KeyType::Rsa, Digest::Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
        (KeyType::Rsa, Digest::Sha384) => &lc::RSA_PKCS1_2048_8192_SHA384,
        (KeyType::Rsa, Digest::Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
        (KeyType::Ec(Curve::P256), Digest::Sha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (KeyType::Ec(Curve::P256), Digest::Sha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (KeyType::Ec(Curve::P256), Digest::Sha512) => &lc::ECDSA_P256_SHA512_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha256) => &lc::ECDSA_P384_SHA256_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (KeyType::Ec(Curve::P384), Digest::Sha512) => &lc::ECDSA_P384_SHA512_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha256) => &lc::ECDSA_P521_SHA256_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha384) => &lc::ECDSA_P521_SHA384_ASN1,
        (KeyType::Ec(Curve::P521), Digest::Sha512) => &lc::ECDSA_P521_SHA512_ASN1,
        (KeyType::MlDsa(MlDsaLevel::MlDsa44), _) => &lc::ML_DSA_44,
        (KeyType::MlDsa(MlDsaLevel::MlDsa65), _) => &lc::ML_DSA_65,
        (KeyType::MlDsa(MlDsaLevel::MlDsa87), _) => &lc::ML_DSA_87,
    };
    lc::UnparsedPublicKey::new(alg, cert.public_key())
        .verify(message, signature)
        .is_ok()
}

/// Signs with every digest and checks the signature against the certificate (and that a changed
/// message does not verify, so the check itself can fail).
fn assert_signs_for(signer: &dyn Signer, cert: &Certificate) {
    assert_eq!(Some(signer.key_type()), cert.key_type());
    for digest in [Digest::Sha256, Digest::Sha384, Digest::Sha512] {
        let sig = signer.sign(MESSAGE, digest).unwrap();
        assert!(
            verify_with_cert(cert, digest, MESSAGE, &sig),
            "{:?} signature with {digest:?} does not verify",
            signer.key_type()
        );
        assert!(!verify_with_cert(cert, digest, b"other message", &sig));
    }
}

fn source(cert: &Path, key: Option<&Path>) -> FileSource {
    FileSource {
        certificate: Some(cert.to_path_buf()),
        private_key: key.map(Path::to_path_buf),
        ..FileSource::default()
    }
}

fn password(p: &str) -> Option<Zeroizing<String>> {
    Some(Zeroizing::new(p.to_string()))
}

/// A prompter that answers from a script and records the prompts it saw.
#[derive(Default)]
struct Script {
    answers: Vec<&'static str>,
    prompts: Vec<String>,
}

impl Prompter for Script {
    fn ask(&mut self, prompt: &str) -> Option<Zeroizing<String>> {
        self.prompts.push(prompt.to_string());
        if self.answers.is_empty() {
            None
        } else {
            Some(Zeroizing::new(self.answers.remove(0).to_string()))
        }
    }
}

fn load_ok(src: &FileSource) -> Identity {
    let identity = load_with(src, &mut Script::default())
        .unwrap_or_else(|e| panic!("loading {src:?} failed: {e}"));
    let cert = identity.certificate.as_ref().unwrap();
    assert_signs_for(identity.signer.as_ref(), cert);
    check_identity(&identity, src, jiff::Timestamp::now()).unwrap();
    identity
}

fn load_err(src: &FileSource) -> String {
    match load_with(src, &mut Script::default()) {
        Ok(_) => panic!("loading {src:?} should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn rsa_key_formats_and_sizes() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    for bits in [2048, 4096] {
        let n = format!("rsa{bits}");
        rsa(d, &n, bits);
        let cert = d.join(format!("{n}.cert.pem"));
        let key = format!("{n}.key.pem");
        // PKCS#8 PEM (OpenSSL 3 default), PKCS#1 PEM, PKCS#8 DER, PKCS#1 DER.
        openssl(
            d,
            &["rsa", "-in", &key, "-traditional", "-out", "pkcs1.pem"],
        );
        openssl(
            d,
            &[
                "rsa",
                "-in",
                &key,
                "-traditional",
                "-outform",
                "DER",
                "-out",
                "pkcs1.der",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &key,
                "-outform",
                "DER",
                "-out",
                "pkcs8.der",
            ],
        );
        assert!(std::fs::read_to_string(d.join("pkcs1.pem"))
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY"));
        for k in [key.as_str(), "pkcs1.pem", "pkcs1.der", "pkcs8.der"] {
            let id = load_ok(&source(&cert, Some(&d.join(k))));
            assert_eq!(id.signer.key_type(), KeyType::Rsa, "{k}");
            assert!(id.chain.is_empty());
        }
    }
}

#[test]
fn rsa_1024_is_accepted_and_512_refused() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    rsa(d, "r1024", 1024);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "r1024.key.pem",
            "-traditional",
            "-out",
            "pkcs1.pem",
        ],
    );
    openssl(
        d,
        &["pkey", "-in", "r1024.key.pem", "-pubout", "-out", "pub.pem"],
    );
    std::fs::write(d.join("msg"), MESSAGE).unwrap();
    for key in ["r1024.key.pem", "pkcs1.pem"] {
        let src = source(&d.join("r1024.cert.pem"), Some(&d.join(key)));
        let id = load_with(&src, &mut Script::default()).unwrap();
        check_identity(&id, &src, jiff::Timestamp::now()).unwrap();
        // aws-lc-rs verifies 1024-bit keys only for SHA-256/512; let OpenSSL check all three.
        for (digest, name) in [
            (Digest::Sha256, "-sha256"),
            (Digest::Sha384, "-sha384"),
            (Digest::Sha512, "-sha512"),
        ] {
            let sig = id.signer.sign(MESSAGE, digest).unwrap();
            std::fs::write(d.join("sig"), &sig).unwrap();
            openssl(
                d,
                &[
                    "dgst",
                    name,
                    "-verify",
                    "pub.pem",
                    "-signature",
                    "sig",
                    "msg",
                ],
            );
        }
        let sig = id.signer.sign(MESSAGE, Digest::Sha256).unwrap();
        let pk = lc::UnparsedPublicKey::new(
            &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            id.certificate.as_ref().unwrap().public_key(),
        );
        assert!(pk.verify(MESSAGE, &sig).is_ok());
        assert!(pk.verify(b"other", &sig).is_err());
    }
    rsa(d, "r512", 512);
    let e = load_err(&source(
        &d.join("r512.cert.pem"),
        Some(&d.join("r512.key.pem")),
    ));
    assert!(
        e.starts_with("unsupported algorithm: RSA key of 512 bits") && e.contains("r512.key.pem"),
        "{e}"
    );
}

#[test]
fn ec_key_formats_and_curves() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    for (curve, name, want) in [
        (Curve::P256, "prime256v1", "p256"),
        (Curve::P384, "secp384r1", "p384"),
        (Curve::P521, "secp521r1", "p521"),
    ] {
        ec(d, want, name);
        let cert = d.join(format!("{want}.cert.pem"));
        let key = format!("{want}.key.pem");
        // The ecparam output starts with an EC PARAMETERS block, which must be skipped.
        assert!(std::fs::read_to_string(d.join(&key))
            .unwrap()
            .contains("EC PARAMETERS"));
        openssl(
            d,
            &["ec", "-in", &key, "-outform", "DER", "-out", "sec1.der"],
        );
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &key,
                "-out",
                "pkcs8.pem",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &key,
                "-outform",
                "DER",
                "-out",
                "pkcs8.der",
            ],
        );
        for k in [key.as_str(), "sec1.der", "pkcs8.pem", "pkcs8.der"] {
            let id = load_ok(&source(&cert, Some(&d.join(k))));
            assert_eq!(id.signer.key_type(), KeyType::Ec(curve), "{k}");
            assert_eq!(id.signer.public_key().unwrap()[0], 4, "uncompressed point");
        }
    }
}

#[test]
fn ec_certificate_with_compressed_point_matches() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    ec(d, "k", "prime256v1");
    openssl(
        d,
        &[
            "ec",
            "-in",
            "k.key.pem",
            "-conv_form",
            "compressed",
            "-out",
            "c.key.pem",
        ],
    );
    self_signed(d, "c.key.pem", "c.cert.pem");
    let certs = load_certificates(&d.join("c.cert.pem")).unwrap();
    let point = certs[0].public_key();
    assert!(
        point[0] == 2 || point[0] == 3,
        "OpenSSL wrote a compressed point"
    );
    let src = source(&d.join("c.cert.pem"), Some(&d.join("k.key.pem")));
    let id = load_with(&src, &mut Script::default()).unwrap();
    check_identity(&id, &src, jiff::Timestamp::now()).unwrap();
}

#[test]
fn encrypted_pkcs8_kdfs_and_ciphers() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    rsa(d, "r", 2048);
    ec(d, "e", "secp384r1");
    let cases: &[(&str, &[&str])] = &[
        ("r", &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"]),
        ("r", &["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA256"]),
        ("e", &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA384"]),
        ("e", &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"]),
        ("r", &["-v2", "aes-256-cbc", "-scrypt"]),
        ("e", &["-v2", "aes-128-cbc", "-scrypt"]),
    ];
    for (i, (name, opts)) in cases.iter().enumerate() {
        for der in [false, true] {
            let out = format!("enc{i}{}", if der { ".der" } else { ".pem" });
            let mut args = vec![
                "pkcs8",
                "-topk8",
                "-in",
                "",
                "-out",
                &out,
                "-passout",
                "pass:s3cret",
            ];
            let key = format!("{name}.key.pem");
            args[3] = &key;
            args.extend_from_slice(opts);
            if der {
                args.extend_from_slice(&["-outform", "DER"]);
            }
            openssl(d, &args);
            let cert = d.join(format!("{name}.cert.pem"));
            let mut src = source(&cert, Some(&d.join(&out)));
            src.password = password("s3cret");
            load_ok(&src);

            // Wrong password given on the command line.
            src.password = password("wrong");
            let e = load_err(&src);
            assert!(
                e.contains("incorrect PKCS#8 private key password for") && e.contains(&out),
                "{e}"
            );
        }
    }
}

#[test]
fn password_prompt_retries_and_no_terminal() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    ec(d, "e", "prime256v1");
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "e.key.pem",
            "-out",
            "enc.pem",
            "-passout",
            "pass:pw",
            "-v2",
            "aes-256-cbc",
        ],
    );
    let key = d.join("enc.pem");

    // No terminal: a clear error naming the file and the flag.
    let mut none = Script::default();
    let e = load_private_key_with(&key, None, &mut none).err().unwrap();
    assert!(e
        .message()
        .starts_with("unable to read your PKCS#8 private key password for"));
    assert!(e.message().contains("enc.pem"));
    assert!(e.hint_text().unwrap().contains("--pkcs8-password"));
    assert_eq!(
        none.prompts,
        ["Please enter your PKC8 private key password:"]
    );

    // Three wrong answers: give up.
    let mut wrong = Script {
        answers: vec!["a", "b", "c", "pw"],
        ..Script::default()
    };
    let e = load_private_key_with(&key, None, &mut wrong).err().unwrap();
    assert!(
        e.message()
            .starts_with("incorrect PKCS#8 private key password for"),
        "{e}"
    );
    assert_eq!(wrong.prompts.len(), 3);

    // Wrong, then right.
    let mut script = Script {
        answers: vec!["nope", "pw"],
        ..Script::default()
    };
    let signer = load_private_key_with(&key, None, &mut script).unwrap();
    assert_eq!(signer.key_type(), KeyType::Ec(Curve::P256));
    assert_eq!(
        script.prompts,
        [
            "Please enter your PKC8 private key password:",
            "Incorrect PKCS#8 private key password. Please try again:"
        ]
    );

    // Typed once, remembered: update and serve re-load the key at every refresh and must not
    // ask again.
    let mut silent = Script::default();
    load_private_key_with(&key, None, &mut silent).unwrap();
    assert!(
        silent.prompts.is_empty(),
        "asked again: {:?}",
        silent.prompts
    );

    // An empty --pkcs8-password means "no password": prompt.
    let mut script = Script {
        answers: vec!["pw"],
        ..Script::default()
    };
    // (Another file: the password typed for enc.pem above is remembered.)
    let other = d.join("enc2.pem");
    std::fs::copy(&key, &other).unwrap();
    load_private_key_with(&other, password("").as_ref(), &mut script).unwrap();
    assert_eq!(script.prompts.len(), 1);
}

#[test]
fn password_for_unencrypted_key_is_ignored() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    ec(d, "e", "prime256v1");
    let mut src = source(&d.join("e.cert.pem"), Some(&d.join("e.key.pem")));
    src.password = password("unused");
    load_ok(&src);
}

/// Root CA → intermediate CA → leaf (EC P-256 leaf key).
fn pki(d: &Path) {
    let ca_ext = "ca.ext";
    std::fs::write(
        d.join(ca_ext),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-subj",
            "/CN=Root",
            "-days",
            "2",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/CN=Intermediate",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "int.pem",
            "-days",
            "2",
            "-extfile",
            ca_ext,
        ],
    );
    openssl(
        d,
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out",
            "leaf.csr", "-subj", "/CN=Leaf",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
        ],
    );
}

fn subjects(certs: &[Certificate]) -> Vec<String> {
    certs.iter().map(Certificate::subject).collect()
}

#[test]
fn chains_from_certificate_file_and_intermediates() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    pki(d);
    let key = d.join("leaf.key");

    // Full chain in --certificate.
    let full = cat(d, "full.pem", &["leaf.pem", "int.pem"]);
    let id = load_ok(&source(&full, Some(&key)));
    assert_eq!(id.certificate.as_ref().unwrap().subject(), "CN=Leaf");
    assert_eq!(subjects(&id.chain), ["CN=Intermediate"]);

    // --intermediates appended in file order, duplicates skipped.
    let bundle = cat(d, "bundle.pem", &["int.pem", "root.pem", "leaf.pem"]);
    let mut src = source(&full, Some(&key));
    src.intermediates = Some(bundle);
    let id = load_ok(&src);
    assert_eq!(subjects(&id.chain), ["CN=Intermediate", "CN=Root"]);

    // DER leaf + DER intermediates.
    openssl(
        d,
        &[
            "x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-in", "int.pem", "-outform", "DER", "-out", "int.der",
        ],
    );
    let mut src = source(&d.join("leaf.der"), Some(&key));
    src.intermediates = Some(d.join("int.der"));
    let id = load_ok(&src);
    assert_eq!(subjects(&id.chain), ["CN=Intermediate"]);
    assert_eq!(load_certificates(&d.join("int.der")).unwrap().len(), 1);
    assert_eq!(
        subjects(&load_certificates(&d.join("bundle.pem")).unwrap()),
        ["CN=Intermediate", "CN=Root", "CN=Leaf"]
    );

    // A key block in --intermediates is refused.
    let bad = cat(d, "bad-bundle.pem", &["int.pem", "leaf.key"]);
    let mut src = source(&full, Some(&key));
    src.intermediates = Some(bad);
    let e = load_err(&src);
    assert!(
        e.contains("invalid certificate chain") && e.contains("bad-bundle.pem"),
        "{e}"
    );
}

#[test]
fn combined_certificate_and_key_pem() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    pki(d);
    for (name, parts) in [
        ("cert-key.pem", ["leaf.pem", "leaf.key"]),
        ("key-cert.pem", ["leaf.key", "leaf.pem"]),
    ] {
        let combined = cat(d, name, &parts);
        let id = load_ok(&source(&combined, None));
        assert_eq!(id.certificate.unwrap().subject(), "CN=Leaf");
    }
    // A certificate alone without --private-key: say what is missing.
    let e = load_err(&source(&d.join("leaf.pem"), None));
    assert!(
        e.contains("contains no private key") && e.contains("--private-key"),
        "{e}"
    );
}

#[test]
fn pkcs12_modern_legacy_and_passwords() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    pki(d);
    let common = [
        "pkcs12",
        "-export",
        "-inkey",
        "leaf.key",
        "-in",
        "leaf.pem",
        "-certfile",
        "int.pem",
    ];
    let variants: &[(&str, &str, &[&str])] = &[
        ("modern.p12", "pass:secret", &[]),
        (
            "legacy.p12",
            "pass:secret",
            &[
                "-certpbe",
                "PBE-SHA1-3DES",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
        ),
        ("empty.p12", "pass:", &[]),
        (
            "legacy-empty.p12",
            "pass:",
            &[
                "-certpbe",
                "PBE-SHA1-3DES",
                "-keypbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
        ),
    ];
    for (out, pass, extra) in variants {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(&["-out", out, "-passout", pass]);
        args.extend_from_slice(extra);
        openssl(d, &args);
        let mut src = source(&d.join(out), None);
        if *pass != "pass:" {
            src.password = password("secret");
        }
        let id = load_ok(&src);
        assert_eq!(
            id.certificate.as_ref().unwrap().subject(),
            "CN=Leaf",
            "{out}"
        );
        assert_eq!(subjects(&id.chain), ["CN=Intermediate"], "{out}");
    }

    // Password-protected, no password given and no terminal: a clear error.
    let src = source(&d.join("modern.p12"), None);
    let e = load_err(&src);
    assert!(
        e.contains("unable to read your PKCS#12 password for") && e.contains("modern.p12"),
        "{e}"
    );
    // With a terminal: try the empty password, then prompt.
    let mut script = Script {
        answers: vec!["bad", "secret"],
        ..Script::default()
    };
    load_with(&src, &mut script).unwrap();
    assert_eq!(
        script.prompts,
        [
            "Please enter your PKCS#12 password:",
            "Incorrect PKCS#12 password. Please try again:"
        ]
    );
    // Typed once, remembered for the next load (update and serve re-load at every refresh).
    let mut silent = Script::default();
    load_with(&src, &mut silent).unwrap();
    assert!(
        silent.prompts.is_empty(),
        "asked again: {:?}",
        silent.prompts
    );

    let mut wrong = source(&d.join("legacy.p12"), None);
    wrong.password = password("bad");
    let e = load_err(&wrong);
    assert!(
        e.contains("incorrect PKCS#12 password for") && e.contains("legacy.p12"),
        "{e}"
    );

    // --intermediates with PKCS#12: the official error.
    let mut with_chain = source(&d.join("empty.p12"), None);
    with_chain.intermediates = Some(d.join("int.pem"));
    assert!(load_err(&with_chain).contains("can't specify certificate chain when using PKCS#12 files; certificate bundle should be provided within the PKCS#12 file"));

    // No key inside.
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-nokeys",
            "-in",
            "leaf.pem",
            "-out",
            "nokey.p12",
            "-passout",
            "pass:",
        ],
    );
    let e = load_err(&source(&d.join("nokey.p12"), None));
    assert!(
        e.contains("contains no private key") && e.contains("nokey.p12"),
        "{e}"
    );
}

#[test]
fn pkcs12_leaf_is_the_certificate_of_the_key() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    pki(d);
    // Put the CA certificates first: the leaf must still be picked by its key.
    let certs = cat(d, "certs.pem", &["root.pem", "int.pem", "leaf.pem"]);
    let certs = certs.file_name().unwrap().to_str().unwrap().to_string();
    openssl(
        d,
        &[
            "pkcs12", "-export", "-inkey", "leaf.key", "-in", &certs, "-out", "o.p12", "-passout",
            "pass:",
        ],
    );
    let id = load_ok(&source(&d.join("o.p12"), None));
    assert_eq!(id.certificate.unwrap().subject(), "CN=Leaf");
    assert_eq!(id.chain.len(), 2);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    ec(d, "e", "prime256v1");
    let cert = d.join("e.cert.pem");
    std::fs::write(d.join("garbage"), b"\x01\x02 this is not a key").unwrap();
    std::fs::write(d.join("empty"), b"").unwrap();
    std::fs::write(d.join("nokey.pem"), std::fs::read(&cert).unwrap()).unwrap();

    let e = load_err(&source(&cert, Some(&d.join("garbage"))));
    assert!(
        e.starts_with("unable to parse private key in ") && e.contains("garbage"),
        "{e}"
    );
    let e = load_err(&source(&cert, Some(&d.join("empty"))));
    assert!(
        e.starts_with("unable to parse private key in ") && e.contains("empty"),
        "{e}"
    );
    let e = load_err(&source(&cert, Some(&d.join("nokey.pem"))));
    assert!(
        e.contains("no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block found"),
        "{e}"
    );
    let e = load_err(&source(&d.join("missing.pem"), Some(&d.join("e.key.pem"))));
    assert!(
        e.starts_with("cannot read certificate file ")
            && e.ends_with("missing.pem: No such file or directory"),
        "{e}"
    );
    let e = load_err(&source(&cert, Some(&d.join("missing.key"))));
    assert!(
        e.starts_with("cannot read private key file ") && e.contains("No such file"),
        "{e}"
    );
    let e = load_err(&source(&d.join("garbage"), Some(&d.join("e.key.pem"))));
    assert!(
        e.starts_with("could not parse certificate in ") && e.contains("garbage"),
        "{e}"
    );
    let e = load_err(&source(&d.join("empty"), Some(&d.join("e.key.pem"))));
    assert!(e.starts_with("could not parse PEM data in "), "{e}");
    let e = load_err(&source(&d.join("e.key.pem"), Some(&d.join("e.key.pem"))));
    assert!(
        e.contains("could not parse PEM data") && e.contains("no CERTIFICATE block"),
        "{e}"
    );
    let e = load_err(&FileSource::default());
    assert!(
        e.starts_with("undefined certificate value") && e.contains("--certificate"),
        "{e}"
    );
    assert!(load_certificates(&d.join("garbage")).is_err());

    // Ed25519: unsupported, naming the file and the type.
    openssl(d, &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"]);
    let e = load_err(&source(&cert, Some(&d.join("ed.pem"))));
    assert!(
        e.starts_with("unsupported algorithm") && e.contains("Ed25519") && e.contains("ed.pem"),
        "{e}"
    );

    // A key that is not the certificate's.
    ec(d, "other", "prime256v1");
    let src = source(&cert, Some(&d.join("other.key.pem")));
    let id = load_with(&src, &mut Script::default()).unwrap();
    let e = check_identity(&id, &src, jiff::Timestamp::now()).unwrap_err();
    assert!(
        e.message().starts_with("the private key in ") && e.message().contains("other.key.pem")
    );
    assert!(
        e.message().contains("does not match the certificate in")
            && e.message().contains("e.cert.pem")
    );
    assert!(e.hint_text().is_some());
    // Different key type altogether.
    rsa(d, "r", 2048);
    let src = source(&cert, Some(&d.join("r.key.pem")));
    let id = load_with(&src, &mut Script::default()).unwrap();
    assert!(check_identity(&id, &src, jiff::Timestamp::now()).is_err());
}

#[test]
fn validity_period_is_checked() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(d.join("k.pem"), key.serialize_pem()).unwrap();
    let make = |name: &str, from: (i32, u8, u8), to: (i32, u8, u8)| {
        let mut params = rcgen::CertificateParams::new(vec!["test".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(d.join(name), cert.pem()).unwrap();
    };
    make("expired.pem", (2020, 1, 1), (2021, 1, 1));
    make("future.pem", (2090, 1, 1), (2091, 1, 1));

    let src = source(&d.join("expired.pem"), Some(&d.join("k.pem")));
    let id = load_with(&src, &mut Script::default()).unwrap();
    assert_signs_for(id.signer.as_ref(), id.certificate.as_ref().unwrap());
    let e = check_identity(&id, &src, jiff::Timestamp::now()).unwrap_err();
    assert!(
        e.message()
            .contains("expired.pem expired at 2021-01-01T00:00:00Z"),
        "{e}"
    );
    assert!(e.hint_text().unwrap().contains("renew"));
    // Within the period it passes.
    let then: jiff::Timestamp = "2020-06-01T00:00:00Z".parse().unwrap();
    check_identity(&id, &src, then).unwrap();

    let src = source(&d.join("future.pem"), Some(&d.join("k.pem")));
    let id = load_with(&src, &mut Script::default()).unwrap();
    let e = check_identity(&id, &src, jiff::Timestamp::now()).unwrap_err();
    assert!(
        e.message()
            .contains("future.pem is not valid before 2090-01-01T00:00:00Z"),
        "{e}"
    );
}

/// Wraps DER in PEM.
fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn mldsa_keys_generated_and_encrypted() {
    use pkcs8::pkcs5::pbes2;
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    for (signing, verify, level) in [
        (&lc::ML_DSA_44_SIGNING, &lc::ML_DSA_44, MlDsaLevel::MlDsa44),
        (&lc::ML_DSA_65_SIGNING, &lc::ML_DSA_65, MlDsaLevel::MlDsa65),
        (&lc::ML_DSA_87_SIGNING, &lc::ML_DSA_87, MlDsaLevel::MlDsa87),
    ] {
        let pair = lc::PqdsaKeyPair::generate(signing).unwrap();
        let der = pair.to_pkcs8v1().unwrap();
        let public = pair.public_key().as_ref().to_vec();

        let check = |signer: &dyn Signer| {
            assert_eq!(signer.key_type(), KeyType::MlDsa(level));
            assert_eq!(signer.public_key().unwrap(), public);
            let sig = signer.sign(MESSAGE, Digest::Sha256).unwrap();
            let pk = lc::UnparsedPublicKey::new(verify, &public);
            assert!(pk.verify(MESSAGE, &sig).is_ok());
            assert!(pk.verify(b"other", &sig).is_err());
        };
        check(signer_from_pkcs8_der(der.as_ref()).unwrap().as_ref());

        // Plain PEM and DER files.
        std::fs::write(d.join("k.pem"), to_pem("PRIVATE KEY", der.as_ref())).unwrap();
        std::fs::write(d.join("k.der"), der.as_ref()).unwrap();
        check(
            load_private_key_with(&d.join("k.pem"), None, &mut Script::default())
                .unwrap()
                .as_ref(),
        );
        check(
            load_private_key_with(&d.join("k.der"), None, &mut Script::default())
                .unwrap()
                .as_ref(),
        );

        // Encrypted with the pkcs8 crate (PBKDF2-SHA256 + AES-256-CBC, scrypt + AES-128-CBC).
        let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_ref()).unwrap();
        let params = [
            pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(2048, &[7u8; 16], [9u8; 16])
                .unwrap(),
            pbes2::Parameters::generate_scrypt_aes128cbc(
                pkcs8::pkcs5::scrypt::Params::new(10, 8, 1).unwrap(),
                &[5u8; 16],
                [3u8; 16],
            )
            .unwrap(),
        ];
        for p in params {
            let enc = info.encrypt_with_params(p, "pw").unwrap();
            std::fs::write(
                d.join("enc.pem"),
                to_pem("ENCRYPTED PRIVATE KEY", enc.as_bytes()),
            )
            .unwrap();
            let signer = load_private_key_with(
                &d.join("enc.pem"),
                password("pw").as_ref(),
                &mut Script::default(),
            )
            .unwrap();
            check(signer.as_ref());
            let e = load_private_key_with(
                &d.join("enc.pem"),
                password("no").as_ref(),
                &mut Script::default(),
            )
            .err()
            .unwrap();
            assert!(e
                .message()
                .starts_with("incorrect PKCS#8 private key password for"));
        }
    }
}

#[test]
fn mldsa_openssl35_fixtures() {
    let dir = Path::new("/work/shared/fixtures/mldsa-openssl35");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    for level in ["44", "65", "87"] {
        let cert = dir.join(format!("mldsa{level}-cert.pem"));
        for suffix in [
            "",
            "-pkcs8",
            "-pkcs8-aes128cbc",
            "-pkcs8-aes192cbc",
            "-pkcs8-aes256cbc",
            "-pkcs8-hmacWithSHA256",
            "-pkcs8-hmacWithSHA384",
            "-pkcs8-hmacWithSHA512",
            "-pkcs8-scrypt",
        ] {
            let key = dir.join(format!("mldsa{level}-key{suffix}.pem"));
            let mut src = source(&cert, Some(&key));
            src.password = password("password");
            let id = load_ok(&src);
            assert_eq!(id.signer.key_type().sigv4_algorithm(), "AWS4-X509-MLDSA");
        }
    }
}

#[test]
fn debug_output_hides_the_password() {
    let src = FileSource {
        password: password("hunter2"),
        ..FileSource::default()
    };
    assert!(!format!("{src:?}").contains("hunter2"));
}

#[test]
fn unsupported_encryption_is_refused_without_prompting() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    rsa(d, "r", 2048);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "r.key.pem",
            "-aes256",
            "-traditional",
            "-passout",
            "pass:x",
            "-out",
            "legacy.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8",
            "-topk8",
            "-v1",
            "PBE-SHA1-3DES",
            "-in",
            "r.key.pem",
            "-passout",
            "pass:x",
            "-out",
            "pbes1.pem",
        ],
    );
    for (file, text) in [
        ("legacy.pem", "Proc-Type: 4,ENCRYPTED"),
        ("pbes1.pem", "not supported"),
    ] {
        let mut script = Script {
            answers: vec!["x"],
            ..Script::default()
        };
        let e = load_private_key_with(&d.join(file), None, &mut script)
            .err()
            .unwrap();
        assert!(
            e.message().starts_with("unable to parse private key in") && e.message().contains(file),
            "{e}"
        );
        assert!(e.to_string().contains(text), "{e}");
        assert!(script.prompts.is_empty(), "prompted for {file}");
    }
}

/// The `_from_bytes` functions the fuzzers call are the very code the path loaders run.
#[test]
fn bytes_loaders_match_path_loaders() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    pki(d);
    let bundle = cat(d, "bundle.pem", &["int.pem", "root.pem"]);
    let data = std::fs::read(&bundle).unwrap();
    assert_eq!(
        subjects(&certificates_from_bytes(&bundle, &data).unwrap()),
        subjects(&load_certificates(&bundle).unwrap())
    );
    assert_eq!(
        subjects(&intermediates_from_bytes(&bundle, &data).unwrap()),
        ["CN=Intermediate", "CN=Root"]
    );
    let e = certificates_from_bytes(Path::new("named.pem"), b"").unwrap_err();
    assert!(e.to_string().contains("named.pem"), "{e}");

    let key = d.join("leaf.key");
    let key_data = std::fs::read(&key).unwrap();
    let from_bytes = private_key_from_bytes(&key, &key_data, None, &mut Script::default()).unwrap();
    let from_path = load_private_key_with(&key, None, &mut Script::default()).unwrap();
    assert_eq!(from_bytes.public_key(), from_path.public_key());
    let leaf = load_certificates(&d.join("leaf.pem")).unwrap().remove(0);
    assert_signs_for(from_bytes.as_ref(), &leaf);
}
