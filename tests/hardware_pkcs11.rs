//! PKCS#11 end to end against SoftHSM2: a token made by each test (keys imported with
//! softhsm2-util, certificates written with pkcs11-tool), the real binary, the emulator.
//! Without softhsm2/opensc the tests fail when `CI` is set and are skipped (with a reason) otherwise.

mod common;

use std::process::Output;

use aws_signing_helper::identity::file::load_certificates;
use aws_signing_helper::identity::{chain, Certificate, Digest};
use common::softhsm::*;
use common::*;

const PIN_ENV: &str = "AWS_SIGNING_HELPER_PKCS11_PIN";

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// credential-process with `--certificate`/`--private-key` values as given (URIs or files).
fn cp(
    run: &Running,
    hsm: &Hsm,
    cert: &str,
    key: Option<&str>,
    extra_env: &[(&str, &str)],
    extra: &[&str],
) -> Output {
    let mut a = args(&[
        "credential-process",
        "--certificate",
        cert,
        "--pkcs11-lib",
        MODULE,
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
    ]);
    a.push("--endpoint".into());
    a.push(run.emulator.url());
    if let Some(k) = key {
        a.push("--private-key".into());
        a.push(k.into());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    let mut env = hsm.env(Some(run));
    env.extend_from_slice(extra_env);
    run_bin(&a, &env)
}

/// The chain certificates sent, from the canonical request printed by --debug.
fn chain_sent(out: &Output) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("x-amz-x509-chain:"))
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

/// A token `L` with an RSA and an EC key+certificate (issued by an intermediate CA), the
/// intermediate and the root on the token too, and an unrelated self-signed certificate.
struct Setup {
    pki: Pki,
    hsm: Hsm,
    intermediate: Certificate,
}

fn setup() -> Setup {
    let pki = Pki::new();
    let hsm = Hsm::new("L");
    let int_pem = pki.intermediate("int");
    for (name, alg, id) in [("rsa", "rsa:2048", "01"), ("ec", "ec:P-256", "02")] {
        pki.key(name, alg);
        let cert = pki.issue(name, "int", "leaf.ext", "10");
        hsm.import_key("L", &pki.path(&format!("{name}.key")), name, id);
        hsm.write_cert("L", &cert, name, id);
    }
    hsm.write_cert("L", &int_pem, "int", "10");
    hsm.write_cert("L", &pki.path("ca.pem"), "root", "11");
    // An unrelated self-signed certificate: must never be sent.
    openssl(
        pki.dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.pem",
            "-days",
            "3",
            "-subj",
            "/CN=Other",
        ],
    );
    hsm.write_cert("L", &pki.path("other.pem"), "other", "12");
    let intermediate = load_certificates(&int_pem).unwrap().remove(0);
    Setup {
        pki,
        hsm,
        intermediate,
    }
}

#[test]
fn token_keys_and_certificates_get_credentials_with_real_issuers_only() {
    if !have_tools() {
        return;
    }
    let s = setup();
    let run = start(&s.pki, emulator_config(&s.pki));
    let pin_env = [(PIN_ENV, PIN)];
    for uri in [
        "pkcs11:token=L;object=rsa",
        "pkcs11:token=L;object=ec",
        "pkcs11:token=L;id=%01;type=cert",
        "pkcs11:id=%02",
    ] {
        let out = cp(&run, &s.hsm, uri, None, &pin_env, &["--debug"]);
        assert_credentials(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains(PIN), "the PIN was printed");
        assert_eq!(
            chain_sent(&out),
            vec![s.intermediate.base64()],
            "chain of {uri}: only the intermediate (the root is the trust anchor; others are unrelated)"
        );
    }
    // Key URI given separately, PIN from a file named by pin-source.
    let pin_file = s.pki.write("pin", format!("{PIN}\n").as_bytes());
    let key = format!(
        "pkcs11:token=L;object=ec;type=private?pin-source=file:{}",
        pin_file.display()
    );
    assert_credentials(&cp(
        &run,
        &s.hsm,
        "pkcs11:token=L;object=ec",
        Some(&key),
        &[],
        &[],
    ));
    // pin-value in the certificate URI.
    let cert = format!("pkcs11:token=L;object=rsa?pin-value={PIN}");
    assert_credentials(&cp(&run, &s.hsm, &cert, None, &[], &[]));
    assert_eq!(run.emulator.sessions_created(), 6);
}

