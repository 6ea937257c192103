//! MFA code sources end to end: `--mfa-process` and the profiles' `mfa_process` against moto's
//! STS; commands that fail, hang or print garbage; and the terminal prompt, driven through a
//! pseudo-terminal (`tests/support/pty_run.py`), asking again for malformed codes and for codes
//! STS refuses (the stand-in `tests/support/sts_standin.py` refuses 000000 as AWS refuses a
//! wrong code).

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

const MFA: &str = "arn:aws:iam::123456789012:mfa/alice";
const SERIAL: &str = "arn:aws:iam::000000000000:mfa/alice";
const LONG_TERM_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const LONG_TERM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYLONGTERMKEY";
/// Never contacted: the MFA code fails before any request.
const NOWHERE: &str = "http://127.0.0.1:9";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The environment of a run: long-term keys, the STS endpoint, the config file.
fn env<'a>(sts: &'a str, config: &'a Path) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", LONG_TERM_ID),
        ("AWS_SECRET_ACCESS_KEY", LONG_TERM_SECRET),
        ("AWS_ENDPOINT_URL_STS", sts),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
    ]
}

fn ok_json(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// A command printing `code` that appends a line to `log` each time it runs.
fn counting_process(log: &Path, code: &str) -> String {
    format!("sh -c 'echo ran >> {}; echo {code}'", log.display())
}

fn runs(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn mfa_process_flag_and_profile_setting_against_moto() {
    let Some(m) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs");
    let config = dir.path().join("config");
    // The default profile's mfa_process is a command that fails: the flag must win over it.
    std::fs::write(&config, "[default]\nmfa_process = false\n").unwrap();
    let process = counting_process(&log, "123456");
    let args = [
        "session-token",
        "--serial-number",
        MFA,
        "--mfa-process",
        &process,
        "--no-cache",
        "--output",
        "json",
    ];
    let v = ok_json(&run_bin(&s(&args), &env(&m.url, &config)));
    assert_eq!(v["Mfa"], true);
    assert_eq!(runs(&log), 1);

    // The profile in use names the command; an assume-role with MFA runs it once.
    std::fs::write(
        &config,
        format!("[profile work]\nmfa_process = {process}\n"),
    )
    .unwrap();
    let mut e = env(&m.url, &config);
    e.push(("AWS_PROFILE", "work"));
    let args = [
        "assume-role",
        "--role-arn",
        "arn:aws:iam::210987654321:role/Target",
        "--serial-number",
        MFA,
        "--duration",
        "7200",
        "--no-cache",
        "--output",
        "json",
    ];
    let v = ok_json(&run_bin(&s(&args), &e));
    assert_eq!(v["Mfa"], true);
    assert_eq!(runs(&log), 2);

    // A role profile with mfa_serial and mfa_process (keys from the environment).
    std::fs::write(
        &config,
        format!(
            "[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\ncredential_source = Environment\nmfa_serial = {MFA}\nmfa_process = {process}\n"
        ),
    )
    .unwrap();
    let v = ok_json(&run_bin(
        &s(&["export", "admin", "--no-cache", "--output", "json"]),
        &env(&m.url, &config),
    ));
    assert!(
        v["Arn"].as_str().unwrap().contains("assumed-role/Admin"),
        "{v}"
    );
    assert_eq!(runs(&log), 3);
}

#[test]
fn a_failing_hanging_or_chattering_mfa_process_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "").unwrap();
    let run = |process: &str, extra: &[&str]| {
        let mut args = s(&[
            "session-token",
            "--serial-number",
            MFA,
            "--mfa-process",
            process,
            "--no-cache",
        ]);
        args.extend(s(extra));
        run_bin(&args, &env(NOWHERE, &config))
    };
    // Its stderr reaches the user; the error names the command.
    let out = run("sh -c 'echo device not found >&2; exit 4'", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("device not found"), "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.contains("MFA process \"sh -c") && last.contains("failed"),
        "{stderr}"
    );

    // Not a code: the error does not repeat what it printed (it may hold the code).
    let out = run("sh -c 'echo 98765$((4))x'", &[]);
    assert_clean_failure(&out, "did not print a 6-digit MFA code");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("987654x"));

    // Too much output, a missing program, a bad command line.
    let out = run("yes 123456", &[]);
    assert_clean_failure(&out, "printed more than 4096 bytes");
    let out = run("/nonexistent/ykman oath accounts code", &[]);
    assert_clean_failure(&out, "cannot run \"/nonexistent/ykman\"");
    let out = run("'unbalanced", &[]);
    assert_clean_failure(&out, "is not a valid command line");

    // A command that hangs is stopped at its time-out.
    let out = run("sleep 30", &["--mfa-process-timeout", "1"]);
    assert_clean_failure(&out, "did not finish within 1 seconds");

    // A command without a device to ask for.
    let out = run_bin(
        &s(&[
            "session-token",
            "--mfa-process",
            "echo 123456",
            "--no-cache",
        ]),
        &env(NOWHERE, &config),
    );
    assert_clean_failure(&out, "--mfa-process needs --serial-number");

    // --token-code and --mfa-process exclude each other.
    let out = run("true", &["--token-code", "123456"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}

fn have_python() -> bool {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI"
        );
        eprintln!("skipping: python3 is not installed");
    }
    ok
}

