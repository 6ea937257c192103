//! credential-process end to end: the real binary, real HTTPS over loopback, the emulator
//! verifying every request as the service would. Keys and certificates are made in each test
//! by the `openssl` CLI (and rcgen for ML-DSA and expired certificates).

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// Issues a leaf for an rcgen key under the openssl-made root, with chosen validity.
fn rcgen_leaf(
    pki: &Pki,
    name: &str,
    key: rcgen::KeyPair,
    not_after: Option<(i32, u8, u8)>,
) -> (PathBuf, PathBuf) {
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(pki.path("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(pki.path("ca.pem")).unwrap(),
        ca_key,
    )
    .unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    if let Some((y, m, d)) = not_after {
        params.not_before = rcgen::date_time_ymd(y - 1, m, d);
        params.not_after = rcgen::date_time_ymd(y, m, d);
    }
    let cert = params.signed_by(&key, &issuer).unwrap();
    (
        pki.write(&format!("{name}.pem"), cert.pem().as_bytes()),
        pki.write(&format!("{name}.key"), key.serialize_pem().as_bytes()),
    )
}

#[test]
fn every_key_type_gets_credentials() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    for alg in [
        "rsa:2048", "rsa:3072", "rsa:4096", "ec:P-256", "ec:P-384", "ec:P-521",
    ] {
        let name = alg.replace(':', "-");
        let (cert, key) = pki.leaf(&name, alg);
        assert_credentials(&credential_process(&run, &cert, Some(&key), &[]));
    }
    assert_eq!(run.emulator.sessions_created(), 6);
}

#[test]
fn ml_dsa_keys_get_credentials() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    for (name, alg) in [
        ("mldsa44", &rcgen::PKCS_ML_DSA_44),
        ("mldsa65", &rcgen::PKCS_ML_DSA_65),
        ("mldsa87", &rcgen::PKCS_ML_DSA_87),
    ] {
        let (cert, key) = rcgen_leaf(&pki, name, rcgen::KeyPair::generate_for(alg).unwrap(), None);
        assert_credentials(&credential_process(&run, &cert, Some(&key), &[]));
    }
    assert_eq!(run.emulator.sessions_created(), 3);
}

fn convert(pki: &Pki, key: &Path, out: &str, args: &[&str]) -> PathBuf {
    let mut all = args.to_vec();
    let key = key.to_str().unwrap();
    all.extend(["-in", key, "-out", out]);
    openssl(pki.dir.path(), &all);
    pki.path(out)
}

#[test]
fn every_key_file_format_works() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    for alg in ["rsa:2048", "ec:P-256"] {
        let name = alg.replace(':', "-");
        let (cert, key) = pki.leaf(&name, alg);
        let der_cert = convert(
            &pki,
            &cert,
            &format!("{name}.crt.der"),
            &["x509", "-outform", "DER"],
        );
        let variants: Vec<(PathBuf, Vec<&str>)> = vec![
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.trad.pem"),
                    &["pkey", "-traditional"],
                ),
                vec![],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.p8.der"),
                    &["pkey", "-outform", "DER"],
                ),
                vec![],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.trad.der"),
                    &["pkey", "-traditional", "-outform", "DER"],
                ),
                vec![],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.aes256.pem"),
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-256-cbc",
                        "-v2prf",
                        "hmacWithSHA512",
                        "-passout",
                        "pass:s3cret",
                    ],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.aes192.pem"),
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-192-cbc",
                        "-v2prf",
                        "hmacWithSHA384",
                        "-passout",
                        "pass:s3cret",
                    ],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.aes128.pem"),
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-128-cbc",
                        "-v2prf",
                        "hmacWithSHA1",
                        "-passout",
                        "pass:s3cret",
                    ],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.sha256.pem"),
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-256-cbc",
                        "-v2prf",
                        "hmacWithSHA256",
                        "-passout",
                        "pass:s3cret",
                    ],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.scrypt.pem"),
                    &["pkcs8", "-topk8", "-scrypt", "-passout", "pass:s3cret"],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
            (
                convert(
                    &pki,
                    &key,
                    &format!("{name}.enc.der"),
                    &[
                        "pkcs8",
                        "-topk8",
                        "-v2",
                        "aes-256-cbc",
                        "-outform",
                        "DER",
                        "-passout",
                        "pass:s3cret",
                    ],
                ),
                vec!["--pkcs8-password", "s3cret"],
            ),
        ];
        for (variant, extra) in &variants {
            let out = credential_process(&run, &cert, Some(variant), extra);
            assert!(
                out.status.success(),
                "{}: {}",
                variant.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_credentials(&out);
        }
        assert_credentials(&credential_process(&run, &der_cert, Some(&key), &[]));
        // A combined file (key then certificate) needs only --certificate.
        let mut combined = std::fs::read(&key).unwrap();
        combined.extend(std::fs::read(&cert).unwrap());
        let combined = pki.write(&format!("{name}.combined.pem"), &combined);
        assert_credentials(&credential_process(&run, &combined, None, &[]));
    }
}