#[test]
fn file_certificate_with_token_key() {
    if !have_tools() {
        return;
    }
    let s = setup();
    let run = start(&s.pki, emulator_config(&s.pki));
    let pin_env = [(PIN_ENV, PIN)];
    for name in ["rsa", "ec"] {
        let cert = s.pki.path(&format!("{name}.pem"));
        let key = format!("pkcs11:token=L;object={name}");
        let out = cp(
            &run,
            &s.hsm,
            cert.to_str().unwrap(),
            Some(&key),
            &pin_env,
            &["--intermediates", s.pki.path("int.pem").to_str().unwrap()],
        );
        assert_credentials(&out);
    }
    // An --intermediates file holding a private key is refused for token keys exactly as for
    // key files (it used to be sent as a chain for PKCS#11 and TPM keys).
    let mixed = s.pki.path("int-with-key.pem");
    let mut text = std::fs::read(s.pki.path("int.pem")).unwrap();
    text.extend(std::fs::read(s.pki.path("ca.key")).unwrap());
    std::fs::write(&mixed, text).unwrap();
    let out = cp(
        &run,
        &s.hsm,
        s.pki.path("ec.pem").to_str().unwrap(),
        Some("pkcs11:token=L;object=ec"),
        &pin_env,
        &["--intermediates", mixed.to_str().unwrap()],
    );
    assert_clean_failure(&out, "it contains a PRIVATE KEY block");
    // The key of another certificate is refused before any request.
    let out = cp(
        &run,
        &s.hsm,
        s.pki.path("ec.pem").to_str().unwrap(),
        Some("pkcs11:token=L;object=rsa"),
        &pin_env,
        &[],
    );
    assert_clean_failure(&out, "unable to find matching private key");
    assert_eq!(run.emulator.sessions_created(), 2);
}

#[test]
fn clear_errors() {
    if !have_tools() {
        return;
    }
    let s = setup();
    let run = start(&s.pki, emulator_config(&s.pki));
    let wrong = [(PIN_ENV, "000000")];
    let pin_env = [(PIN_ENV, PIN)];
    let out = cp(&run, &s.hsm, "pkcs11:token=L;object=ec", None, &wrong, &[]);
    assert_clean_failure(&out, "incorrect PIN");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("000000"));
    let out = cp(&run, &s.hsm, "pkcs11:token=L", None, &pin_env, &[]);
    assert_clean_failure(&out, "multiple matching certificates");
    let out = cp(&run, &s.hsm, "pkcs11:token=Nope", None, &pin_env, &[]);
    assert_clean_failure(&out, "no matching slots");
    let out = cp(
        &run,
        &s.hsm,
        "pkcs11:token=L;object=missing",
        None,
        &pin_env,
        &[],
    );
    assert_clean_failure(&out, "no matching certificates");
    let out = cp(
        &run,
        &s.hsm,
        "pkcs11:token=L;object=ec;id=%zz",
        None,
        &pin_env,
        &[],
    );
    assert_clean_failure(&out, "Malformed pkcs11 URI");
    // No PIN and no terminal.
    let out = cp(
        &run,
        &s.hsm,
        s.pki.path("ec.pem").to_str().unwrap(),
        Some("pkcs11:token=L;object=ec"),
        &[],
        &[],
    );
    assert_clean_failure(&out, "no user PIN provided");
    // A key without a certificate cannot get credentials.
    let out = run_bin(
        &args(&[
            "credential-process",
            "--private-key",
            "pkcs11:token=L;object=ec",
            "--pkcs11-lib",
            MODULE,
            "--trust-anchor-arn",
            TA_ARN,
            "--profile-arn",
            PROFILE_ARN,
            "--role-arn",
            ROLE_ARN,
        ]),
        &[
            ("SOFTHSM2_CONF", s.hsm.conf.to_str().unwrap()),
            (PIN_ENV, PIN),
        ],
    );
    assert_clean_failure(&out, "unable to find certificate");
    let out = run_bin(
        &args(&[
            "sign-string",
            "--certificate",
            "pkcs11:token=L;object=ec",
            "--pkcs11-lib",
            "/nonexistent/module.so",
        ]),
        &[(PIN_ENV, PIN)],
    );
    assert_clean_failure(
        &out,
        "Failed to load provider library /nonexistent/module.so",
    );
    assert_eq!(run.emulator.sessions_created(), 0);
}
fn digest_of(name: &str) -> Digest {
    match name {
        "SHA256" => Digest::Sha256,
        "SHA384" => Digest::Sha384,
        _ => Digest::Sha512,
    }
}

