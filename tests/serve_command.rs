//! The real `serve` process against the Roles Anywhere emulator: it fetches at start, serves
//! botocore over IMDSv2 and the container route, fails cleanly when the first fetch fails, and
//! stops promptly on SIGTERM.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn export_value<'a>(lines: &'a [String], name: &str) -> &'a str {
    let prefix = format!("export {name}=");
    lines
        .iter()
        .find_map(|l| l.split_once(&prefix).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

fn botocore_get(env: &[(&str, &str)], home: &std::path::Path) -> Option<String> {
    if !have_python_module("botocore") {
        return None;
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-c", "import botocore.session as s; c = s.Session().get_credentials(); print(c.method, c.access_key)"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn serve_process_feeds_botocore_and_stops_on_sigterm() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("container-token");
    let mut args = cp_args(&run, &cert, Some(&key));
    args[0] = "serve".into();
    args.extend(
        [
            "--port",
            "0",
            "--container-token-file",
            token_file.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let mut served = spawn_serve(bin_command(
        &args,
        &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
        home.path(),
    ));
    let lines = served.banner.clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Local server started on port: ")),
        "{lines:?}"
    );
    assert_eq!(
        run.emulator.sessions_created(),
        1,
        "credentials are fetched at start"
    );
    let imds = export_value(&lines, "AWS_EC2_METADATA_SERVICE_ENDPOINT").to_string();
    let full_uri = export_value(&lines, "AWS_CONTAINER_CREDENTIALS_FULL_URI").to_string();
    let token_path = export_value(&lines, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").to_string();
    assert_eq!(token_path, token_file.to_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(
        !lines.iter().any(|l| l.contains(token.trim())),
        "the container token must never be printed"
    );

    if let Some(got) = botocore_get(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)], home.path()) {
        assert!(got.starts_with("iam-role ASIA"), "{got}");
        let got = botocore_get(
            &[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_path),
            ],
            home.path(),
        )
        .unwrap();
        assert!(got.starts_with("container-role ASIA"), "{got}");
    }
    assert_eq!(
        run.emulator.sessions_created(),
        1,
        "requests never trigger CreateSession"
    );

    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop within 3 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_exits_with_a_clear_error_when_the_first_fetch_fails() {
    let pki = Pki::new();
    let mut config = emulator_config(&pki);
    config.fail_first = 10;
    config.fail_status = 403;
    let run = start(&pki, config);
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let mut args = cp_args(&run, &cert, Some(&key));
    args[0] = "serve".into();
    args.extend(["--port".to_string(), "0".to_string()]);
    let out = run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    assert_clean_failure(&out, "StatusCode: 403");
    let mut bad = args.clone();
    bad.extend(["--hop-limit".to_string(), "0".to_string()]);
    let out = run_bin(&bad, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hop"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
