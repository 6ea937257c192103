//! `login`: console sign-in URLs through a local stand-in of the AWS federation endpoint
//! (`tests/support/federation_standin.py`, which checks the getSigninToken request and records
//! the Session it was given), with the environment's temporary credentials, a role profile and
//! long-term keys (GetFederationToken) against moto's STS, and the failures.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

const TEMP_ID: &str = "ASIAEXAMPLETEMPORARY";
const TEMP_SECRET: &str = "tempSecretKeyDoNotLeak0123456789abcdefgh";
const TEMP_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENdoNotLeak";
/// Not moto's own example key id (which its GetFederationToken answers with).
const LONG_TERM_ID: &str = "AKIAI44QH8DHBEXAMPLE";
const LONG_TERM_SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Decodes `%XX` and `+` of a query value.
fn unescape(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).expect("hex escape"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The query parameters of `url`, decoded.
fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').expect("a query").1;
    q.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v");
            (k.to_string(), unescape(v))
        })
        .collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> &'a str {
    q.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {q:?}"))
}

/// Checks a successful login: one URL line on stdout for the stand-in's last token; returns
/// the URL's query.
fn signed_in(out: &Output, fed: &Standin) -> Vec<(String, String)> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "login failed: {stderr}");
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let url = stdout.trim_end();
    assert!(
        url.starts_with(&format!("{}/federation?Action=login&", fed.url())),
        "{url}"
    );
    let q = query(url);
    let calls = fed.calls();
    let last = calls.last().expect("a getSigninToken call");
    assert_eq!(param(&q, "SigninToken"), last["token"].as_str().unwrap());
    assert_eq!(param(&q, "Issuer"), "aws-signing-helper");
    for secret in [
        TEMP_SECRET,
        TEMP_TOKEN,
        LONG_TERM_SECRET,
        last["token"].as_str().unwrap(),
    ] {
        assert!(!stderr.contains(secret), "a secret on stderr: {stderr}");
    }
    q
}

fn federation_env(fed: &Standin) -> String {
    format!("{}/federation", fed.url())
}

#[test]
fn the_environments_temporary_credentials_sign_in() {
    let Some(fed) = Standin::federation(&[]) else {
        return;
    };
    let endpoint = federation_env(&fed);
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AWS_ACCESS_KEY_ID", TEMP_ID),
        ("AWS_SECRET_ACCESS_KEY", TEMP_SECRET),
        ("AWS_SESSION_TOKEN", TEMP_TOKEN),
        ("AWS_SIGNING_HELPER_FEDERATION_ENDPOINT", endpoint.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent"),
    ];
    let out = run_bin(&s(&["login", "--region", "eu-west-3", "--debug"]), &env);
    let q = signed_in(&out, &fed);
    assert_eq!(
        param(&q, "Destination"),
        "https://eu-west-3.console.aws.amazon.com/console/home?region=eu-west-3"
    );
    let call = &fed.calls()[0];
    assert_eq!(call["Action"], "getSigninToken");
    assert!(call.get("SessionDuration").is_none(), "{call}");
    assert_eq!(
        call["session"],
        serde_json::json!({"sessionId": TEMP_ID, "sessionKey": TEMP_SECRET, "sessionToken": TEMP_TOKEN})
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Session=** redacted **") && stderr.contains("SigninToken=** redacted **"),
        "--debug shows the requests, redacted: {stderr}"
    );

    // A console page and a session length.
    let out = run_bin(
        &s(&[
            "login",
            "--destination",
            "/s3/home",
            "--session-duration",
            "3600",
            "--region",
            "us-gov-west-1",
        ]),
        &env,
    );
    let q = signed_in(&out, &fed);
    assert_eq!(
        param(&q, "Destination"),
        "https://us-gov-west-1.console.amazonaws-us-gov.com/s3/home?region=us-gov-west-1"
    );
    assert_eq!(fed.calls().last().unwrap()["SessionDuration"], "3600");

    // --open hands $BROWSER a one-shot loopback URL (the sign-in URL is never on a command
    // line) that redirects once, and only a connection of our own uid, to the sign-in URL.
    let opened = dir.path().join("opened");
    let browser = format!(
        "python3 {}/tests/support/browser_fetch.py {}",
        env!("CARGO_MANIFEST_DIR"),
        opened.display()
    );
    let mut env_open = env.to_vec();
    env_open.push(("BROWSER", browser.as_str()));
    let root = rustix::process::geteuid().is_root();
    let other = root.then(|| system_user("ash-login-other"));
    let (uid, gid) = other
        .map(|(u, g)| (u.to_string(), g.to_string()))
        .unwrap_or_default();
    if root {
        env_open.push(("OTHER_UID", uid.as_str()));
        env_open.push(("OTHER_GID", gid.as_str()));
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: the other-user half of this test must run"
        );
        eprintln!("skipping the other-user fetch: not root");
    }
    let out = run_bin(&s(&["login", "--open"]), &env_open);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let fetched = std::fs::read_to_string(&opened).unwrap();
    let (status, url) = fetched.split_once(' ').unwrap();
    assert_eq!(status, "302", "{fetched}");
    let q = query(url);
    assert_eq!(
        param(&q, "SigninToken"),
        fed.calls().last().unwrap()["token"].as_str().unwrap()
    );
    assert_eq!(
        param(&q, "Destination"),
        "https://console.aws.amazon.com/console/home"
    );
    if root {
        let theirs = std::fs::read_to_string(dir.path().join("opened.other")).unwrap();
        assert_eq!(theirs.trim(), "403", "another user gets no redirect");
    }
    // What the opener was given holds no token.
    let given = std::fs::read_to_string(dir.path().join("opened.argv")).unwrap();
    assert!(
        given.starts_with("http://127.0.0.1:") && !given.contains("SigninToken"),
        "{given}"
    );
    let out = run_bin(
        &s(&["login", "--open"]),
        &[&env[..], &[("BROWSER", "/nonexistent/browser")]].concat(),
    );
    assert_clean_failure(&out, "cannot run \"/nonexistent/browser\"");
}

