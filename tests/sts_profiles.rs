//! STS from AWS config profiles, as the AWS CLI resolves them: role chains of depth 1–3 and a
//! Roles Anywhere `credential_process` as source against moto's STS, and the rules moto does not
//! enforce (the one-hour cap on role chaining, MFA-only roles, one MFA code for every role)
//! against a small local STS (`tests/support/sts_standin.py`) that records every call.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Command, Output};

const SERIAL: &str = "arn:aws:iam::000000000000:mfa/alice";

/// A directory with the shared files and a cache.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(config: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config"), config).unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYLONGTERMKEY\n",
        )
        .unwrap();
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, sts_url: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let config = self.path("config");
        let credentials = self.path("credentials");
        let cache = self.path("cache");
        let mut env = vec![
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_STS", sts_url),
            ("AWS_SIGNING_HELPER_CACHE_DIR", cache.to_str().unwrap()),
        ];
        env.extend_from_slice(extra_env);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_bin(&args, &env)
    }
}

fn ok_json(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    assert!(
        !stderr.contains("wJalrXUtnFEMI"),
        "a secret on stderr: {stderr}"
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn profile_chains_and_a_roles_anywhere_source_against_moto() {
    let Some(m) = moto() else { return };
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let process = cp_args(&run, &cert, Some(&key));
    let process_line = std::iter::once(bin().to_string())
        .chain(process)
        .collect::<Vec<_>>()
        .join(" ");
    let setup = Setup::new(&format!(
        "\
[profile r1]
role_arn = arn:aws:iam::111111111111:role/R1
source_profile = base
region = eu-west-3

[profile r2]
role_arn = arn:aws:iam::222222222222:role/R2
source_profile = r1

[profile r3]
role_arn = arn:aws:iam::333333333333:role/R3
source_profile = r2
role_session_name = third

[profile ra]
credential_process = {process_line}

[profile from-ra]
role_arn = arn:aws:iam::444444444444:role/FromRa
source_profile = ra

[profile loop-a]
role_arn = arn:aws:iam::1:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::1:role/B
source_profile = loop-a
"
    ));
    let ca = run.ca_bundle.to_str().unwrap().to_string();
    let env = [("AWS_CA_BUNDLE", ca.as_str())];
    // Depth 1 to 3: the source names every role of the chain, last first.
    for (profile, roles) in [
        ("r1", &["R1"][..]),
        ("r2", &["R2", "R1"]),
        ("r3", &["R3", "R2", "R1"]),
    ] {
        let v = ok_json(&setup.run(&m.url, &["export", profile, "--output", "json"], &env));
        assert!(
            v["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()),
            "{v}"
        );
        let source = v["Source"].as_str().unwrap_or_default().to_string();
        let positions: Vec<usize> = roles
            .iter()
            .map(|r| {
                source
                    .find(&format!("role/{r}"))
                    .unwrap_or_else(|| panic!("{r} in {source}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{source}");
    }
    // A Roles Anywhere credential_process profile as source_profile: the real binary runs.
    let before = run.emulator.sessions_created();
    let v = ok_json(&setup.run(&m.url, &["export", "from-ra", "--output", "json"], &env));
    assert!(
        v["Source"]
            .as_str()
            .unwrap()
            .contains("credential_process of profile ra"),
        "{v}"
    );
    assert_eq!(run.emulator.sessions_created(), before + 1);
    // exec: the profile's region, no AWS_PROFILE for the child's SDK, the chain as source.
    let out = setup.run(
        &m.url,
        &[
            "exec",
            "r2",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_REGION|$AWS_DEFAULT_REGION|${AWS_PROFILE-unset}|$AWS_SIGNING_HELPER_SOURCE\"",
        ],
        &[("AWS_PROFILE", "somewhere-else"), ("AWS_REGION", "us-west-1")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = line.trim().split('|').collect();
    // r2 names no region (its source r1 does, and a profile's region is not inherited), so the
    // environment's stays.
    assert_eq!((fields[0], fields[2]), ("us-west-1", "unset"), "{line}");
    assert!(
        fields[3].contains("role/R2") && fields[3].contains("role/R1"),
        "{line}"
    );
    let out = setup.run(
        &m.url,
        &[
            "exec",
            "--profile",
            "r1",
            "--",
            "sh",
            "-c",
            "echo $AWS_REGION $AWS_DEFAULT_REGION",
        ],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "eu-west-3 eu-west-3"
    );
    // A loop is refused with the chain printed, before any call.
    let out = setup.run(&m.url, &["export", "loop-a"], &[]);
    assert_clean_failure(&out, "loop-a -> loop-b -> loop-a");
    // Two profiles named differently is refused.
    let out = setup.run(
        &m.url,
        &["exec", "r1", "--profile", "r2", "--", "true"],
        &[],
    );
    assert_clean_failure(&out, "two profiles given");
}

#[test]
fn mfa_once_for_every_role_long_sessions_and_chaining_rules() {
    let Some(sts) = Standin::start() else { return };
    let setup = Setup::new(&format!(
        "\
[profile m1]
role_arn = arn:aws:iam::111111111111:role/Mfa1
source_profile = base
mfa_serial = {SERIAL}

[profile m2]
role_arn = arn:aws:iam::222222222222:role/Mfa2
source_profile = base
mfa_serial = {SERIAL}

[profile long]
role_arn = arn:aws:iam::333333333333:role/MfaLong
source_profile = base
mfa_serial = {SERIAL}
duration_seconds = 7200

[profile chained-long]
role_arn = arn:aws:iam::444444444444:role/Second
source_profile = m1
duration_seconds = 7200

[profile no-mfa]
role_arn = arn:aws:iam::555555555555:role/MfaNeeded
source_profile = base
"
    ));
    let url = sts.url();
    // The first role asks for the code once; the second reuses the cached MFA session (stdin
    // is closed: asking again would fail).
    let v = ok_json(&setup.run(
        &url,
        &["export", "m1", "--token-code", "123456", "--output", "json"],
        &[],
    ));
    assert!(
        v["Arn"].as_str().unwrap().contains("assumed-role/Mfa1"),
        "{v}"
    );
    ok_json(&setup.run(&url, &["export", "m2", "--output", "json"], &[]));
    let calls = sts.calls();
    let gst: Vec<_> = calls
        .iter()
        .filter(|c| c["action"] == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1, "{calls:?}");
    assert_eq!(gst[0]["serial"], SERIAL);
    let roles: Vec<_> = calls
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(roles.len(), 2, "{calls:?}");
    assert!(roles
        .iter()
        .all(|c| c["temporary"] == true && c["serial"].is_null()));

    // Over an hour with MFA: AssumeRole with the long-term keys and the code, no MFA session.
    let n = sts.calls().len();
    ok_json(&setup.run(
        &url,
        &[
            "export",
            "long",
            "--token-code",
            "654321",
            "--output",
            "json",
        ],
        &[],
    ));
    let calls = sts.calls();
    assert_eq!(calls.len(), n + 1, "{calls:?}");
    let last = &calls[n];
    assert_eq!(last["action"], "AssumeRole");
    assert_eq!(last["temporary"], false);
    assert_eq!(last["serial"], SERIAL);
    assert_eq!(last["token_code"], true);
    assert_eq!(last["duration"], 7200);

    // Chaining for over an hour is refused here, with the reason, before STS sees it.
    let n = sts.calls().len();
    let out = setup.run(&url, &["export", "chained-long"], &[]);
    assert_clean_failure(&out, "role chaining");
    assert_eq!(sts.calls().len(), n, "nothing was sent");

    // An error in the <ErrorResponse><Errors><Error> shape reads as one line with its code.
    let out = setup.run(&url, &["export", "no-mfa"], &[]);
    assert_clean_failure(
        &out,
        "api error AccessDenied: MultiFactorAuthentication required",
    );
}

#[test]
fn shell_outputs_replace_stale_variables_and_never_expand() {
    let Some(sts) = Standin::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"ASIAPROC\",\"SecretAccessKey\":\"c2VjcmV0\",\"SessionToken\":\"dG9rZW4=\",\"Expiration\":\"2099-01-01T00:00:00Z\"}'\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let setup = Setup::new(&format!(
        "[profile we$(touch PWNED)`touch PWNED2`ird]\ncredential_process = {}\n",
        script.display()
    ));
    let profile = "we$(touch PWNED)`touch PWNED2`ird";
    let url = sts.url();
    let out = setup.run(&url, &["export", profile, "--output", "env"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env_text = String::from_utf8(out.stdout).unwrap();
    let sh = Command::new("bash")
        .arg("-c")
        .arg(
            "export AWS_ACCOUNT_ID=999999999999 AWS_SIGNING_HELPER_ARN=arn:old; eval \"$1\"; echo \"${AWS_ACCOUNT_ID-unset}|${AWS_SIGNING_HELPER_ARN-unset}|$AWS_ACCESS_KEY_ID|$AWS_SIGNING_HELPER_SOURCE\"",
        )
        .arg("_")
        .arg(&env_text)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let line = String::from_utf8(sh.stdout).unwrap();
    assert_eq!(
        line.trim(),
        format!("unset|unset|ASIAPROC|credential_process of profile {profile}"),
        "{env_text}"
    );
    // dotenv: sourced by sh with set -a, and read by python-dotenv, literally.
    let out = setup.run(&url, &["export", profile, "--output", "dotenv"], &[]);
    assert!(out.status.success());
    std::fs::write(dir.path().join(".env"), &out.stdout).unwrap();
    let sourced = Command::new("sh")
        .args([
            "-c",
            "set -a; . ./.env; echo \"$AWS_SESSION_TOKEN|$AWS_SIGNING_HELPER_SOURCE\"",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let line = String::from_utf8(sourced.stdout).unwrap();
    assert_eq!(
        line.trim(),
        format!("dG9rZW4=|credential_process of profile {profile}")
    );
    let py = Command::new("python3")
        .args([
            "-c",
            "import dotenv,sys; v=dotenv.dotenv_values('.env'); print(v['AWS_SESSION_TOKEN']+'|'+v['AWS_SIGNING_HELPER_SOURCE'])",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "python-dotenv: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8(py.stdout).unwrap().trim(),
        format!("dG9rZW4=|credential_process of profile {profile}")
    );
    assert!(!dir.path().join("PWNED").exists() && !dir.path().join("PWNED2").exists());
    assert!(
        sts.calls().is_empty(),
        "a process profile needs no STS call"
    );
}

/// The child polls its endpoint until the credentials change (bounded), then prints both ids.
const POLL_UNTIL_REFRESHED: &str = r#"
import json, os, sys, time, urllib.request
assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                             headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
seen = []
deadline = time.time() + 90
while time.time() < deadline:
    creds = json.load(urllib.request.urlopen(req, timeout=5))
    if not seen or seen[-1] != creds["AccessKeyId"]:
        seen.append(creds["AccessKeyId"])
    if len(seen) >= 2:
        print(" ".join(seen))
        sys.exit(0)
    time.sleep(0.5)
print("credentials never refreshed: " + " ".join(seen))
sys.exit(3)
"#;

#[test]
fn exec_server_refreshes_credentials_for_a_child_that_outlives_them() {
    // Role sessions of 20 s: the endpoint refreshes them at half-life.
    let Some(sts) = Standin::start_with(&[("STANDIN_LIFETIME", "20")]) else {
        return;
    };
    let setup = Setup::new(
        "[profile r]\nrole_arn = arn:aws:iam::111111111111:role/Refreshing\nsource_profile = base\n",
    );
    let out = setup.run(
        &sts.url(),
        &[
            "exec",
            "r",
            "--server",
            "--",
            "python3",
            "-c",
            POLL_UNTIL_REFRESHED,
        ],
        &[("AWS_PROFILE", "r")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    let roles = sts
        .calls()
        .iter()
        .filter(|c| c["action"] == "AssumeRole")
        .count();
    assert!(roles >= 2, "{roles} AssumeRole calls");
    // The child's exit status is ours.
    let out = setup.run(
        &sts.url(),
        &["exec", "r", "--server", "--", "sh", "-c", "exit 7"],
        &[],
    );
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn instance_metadata_and_container_credential_sources_through_our_serve() {
    let Some(sts) = Standin::start() else { return };
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
    let served = spawn_serve(bin_command(
        &args,
        &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
        home.path(),
    ));
    let setup = Setup::new(
        "\
[profile from-imds]
role_arn = arn:aws:iam::111111111111:role/FromImds
credential_source = Ec2InstanceMetadata

[profile from-ecs]
role_arn = arn:aws:iam::222222222222:role/FromEcs
credential_source = EcsContainer
",
    );
    let imds = format!("http://127.0.0.1:{}", served.port);
    let v = ok_json(&setup.run(
        &sts.url(),
        &["export", "from-imds", "--output", "json"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str())],
    ));
    assert!(
        v["Source"]
            .as_str()
            .unwrap()
            .contains("EC2 instance metadata"),
        "{v}"
    );
    let uri = format!("http://127.0.0.1:{}/v1/credentials", served.port);
    let v = ok_json(&setup.run(
        &sts.url(),
        &["export", "from-ecs", "--output", "json"],
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                token_file.to_str().unwrap(),
            ),
        ],
    ));
    assert!(
        v["Source"]
            .as_str()
            .unwrap()
            .contains("container credentials"),
        "{v}"
    );
    // Both roles were assumed with the Roles Anywhere session the server holds.
    let roles: Vec<_> = sts
        .calls()
        .into_iter()
        .filter(|c| c["action"] == "AssumeRole")
        .collect();
    assert_eq!(roles.len(), 2);
    let base_keys = "AKIAIOSFODNN7EXAMPLE";
    assert!(
        roles.iter().all(|c| c["akid"]
            .as_str()
            .is_some_and(|k| !k.is_empty() && k != base_keys)),
        "{roles:?}"
    );
    // Unreachable metadata is one clear line.
    let out = setup.run(
        &sts.url(),
        &["export", "from-imds"],
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")],
    );
    assert_clean_failure(&out, "credential_source = Ec2InstanceMetadata");
}

/// moto with its IAM authentication on (after the set-up calls) checks our signatures with
/// the keys it issued. (Its authorization of AssumeRole refuses even botocore's own calls with
/// a policy allowing `*` in moto 5.2.1, so roles are not exercised here.)
const MOTO_IAM_SETUP: &str = r#"
import json, sys, botocore.session
url = sys.argv[1]
s = botocore.session.get_session()
iam = s.create_client("iam", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="alice")
alice = iam.create_access_key(UserName="alice")["AccessKey"]
iam.put_user_policy(UserName="alice", PolicyName="sts", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}))
iam.create_user(UserName="bob")
bob = iam.create_access_key(UserName="bob")["AccessKey"]
print(json.dumps([alice["AccessKeyId"], alice["SecretAccessKey"], bob["AccessKeyId"], bob["SecretAccessKey"]]))
"#;

#[test]
fn moto_with_iam_auth_verifies_our_signatures() {
    // The five set-up requests go through before moto starts checking.
    let Some(m) = moto_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "5")]) else {
        return;
    };
    let out = Command::new("python3")
        .args(["-c", MOTO_IAM_SETUP, &m.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let k = |i: usize| keys[i].as_str().unwrap();
    let setup = Setup::new(&format!(
        "[profile alice]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[profile forged]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret\n\n[profile bob]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        k(0), k(1), k(0), k(2), k(3)
    ));
    let v = ok_json(&setup.run(
        &m.url,
        &["session-token", "--profile", "alice", "--output", "json"],
        &[],
    ));
    assert!(
        v["SessionToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{v}"
    );
    let out = setup.run(&m.url, &["session-token", "--profile", "forged"], &[]);
    assert_clean_failure(&out, "SignatureDoesNotMatch");
    // A user whose policies allow no STS call: moto's AccessDenied, in one line.
    let out = setup.run(&m.url, &["session-token", "--profile", "bob"], &[]);
    assert_clean_failure(&out, "api error AccessDenied");
    assert!(String::from_utf8_lossy(&out.stderr).contains("sts:GetSessionToken"));
}