#[test]
fn pkcs12_files_work_modern_legacy_and_with_password() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("p12", "rsa:2048");
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    openssl(
        pki.dir.path(),
        &[
            "pkcs12",
            "-export",
            "-in",
            c,
            "-inkey",
            k,
            "-passout",
            "pass:",
            "-out",
            "modern.p12",
        ],
    );
    openssl(
        pki.dir.path(),
        &[
            "pkcs12",
            "-export",
            "-in",
            c,
            "-inkey",
            k,
            "-passout",
            "pass:pw",
            "-out",
            "modern-pw.p12",
        ],
    );
    openssl(
        pki.dir.path(),
        &[
            "pkcs12",
            "-export",
            "-in",
            c,
            "-inkey",
            k,
            "-certpbe",
            "PBE-SHA1-3DES",
            "-keypbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
            "-passout",
            "pass:",
            "-out",
            "legacy.p12",
        ],
    );
    assert_credentials(&credential_process(
        &run,
        &pki.path("modern.p12"),
        None,
        &[],
    ));
    assert_credentials(&credential_process(
        &run,
        &pki.path("legacy.p12"),
        None,
        &[],
    ));
    assert_credentials(&credential_process(
        &run,
        &pki.path("modern-pw.p12"),
        None,
        &["--pkcs8-password", "pw"],
    ));
    let wrong = credential_process(
        &run,
        &pki.path("modern-pw.p12"),
        None,
        &["--pkcs8-password", "nope"],
    );
    assert_clean_failure(&wrong, "modern-pw.p12");
}

#[test]
fn chains_via_intermediates_or_a_full_chain_file() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let int = pki.intermediate("int");
    pki.key("leaf", "ec:P-256");
    let leaf = pki.issue("leaf", "int", "leaf.ext", "10");
    let key = pki.path("leaf.key");
    // Without the intermediate the service cannot build the chain.
    let out = credential_process(&run, &leaf, Some(&key), &[]);
    assert_clean_failure(&out, "Untrusted certificate");
    assert_credentials(&credential_process(
        &run,
        &leaf,
        Some(&key),
        &["--intermediates", int.to_str().unwrap()],
    ));
    let mut full = std::fs::read(&leaf).unwrap();
    full.extend(std::fs::read(&int).unwrap());
    let full = pki.write("fullchain.pem", &full);
    assert_credentials(&credential_process(&run, &full, Some(&key), &[]));
}

