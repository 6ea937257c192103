//! `update` end to end: the real binary writes the shared credentials file; botocore reads it;
//! concurrent writers and killed writers never lose or corrupt a profile; a failed refresh
//! leaves the last good credentials in place.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PRELUDE: &str =
    "# keep this comment\r\n[other]\r\nregion = eu-west-1\r\naws_access_key_id = KEEPME\r\n\r\n";

fn update_args(run: &Running, cert: &Path, key: &Path, profile: &str, once: bool) -> Vec<String> {
    let mut args = cp_args(run, cert, Some(key));
    args[0] = "update".into();
    args.extend(["--profile".to_string(), profile.to_string()]);
    if once {
        args.push("--once".into());
    }
    args
}

/// profile → key → value, with a strict parser (every non-blank, non-comment line must be a
/// header or `key = value`), so a torn or interleaved write fails the test.
fn parse(
    text: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            assert!(
                !out.contains_key(name),
                "duplicate section {name} in:\n{text}"
            );
            out.insert(name.to_string(), Default::default());
            current = Some(name.to_string());
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("malformed line {line:?} in:\n{text}"));
        out.get_mut(current.as_ref().expect("key before any section"))
            .unwrap()
            .insert(k.to_string(), v.to_string());
    }
    out
}

fn assert_profile(
    map: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    name: &str,
) {
    let p = map
        .get(name)
        .unwrap_or_else(|| panic!("profile {name} missing"));
    assert!(p["aws_access_key_id"].starts_with("ASIA"), "{name}: {p:?}");
    assert_eq!(p["aws_secret_access_key"].len(), 40);
    assert!(!p["aws_session_token"].is_empty());
}

#[test]
fn botocore_reads_the_file_update_writes() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let file = pki.write("credentials", PRELUDE.as_bytes());
    let out = run_bin(
        &update_args(&run, &cert, &key, "ra", true),
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(PRELUDE),
        "the rest of the file must be kept byte for byte:\n{text}"
    );
    let map = parse(&text);
    assert_profile(&map, "ra");
    if !have_python_module("botocore") {
        return;
    }
    let py = Command::new("python3")
        .args(["-c", "import botocore.session as s; c = s.Session(profile='ra').get_credentials(); print(c.method, c.access_key)"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &file)
        .env("AWS_CONFIG_FILE", pki.path("no-config"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        format!("shared-credentials-file {}", map["ra"]["aws_access_key_id"])
    );
}

#[test]
fn concurrent_updates_never_lose_a_profile() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let file = pki.write("credentials", PRELUDE.as_bytes());
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
    ];
    let rounds = 50;
    for round in 0..rounds {
        let children: Vec<_> = (0..10)
            .map(|i| {
                bin_command(
                    &update_args(&run, &cert, &key, &format!("p{i}"), true),
                    &env,
                    home.path(),
                )
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with(PRELUDE),
            "round {round}: prelude changed:\n{text}"
        );
        let map = parse(&text);
        assert_eq!(map["other"]["aws_access_key_id"], "KEEPME");
        for i in 0..10 {
            assert_profile(&map, &format!("p{i}"));
        }
        assert_eq!(map.len(), 11, "round {round}: unexpected sections");
    }
    assert_eq!(run.emulator.sessions_created(), 10 * rounds);
}

#[test]
fn a_writer_killed_mid_run_leaves_the_file_intact() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let file = pki.write("credentials", PRELUDE.as_bytes());
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
    ];
    let ok = bin_command(
        &update_args(&run, &cert, &key, "victim", true),
        &env,
        home.path(),
    )
    .output()
    .unwrap();
    assert!(ok.status.success());
    let mut killed = 0;
    for i in 0..30u64 {
        let mut child = bin_command(
            &update_args(&run, &cert, &key, "victim", true),
            &env,
            home.path(),
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        // Spread the kills over the whole run of a writer (start-up, request, write).
        std::thread::sleep(Duration::from_millis((i * 7) % 60));
        if child.kill().is_ok() {
            killed += 1;
        }
        let _ = child.wait();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with(PRELUDE),
            "kill {i}: prelude changed:\n{text}"
        );
        let map = parse(&text);
        assert_profile(&map, "victim");
        assert_eq!(map.len(), 2);
    }
    assert!(
        killed > 0,
        "no writer was killed; the test did not exercise anything"
    );
}