/// The shared files of the moto tests: a role profile over long-term keys.
fn shared_files(dir: &Path) -> (String, String) {
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(
        &config,
        "[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\nregion = eu-central-1\n\n[profile mfa-admin]\nrole_arn = arn:aws:iam::210987654321:role/MfaAdmin\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\nmfa_process = echo 123456\n",
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!("[base]\naws_access_key_id = {LONG_TERM_ID}\naws_secret_access_key = {LONG_TERM_SECRET}\n"),
    )
    .unwrap();
    (
        config.display().to_string(),
        credentials.display().to_string(),
    )
}

#[test]
fn a_role_profile_and_long_term_keys_sign_in_against_moto() {
    let Some(m) = moto() else { return };
    let Some(fed) = Standin::federation(&[]) else {
        return;
    };
    let endpoint = federation_env(&fed);
    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = shared_files(dir.path());
    let cache = dir.path().join("cache");
    let env = [
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_str()),
        ("AWS_ENDPOINT_URL_STS", m.url.as_str()),
        ("AWS_SIGNING_HELPER_CACHE_DIR", cache.to_str().unwrap()),
        ("AWS_SIGNING_HELPER_FEDERATION_ENDPOINT", endpoint.as_str()),
    ];
    // The role's credentials (cached), then login with the same ones.
    let out = run_bin(&s(&["export", "admin", "--output", "json"]), &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let q = signed_in(&run_bin(&s(&["login", "admin"]), &env), &fed);
    assert_eq!(
        param(&q, "Destination"),
        "https://eu-central-1.console.aws.amazon.com/console/home?region=eu-central-1",
        "the profile's region"
    );
    assert_eq!(
        fed.calls().last().unwrap()["session"],
        serde_json::json!({
            "sessionId": creds["AccessKeyId"],
            "sessionKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
        })
    );

    // A role behind MFA, the code from the profile's mfa_process (stdin is not a terminal).
    signed_in(&run_bin(&s(&["login", "mfa-admin"]), &env), &fed);
    let session = fed.calls().last().unwrap()["session"].clone();
    assert!(
        session["sessionId"].as_str().unwrap().starts_with("ASIA"),
        "{session}"
    );

    // Long-term keys alone: a federation token first (moto answers with its example keys).
    let env_keys = [
        ("AWS_ACCESS_KEY_ID", LONG_TERM_ID),
        ("AWS_SECRET_ACCESS_KEY", LONG_TERM_SECRET),
        ("AWS_CONFIG_FILE", "/nonexistent"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ("AWS_ENDPOINT_URL_STS", m.url.as_str()),
        ("AWS_SIGNING_HELPER_CACHE_DIR", cache.to_str().unwrap()),
        ("AWS_SIGNING_HELPER_FEDERATION_ENDPOINT", endpoint.as_str()),
    ];
    for extra in [
        &[][..],
        &["--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"][..],
    ] {
        let mut args = s(&["login"]);
        args.extend(s(extra));
        signed_in(&run_bin(&args, &env_keys), &fed);
        let session = fed.calls().last().unwrap()["session"].clone();
        assert_eq!(session["sessionId"], "AKIAIOSFODNN7EXAMPLE", "{session}");
        assert!(
            session["sessionToken"]
                .as_str()
                .unwrap()
                .starts_with("AQoDYXdzEPT"),
            "moto's federation token: {session}"
        );
    }
    let out = run_bin(&s(&["login", "--session-duration", "3600"]), &env_keys);
    assert_clean_failure(&out, "--session-duration applies to role credentials");
    let out = run_bin(
        &s(&["login", "--policy-arn", "arn:aws:s3:::bucket"]),
        &env_keys,
    );
    assert_clean_failure(&out, "invalid --policy-arn");
    let out = run_bin(
        &s(&[
            "login",
            "--serial-number",
            "arn:aws:iam::123456789012:mfa/alice",
        ]),
        &env_keys,
    );
    assert_clean_failure(&out, "--serial-number has no use here");
}

#[test]
fn failures_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    // No credentials anywhere.
    let out = run_bin(
        &s(&["login"]),
        &[
            ("AWS_CONFIG_FILE", empty),
            ("AWS_SHARED_CREDENTIALS_FILE", empty),
        ],
    );
    assert_clean_failure(&out, "missing long-term AWS keys");

    for (status, needle) in [("400", "HTTP 400"), ("500", "HTTP 500")] {
        let Some(fed) = Standin::federation(&[("STANDIN_STATUS", status)]) else {
            return;
        };
        let endpoint = federation_env(&fed);
        let out = run_bin(
            &s(&["login", "--federation-endpoint", &endpoint]),
            &[
                ("AWS_ACCESS_KEY_ID", TEMP_ID),
                ("AWS_SECRET_ACCESS_KEY", TEMP_SECRET),
                ("AWS_SESSION_TOKEN", TEMP_TOKEN),
                ("AWS_CONFIG_FILE", empty),
            ],
        );
        assert_clean_failure(&out, needle);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("getSigninToken at http://127.0.0.1:"),
            "{stderr}"
        );
        assert!(
            !stderr.contains(TEMP_SECRET) && !stderr.contains(TEMP_TOKEN),
            "{stderr}"
        );
        assert_eq!(fed.calls().len(), 1, "the request reached the stand-in");
    }

    // Nothing listening; a session length out of range (checked before any request).
    let env = [
        ("AWS_ACCESS_KEY_ID", TEMP_ID),
        ("AWS_SECRET_ACCESS_KEY", TEMP_SECRET),
        ("AWS_SESSION_TOKEN", TEMP_TOKEN),
        ("AWS_CONFIG_FILE", empty),
    ];
    let out = run_bin(
        &s(&[
            "login",
            "--federation-endpoint",
            "http://127.0.0.1:9/federation",
        ]),
        &env,
    );
    assert_clean_failure(&out, "getSigninToken at http://127.0.0.1:9/federation");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TEMP_SECRET));
    let out = run_bin(
        &s(&[
            "login",
            "--federation-endpoint",
            "http://127.0.0.1:9/federation",
            "--session-duration",
            "60",
        ]),
        &env,
    );
    assert_clean_failure(&out, "--session-duration 60 is out of range");
}

#[test]
fn a_roles_anywhere_session_signs_in() {
    let Some(fed) = Standin::federation(&[]) else {
        return;
    };
    let pki = Pki::new();
    let ra = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let endpoint = federation_env(&fed);
    let args = s(&[
        "login",
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
        "--no-cache",
    ]);
    let out = run_bin(
        &args,
        &[
            ("AWS_CA_BUNDLE", ra.ca_bundle.to_str().unwrap()),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SIGNING_HELPER_FEDERATION_ENDPOINT", endpoint.as_str()),
        ],
    );
    signed_in(&out, &fed);
    assert_eq!(ra.emulator.sessions_created(), 1);
    let session = fed.calls().last().unwrap()["session"].clone();
    assert!(
        session["sessionId"].as_str().unwrap().starts_with("ASIA"),
        "{session}"
    );
}