#[test]
fn bad_files_fail_cleanly() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("good", "ec:P-256");
    let (_, other_key) = pki.leaf("other", "ec:P-256");
    let garbage = pki.write(
        "garbage.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
    );
    let empty = pki.write("empty.pem", b"");
    let missing = pki.path("missing.pem");
    let enc = convert(
        &pki,
        &key,
        "enc.pem",
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:right",
        ],
    );

    assert_clean_failure(
        &credential_process(&run, &missing, Some(&key), &[]),
        "missing.pem",
    );
    assert_clean_failure(
        &credential_process(&run, &cert, Some(&missing), &[]),
        "missing.pem",
    );
    assert_clean_failure(
        &credential_process(&run, &garbage, Some(&key), &[]),
        "garbage.pem",
    );
    assert_clean_failure(
        &credential_process(&run, &cert, Some(&garbage), &[]),
        "garbage.pem",
    );
    assert_clean_failure(
        &credential_process(&run, &empty, Some(&key), &[]),
        "empty.pem",
    );
    assert_clean_failure(
        &credential_process(&run, &cert, Some(&enc), &["--pkcs8-password", "wrong"]),
        "incorrect PKCS#8 private key password",
    );
    // No terminal and no password: a clear error instead of a prompt.
    assert_clean_failure(&credential_process(&run, &cert, Some(&enc), &[]), "enc.pem");
    assert_clean_failure(
        &credential_process(&run, &cert, Some(&other_key), &[]),
        "does not match",
    );
    assert_eq!(
        run.emulator.requests_seen(),
        0,
        "no request may be sent for bad local input"
    );
}

#[test]
fn expired_and_foreign_certificates_are_refused() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (expired, expired_key) = rcgen_leaf(
        &pki,
        "expired",
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
        Some((2021, 1, 1)),
    );
    assert_clean_failure(
        &credential_process(&run, &expired, Some(&expired_key), &[]),
        "expired",
    );
    assert_eq!(run.emulator.requests_seen(), 0);

    let other = Pki::new();
    let (foreign, foreign_key) = other.leaf("foreign", "ec:P-256");
    let out = credential_process(&run, &foreign, Some(&foreign_key), &[]);
    assert_clean_failure(&out, "AccessDeniedException: Untrusted certificate");
}

#[test]
fn bad_arns_and_regions_fail_before_any_request() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("good", "ec:P-256");
    let with = |flag: &str, value: &str| {
        let mut args = cp_args(&run, &cert, Some(&key));
        let i = args.iter().position(|a| a == flag).unwrap();
        args[i + 1] = value.to_string();
        run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())])
    };
    assert_clean_failure(
        &with("--trust-anchor-arn", "not-an-arn"),
        "failed to parse trust anchor arn: 'arn: invalid prefix'",
    );
    assert_clean_failure(
        &with("--profile-arn", "arn:aws:rolesanywhere"),
        "failed to parse profile arn: 'arn: not enough sections'",
    );
    assert_clean_failure(
        &with(
            "--profile-arn",
            "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/p",
        ),
        "trust anchor and profile regions don't match",
    );
    assert_clean_failure(&with("--role-arn", ""), "--role-arn");
    assert_clean_failure(
        &credential_process(&run, &cert, Some(&key), &["--session-duration", "100"]),
        "--session-duration",
    );
    assert_eq!(run.emulator.requests_seen(), 0);
}

#[test]
fn unreachable_and_stalled_endpoints_fail_in_bounded_time() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("good", "ec:P-256");
    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = vec![
        "credential-process".to_string(),
        "--certificate".into(),
        cert.display().to_string(),
        "--private-key".into(),
        key.display().to_string(),
        "--trust-anchor-arn".into(),
        TA_ARN.into(),
        "--profile-arn".into(),
        PROFILE_ARN.into(),
        "--role-arn".into(),
        ROLE_ARN.into(),
        "--endpoint".into(),
        format!("https://127.0.0.1:{port}"),
    ];
    let out = run_bin(&args, &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_clean_failure(&out, "StatusCode: 0");

    let mut config = emulator_config(&pki);
    config.stall = true;
    let run = start(&pki, config);
    let i = args.iter().position(|a| a == "--endpoint").unwrap();
    args[i + 1] = run.emulator.url();
    args.extend(["--timeout".to_string(), "1".to_string()]);
    let out = run_bin(
        &args,
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_MAX_ATTEMPTS", "2"),
        ],
    );
    assert_clean_failure(&out, "exceeded maximum number of attempts, 2");
}