#[test]
fn failed_refresh_keeps_the_last_good_credentials() {
    let pki = Pki::new();
    let mut config = emulator_config(&pki);
    config.fail_after = Some(1);
    config.credential_lifetime = Some(Duration::from_secs(4));
    let run = start(&pki, config);
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let file = pki.write("credentials", PRELUDE.as_bytes());
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
        ("AWS_MAX_ATTEMPTS", "1"),
    ];
    let mut child = bin_command(
        &update_args(&run, &cert, &key, "loop", false),
        &env,
        home.path(),
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Wait (bounded) until the emulator has refused a refresh.
    let deadline = Instant::now() + Duration::from_secs(30);
    while run.emulator.requests_seen() < 2 {
        assert!(Instant::now() < deadline, "update never tried to refresh");
        assert!(
            child.try_wait().unwrap().is_none(),
            "update exited instead of retrying"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = parse(&std::fs::read_to_string(&file).unwrap());
    assert_profile(&first, "loop");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "update must keep running after a failed refresh"
    );
    let again = parse(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(first, again, "a failed refresh must not touch the file");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refresh failed"), "{stderr}");
    assert!(
        !stderr.contains(&first["loop"]["aws_secret_access_key"]),
        "secret in the log"
    );
    assert_eq!(run.emulator.sessions_created(), 1);
}

/// Without `--profile`, `AWS_PROFILE` names the profile, and the run says which one it writes;
/// a profile holding long-term keys is never overwritten without `--force`.
#[test]
fn update_never_overwrites_long_term_keys_without_force() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let original = "[lt]\naws_access_key_id = AKIDLONGTERM\naws_secret_access_key = s\n\n\
        [user]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\naws_session_token = t\n\n\
        [fresh]\nregion = eu-west-1\n";
    let file = pki.write("credentials", original.as_bytes());
    let mut args = update_args(&run, &cert, &key, "unused", true);
    let at = args.iter().position(|a| a == "--profile").unwrap();
    args.drain(at..at + 2);
    let env = |profile: &'static str| {
        vec![
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                file.to_str().unwrap().to_string(),
            ),
            ("AWS_PROFILE", profile.to_string()),
        ]
    };
    let go = |extra: &[&str], profile: &'static str| {
        let mut a = args.clone();
        a.extend(extra.iter().map(|s| s.to_string()));
        let e = env(profile);
        let e: Vec<(&str, &str)> = e.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_bin(&a, &e)
    };
    for (profile, why) in [("lt", "without an aws_session_token"), ("user", "AKIA")] {
        let out = go(&[], profile);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lines: Vec<_> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "the profile line, then one error: {stderr}");
        assert!(
            lines[0].contains(&format!("Writing profile [{profile}]")),
            "{stderr}"
        );
        assert!(
            lines[1].contains(&format!("refusing to overwrite profile [{profile}]"))
                && lines[1].contains(why)
                && lines[1].contains("--profile")
                && lines[1].contains("--force"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    }
    // Another profile through AWS_PROFILE: written, the long-term keys untouched.
    let out = go(&[], "fresh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Writing profile [fresh]"), "{stderr}");
    let map = parse(&std::fs::read_to_string(&file).unwrap());
    assert_profile(&map, "fresh");
    assert_eq!(map["lt"]["aws_access_key_id"], "AKIDLONGTERM");
    // --force replaces them.
    let out = go(&["--force"], "lt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let map = parse(&std::fs::read_to_string(&file).unwrap());
    assert_profile(&map, "lt");
    assert_eq!(map["user"]["aws_access_key_id"], "AKIAEXAMPLE");
}
