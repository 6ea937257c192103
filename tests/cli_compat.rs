//! Command lines parse as the official tool's (cobra/pflag) do, run through the real binary:
//! repeated flags, dash-leading values, extra arguments, `--flag false`, single-dash long flags,
//! `help TOPIC`, `completion --no-descriptions` and `--version`.

mod common;

use common::*;

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A real CreateSession with a line only pflag semantics accept: every identity flag given
/// twice (the first value wrong), and an encrypted key whose password starts with a dash.
#[test]
fn credential_process_takes_the_last_value_and_dash_leading_values() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    openssl(
        pki.dir.path(),
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            key.to_str().unwrap(),
            "-out",
            "client-enc.key",
            "-passout",
            "pass:-dashpw",
        ],
    );
    let enc = pki.path("client-enc.key");
    let mut args = cp_args(&run, &pki.path("nosuch.pem"), Some(&pki.path("nosuch.key")));
    args.extend(strings(&[
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        enc.to_str().unwrap(),
        "--pkcs8-password",
        "wrong",
        "--pkcs8-password",
        "-dashpw",
        "--session-duration",
        "1200",
        "--session-duration",
        "900",
    ]));
    let out = run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    let doc = assert_credentials(&out);
    assert!(
        stderr(&out).is_empty(),
        "no warning expected: {}",
        stderr(&out)
    );
    let exp: jiff::Timestamp = doc["Expiration"].as_str().unwrap().parse().unwrap();
    let left = exp.duration_since(jiff::Timestamp::now()).as_secs();
    assert!(
        (800..=900).contains(&left),
        "the last --session-duration (900) wins: {left}s left"
    );
}

/// `--session-duration -1` reaches validation (pflag takes `-1` as the value) and fails there.
#[test]
fn a_negative_session_duration_fails_in_validation() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let out = credential_process(&run, &cert, Some(&key), &["--session-duration", "-1"]);
    assert_clean_failure(&out, "--session-duration -1 is out of range");
}

/// Extra words are ignored with one warning line naming them; `--debug false` turns `--debug`
/// on (as pflag does) and the warning says how to turn it off.
#[test]
fn extra_arguments_are_ignored_with_one_warning_line() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let out = credential_process(&run, &cert, Some(&key), &["stray", "words"]);
    assert_credentials(&out);
    let err = stderr(&out);
    let lines: Vec<_> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains(r#"warning: ignoring extra arguments "stray" "words""#),
        "{err}"
    );

    let out = credential_process(&run, &cert, Some(&key), &["--debug", "false"]);
    assert_credentials(&out);
    let err = stderr(&out);
    let warnings: Vec<_> = err.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains(r#"ignoring extra arguments "false""#)
            && warnings[0].contains("--debug=false to turn it off"),
        "{err}"
    );
    assert!(
        err.contains("canonical request:"),
        "--debug is on, so the canonical request is printed: {err}"
    );

    // Other commands too: version prints its version and warns.
    let out = run_bin(&strings(&["version", "extra"]), &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    assert!(stderr(&out).contains(r#"ignoring extra arguments "extra""#));
}

/// `-certificate` stays a usage error (pflag reads it as short flags), now with a hint; the
/// usage error keeps its format.
#[test]
fn single_dash_long_flags_fail_with_a_hint() {
    let out = run_bin(
        &strings(&["credential-process", "-certificate", "c.pem"]),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unexpected argument '-c' found"),
        "{err}"
    );
    assert!(
        err.contains("tip: flags take two dashes: use --certificate instead of -certificate"),
        "{err}"
    );
    assert!(
        err.contains("Usage: aws_signing_helper credential-process [OPTIONS]"),
        "{err}"
    );
}

/// `help nosuch` prints cobra's line and the root usage on stderr and exits 0; `--version` is
/// the `version` command; `completion bash --no-descriptions` works.
#[test]
fn help_topics_version_and_completion_flags_as_in_cobra() {
    let out = run_bin(&strings(&["help", "nosuch"]), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.starts_with("Unknown help topic [`nosuch`]\n"), "{err}");
    assert!(err.contains("Usage: aws_signing_helper"), "{err}");
    assert!(err.contains("credential-process"), "{err}");

    // Words after a command are its arguments, which cobra's help ignores: the command's help.
    let out = run_bin(&strings(&["help", "serve", "extra"]), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Usage: aws_signing_helper serve [OPTIONS]"),
        "{help}"
    );
    let direct = run_bin(&strings(&["serve", "--help"]), &[]);
    assert_eq!(out.stdout, direct.stdout);

    let version = run_bin(&strings(&["version"]), &[]);
    let flag = run_bin(&strings(&["--version"]), &[]);
    assert!(flag.status.success());
    assert_eq!(flag.stdout, version.stdout);
    assert_eq!(
        String::from_utf8_lossy(&flag.stdout),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );

    for shell in ["bash", "zsh", "fish", "powershell"] {
        let with = run_bin(&strings(&["completion", shell]), &[]);
        let without = run_bin(&strings(&["completion", shell, "--no-descriptions"]), &[]);
        assert!(without.status.success(), "{shell}: {}", stderr(&without));
        let text = String::from_utf8_lossy(&without.stdout);
        assert!(text.contains("trust-anchor-arn"), "{shell}");
        assert!(
            !text.contains("ARN of the Roles Anywhere trust anchor"),
            "{shell}: descriptions left in"
        );
        if shell != "bash" {
            // bash scripts carry no descriptions in the first place.
            assert!(
                String::from_utf8_lossy(&with.stdout)
                    .contains("ARN of the Roles Anywhere trust anchor"),
                "{shell}"
            );
        }
    }
}

/// `--endpoint ""` (an unset shell variable) is refused instead of silently meaning AWS's
/// public endpoint; for STS too.
#[test]
fn an_empty_endpoint_is_an_error() {
    for argv in [
        &[
            "credential-process",
            "--endpoint",
            "",
            "--certificate",
            "c.pem",
        ][..],
        &["session-token", "--endpoint", ""],
    ] {
        let out = run_bin(&strings(argv), &[]);
        assert_eq!(out.status.code(), Some(1), "{argv:?}");
        assert!(
            stderr(&out).contains("--endpoint is empty"),
            "{}",
            stderr(&out)
        );
    }
}

/// `emulator --background` returns once the emulator listens, with its URL on stdout; the
/// README's block (CreateSession against that URL right away) works when pasted at once.
#[test]
fn emulator_in_the_background_is_ready_when_it_returns() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let url_file = pki.path("url.txt");
    let ca_out = pki.path("emulator-ca.pem");
    let out = run_bin(
        &strings(&[
            "emulator",
            "--background",
            "--trust-anchor",
            pki.path("ca.pem").to_str().unwrap(),
            "--server-ca-out",
            ca_out.to_str().unwrap(),
            "--url-file",
            url_file.to_str().unwrap(),
        ]),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let url = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(std::fs::read_to_string(&url_file).unwrap().trim(), url);
    let pid: i32 = stderr(&out)
        .split("pid ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|p| p.trim().parse().ok())
        .expect("the pid on stderr");
    let mut args = strings(&[
        "credential-process",
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
    ]);
    args.push(url);
    let got = run_bin(&args, &[("AWS_CA_BUNDLE", ca_out.to_str().unwrap())]);
    let killed = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert_credentials(&got);
    assert!(killed, "the background emulator was running");
    // A bad trust anchor: the error of the background process, and a failure here.
    let out = run_bin(
        &strings(&[
            "emulator",
            "--background",
            "--trust-anchor",
            "/nonexistent.pem",
        ]),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did not start"), "{}", stderr(&out));
}
