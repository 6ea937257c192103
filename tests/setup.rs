//! `setup` end to end: IAM is moto's server, Roles Anywhere (control plane and CreateSession)
//! our emulator with `--state`, the consumers the real AWS CLI and botocore. From an empty
//! account to a working `--profile`, a second run that changes nothing, drift repaired,
//! `--dry-run` that changes nothing, a revoked certificate refused, and `--delete` leaving
//! nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    aws_cli, bin, have_aws_cli, have_python_module, moto, start_background, Background, Moto,
};
use serde_json::Value;

const NAME: &str = "dev-box";

struct World {
    emu: Background,
    moto: Moto,
    home: tempfile::TempDir,
}

impl World {
    fn config(&self) -> PathBuf {
        self.home.path().join(".aws").join("config")
    }

    fn dir(&self) -> PathBuf {
        self.home.path().join("pki dir")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_CA_BUNDLE", self.emu.server_ca.display().to_string()),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
        ]
    }

    /// Runs our binary with `args`, the example keys and only this world's environment.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// [`World::run`] with more environment.
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .envs(self.env())
            .envs(env.iter().copied())
            .output()
            .expect("binary runs")
    }

    /// `setup --name NAME` against this world, plus `extra`.
    fn setup(&self, extra: &[&str]) -> Output {
        let dir = self.dir();
        let mut args = vec![
            "setup",
            "--name",
            NAME,
            "--region",
            "us-east-1",
            "--dir",
            dir.to_str().unwrap(),
            "--endpoint-url-rolesanywhere",
            &self.emu.url,
            "--endpoint-url-iam",
            &self.moto.url,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `aws ARGS` with this world's CA bundle; `--endpoint-url` is the caller's.
    fn aws(&self, args: &[&str]) -> (i32, Value, String) {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        aws_cli(self.home.path(), &env[..1], args)
    }

    fn ra(&self, args: &[&str]) -> Value {
        let mut all = vec!["rolesanywhere"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--endpoint-url", &self.emu.url]);
        ok(self.aws(&all))
    }

    fn iam(&self, args: &[&str]) -> (i32, Value, String) {
        let mut all = vec!["iam"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--endpoint-url", &self.moto.url]);
        self.aws(&all)
    }

    fn names(&self, list: &str, key: &str) -> Vec<String> {
        self.ra(&[list])[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    }
}

#[track_caller]
fn ok(result: (i32, Value, String)) -> Value {
    assert_eq!(result.0, 0, "aws failed: {}", result.2);
    result.1
}

#[track_caller]
fn stdout_of(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "failed: {}\nstdout:\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The credentials botocore gets for `profile` (through its credential_process line).
fn botocore_credentials(home: &Path, env: &[(&str, String)], profile: &str) -> Value {
    let script = "import botocore.session, json, sys\n\
        s = botocore.session.Session(profile=sys.argv[1])\n\
        c = s.get_credentials()\n\
        f = c.get_frozen_credentials()\n\
        print(json.dumps({'method': c.method, 'key': f.access_key, 'token': bool(f.token)}))\n";
    let out = Command::new("python3")
        .args(["-c", script, profile])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CA_BUNDLE", &env[0].1)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "botocore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn setup_from_nothing_to_a_profile_idempotently_and_back() {
    if !have_aws_cli() || !have_python_module("botocore") {
        return;
    }
    let Some(moto) = moto() else { return };
    let state = tempfile::tempdir().unwrap();
    let pki = common::Pki::new();
    let emu = start_background(&pki, &state.path().join("emu"));
    let w = World {
        emu,
        moto,
        home: tempfile::tempdir().unwrap(),
    };
    let policy = ok(w.iam(&[
        "create-policy",
        "--policy-name",
        "read-only",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
    ]));
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap().to_string();
    // Lines kept by every edit of the config file.
    std::fs::create_dir_all(w.home.path().join(".aws")).unwrap();
    let mine = "# my settings\n[default]\nregion = eu-west-1\n";
    std::fs::write(w.config(), mine).unwrap();

    // A dry run in an empty account makes nothing.
    let planned = stdout_of(&w.setup(&["--policy-arn", &policy_arn, "--dry-run"]));
    for line in [
        "would create trust anchor \"dev-box\" (rolesanywhere CreateTrustAnchor)",
        "would create role dev-box (iam CreateRole)",
        "would create profile \"dev-box\" (rolesanywhere CreateProfile)",
    ] {
        assert!(planned.contains(line), "{line} in:\n{planned}");
    }
    assert!(planned.contains("nothing was changed"), "{planned}");
    assert!(w.names("list-trust-anchors", "trustAnchors").is_empty());
    assert_ne!(w.iam(&["get-role", "--role-name", NAME]).0, 0);
    assert!(!w.dir().exists());
    assert_eq!(std::fs::read_to_string(w.config()).unwrap(), mine);

    // The first run makes everything.
    let first = stdout_of(&w.setup(&["--policy-arn", &policy_arn]));
    for what in [
        "created CA",
        "created client certificate",
        "created trust anchor",
        "created role dev-box",
        &format!("created policy {policy_arn} on role dev-box"),
        "created profile",
        "checked the client certificate: 0 problem(s)",
        "created [profile dev-box]",
    ] {
        assert!(first.contains(what), "{what} in:\n{first}");
    }
    let config = std::fs::read_to_string(w.config()).unwrap();
    assert!(config.starts_with(mine), "{config}");
    let ta = &w.ra(&["list-trust-anchors"])["trustAnchors"][0];
    let ta_arn = ta["trustAnchorArn"].as_str().unwrap().to_string();
    let ca_pem = std::fs::read_to_string(w.dir().join("ca.pem")).unwrap();
    assert_eq!(ta["source"]["sourceType"], "CERTIFICATE_BUNDLE");
    assert_eq!(
        ta["source"]["sourceData"]["x509CertificateData"]
            .as_str()
            .unwrap()
            .trim(),
        ca_pem.trim()
    );
    let tags = w.ra(&["list-tags-for-resource", "--resource-arn", &ta_arn]);
    assert_eq!(
        tags["tags"],
        serde_json::json!([{"key": "aws-signing-helper:setup", "value": NAME}])
    );
    let role = ok(w.iam(&["get-role", "--role-name", NAME]))["Role"].clone();
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "rolesanywhere.amazonaws.com");
    assert_eq!(
        trust["Condition"]["ArnEquals"]["aws:SourceArn"],
        ta_arn.as_str()
    );
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:PrincipalTag/x509Subject/CN"],
        NAME
    );
    let attached = ok(w.iam(&["list-attached-role-policies", "--role-name", NAME]));
    assert_eq!(
        attached["AttachedPolicies"][0]["PolicyArn"],
        policy_arn.as_str()
    );
    let profile = &w.ra(&["list-profiles"])["profiles"][0];
    assert_eq!(profile["roleArns"][0], role["Arn"]);
    let profile_id = profile["profileId"].as_str().unwrap().to_string();
    // The line names this binary, the files (quoted: the directory has a space) and the ARNs.
    let line = config
        .lines()
        .find_map(|l| l.strip_prefix("credential_process = "))
        .unwrap();
    assert!(
        line.starts_with(&format!("{} credential-process", bin())),
        "{line}"
    );
    assert!(
        line.contains(&format!("\"{}\"", w.dir().join("client.pem").display())),
        "{line}"
    );
    assert!(
        line.contains(&ta_arn) && line.contains(role["Arn"].as_str().unwrap()),
        "{line}"
    );
    // The key is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.dir().join("client.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The AWS CLI and botocore get credentials through the profile.
    let creds = botocore_credentials(w.home.path(), &w.env(), NAME);
    assert_eq!(creds["method"], "custom-process", "{creds}");
    assert!(
        creds["key"].as_str().unwrap().starts_with("ASIA"),
        "{creds}"
    );
    assert_eq!(creds["token"], true);
    let sts_url = w.moto.url.clone();
    let who = Command::new("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            NAME,
            "--endpoint-url",
            &sts_url,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", w.home.path())
        .env("AWS_CA_BUNDLE", &w.emu.server_ca)
        .output()
        .unwrap();
    assert!(
        who.status.success(),
        "{}",
        String::from_utf8_lossy(&who.stderr)
    );
    let who: Value = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(who["Account"], "123456789012");

    // A second run changes nothing: not the output, not the services, not the files.
    let before = (
        std::fs::read(w.config()).unwrap(),
        std::fs::read(w.dir().join("client.pem")).unwrap(),
        w.ra(&["list-trust-anchors"]),
        w.ra(&["list-profiles"]),
    );
    let second = stdout_of(&w.setup(&["--policy-arn", &policy_arn]));
    assert!(
        second.contains("no changes: everything is in place"),
        "{second}"
    );
    assert!(
        !second
            .lines()
            .any(|l| l.starts_with("created") || l.starts_with("updated")),
        "{second}"
    );
    let after = (
        std::fs::read(w.config()).unwrap(),
        std::fs::read(w.dir().join("client.pem")).unwrap(),
        w.ra(&["list-trust-anchors"]),
        w.ra(&["list-profiles"]),
    );
    assert_eq!(before, after);

    // Drift: a disabled profile and a loosened trust policy are seen by a dry run (and left
    // alone), repaired by a run.
    w.ra(&["disable-profile", "--profile-id", &profile_id]);
    let loose = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}"#;
    ok(w.iam(&[
        "update-assume-role-policy",
        "--role-name",
        NAME,
        "--policy-document",
        loose,
    ]));
    let planned = stdout_of(&w.setup(&["--policy-arn", &policy_arn, "--dry-run"]));
    for line in [
        "would update profile \"dev-box\": it was disabled (rolesanywhere EnableProfile)",
        "would update role dev-box: its trust policy differs (iam UpdateAssumeRolePolicy)",
    ] {
        assert!(planned.contains(line), "{line} in:\n{planned}");
    }
    let got = w.ra(&["get-profile", "--profile-id", &profile_id]);
    assert_eq!(got["profile"]["enabled"], false);
    let role_now = ok(w.iam(&["get-role", "--role-name", NAME]));
    assert!(role_now["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"].is_null());
    let fixed = stdout_of(&w.setup(&["--policy-arn", &policy_arn]));
    for line in [
        "updated profile \"dev-box\": it was disabled",
        "updated role dev-box: its trust policy differs",
    ] {
        assert!(fixed.contains(line), "{line} in:\n{fixed}");
    }
    let role_now = ok(w.iam(&["get-role", "--role-name", NAME]));
    assert_eq!(
        role_now["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]
            ["aws:SourceArn"],
        ta_arn.as_str()
    );
    assert!(fixed.contains("2 change(s) made"), "{fixed}");
    assert_eq!(
        w.ra(&["get-profile", "--profile-id", &profile_id])["profile"]["enabled"],
        true
    );
    w.ra(&["enable-profile", "--profile-id", &profile_id]);

    // A revoked certificate: the CRL imported with the AWS CLI makes CreateSession refuse it,
    // and doctor --crl flags it.
    let (ca, ca_key, cert) = (
        w.dir().join("ca.pem"),
        w.dir().join("ca.key"),
        w.dir().join("client.pem"),
    );
    let crl = w.home.path().join("crl.pem");
    stdout_of(&w.run(&[
        "pki",
        "revoke",
        "--cert",
        cert.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ]));
    stdout_of(&w.run(&[
        "pki",
        "crl",
        "--ca",
        ca.to_str().unwrap(),
        "--ca-key",
        ca_key.to_str().unwrap(),
        "--out",
        crl.to_str().unwrap(),
    ]));
    let imported = w.ra(&[
        "import-crl",
        "--name",
        "revoked",
        "--crl-data",
        &format!("fileb://{}", crl.display()),
        "--trust-anchor-arn",
        &ta_arn,
        "--enabled",
    ]);
    let crl_id = imported["crl"]["crlId"].as_str().unwrap().to_string();
    assert_eq!(
        w.ra(&["get-crl", "--crl-id", &crl_id])["crl"]["name"],
        "revoked"
    );
    let refused = Command::new("aws")
        .args([
            "sts",
            "get-caller-identity",
            "--profile",
            NAME,
            "--endpoint-url",
            &sts_url,
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", w.home.path())
        .env("AWS_CA_BUNDLE", &w.emu.server_ca)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("AccessDenied") || why.contains("revoked"),
        "{why}"
    );
    let doctor = w.run(&[
        "doctor",
        "--certificate",
        cert.to_str().unwrap(),
        "--trust-anchor",
        ca.to_str().unwrap(),
        "--crl",
        crl.to_str().unwrap(),
    ]);
    assert!(!doctor.status.success());
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(report.contains("is revoked in --crl"), "{report}");
    // The CRL's other operations, by the AWS CLI: disable (sessions work again), update,
    // enable, untag, delete.
    w.ra(&["disable-crl", "--crl-id", &crl_id]);
    assert_eq!(
        botocore_credentials(w.home.path(), &w.env(), NAME)["method"],
        "custom-process"
    );
    let empty = w.home.path().join("empty.crl.pem");
    let revoked_list = ca.with_file_name("ca.revoked.json");
    std::fs::remove_file(&revoked_list).unwrap();
    stdout_of(&w.run(&[
        "pki",
        "crl",
        "--ca",
        ca.to_str().unwrap(),
        "--ca-key",
        ca_key.to_str().unwrap(),
        "--out",
        empty.to_str().unwrap(),
    ]));
    let updated = w.ra(&[
        "update-crl",
        "--crl-id",
        &crl_id,
        "--crl-data",
        &format!("fileb://{}", empty.display()),
    ]);
    assert_eq!(updated["crl"]["crlId"], crl_id.as_str());
    w.ra(&["enable-crl", "--crl-id", &crl_id]);
    botocore_credentials(w.home.path(), &w.env(), NAME);
    w.ra(&[
        "tag-resource",
        "--resource-arn",
        &ta_arn,
        "--tags",
        "key=extra,value=1",
    ]);
    w.ra(&[
        "untag-resource",
        "--resource-arn",
        &ta_arn,
        "--tag-keys",
        "extra",
    ]);
    let tags = w.ra(&["list-tags-for-resource", "--resource-arn", &ta_arn]);
    assert_eq!(tags["tags"].as_array().unwrap().len(), 1, "{tags}");
    w.ra(&["delete-crl", "--crl-id", &crl_id]);

    // --delete: a dry run first (nothing goes), then for real; nothing is left.
    let planned = stdout_of(&w.setup(&["--delete", "--dry-run"]));
    assert!(
        planned.contains("would delete role dev-box (iam DeleteRole)"),
        "{planned}"
    );
    assert_eq!(w.names("list-profiles", "profiles"), [NAME]);
    let deleted = stdout_of(&w.setup(&["--delete"]));
    for what in [
        "deleted [profile dev-box]",
        "deleted profile \"dev-box\" (rolesanywhere DeleteProfile)",
        &format!("deleted policy {policy_arn} on role dev-box (iam DetachRolePolicy)"),
        "deleted role dev-box (iam DeleteRole)",
        "deleted trust anchor \"dev-box\" (rolesanywhere DeleteTrustAnchor)",
    ] {
        assert!(deleted.contains(what), "{what} in:\n{deleted}");
    }
    assert!(w.names("list-trust-anchors", "trustAnchors").is_empty());
    assert!(w.names("list-profiles", "profiles").is_empty());
    assert!(w.ra(&["list-crls"])["crls"].as_array().unwrap().is_empty());
    let gone = w.iam(&["get-role", "--role-name", NAME]);
    assert!(gone.0 != 0 && gone.2.contains("NoSuchEntity"), "{}", gone.2);
    assert_eq!(std::fs::read_to_string(w.config()).unwrap(), mine);
    assert!(w.dir().join("ca.pem").exists(), "the local CA stays");
    let again = stdout_of(&w.setup(&["--delete"]));
    assert!(again.contains("nothing to delete"), "{again}");
    // --delete-files takes the local files too.
    let files = stdout_of(&w.setup(&["--delete", "--delete-files"]));
    for name in ["client.pem", "client.key", "ca.pem", "ca.key"] {
        let line = format!("deleted file {} (remove)", w.dir().join(name).display());
        assert!(files.contains(&line), "{line} in:\n{files}");
        assert!(!w.dir().join(name).exists(), "{name}");
    }
}

#[test]
fn setup_refuses_resources_it_did_not_make_and_bad_input() {
    if !have_aws_cli() {
        return;
    }
    let Some(moto) = moto() else { return };
    let state = tempfile::tempdir().unwrap();
    let pki = common::Pki::new();
    let emu = start_background(&pki, &state.path().join("emu"));
    let w = World {
        emu,
        moto,
        home: tempfile::tempdir().unwrap(),
    };
    // A trust anchor of that name, made by someone else.
    let ca_pem = std::fs::read_to_string(pki.path("ca.pem")).unwrap();
    let source =
        format!("sourceType=CERTIFICATE_BUNDLE,sourceData={{x509CertificateData={ca_pem}}}");
    w.ra(&["create-trust-anchor", "--name", NAME, "--source", &source]);
    let out = w.setup(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("setup did not create") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(w.names("list-profiles", "profiles").is_empty());
    assert_ne!(w.iam(&["get-role", "--role-name", NAME]).0, 0);
    assert!(!w.config().exists());
    assert!(!w.dir().exists(), "refused before any file is written");

    // The user's own CA (its key encrypted), used where it is: a dry run checks it and would
    // make the rest; a run needs the key's password from the environment, never argv.
    let own = tempfile::tempdir().unwrap();
    let prefix = own.path().join("corp-ca");
    let made = w.run_with(
        &["pki", "ca", "--out", prefix.to_str().unwrap()],
        &[("AWS_SIGNING_HELPER_KEY_PASSWORD", "ca-secret")],
    );
    stdout_of(&made);
    let (ca, ca_key) = (
        own.path().join("corp-ca.pem"),
        own.path().join("corp-ca.key"),
    );
    let dir = w.dir();
    let own_ca = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "setup",
            "--name",
            "own-ca",
            "--region",
            "us-east-1",
            "--ca",
            ca.to_str().unwrap(),
            "--ca-key",
            ca_key.to_str().unwrap(),
            "--dir",
            dir.to_str().unwrap(),
            "--endpoint-url-rolesanywhere",
            &w.emu.url,
            "--endpoint-url-iam",
            &w.moto.url,
        ];
        args.extend_from_slice(extra);
        w.run_with(&args, env)
    };
    let planned = stdout_of(&own_ca(&["--dry-run"], &[]));
    assert!(
        planned.contains(&format!("checked CA {}: used where it is", ca.display())),
        "{planned}"
    );
    assert!(
        planned.contains("would create trust anchor \"own-ca\""),
        "{planned}"
    );
    assert!(!w.dir().exists(), "a dry run writes no file");
    let locked = own_ca(&[], &[]);
    assert!(!locked.status.success());
    let err = String::from_utf8_lossy(&locked.stderr);
    assert!(
        err.contains("is encrypted") && err.contains("AWS_SIGNING_HELPER_CA_KEY_PASSWORD"),
        "{err}"
    );
    assert_eq!(
        w.names("list-trust-anchors", "trustAnchors"),
        [NAME],
        "nothing made"
    );
    let made = stdout_of(&own_ca(
        &[],
        &[("AWS_SIGNING_HELPER_CA_KEY_PASSWORD", "ca-secret")],
    ));
    assert!(made.contains("created trust anchor \"own-ca\""), "{made}");
    let anchors = w.ra(&["list-trust-anchors"]);
    let held = anchors["trustAnchors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "own-ca")
        .unwrap()["source"]["sourceData"]["x509CertificateData"]
        .as_str()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(held, std::fs::read_to_string(&ca).unwrap().trim());
    let deleted = stdout_of(&own_ca(&["--delete", "--delete-files"], &[]));
    assert!(
        deleted.contains("deleted file") && deleted.contains("client.key"),
        "{deleted}"
    );
    assert_eq!(w.names("list-trust-anchors", "trustAnchors"), [NAME]);
    assert!(
        ca.exists() && ca_key.exists(),
        "the user's CA is never deleted"
    );
    assert!(!w.dir().join("client.pem").exists());
    std::fs::remove_dir_all(w.dir()).unwrap();

    // Endpoints from AWS_ENDPOINT_URL_ROLESANYWHERE / AWS_ENDPOINT_URL_IAM and the region
    // from AWS_REGION, as the SDKs take them.
    let dir = w.dir();
    let planned = stdout_of(&w.run_with(
        &[
            "setup",
            "--name",
            "from-env",
            "--dry-run",
            "--dir",
            dir.to_str().unwrap(),
        ],
        &[
            ("AWS_ENDPOINT_URL_ROLESANYWHERE", &w.emu.url),
            ("AWS_ENDPOINT_URL_IAM", &w.moto.url),
            ("AWS_REGION", "us-east-1"),
        ],
    ));
    assert!(
        planned.contains("would create role from-env (iam CreateRole)"),
        "{planned}"
    );
    // --debug logs the requests, never the secret key or the session token.
    let token = "FQoGZXIvYXdzEXAMPLE-session-token-value";
    let debug = w.run_with(
        &[
            "setup",
            "--name",
            "from-env",
            "--dry-run",
            "--debug",
            "--dir",
            dir.to_str().unwrap(),
        ],
        &[
            ("AWS_ENDPOINT_URL_ROLESANYWHERE", &w.emu.url),
            ("AWS_ENDPOINT_URL_IAM", &w.moto.url),
            ("AWS_REGION", "us-east-1"),
            ("AWS_SESSION_TOKEN", token),
        ],
    );
    let log = String::from_utf8_lossy(&debug.stderr);
    assert!(
        log.contains("ListTrustAnchors") && log.contains("GetRole"),
        "{log}"
    );
    assert!(log.contains("x-amz-security-token:** redacted **"), "{log}");
    for secret in [token, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] {
        assert!(!log.contains(secret), "a secret in the --debug log:\n{log}");
    }

    for (args, needle) in [
        (
            vec!["setup", "--name", "bad name", "--region", "us-east-1"],
            "invalid --name",
        ),
        (vec!["setup", "--name", "x"], "setup needs a region"),
        (
            vec![
                "setup",
                "--name",
                "x",
                "--region",
                "us-east-1",
                "--policy-arn",
                "ReadOnly",
            ],
            "invalid --policy-arn",
        ),
    ] {
        let out = w.run(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{needle} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
