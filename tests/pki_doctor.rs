//! `pki` and `doctor` end to end: certificates made by `pki` get credentials from the emulator
//! and pass `openssl verify -purpose sslclient`; `doctor` catches each defect of deliberately
//! broken certificates made with the `openssl` CLI, and passes a good one.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn pki_cmd(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["pki".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    let out = std::process::Command::new(bin())
        .args(&all)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    out
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn openssl_verify(dir: &Path, ca: &str, cert: &str) {
    openssl(
        dir,
        &["verify", "-purpose", "sslclient", "-CAfile", ca, cert],
    );
}

#[test]
fn pki_certificates_work_end_to_end_and_with_openssl_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = ok(pki_cmd(
        d,
        &["ca", "--cn", "E2E CA", "--key-password", "ca-secret"],
    ));
    assert!(
        out.contains("aws rolesanywhere create-trust-anchor"),
        "{out}"
    );
    let source: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("ca.trust-anchor.json")).unwrap()).unwrap();
    assert_eq!(source["sourceType"], "CERTIFICATE_BUNDLE");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The CA key is encrypted: openssl reads it with the password only.
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "ca.key",
            "-passin",
            "pass:ca-secret",
            "-noout",
        ],
    );

    let pki = Pki::new(); // only for its emulator helpers; the anchor is our CA
    let mut config = emulator_config(&pki);
    config.trust_anchors =
        aws_signing_helper::identity::file::load_certificates(&d.join("ca.pem")).unwrap();
    let run = start(&pki, config);

    let mut made: Vec<(PathBuf, PathBuf, Vec<&str>)> = Vec::new();
    for (name, key_type) in [
        ("ec", "ec-p256"),
        ("ec384", "ec-p384"),
        ("rsa", "rsa-2048"),
        ("mldsa", "ml-dsa-65"),
    ] {
        ok(pki_cmd(
            d,
            &[
                "issue",
                "--cn",
                name,
                "--key-type",
                key_type,
                "--out",
                name,
                "--ca-key-password",
                "ca-secret",
                "--san",
                "dns:w.example",
                "--days",
                "30",
            ],
        ));
        if key_type != "ml-dsa-65" {
            // OpenSSL before 3.5 cannot read ML-DSA keys.
            openssl_verify(d, "ca.pem", &format!("{name}.pem"));
        }
        made.push((
            d.join(format!("{name}.pem")),
            d.join(format!("{name}.key")),
            vec![],
        ));
    }
    // An encrypted client key.
    ok(pki_cmd(
        d,
        &[
            "issue",
            "--cn",
            "enc",
            "--out",
            "enc",
            "--ca-key-password",
            "ca-secret",
            "--key-password",
            "pw",
        ],
    ));
    openssl_verify(d, "ca.pem", "enc.pem");
    made.push((
        d.join("enc.pem"),
        d.join("enc.key"),
        vec!["--pkcs8-password", "pw"],
    ));
    // A CSR made by openssl, signed by pki sign-csr.
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "csr.key",
            "-out",
            "w.csr",
            "-subj",
            "/CN=from-csr/O=Test",
        ],
    );
    ok(pki_cmd(
        d,
        &[
            "sign-csr",
            "--csr",
            "w.csr",
            "--out",
            "csr.pem",
            "--ca-key-password",
            "ca-secret",
            "--san",
            "uri:spiffe://t/w",
        ],
    ));
    openssl_verify(d, "ca.pem", "csr.pem");
    made.push((d.join("csr.pem"), d.join("csr.key"), vec![]));

    for (cert, key, extra) in &made {
        assert_credentials(&credential_process(&run, cert, Some(key), extra));
        // doctor agrees (30-day certificates: a warning about expiry, no failure).
        let out = run_bin(
            &doctor_args(cert, Some(key), &[d.join("ca.pem")], TA_ARN, extra),
            &[],
        );
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{report}");
    }
    assert_eq!(run.emulator.sessions_created(), made.len() as u64);

    // Refusals are one clean line.
    assert_clean_failure(&pki_cmd(d, &["ca"]), "already exists");
    assert_clean_failure(
        &pki_cmd(d, &["issue", "--cn", "x", "--out", "x"]),
        "--ca-key-password",
    );
    assert_clean_failure(
        &pki_cmd(
            d,
            &[
                "issue",
                "--cn",
                "x",
                "--out",
                "x",
                "--ca-key-password",
                "wrong",
            ],
        ),
        "incorrect --ca-key-password",
    );
    std::fs::write(d.join("bad.csr"), "not a csr").unwrap();
    assert_clean_failure(
        &pki_cmd(
            d,
            &[
                "sign-csr",
                "--csr",
                "bad.csr",
                "--out",
                "b.pem",
                "--ca-key-password",
                "ca-secret",
            ],
        ),
        "--csr bad.csr",
    );
}