#[test]
fn sign_string_signatures_verify_for_every_format_and_digest() {
    if !have_tools() {
        return;
    }
    let s = setup();
    for name in ["rsa", "ec"] {
        let cert = load_certificates(&s.pki.path(&format!("{name}.pem")))
            .unwrap()
            .remove(0);
        for format in ["json", "text", "bin"] {
            for digest in ["SHA256", "SHA384", "SHA512"] {
                // Token certificate: the public key is known, so D is present.
                let out = run_bin(
                    &args(&[
                        "sign-string",
                        "--certificate",
                        &format!("pkcs11:token=L;object={name}"),
                        "--pkcs11-lib",
                        MODULE,
                        "--format",
                        format,
                        "--digest",
                        digest,
                    ]),
                    &[
                        ("SOFTHSM2_CONF", s.hsm.conf.to_str().unwrap()),
                        (PIN_ENV, PIN),
                    ],
                );
                let sig = sign_string_signature(&out, format);
                assert!(
                    chain::verify(
                        &cert,
                        digest_of(digest),
                        &sign_string_payload(Some(cert.public_key())),
                        &sig
                    ),
                    "{name} {format} {digest}"
                );
                // Token key alone: no public key, D is empty.
                let out = run_bin(
                    &args(&[
                        "sign-string",
                        "--private-key",
                        &format!("pkcs11:token=L;object={name}?pin-value={PIN}"),
                        "--pkcs11-lib",
                        MODULE,
                        "--format",
                        format,
                        "--digest",
                        digest,
                    ]),
                    &[("SOFTHSM2_CONF", s.hsm.conf.to_str().unwrap())],
                );
                let sig = sign_string_signature(&out, format);
                assert!(chain::verify(
                    &cert,
                    digest_of(digest),
                    &sign_string_payload(None),
                    &sig
                ));
            }
        }
    }
}

#[test]
fn always_authenticate_key_with_reuse_pin() {
    if !have_tools() {
        return;
    }
    let s = setup();
    s.hsm.tool(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            "L",
            "--login",
            "--pin",
            PIN,
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "aa",
            "--id",
            "aa",
            "--always-auth",
            "--usage-sign",
        ],
    );
    let out = s.hsm.tool(
        "pkcs11-tool",
        &[
            "--module",
            MODULE,
            "--token-label",
            "L",
            "--read-object",
            "--type",
            "pubkey",
            "--label",
            "aa",
        ],
    );
    let spki = out.stdout;
    let env = [
        ("SOFTHSM2_CONF", s.hsm.conf.to_str().unwrap()),
        (PIN_ENV, PIN),
    ];
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            "pkcs11:token=L;object=aa",
            "--pkcs11-lib",
            MODULE,
            "--reuse-pin",
            "--format",
            "text",
        ]),
        &env,
    );
    let sig = sign_string_signature(&out, "text");
    let spki = spki::SubjectPublicKeyInfoRef::try_from(spki.as_slice()).unwrap();
    let public = spki.subject_public_key.raw_bytes();
    assert!(aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
        public
    )
    .verify(&sign_string_payload(None), &sig)
    .is_ok());
    // Without --reuse-pin there is nobody to ask for the context-specific PIN.
    let out = run_bin(
        &args(&[
            "sign-string",
            "--private-key",
            "pkcs11:token=L;object=aa",
            "--pkcs11-lib",
            MODULE,
        ]),
        &env,
    );
    assert_clean_failure(&out, "--reuse-pin");
}