#[test]
fn retries_5xx_but_not_403() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("good", "ec:P-256");
    let mut config = emulator_config(&pki);
    config.fail_first = 2;
    config.fail_status = 503;
    let run = start(&pki, config);
    assert_credentials(&credential_process(&run, &cert, Some(&key), &[]));
    assert_eq!(run.emulator.requests_seen(), 3);
    assert_eq!(run.emulator.sessions_created(), 1);

    let mut config = emulator_config(&pki);
    config.fail_first = 1;
    config.fail_status = 403;
    let run = start(&pki, config);
    let out = credential_process(&run, &cert, Some(&key), &[]);
    assert_clean_failure(&out, "StatusCode: 403");
    assert_eq!(run.emulator.requests_seen(), 1, "a 403 must not be retried");
}

#[test]
fn signs_again_with_the_service_clock_when_this_one_is_off() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("good", "ec:P-256");
    // (A service clock behind ours is unit-tested: the fresh test certificate would not be
    // valid yet at the service's time.)
    for (offset_hours, direction) in [(2, "behind"), (30, "behind")] {
        let mut config = emulator_config(&pki);
        config.clock_offset = jiff::SignedDuration::from_hours(offset_hours);
        let run = start(&pki, config);
        // One attempt allowed: the corrected request is not counted as a retry.
        let out = run_bin(
            &cp_args(&run, &cert, Some(&key)),
            &[
                ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
                ("AWS_MAX_ATTEMPTS", "1"),
            ],
        );
        assert_credentials(&out);
        assert_eq!(
            run.emulator.requests_seen(),
            2,
            "refused once, then accepted"
        );
        assert_eq!(run.emulator.sessions_created(), 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("s {direction} the service's")),
            "{stderr}"
        );
    }

    // Within the allowed skew nothing is corrected or printed.
    let mut config = emulator_config(&pki);
    config.clock_offset = jiff::SignedDuration::from_secs(120);
    let run = start(&pki, config);
    let out = credential_process(&run, &cert, Some(&key), &[]);
    assert_credentials(&out);
    assert!(out.stderr.is_empty());
    assert_eq!(run.emulator.requests_seen(), 1);
}

#[test]
fn debug_output_shows_the_exchange_without_secrets() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("good", "ec:P-256");
    let enc = convert(
        &pki,
        &key,
        "enc.pem",
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:TopSecretPassw0rd",
        ],
    );
    let out = credential_process(
        &run,
        &cert,
        Some(&enc),
        &["--debug", "--pkcs8-password", "TopSecretPassw0rd"],
    );
    let v = assert_credentials(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("canonical request"), "{stderr}");
    assert!(stderr.contains("string to sign"));
    assert!(stderr.contains("AWS4-X509-ECDSA-SHA256"));
    for secret in [
        v["SecretAccessKey"].as_str().unwrap(),
        v["SessionToken"].as_str().unwrap(),
        "TopSecretPassw0rd",
    ] {
        assert!(
            !stderr.contains(secret),
            "secret leaked into --debug output"
        );
    }
    // The request signature is a bearer proof for five minutes: shown only as redacted.
    for (i, _) in stderr.match_indices("Signature=") {
        assert!(
            stderr[i..].starts_with("Signature=** redacted **"),
            "signature shown: {}",
            &stderr[i..(i + 40).min(stderr.len())]
        );
    }
    assert!(stderr.contains("Signature=** redacted **"));
}