#[test]
fn the_terminal_asks_again_for_malformed_and_refused_codes() {
    if !have_python() {
        return;
    }
    let Some(sts) = Standin::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "").unwrap();
    let url = sts.url();
    let args = s(&[
        "session-token",
        "--serial-number",
        SERIAL,
        "--no-cache",
        "--output",
        "json",
    ]);
    // Malformed, then refused by STS, then right.
    let run = run_in_pty(&args, &env(&url, &config), &["12ab", "000000", "123456"]);
    assert_eq!(run.status, 0, "{}", run.terminal);
    assert_eq!(run.answered, 3, "{}", run.terminal);
    assert!(run.terminal.contains("not an MFA code"), "{}", run.terminal);
    assert!(
        run.terminal.contains("STS did not accept the MFA code"),
        "{}",
        run.terminal
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(v["Mfa"], true);
    let codes: Vec<_> = sts.calls().iter().map(|c| c["code"].clone()).collect();
    assert_eq!(
        codes,
        ["000000", "123456"],
        "only well-formed codes are sent"
    );

    // Three wrong codes in all, then it gives up.
    let n = sts.calls().len();
    let run = run_in_pty(&args, &env(&url, &config), &["1", "000000", "x"]);
    assert_eq!(run.status, 1, "{}", run.terminal);
    assert!(
        run.terminal.contains("no valid MFA code") && run.terminal.contains("after 3 attempts"),
        "{}",
        run.terminal
    );
    assert!(run.stdout.is_empty());
    assert_eq!(sts.calls().len(), n + 1);

    // A refused code that was not typed is not asked for again (the terminal is there).
    let n = sts.calls().len();
    let mut with_flag = args.clone();
    with_flag.extend(s(&["--token-code", "000000"]));
    let run = run_in_pty(&with_flag, &env(&url, &config), &["123456"]);
    assert_eq!(run.status, 1, "{}", run.terminal);
    assert_eq!(run.answered, 0, "{}", run.terminal);
    assert!(
        run.terminal.contains("invalid MFA one time pass code")
            && run.terminal.contains("--token-code was refused"),
        "{}",
        run.terminal
    );
    let mut with_process = args.clone();
    with_process.extend(s(&["--mfa-process", "echo 000000"]));
    let run = run_in_pty(&with_process, &env(&url, &config), &["123456"]);
    assert_eq!(run.status, 1, "{}", run.terminal);
    assert_eq!(run.answered, 0, "{}", run.terminal);
    assert!(
        run.terminal
            .contains("printed by the MFA process was refused"),
        "{}",
        run.terminal
    );
    assert_eq!(sts.calls().len(), n + 2);
}

#[test]
fn a_refused_code_for_a_role_is_asked_again_through_the_profile() {
    if !have_python() {
        return;
    }
    let Some(sts) = Standin::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    // Over an hour: AssumeRole itself carries the code (no MFA session).
    std::fs::write(
        &config,
        format!("[profile m]\nrole_arn = arn:aws:iam::111111111111:role/MfaRole\ncredential_source = Environment\nmfa_serial = {SERIAL}\nduration_seconds = 7200\n"),
    )
    .unwrap();
    let run = run_in_pty(
        &s(&["export", "m", "--no-cache", "--output", "json"]),
        &env(&sts.url(), &config),
        &["000000", "654321"],
    );
    assert_eq!(run.status, 0, "{}", run.terminal);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert!(
        v["Arn"].as_str().unwrap().contains("assumed-role/MfaRole"),
        "{v}"
    );
    let calls = sts.calls();
    let codes: Vec<_> = calls
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .map(|c| c["code"].clone())
        .collect();
    assert_eq!(codes, ["000000", "654321"], "{calls:?}");
}