#[test]
fn read_certificate_data_lists_token_certificates() {
    if !have_tools() {
        return;
    }
    let s = setup();
    let env = [("SOFTHSM2_CONF", s.hsm.conf.to_str().unwrap())];
    let out = run_bin(
        &args(&[
            "read-certificate-data",
            "--certificate",
            "pkcs11:token=L;type=cert",
            "--pkcs11-lib",
            MODULE,
        ]),
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Matching identities\n1) Hex Fingerprint: "),
        "{text}"
    );
    assert_eq!(text.matches("Hex Fingerprint").count(), 5);
    assert!(
        text.contains("Subject: CN=ec,O=Test\nIssuer: CN=int,O=Test\n"),
        "{text}"
    );
    // Every listed URI selects exactly its certificate.
    let uri = text
        .lines()
        .filter_map(|l| l.strip_prefix("URI: "))
        .find(|u| u.contains("object=ec"))
        .unwrap()
        .to_string();
    let out = run_bin(
        &args(&["sign-string", "--certificate", &uri, "--pkcs11-lib", MODULE]),
        &[env[0], (PIN_ENV, PIN)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No public match and no PIN: exit 1, as the official tool does
    // ("one matching slot, but no user PIN provided").
    let none = args(&[
        "read-certificate-data",
        "--certificate",
        "pkcs11:token=L;object=none",
        "--pkcs11-lib",
        MODULE,
    ]);
    let out = run_bin(&none, &env);
    assert_clean_failure(&out, "one matching slot, but no user PIN provided");
    // With a PIN the token is searched after logging in; nothing there is an empty listing.
    let out = run_bin(&none, &[env[0], (PIN_ENV, PIN)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "No matching identities\n"
    );
    // No token matches: exit 1 ("no matching slots").
    let out = run_bin(
        &args(&[
            "read-certificate-data",
            "--certificate",
            "pkcs11:token=nosuch;object=ec",
            "--pkcs11-lib",
            MODULE,
        ]),
        &env,
    );
    assert_clean_failure(&out, "no matching slots");
}

/// The other long-running commands load token keys the same way: `update` writes credentials
/// signed by the token, and a real `serve` process answers the IMDSv2 flow with them.
#[test]
fn token_keys_work_in_update_and_serve() {
    if !have_tools() {
        return;
    }
    let s = setup();
    let run = start(&s.pki, emulator_config(&s.pki));
    let home = tempfile::tempdir().unwrap();
    let creds_file = home.path().join("credentials");
    let common = args(&[
        "--certificate",
        "pkcs11:token=L;object=ec",
        "--pkcs11-lib",
        MODULE,
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
    ]);
    let mut env = s.hsm.env(Some(&run));
    env.push((PIN_ENV, PIN));
    env.push(("AWS_SHARED_CREDENTIALS_FILE", creds_file.to_str().unwrap()));

    let mut update = args(&["update", "--once", "--profile", "token"]);
    update.extend(common.iter().cloned());
    update.push(run.emulator.url());
    let out = bin_command(&update, &env, home.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&creds_file).unwrap();
    assert!(
        text.starts_with("[token]\naws_access_key_id = ASIA"),
        "{text}"
    );

    let mut serve = args(&["serve", "--port", "0", "--container-token-file"]);
    serve.push(home.path().join("token").display().to_string());
    serve.extend(common.iter().cloned());
    serve.push(run.emulator.url());
    let served = spawn_serve(bin_command(&serve, &env, home.path()));
    let v = imds_credentials(served.port, "TestRole");
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    drop(served);
    assert_eq!(run.emulator.sessions_created(), 2);
}