#[test]
fn cli_matches_the_official_surface() {
    let out = run_bin(&[], &[]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("credential-process"),
        "root help goes to stdout"
    );
    let out = run_bin(&["version".to_string()], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run_bin(
        &[
            "credential-process".into(),
            "--certificate".into(),
            "a".into(),
            "--cert-selector".into(),
            "b".into(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("if any flags in the group [certificate cert-selector] are set none of the others can be; [cert-selector certificate] were all set"));
    let out = run_bin(&["credential-process".into(), "--no-such-flag".into()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_bin(&["credential-process".into(), "--help".into()], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--role-arn",
        "--profile-arn",
        "--trust-anchor-arn",
        "--session-duration",
        "--region",
        "--endpoint",
        "--no-verify-ssl",
        "--with-proxy",
        "--debug",
        "--certificate",
        "--private-key",
        "--intermediates",
        "--cert-selector",
        "--system-store-name",
        "--use-latest-expiring-certificate",
        "--pkcs11-lib",
        "--reuse-pin",
        "--tpm-key-password",
        "--no-tpm-key-password",
        "--role-session-name",
        "--pkcs8-password",
    ] {
        assert!(help.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn extreme_timeouts_never_panic() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("t", "ec:P-256");
    // The largest i64 used to abort with "overflow when adding duration to instant".
    assert_credentials(&credential_process(
        &run,
        &cert,
        Some(&key),
        &["--timeout", "9223372036854775807"],
    ));
    for bad in ["--timeout=0", "--timeout=-9223372036854775808"] {
        assert_clean_failure(
            &credential_process(&run, &cert, Some(&key), &[bad]),
            "must be at least 1 second",
        );
    }
    assert_eq!(run.emulator.sessions_created(), 1);
}

/// TLS and protocol mistakes are not retried and say what is wrong: `http://` to an HTTPS
/// endpoint, `https://` to a plain one, and a server certificate nobody vouches for.
#[test]
fn tls_and_protocol_errors_are_not_retried_and_get_a_tls_hint() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("t", "ec:P-256");
    let with_endpoint = |url: &str, ca: bool| {
        let mut args = cp_args(&run, &cert, Some(&key));
        let i = args.iter().position(|a| a == "--endpoint").unwrap();
        args[i + 1] = url.to_string();
        let bundle = run.ca_bundle.to_str().unwrap().to_string();
        let env: Vec<(&str, &str)> = if ca {
            vec![("AWS_CA_BUNDLE", bundle.as_str())]
        } else {
            vec![]
        };
        run_bin(&args, &env)
    };
    let https = run.emulator.url();
    let plain = https.replacen("https://", "http://", 1);
    let out = with_endpoint(&plain, true);
    assert_clean_failure(&out, "use https://");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("exceeded maximum number of attempts"),
        "{stderr}"
    );
    let out = with_endpoint(&https, false);
    assert_clean_failure(&out, "AWS_CA_BUNDLE");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("exceeded maximum number of attempts"),
        "{stderr}"
    );
    assert!(!stderr.contains("check network access"), "{stderr}");
    // https:// to a plain-HTTP emulator.
    let plain_emulator = aws_signing_helper::emulator::Emulator::start(
        emulator_config(&pki),
        "127.0.0.1:0".parse().unwrap(),
        false,
    )
    .unwrap();
    let wrong = plain_emulator.url().replacen("http://", "https://", 1);
    let out = with_endpoint(&wrong, true);
    assert_clean_failure(&out, "TLS");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("exceeded maximum number of attempts"),
        "{stderr}"
    );
    assert_eq!(run.emulator.sessions_created(), 0);
}

/// The mistakes newcomers make are named before any request: certificate and key swapped,
/// the CA's certificate as the client's, and a profile ARN swapped with the role ARN.
#[test]
fn swapped_files_ca_as_client_and_swapped_arns_are_named() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    assert_clean_failure(
        &credential_process(&run, &key, Some(&cert), &[]),
        "they look swapped",
    );
    assert_clean_failure(
        &credential_process(&run, &pki.path("ca.pem"), Some(&pki.path("ca.key")), &[]),
        "is a CA certificate (basicConstraints CA:TRUE), not a client certificate",
    );
    let mut args = cp_args(&run, &cert, Some(&key));
    let p = args.iter().position(|a| a == "--profile-arn").unwrap();
    let r = args.iter().position(|a| a == "--role-arn").unwrap();
    args.swap(p + 1, r + 1);
    let out = run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    assert_clean_failure(&out, "--profile-arn and --role-arn look swapped");
    assert_eq!(run.emulator.requests_seen(), 0);
}