fn doctor_args(
    cert: &Path,
    key: Option<&Path>,
    anchors: &[PathBuf],
    ta_arn: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut a = vec!["doctor".to_string(), "--certificate".into(), s(cert)];
    if let Some(k) = key {
        a.extend(["--private-key".to_string(), s(k)]);
    }
    for t in anchors {
        a.extend(["--trust-anchor".to_string(), s(t)]);
    }
    a.extend([
        "--trust-anchor-arn".to_string(),
        ta_arn.into(),
        "--profile-arn".into(),
        PROFILE_ARN.into(),
        "--role-arn".into(),
        ROLE_ARN.into(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Runs doctor and returns (success, stdout).
fn doctor(pki: &Pki, cert: &Path, key: &Path, ta_arn: &str) -> (bool, String) {
    let out = run_bin(
        &doctor_args(cert, Some(key), &[pki.path("ca.pem")], ta_arn, &[]),
        &[],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if !out.status.success() {
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stderr.lines().count(), 1, "one stderr line: {stderr}");
    }
    (out.status.success(), stdout)
}

/// Asserts doctor fails with a FAIL line containing `needle` and a fix line after it.
fn assert_caught(pki: &Pki, cert: &Path, key: &Path, ta_arn: &str, needle: &str) {
    let (success, report) = doctor(pki, cert, key, ta_arn);
    assert!(!success, "doctor passed a defective certificate:\n{report}");
    let lines: Vec<&str> = report.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("[FAIL]") && l.contains(needle))
        .unwrap_or_else(|| panic!("no FAIL line with {needle:?}:\n{report}"));
    assert!(
        lines
            .get(i + 1)
            .is_some_and(|l| l.trim_start().starts_with("fix:")),
        "no fix after the failure:\n{report}"
    );
}

#[test]
fn doctor_catches_each_defect_and_passes_a_good_one() {
    let pki = Pki::new();
    let p = pki.dir.path();
    let run = start(&pki, emulator_config(&pki));

    // Good: passes doctor, and the emulator agrees.
    let (good, good_key) = pki.leaf("good", "ec:P-256");
    let (success, report) = doctor(&pki, &good, &good_key, TA_ARN);
    assert!(success, "{report}");
    assert!(report.contains("x509Subject/CN = good"), "{report}");
    assert!(report.contains("x509Subject/O = Test"), "{report}");
    assert!(report.contains("x509Issuer/CN = Test Root CA"), "{report}");
    assert!(report.contains("sourceIdentity    : CN=good"), "{report}");
    assert!(
        report.contains("\"aws:PrincipalTag/x509Subject/CN\": \"good\""),
        "{report}"
    );
    assert_credentials(&credential_process(&run, &good, Some(&good_key), &[]));

    let ext = |name: &str, text: &str| {
        pki.write(name, text.as_bytes());
    };
    // No digitalSignature.
    ext(
        "nods.ext",
        "keyUsage=critical,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    );
    pki.key("nods", "ec:P-256");
    let nods = pki.issue("nods", "ca", "nods.ext", "10");
    assert_caught(
        &pki,
        &nods,
        &pki.path("nods.key"),
        TA_ARN,
        "digitalSignature",
    );
    // No clientAuth.
    ext(
        "noca.ext",
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    pki.key("nocli", "ec:P-256");
    let nocli = pki.issue("nocli", "ca", "noca.ext", "10");
    assert_caught(&pki, &nocli, &pki.path("nocli.key"), TA_ARN, "clientAuth");
    // Expired (notAfter before notBefore: openssl x509 -days -1).
    pki.key("expired", "ec:P-256");
    let expired = pki.issue("expired", "ca", "leaf.ext", "-1");
    assert_caught(&pki, &expired, &pki.path("expired.key"), TA_ARN, "expired");
    // Wrong key.
    let other_key = pki.key("other", "ec:P-256");
    assert_caught(&pki, &good, &other_key, TA_ARN, "does not belong");
    // Region mismatch between the trust anchor and the profile.
    let west = "arn:aws:rolesanywhere:us-west-2:111122223333:trust-anchor/ta-1";
    assert_caught(&pki, &good, &good_key, west, "region mismatch");
    // Wrong CA: issued by another root (same name, different key).
    let other = Pki::new();
    let (foreign, foreign_key) = other.leaf("foreign", "ec:P-256");
    assert_caught(&pki, &foreign, &foreign_key, TA_ARN, "did not sign");
    // Wrong CA with another name.
    let sub = Pki {
        dir: tempfile::tempdir().unwrap(),
    };
    openssl(
        sub.dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Other Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    std::fs::copy(pki.path("leaf.ext"), sub.path("leaf.ext")).unwrap();
    let (stranger, stranger_key) = sub.leaf("stranger", "ec:P-256");
    assert_caught(
        &pki,
        &stranger,
        &stranger_key,
        TA_ARN,
        "does not lead to a trust anchor",
    );

    // No CA flag: an intermediate without basicConstraints CA:TRUE.
    ext("int-noca.ext", "keyUsage=critical,keyCertSign,cRLSign\n");
    pki.key("intnoca", "ec:P-256");
    let int = pki.issue("intnoca", "ca", "int-noca.ext", "20");
    pki.key("underint", "ec:P-256");
    let under = pki.issue("underint", "intnoca", "leaf.ext", "10");
    let out = run_bin(
        &doctor_args(
            &under,
            Some(&pki.path("underint.key")),
            &[pki.path("ca.pem")],
            TA_ARN,
            &["--intermediates", &s(&int)],
        ),
        &[],
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("lacks basicConstraints CA:TRUE"),
        "{report}"
    );
    // And as the trust anchor itself: a root without the CA flag.
    openssl(
        p,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "flat.key",
            "-out",
            "flat.csr",
            "-subj",
            "/CN=Flat Root",
        ],
    );
    ext("flat.ext", "keyUsage=critical,keyCertSign\n");
    openssl(
        p,
        &[
            "x509", "-req", "-in", "flat.csr", "-signkey", "flat.key", "-out", "flat.pem", "-days",
            "30", "-extfile", "flat.ext",
        ],
    );
    pki.key("underflat", "ec:P-256");
    let underflat = pki.issue("underflat", "flat", "leaf.ext", "10");
    let out = run_bin(
        &doctor_args(
            &underflat,
            Some(&pki.path("underflat.key")),
            &[pki.path("flat.pem")],
            TA_ARN,
            &[],
        ),
        &[],
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("\"CN=Flat Root\" lacks basicConstraints CA:TRUE"),
        "{report}"
    );

    // Each defect the doctor reported is one the emulator refuses too.
    for (cert, key) in [
        (&nods, pki.path("nods.key")),
        (&nocli, pki.path("nocli.key")),
        (&foreign, foreign_key.clone()),
        (&under, pki.path("underint.key")),
    ] {
        let out = credential_process(&run, cert, Some(&key), &["--intermediates", &s(&int)]);
        assert!(!out.status.success());
    }
    assert_eq!(run.emulator.sessions_created(), 1);

    // Bad input: one clean stderr line.
    assert_clean_failure(&run_bin(&["doctor".into()], &[]), "--certificate");
    assert_clean_failure(
        &run_bin(
            &[
                "doctor".into(),
                "--certificate".into(),
                s(&pki.path("missing.pem")),
            ],
            &[],
        ),
        "missing.pem",
    );
}

/// The `both` privateKey of an ML-DSA PKCS#8 file: (seed, expanded key).
fn mldsa_both_form(pem: &str) -> (Vec<u8>, Vec<u8>) {
    use der::{Decode, Reader};
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "PRIVATE KEY");
    let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
    assert!(info.public_key.is_none());
    let inner = info.private_key.as_bytes();
    assert_eq!(
        inner[0], 0x30,
        "privateKey must be the both SEQUENCE, not {:#x}",
        inner[0]
    );
    let mut reader = der::SliceReader::new(inner).unwrap();
    reader
        .sequence(|r| {
            let seed = <&der::asn1::OctetStringRef>::decode(r)?.as_bytes().to_vec();
            let expanded = <&der::asn1::OctetStringRef>::decode(r)?.as_bytes().to_vec();
            Ok::<_, der::Error>((seed, expanded))
        })
        .unwrap()
}

/// `pki` writes ML-DSA keys as OpenSSL 3.5 does (PKCS#8 with seed and expanded key), an ML-DSA
/// CA can issue, the keys read back with the certificate's public key, and `sign-string` gives
/// the same verifying signature on every run (deterministic ML-DSA, as the official tool).
#[test]
fn mldsa_keys_are_written_in_the_openssl_form_and_sign_deterministically() {
    use aws_lc_rs::signature as lc;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(pki_cmd(
        d,
        &["ca", "--key-type", "ml-dsa-65", "--out", "ca"],
    ));
    for (key_type, verify, expanded_len) in [
        ("ml-dsa-44", &lc::ML_DSA_44, 2560),
        ("ml-dsa-65", &lc::ML_DSA_65, 4032),
        ("ml-dsa-87", &lc::ML_DSA_87, 4896),
    ] {
        ok(pki_cmd(
            d,
            &[
                "issue",
                "--cn",
                key_type,
                "--key-type",
                key_type,
                "--out",
                key_type,
            ],
        ));
        let pem = std::fs::read_to_string(d.join(format!("{key_type}.key"))).unwrap();
        let (seed, expanded) = mldsa_both_form(&pem);
        assert_eq!(seed.len(), 32, "{key_type}");
        assert_eq!(expanded.len(), expanded_len, "{key_type}");

        // The certificate's public key is the key's.
        let cert = aws_signing_helper::identity::file::load_certificates(
            &d.join(format!("{key_type}.pem")),
        )
        .unwrap()
        .remove(0);
        let spki_key = <x509_cert::Certificate as der::Decode>::from_der(cert.der())
            .unwrap()
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let signer = aws_signing_helper::identity::file::load_private_key(
            &d.join(format!("{key_type}.key")),
            None,
        )
        .unwrap();
        assert_eq!(signer.public_key().unwrap(), spki_key, "{key_type}");

        // sign-string twice: identical, and verifying with the certificate's key.
        let args: Vec<String> = [
            "sign-string",
            "--certificate",
            &format!("{key_type}.pem"),
            "--private-key",
            &format!("{key_type}.key"),
            "--format",
            "text",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let run = || {
            std::process::Command::new(bin())
                .args(&args)
                .current_dir(d)
                .env_clear()
                .output()
                .unwrap()
        };
        let first = sign_string_signature(&run(), "text");
        let second = sign_string_signature(&run(), "text");
        assert_eq!(
            first, second,
            "{key_type}: signatures must be deterministic"
        );
        lc::UnparsedPublicKey::new(verify, &spki_key)
            .verify(&sign_string_payload(None), &first)
            .unwrap_or_else(|_| panic!("{key_type}: the signature does not verify"));
    }
    // The ML-DSA CA key is in the same form.
    let (seed, _) = mldsa_both_form(&std::fs::read_to_string(d.join("ca.key")).unwrap());
    assert_eq!(seed.len(), 32);
}

/// `pki issue` with no CA yet says to make one; its suggested credential_process line names
/// this very binary by its absolute path.
#[test]
fn pki_issue_guides_a_newcomer() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(bin())
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["pki", "issue", "--cn", "workload"]);
    assert_clean_failure(&out, "aws_signing_helper pki ca");
    assert!(run(&["pki", "ca", "--cn", "Test CA"]).status.success());
    let out = run(&["pki", "issue", "--cn", "workload"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("credential_process = "))
        .expect("a credential_process line");
    let program = line
        .split("credential_process = ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(std::path::Path::new(program).is_absolute(), "{line}");
    assert_eq!(
        std::fs::canonicalize(program).unwrap(),
        std::fs::canonicalize(bin()).unwrap()
    );
}

/// `pki revoke` + `pki crl` write a CRL the CA signed (openssl verifies it) that lists exactly
/// the revoked certificate; `doctor --crl` flags that one and passes the other.
#[test]
fn revocation_list_from_pki_is_checked_by_doctor() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(bin())
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(&["pki", "ca", "--cn", "CRL CA"]);
    ok(&["pki", "issue", "--cn", "gone", "--out", "gone"]);
    ok(&["pki", "issue", "--cn", "kept", "--out", "kept"]);
    ok(&["pki", "revoke", "--cert", "gone.pem"]);
    ok(&["pki", "crl"]);
    let serial = |file: &str| {
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-serial", "-in", file])
            .current_dir(dir.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .trim_start_matches("serial=")
            .to_string()
    };
    let crl = std::process::Command::new("openssl")
        .args([
            "crl",
            "-in",
            "ca.crl.pem",
            "-CAfile",
            "ca.pem",
            "-noout",
            "-text",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&crl.stdout).to_string();
    let verified = String::from_utf8_lossy(&crl.stderr).to_string();
    assert!(
        crl.status.success() && verified.contains("verify OK"),
        "{verified}"
    );
    assert!(text.contains(&serial("gone.pem")), "{text}");
    assert!(!text.contains(&serial("kept.pem")), "{text}");
    let doctor = |cert: &str| {
        run(&[
            "doctor",
            "--certificate",
            cert,
            "--trust-anchor",
            "ca.pem",
            "--crl",
            "ca.crl.pem",
        ])
    };
    let out = doctor("gone.pem");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("is revoked in --crl ca.crl.pem"),
        "{report}"
    );
    let out = doctor("kept.pem");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        report.contains("not revoked in --crl ca.crl.pem"),
        "{report}"
    );
}

#[test]
fn failures_about_a_flag_name_the_flag_then_the_library_error_whole() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("flags", "ec:P-256");
    let stderr_line = |out: &Output| {
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(text.lines().count(), 1, "{text}");
        // After the log timestamp (`2006/01/02 15:04:05 `), as the official tool prints it.
        let line = text.trim_end();
        match line.get(..20) {
            Some(stamp) if stamp.bytes().filter(u8::is_ascii_digit).count() == 14 => {
                line[20..].to_string()
            }
            _ => line.to_string(),
        }
    };
    // A trust anchor that is not there: the flag and its file, then the loader's own line.
    let missing = pki.path("no-such-anchor.pem");
    let out = run_bin(
        &doctor_args(
            &cert,
            Some(&key),
            std::slice::from_ref(&missing),
            TA_ARN,
            &[],
        ),
        &[],
    );
    assert_eq!(
        stderr_line(&out),
        format!(
            "--trust-anchor {m}: cannot read certificate file {m}: No such file or directory",
            m = missing.display()
        )
    );
    // An empty key password: the flag, then the library's message and its hint.
    let dir = tempfile::tempdir().unwrap();
    let out = pki_cmd(dir.path(), &["ca", "--cn", "Flag CA", "--key-password", ""]);
    assert_eq!(
        stderr_line(&out),
        "--key-password: the key password is empty (hint: give a non-empty password)"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
