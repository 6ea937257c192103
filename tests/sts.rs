//! STS end to end: the real binary against moto's STS server (from PyPI, `moto[server]`),
//! started on loopback by each test and killed when the test ends; Roles Anywhere chaining
//! against our emulator.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

const MFA: &str = "arn:aws:iam::123456789012:mfa/alice";
const TARGET_ROLE: &str = "arn:aws:iam::210987654321:role/Target";
const LONG_TERM_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const LONG_TERM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYLONGTERMKEY";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Runs the binary against moto with long-term keys in the environment and a cache dir.
fn run(m: &Moto, cache: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", LONG_TERM_ID),
        ("AWS_SECRET_ACCESS_KEY", LONG_TERM_SECRET),
        ("AWS_ENDPOINT_URL_STS", m.url.as_str()),
        ("AWS_SIGNING_HELPER_CACHE_DIR", cache.to_str().unwrap()),
    ];
    env.extend_from_slice(extra_env);
    run_bin(&s(args), &env)
}

fn json(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    assert!(!stderr.contains(LONG_TERM_SECRET), "secret on stderr");
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn assume(role: &str, extra: &[&str]) -> Vec<String> {
    let mut v = s(&["assume-role", "--role-arn", role, "--output", "json"]);
    v.extend(s(extra));
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn session_token_with_mfa_is_cached_privately() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("sts");
    let args = [
        "session-token",
        "--serial-number",
        MFA,
        "--token-code",
        "123456",
        "--duration",
        "900",
        "--output",
        "json",
    ];
    let v = json(&run(&m, &dir, &args, &[]));
    assert_eq!(v["Version"], 1);
    assert_eq!(v["Mfa"], true);
    assert_eq!(v["AccountId"], "123456789012");
    assert!(v["Expiration"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .is_ok());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        std::fs::metadata(&entries[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Cached: a second run needs no code (stdin is not a terminal, so it could not prompt).
    let again = run(
        &m,
        &dir,
        &["session-token", "--serial-number", MFA, "--output", "json"],
        &[],
    );
    assert_eq!(json(&again)["SessionToken"], v["SessionToken"]);
    // Without the cache it must ask, and cannot.
    let out = run(
        &m,
        &dir,
        &["session-token", "--serial-number", MFA, "--no-cache"],
        &[],
    );
    assert_clean_failure(&out, "--token-code is needed");
}

#[test]
fn region_and_endpoint_come_from_the_shared_config() {
    let Some(m) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = us-west-2\n\n[profile work]\nregion = eu-west-3\nservices = local\n\n[services local]\nsts =\n  endpoint_url = {}\n",
            m.url
        ),
    )
    .unwrap();
    let out = run(
        &m,
        &dir.path().join("cache"),
        &["session-token", "--no-cache", "--output", "json", "--debug"],
        &[
            // Empty means unset: only the config file names the endpoint and region.
            ("AWS_ENDPOINT_URL_STS", ""),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_PROFILE", "work"),
        ],
    );
    let v = json(&out);
    assert!(v["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/eu-west-3/sts/aws4_request"),
        "signed for the profile's region: {stderr}"
    );
    assert!(stderr.contains(&format!("POST {}", m.url)), "{stderr}");
}

#[test]
fn assume_role_with_external_id_cache_hit_and_expiry() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let a = assume(
        TARGET_ROLE,
        &["--external-id", "ext-123", "--role-session-name", "s1"],
    );
    let first = json(&run(&m, cache.path(), &refs(&a), &[]));
    assert_eq!(first["AccountId"], "210987654321");
    assert!(first["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(
        first["Arn"],
        "arn:aws:sts::210987654321:assumed-role/Target/s1"
    );
    assert_eq!(first["Mfa"], false);
    // Same request: served from the cache.
    let hit = json(&run(&m, cache.path(), &refs(&a), &[]));
    assert_eq!(hit["AccessKeyId"], first["AccessKeyId"]);
    // Another external id, or another source identity: not the same entry.
    let b = assume(
        TARGET_ROLE,
        &["--external-id", "ext-456", "--role-session-name", "s1"],
    );
    let other = json(&run(&m, cache.path(), &refs(&b), &[]));
    assert_ne!(other["AccessKeyId"], first["AccessKeyId"]);
    let other_keys = json(&run(
        &m,
        cache.path(),
        &refs(&a),
        &[("AWS_ACCESS_KEY_ID", "AKIAOTHERUSEREXAMPLE")],
    ));
    assert_ne!(other_keys["AccessKeyId"], first["AccessKeyId"]);
    // An entry within the margin of its expiry is not reused.
    let short = assume(
        TARGET_ROLE,
        &[
            "--external-id",
            "ext-123",
            "--role-session-name",
            "s2",
            "--duration",
            "900",
        ],
    );
    let s1 = json(&run(&m, cache.path(), &refs(&short), &[]));
    let s2 = json(&run(&m, cache.path(), &refs(&short), &[]));
    assert_eq!(s1["AccessKeyId"], s2["AccessKeyId"]);
    let mut margin = short.clone();
    margin.extend(s(&["--cache-margin", "1000"]));
    let s3 = json(&run(&m, cache.path(), &refs(&margin), &[]));
    assert_ne!(s3["AccessKeyId"], s1["AccessKeyId"]);
    // --no-cache always calls STS.
    let mut nc = a.clone();
    nc.push("--no-cache".into());
    let fresh = json(&run(&m, cache.path(), &refs(&nc), &[]));
    assert_ne!(fresh["AccessKeyId"], first["AccessKeyId"]);
}

#[test]
fn one_mfa_session_serves_every_role_and_accounts_file() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let accounts = cache.path().join("accounts.json");
    std::fs::write(
        &accounts,
        r#"{"work": "arn:aws:iam::012123456789:", "prod": "arn:aws:iam::210987654321:"}"#,
    )
    .unwrap();
    let acc = accounts.to_str().unwrap();
    let base = [
        "assume-role",
        "--accounts-file",
        acc,
        "--serial-number",
        MFA,
        "--output",
        "json",
    ];
    let mut first = s(&base);
    first.extend(s(&[
        "--account",
        "work",
        "--role",
        "Dev",
        "--token-code",
        "123456",
    ]));
    let v = json(&run(&m, cache.path(), &refs(&first), &[]));
    assert_eq!(v["AccountId"], "012123456789");
    assert_eq!(v["Mfa"], true);
    assert!(v["Source"].as_str().unwrap().contains("MFA session"));
    // Another role, no code: the cached MFA session is used.
    let mut second = s(&base);
    second.extend(s(&["--account", "prod", "--role", "Admin"]));
    let w = json(&run(&m, cache.path(), &refs(&second), &[]));
    assert_eq!(w["AccountId"], "210987654321");
    assert_eq!(w["Mfa"], true);
    // Unknown account name: a clear error.
    let mut bad = s(&base);
    bad.extend(s(&["--account", "nope", "--role", "Admin"]));
    assert_clean_failure(
        &run(&m, cache.path(), &refs(&bad), &[]),
        "unknown --account \"nope\"",
    );
}

#[test]
fn chains_roles_anywhere_into_assume_role() {
    let Some(m) = moto() else { return };
    let pki = Pki::new();
    let ra = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let cache = tempfile::tempdir().unwrap();
    let args = s(&[
        "assume-role",
        "--role-arn",
        TARGET_ROLE,
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--ra-role-arn",
        ROLE_ARN,
        "--ra-endpoint",
        &ra.emulator.url(),
        "--output",
        "json",
    ]);
    let env = [
        ("AWS_ENDPOINT_URL_STS", m.url.as_str()),
        ("AWS_CA_BUNDLE", ra.ca_bundle.to_str().unwrap()),
        (
            "AWS_SIGNING_HELPER_CACHE_DIR",
            cache.path().to_str().unwrap(),
        ),
    ];
    let v = json(&run_bin(&args, &env));
    assert_eq!(v["AccountId"], "210987654321");
    assert!(v["Source"]
        .as_str()
        .unwrap()
        .contains("rolesanywhere arn:aws:iam::111122223333:role/TestRole"));
    assert_eq!(ra.emulator.sessions_created(), 1);
    // A cache hit needs no new Roles Anywhere session.
    let again = json(&run_bin(&args, &env));
    assert_eq!(again["AccessKeyId"], v["AccessKeyId"]);
    assert_eq!(ra.emulator.sessions_created(), 1);
    // exec with Roles Anywhere only (no role): the Roles Anywhere credentials themselves.
    let mut exec = s(&[
        "exec",
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--ra-role-arn",
        ROLE_ARN,
        "--ra-endpoint",
        &ra.emulator.url(),
        "--",
    ]);
    exec.extend(s(&[
        "sh",
        "-c",
        "echo \"$AWS_ACCOUNT_ID $AWS_SIGNING_HELPER_SOURCE\"",
    ]));
    let out = run_bin(&exec, &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("111122223333 rolesanywhere {ROLE_ARN}")
    );
    // credential-process keeps its official output by default and parses back as env.
    let cp = credential_process(&ra, &cert, Some(&key), &["--output", "env"]);
    assert!(cp.status.success());
    let vars = eval_bash(&String::from_utf8(cp.stdout).unwrap());
    assert!(vars["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    assert_eq!(vars["AWS_ACCOUNT_ID"], "111122223333");
}

/// `eval`s `script` in bash and returns the resulting AWS_* environment.
fn eval_bash(script: &str) -> std::collections::BTreeMap<String, String> {
    let out = Command::new("bash")
        .args(["-c", "eval \"$SCRIPT\"; env -0"])
        .env_clear()
        .env("SCRIPT", script)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .split(|b| *b == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv).into_owned();
            let (k, v) = kv.split_once('=')?;
            k.starts_with("AWS_")
                .then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
fn every_output_format_parses_back() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let base = s(&[
        "assume-role",
        "--role-arn",
        TARGET_ROLE,
        "--role-session-name",
        "fmt",
    ]);
    let reference = json(&run(
        &m,
        cache.path(),
        &refs(&assume(TARGET_ROLE, &["--role-session-name", "fmt"])),
        &[],
    ));
    let want = |k: &str| reference[k].as_str().unwrap().to_string();
    let render = |format: &str| {
        let mut a = base.clone();
        a.extend(s(&["--output", format]));
        let out = run(&m, cache.path(), &refs(&a), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let check = |vars: &std::collections::BTreeMap<String, String>| {
        assert_eq!(vars["AWS_ACCESS_KEY_ID"], want("AccessKeyId"));
        assert_eq!(vars["AWS_SECRET_ACCESS_KEY"], want("SecretAccessKey"));
        assert_eq!(vars["AWS_SESSION_TOKEN"], want("SessionToken"));
        assert_eq!(vars["AWS_SECURITY_TOKEN"], want("SessionToken"));
        assert_eq!(vars["AWS_CREDENTIAL_EXPIRATION"], want("Expiration"));
        assert_eq!(vars["AWS_ACCESS_KEY"], want("AccessKeyId"));
        assert_eq!(vars["AWS_SECRET_KEY"], want("SecretAccessKey"));
        assert_eq!(vars["AWS_DELEGATION_TOKEN"], want("SessionToken"));
        assert_eq!(vars["AWS_SIGNING_HELPER_MFA"], "false");
    };
    check(&eval_bash(&render("env")));
    // dotenv: what docker --env-file and python-dotenv read; our values need no unquoting.
    let dotenv: std::collections::BTreeMap<String, String> = render("dotenv")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    check(&dotenv);
    let process: serde_json::Value = serde_json::from_str(&render("process")).unwrap();
    assert_eq!(process["AccessKeyId"], reference["AccessKeyId"]);
    assert!(
        process.get("Source").is_none(),
        "process output stays official"
    );
    for (shell, format, script) in [
        ("fish", "env-fish", "eval $argv[1]; env"),
        ("pwsh", "env-powershell", ""),
    ] {
        if Command::new(shell).arg("--version").output().is_err() {
            eprintln!("note: {shell} is not installed; {format} checked by unit tests only");
            continue;
        }
        let text = render(format);
        let out = if shell == "fish" {
            Command::new("fish")
                .args(["-c", script, &text])
                .output()
                .unwrap()
        } else {
            let cmd = format!(
                "{text}\nGet-ChildItem Env: | ForEach-Object {{ \"$($_.Name)=$($_.Value)\" }}"
            );
            Command::new("pwsh")
                .args(["-NoProfile", "-Command", &cmd])
                .output()
                .unwrap()
        };
        let vars = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        check(&vars);
    }
}

#[test]
fn exec_passes_status_and_environment_and_whoami_hides_secrets() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        &m,
        cache.path(),
        &[
            "exec",
            "--role-arn",
            TARGET_ROLE,
            "--",
            "sh",
            "-c",
            "echo \"$AWS_ACCOUNT_ID|${AWS_SESSION_TOKEN:+token}|$AWS_SIGNING_HELPER_ARN\"; exit 7",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("210987654321|token|arn:aws:sts::210987654321:assumed-role/Target/"),
        "{line}"
    );
    // whoami inside exec: source, account, expiry, MFA; no secret; --verify asks moto.
    let env_dump = run(
        &m,
        cache.path(),
        &[
            "exec",
            "--role-arn",
            TARGET_ROLE,
            "--",
            "sh",
            "-c",
            "echo \"$AWS_SECRET_ACCESS_KEY\" >&2; \"$0\" whoami --verify --json",
            bin(),
        ],
        &[],
    );
    assert!(
        env_dump.status.success(),
        "{}",
        String::from_utf8_lossy(&env_dump.stderr)
    );
    let secret = String::from_utf8_lossy(&env_dump.stderr).trim().to_string();
    assert!(secret.len() >= 20);
    let stdout = String::from_utf8_lossy(&env_dump.stdout);
    assert!(!stdout.contains(&secret), "whoami printed the secret key");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["account"], "210987654321");
    assert_eq!(v["temporary"], true);
    assert_eq!(v["verified"], true);
    assert_eq!(v["mfa"], false);
    assert!(v["expires_in_seconds"].as_i64().unwrap() > 3000);
    assert!(v["source"].as_str().unwrap().starts_with("assume-role "));
    // A missing program is a clean error.
    let out = run(
        &m,
        cache.path(),
        &["exec", "--role-arn", TARGET_ROLE, "--", "/nonexistent/prog"],
        &[],
    );
    assert_clean_failure(&out, "cannot run \"/nonexistent/prog\"");
}

/// Arguments, extra environment, and the text the one stderr line must contain.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_input_fails_cleanly() {
    let Some(m) = moto() else { return };
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    let cases: &[Case] = &[
        (
            &["assume-role", "--role-arn", "bad"],
            &[],
            "invalid --role-arn \"bad\"",
        ),
        (
            &["assume-role", "--role-arn", "arn:aws:iam::123:role/x"],
            &[],
            "not an IAM role ARN",
        ),
        (
            &[
                "assume-role",
                "--role-arn",
                TARGET_ROLE,
                "--duration",
                "100",
            ],
            &[],
            "--duration 100 is out of range",
        ),
        (
            &["session-token", "--duration", "200000"],
            &[],
            "--duration 200000 is out of range",
        ),
        (
            &[
                "session-token",
                "--serial-number",
                MFA,
                "--token-code",
                "12ab",
            ],
            &[],
            "invalid --token-code",
        ),
        (
            &[
                "session-token",
                "--serial-number",
                "arn:aws:iam::123456789012:user/x",
                "--token-code",
                "123456",
            ],
            &[],
            "invalid --serial-number",
        ),
        (
            &["assume-role", "--role-arn", TARGET_ROLE],
            &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
            "missing long-term AWS keys",
        ),
        (
            &["session-token"],
            &[("AWS_SESSION_TOKEN", "temporary-token")],
            "GetSessionToken needs long-term keys",
        ),
        (
            &[
                "assume-role",
                "--profile",
                "nobody",
                "--role-arn",
                TARGET_ROLE,
            ],
            &[],
            "profile \"nobody\"",
        ),
        (
            &["assume-role", "--account", "work"],
            &[],
            "--account needs --role",
        ),
        (&["assume-role"], &[], "no role to assume"),
        (
            &["assume-role", "--role-arn", TARGET_ROLE, "--tag", "novalue"],
            &[],
            "invalid --tag",
        ),
        (
            &[
                "assume-role",
                "--role-arn",
                TARGET_ROLE,
                "--endpoint",
                "ftp://x",
            ],
            &[],
            "invalid STS endpoint URL",
        ),
        (
            &["whoami"],
            &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
            "no AWS credentials here",
        ),
    ];
    for (args, env, needle) in cases {
        let out = run(&m, c, args, env);
        assert_clean_failure(&out, needle);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(LONG_TERM_SECRET) && !stderr.contains("12ab"),
            "{stderr}"
        );
    }
    // An unreachable STS: a clear error, no panic.
    let out = run(
        &m,
        c,
        &[
            "assume-role",
            "--role-arn",
            TARGET_ROLE,
            "--endpoint",
            "http://127.0.0.1:9",
            "--timeout",
            "2",
        ],
        &[("AWS_MAX_ATTEMPTS", "1")],
    );
    assert_clean_failure(&out, "operation error STS: AssumeRole");
}
