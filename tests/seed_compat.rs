//! aws-sts-helpers' users move over: their `~/aws-creds` directory and accounts file, read as
//! they are; `eval "$(aws_signing_helper shell-init bash)"` and the seed tool's README
//! walkthrough (ec2now, ec2switch, ec2mfa, switch back) in bash, zsh and fish against moto's
//! STS, with the seed tool's messages; its own cached MFA sessions; `generate-sts-role-token`.

mod common;

use common::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const PERSONAL_ID: &str = "AKIAPERSONAL00000001";
const PERSONAL_SECRET: &str = "personal/secret+key0000000000000000000001";
const WORK_ID: &str = "AKIAWORK000000000001";
const WORK_SECRET: &str = "work/secret+key00000000000000000000000001";

/// A temp HOME with `~/aws-creds` (personal: user from $USER; work: `work.user`), the accounts
/// file at our default place (names in another case than typed), and moto.
struct Seed {
    home: tempfile::TempDir,
    moto: Moto,
}

impl Seed {
    fn new() -> Option<Seed> {
        let moto = moto()?;
        let home = tempfile::tempdir().unwrap();
        let creds = home.path().join("aws-creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
        for (name, value) in [
            ("personal.access_key", PERSONAL_ID),
            ("personal.secret_key", PERSONAL_SECRET),
            ("work.access_key", WORK_ID),
            ("work.secret_key", WORK_SECRET),
            ("work.user", "alice"),
        ] {
            std::fs::write(creds.join(name), format!("{value}\n")).unwrap();
        }
        let config = home.path().join(".config/aws-signing-helper");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("accounts.json"),
            r#"{"Personal": "arn:aws:iam::987654321012:", "work": "arn:aws:iam::012123456789:"}"#,
        )
        .unwrap();
        Some(Seed { home, moto })
    }

    fn creds(&self) -> PathBuf {
        self.home.path().join("aws-creds")
    }

    fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    /// Writes the seed tool's cached session of `name`, `minutes` long, written `age` ago.
    fn seed_cache(&self, name: &str, id: &str, minutes: u32, age: &str) {
        for (suffix, value) in [
            ("access_key", id),
            ("secret_key", "seedsecret"),
            ("session_token", "seedtoken"),
            ("expiration", &minutes.to_string()),
        ] {
            let f = self.creds().join(format!(".cache.{name}.{suffix}"));
            std::fs::write(&f, value).unwrap();
            let touched = Command::new("touch")
                .args(["-d", age])
                .arg(&f)
                .status()
                .unwrap();
            assert!(touched.success());
        }
    }

    /// Runs `script` in `shell` (after the init line) with stdout and stderr merged, `stdin`
    /// on its standard input; returns the transcript.
    fn run(&self, shell: &str, script: &str, stdin: &str) -> String {
        let bin = bin();
        let init = match shell {
            "fish" => format!("'{bin}' shell-init fish | source"),
            _ => format!("eval \"$('{bin}' shell-init {shell})\""),
        };
        // stderr joins stdout at the process level (fish does not redirect the stderr of
        // command substitutions with a block's `2>&1`).
        let mut child = Command::new("sh")
            .args(["-c", "exec \"$0\" -c \"$1\" 2>&1", shell])
            .arg(format!("{init}\n{script}"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("USER", "jbrowne")
            .env("AWS_ENDPOINT_URL_STS", &self.moto.url)
            .env("AWS_SIGNING_HELPER_CACHE_DIR", self.cache())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the shell starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{shell} failed: {stderr}");
        assert!(stderr.is_empty(), "{shell}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }
}

/// The AWS variables and MY_AWS_SET_FOR, sorted, after a marker line.
const DUMP: &str = "env | grep -E '^(AWS_|MY_AWS_)' | sort";

/// The transcript's section after `--N` up to the next marker.
fn step(transcript: &str, n: u32) -> &str {
    let start = transcript
        .find(&format!("--{n}\n"))
        .unwrap_or_else(|| panic!("no step {n} in {transcript}"))
        + format!("--{n}\n").len();
    let rest = &transcript[start..];
    &rest[..rest.find("\n--").map(|i| i + 1).unwrap_or(rest.len())]
}

/// The variables of a dumped section.
fn vars(section: &str) -> std::collections::BTreeMap<String, String> {
    section
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("MY_AWS_"))
        // What the test itself sets.
        .filter(|(k, _)| *k != "AWS_ENDPOINT_URL_STS" && *k != "AWS_SIGNING_HELPER_CACHE_DIR")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The seed tool's README walkthrough, step by step, in `shell`.
fn walkthrough(shell: &str) {
    let Some(seed) = Seed::new() else { return };
    // The README's step 3 finds an old, expired cache of the seed tool.
    seed.seed_cache("personal", "ASIAOLD", 60, "3 hours ago");
    let script = [
        "echo --1; ec2now",
        "echo --2; ec2switch",
        "echo --3; ec2switch personal",
        &format!("echo --30; {DUMP}"),
        "echo --4; ec2now",
        "echo --5; ec2mfa",
        &format!("echo --50; {DUMP}"),
        "echo --6; ec2now",
        "echo --7; ec2switch work",
        &format!("echo --70; {DUMP}"),
        "echo --8; ec2switch personal",
        &format!("echo --80; {DUMP}"),
        "echo --9; ec2mfa",
        "echo --10; ec2unset; ec2now",
        &format!("echo --11; {DUMP}"),
        "echo --12; ec2switch nobody",
        "echo --end",
    ]
    .join("\n");
    let t = seed.run(shell, &script, "281823\n");
    // fish resets USER to the real user's name when it names another user.
    let user = if shell == "fish" {
        let id = Command::new("id").arg("-un").output().unwrap();
        String::from_utf8(id.stdout).unwrap().trim().to_string()
    } else {
        "jbrowne".to_string()
    };
    assert_eq!(step(&t, 1), "No keys set\n", "{t}");
    assert_eq!(step(&t, 2), "Possible accounts: personal work \n", "{t}");
    assert_eq!(
        step(&t, 3),
        "Cache invalid or not present for account personal\nSet keys for personal AWS account\n",
        "{t}"
    );
    let v = vars(step(&t, 30));
    assert_eq!(v["AWS_ACCESS_KEY_ID"], PERSONAL_ID);
    assert_eq!(v["AWS_SECRET_ACCESS_KEY"], PERSONAL_SECRET);
    assert_eq!(v["AWS_ACCESS_KEY"], PERSONAL_ID);
    assert_eq!(v["AWS_SECRET_KEY"], PERSONAL_SECRET);
    assert_eq!(v["MY_AWS_SET_FOR"], "personal");
    assert_eq!(v["AWS_DEFAULT_REGION"], "us-east-1");
    assert!(!v.contains_key("AWS_SESSION_TOKEN"), "{v:?}");
    assert!(!v.contains_key("AWS_SECURITY_TOKEN"), "{v:?}");
    assert!(!v.contains_key("AWS_SIGNING_HELPER_SOURCE"), "{v:?}");
    assert_eq!(
        step(&t, 4),
        "Keys set for personal AWS account\nRegion is us-east-1\n",
        "{t}"
    );
    assert_eq!(
        step(&t, 5),
        format!("Enter token for user {user}: \nCache is valid for account personal\nSet keys for personal-MFA-STS AWS account\n"),
        "{t}"
    );
    let v = vars(step(&t, 50));
    // moto's session keys (always the same example keys), not the long-term or old ones.
    assert_ne!(v["AWS_ACCESS_KEY_ID"], PERSONAL_ID);
    assert_ne!(v["AWS_ACCESS_KEY_ID"], "ASIAOLD");
    assert!(v.contains_key("AWS_CREDENTIAL_EXPIRATION"), "{v:?}");
    let token = &v["AWS_SESSION_TOKEN"];
    assert!(!token.is_empty() && token != "seedtoken");
    assert_eq!(&v["AWS_SECURITY_TOKEN"], token);
    assert_eq!(&v["AWS_DELEGATION_TOKEN"], token);
    assert_eq!(v["AWS_ACCESS_KEY"], v["AWS_ACCESS_KEY_ID"]);
    assert_eq!(v["MY_AWS_SET_FOR"], "personal-MFA-STS");
    let mfa_session = v.clone();
    assert_eq!(
        step(&t, 6),
        "Keys set for personal-MFA-STS AWS account\nRegion is us-east-1\n",
        "{t}"
    );
    assert_eq!(
        step(&t, 7),
        "Cache not present for account work\nSet keys for work AWS account\n",
        "{t}"
    );
    let v = vars(step(&t, 70));
    assert_eq!(v["AWS_ACCESS_KEY_ID"], WORK_ID);
    assert_eq!(v["MY_AWS_SET_FOR"], "work");
    assert!(!v.contains_key("AWS_SESSION_TOKEN"), "{v:?}");
    assert!(!v.contains_key("AWS_DELEGATION_TOKEN"), "{v:?}");
    assert_eq!(
        step(&t, 8),
        "Cache is valid for account personal\nSet keys for personal-MFA-STS AWS account\n",
        "{t}"
    );
    let v = vars(step(&t, 80));
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        assert_eq!(v[k], mfa_session[k], "{k}: the cached session is reused");
    }
    assert_eq!(step(&t, 9), "MFA STS token already cached\n", "{t}");
    assert_eq!(step(&t, 10), "No keys set\nRegion is us-east-1\n", "{t}");
    let v = vars(step(&t, 11));
    assert_eq!(
        v.keys().collect::<Vec<_>>(),
        ["AWS_DEFAULT_REGION"],
        "{v:?}"
    );
    assert_eq!(
        step(&t, 12),
        format!(
            "Didn't find canary {}/nobody.access_key for account nobody\n",
            seed.creds().display()
        ),
        "{t}"
    );
    // The MFA session is in our cache, private; no secret in the creds directory changed.
    let entries: Vec<_> = std::fs::read_dir(seed.cache())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mode = std::fs::metadata(&entries[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(seed.creds().join(".cache.personal.access_key")).unwrap(),
        "ASIAOLD"
    );
}

#[test]
fn readme_walkthrough_in_bash() {
    walkthrough("bash");
}

#[test]
fn readme_walkthrough_in_zsh() {
    if have_tool("zsh", "apt-get install zsh") {
        walkthrough("zsh");
    }
}

#[test]
fn readme_walkthrough_in_fish() {
    if have_tool("fish", "apt-get install fish") {
        walkthrough("fish");
    }
}

#[test]
fn the_seed_tools_cached_session_keeps_working() {
    let Some(seed) = Seed::new() else { return };
    seed.seed_cache("work", "ASIASEEDWORK", 120, "10 minutes ago");
    let t = seed.run(
        "bash",
        &format!("echo --1; ec2switch Work\necho --2; {DUMP}\necho --3; ec2now\necho --end"),
        "",
    );
    assert_eq!(
        step(&t, 1),
        "Cache is valid for account work\nSet keys for Work-MFA-STS AWS account\n",
        "{t}"
    );
    let v = vars(step(&t, 2));
    assert_eq!(v["AWS_ACCESS_KEY_ID"], "ASIASEEDWORK");
    assert_eq!(v["AWS_SECRET_ACCESS_KEY"], "seedsecret");
    assert_eq!(v["AWS_SESSION_TOKEN"], "seedtoken");
    assert_eq!(v["AWS_SECURITY_TOKEN"], "seedtoken");
    assert!(v.contains_key("AWS_CREDENTIAL_EXPIRATION"), "{v:?}");
    assert_eq!(v["MY_AWS_SET_FOR"], "Work-MFA-STS");
    assert_eq!(
        step(&t, 3),
        "Keys set for Work-MFA-STS AWS account\nRegion is us-east-1\n"
    );
}

#[test]
fn the_aws_cli_uses_what_ec2mfa_set() {
    if !have_tool("aws", "pip install -r .ci/requirements.txt") {
        return;
    }
    let Some(seed) = Seed::new() else { return };
    let t = seed.run(
        "bash",
        "ec2switch personal >/dev/null 2>&1; ec2mfa >/dev/null 2>&1\n\
         echo --1; aws sts get-caller-identity --endpoint-url \"$AWS_ENDPOINT_URL_STS\" --output text --query Arn; echo \"status $?\"\n\
         echo --end",
        "123456\n",
    );
    let s = step(&t, 1);
    assert!(s.ends_with("status 0\n"), "{t}");
    assert!(s.starts_with("arn:aws:"), "{t}");
}

#[test]
fn failures_print_the_seed_tools_lines_and_leave_the_shell_alone() {
    let Some(seed) = Seed::new() else { return };
    // A wrong MFA code (not six digits): the error, then the seed tool's line; nothing set.
    let t = seed.run(
        "bash",
        &format!(
            "echo --1; ec2switch work\necho --2; ec2mfa; echo \"status $?\"\necho --3; {DUMP}\necho --end"
        ),
        "12ab\n",
    );
    let s2 = step(&t, 2);
    assert!(s2.starts_with("Enter token for user alice: \n"), "{t}");
    assert!(s2.contains("Failed to set MFA token\nstatus 1\n"), "{t}");
    assert_eq!(s2.lines().count(), 4, "one error line: {t}");
    assert_eq!(vars(step(&t, 3))["MY_AWS_SET_FOR"], "work");
    // A cache directory others may write to is not read; the keys are set all the same.
    std::fs::set_permissions(seed.cache(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let t = seed.run(
        "bash",
        &format!("echo --1; ec2switch work\necho --2; {DUMP}\necho --end"),
        "",
    );
    let s1 = step(&t, 1);
    assert!(
        s1.lines()
            .next()
            .unwrap()
            .contains("warning: the STS cache is not read"),
        "{t}"
    );
    assert!(
        s1.ends_with("Cache not present for account work\nSet keys for work AWS account\n"),
        "{t}"
    );
    assert_eq!(s1.lines().count(), 3, "{t}");
    assert_eq!(vars(step(&t, 2))["AWS_ACCESS_KEY_ID"], WORK_ID);
    // No directory.
    std::fs::rename(seed.creds(), seed.home.path().join("moved")).unwrap();
    let t = seed.run(
        "bash",
        "echo --1; ec2switch; echo \"status $?\"\necho --end",
        "",
    );
    assert_eq!(
        step(&t, 1),
        format!("No creds directory? {}\nstatus 1\n", seed.creds().display())
    );
}

/// The environment of `generate-sts-role-token` and `session-token` runs: HOME, moto, cache.
fn env_of(seed: &Seed) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), seed.home.path().display().to_string()),
        ("AWS_ENDPOINT_URL_STS".into(), seed.moto.url.clone()),
        (
            "AWS_SIGNING_HELPER_CACHE_DIR".into(),
            seed.cache().display().to_string(),
        ),
        ("USER".into(), "jbrowne".into()),
    ]
}

fn run_with(seed: &Seed, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let base = env_of(seed);
    let mut all: Vec<(&str, &str)> = base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(env);
    bin_command(&args, &all, seed.home.path())
        .output()
        .expect("binary runs")
}

#[test]
fn generate_sts_role_token_prints_the_seed_tools_json_and_shell() {
    let Some(seed) = Seed::new() else { return };
    let env = [
        ("AWS_ACCESS_KEY_ID", WORK_ID),
        ("AWS_SECRET_ACCESS_KEY", WORK_SECRET),
    ];
    let out = run_with(
        &seed,
        &[
            "generate-sts-role-token",
            "--account",
            "WORK",
            "--role",
            "work-temporary-escalation",
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["access_key", "expiration", "secret_key", "session_token"]
    );
    assert!(!doc["session_token"].as_str().unwrap().is_empty());
    assert!(doc["expiration"].as_str().unwrap().ends_with('Z'));
    assert!(text.starts_with("{\n    \"access_key\": \""), "{text}");
    assert!(text.ends_with("\"\n}\n"), "{text}");
    // A raw ARN prefix as --account, as the seed tool takes it.
    let out = run_with(
        &seed,
        &[
            "generate-sts-role-token",
            "--account",
            "arn:aws:iam::111122223333:",
            "--role",
            "R",
            "--shell",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sh = String::from_utf8(out.stdout).unwrap();
    assert!(sh.contains("export AWS_SESSION_TOKEN='"), "{sh}");
    assert!(sh.contains("export AWS_SECURITY_TOKEN='"), "{sh}");
    assert!(sh.contains("export AWS_ACCOUNT_ID='111122223333'"), "{sh}");
    // The seed tool's --token: the session token of the environment's temporary keys; a
    // warning says it is visible and not needed.
    let session = run_with(
        &seed,
        &["session-token", "--profile", "work", "--output", "json"],
        &[],
    );
    assert!(
        session.status.success(),
        "{}",
        String::from_utf8_lossy(&session.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&session.stdout).unwrap();
    let out = run_with(
        &seed,
        &[
            "generate-sts-role-token",
            "--account",
            "work",
            "--role",
            "R",
            "--token",
            s["SessionToken"].as_str().unwrap(),
        ],
        &[
            ("AWS_ACCESS_KEY_ID", s["AccessKeyId"].as_str().unwrap()),
            (
                "AWS_SECRET_ACCESS_KEY",
                s["SecretAccessKey"].as_str().unwrap(),
            ),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("--token shows the session token"),
        "{stderr}"
    );
    assert!(!stderr.contains(s["SessionToken"].as_str().unwrap()));
}

#[test]
fn session_token_account_defaults_the_mfa_device_as_the_seed_tool() {
    let Some(seed) = Seed::new() else { return };
    let source = |args: &[&str]| {
        let out = run_with(&seed, args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["Source"].as_str().unwrap().to_string()
    };
    let st = [
        "session-token",
        "--output",
        "json",
        "--token-code",
        "123456",
    ];
    // work.user names the device; personal's is $USER; the accounts file's name is "Personal".
    assert_eq!(
        source(&[&st[..], &["--account", "work"]].concat()),
        "session-token via profile work, MFA arn:aws:iam::012123456789:mfa/alice"
    );
    assert_eq!(
        source(&[&st[..], &["--account", "personal"]].concat()),
        "session-token via profile personal, MFA arn:aws:iam::987654321012:mfa/jbrowne"
    );
    assert_eq!(
        source(&[&st[..], &["--account", "personal", "--user", "bob"]].concat()),
        "session-token via profile personal, MFA arn:aws:iam::987654321012:mfa/bob"
    );
    // No terminal and no code: one clear line, nothing on stdout.
    let out = run_with(
        &seed,
        &["session-token", "--account", "work", "--no-cache"],
        &[],
    );
    assert_clean_failure(
        &out,
        "--token-code is needed for MFA device arn:aws:iam::012123456789:mfa/alice",
    );
    // An account the accounts file does not know.
    std::fs::write(seed.creds().join("other.access_key"), "AKIAOTHER").unwrap();
    std::fs::write(seed.creds().join("other.secret_key"), "s").unwrap();
    let out = run_with(&seed, &[&st[..], &["--account", "other"]].concat(), &[]);
    assert_clean_failure(&out, "unknown --account \"other\"");
}

#[test]
fn the_creds_directory_is_a_profile_source_after_the_aws_files() {
    let Some(seed) = Seed::new() else { return };
    let whoami = |args: &[&str], env: &[(&str, &str)]| {
        let out = run_with(&seed, args, env);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        )
    };
    // --profile NAME finds personal's keys in ~/aws-creds (moto answers with the key's user).
    let (ok, out, err) = whoami(
        &["session-token", "--profile", "Personal", "--output", "json"],
        &[],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("\"Source\": \"session-token via profile Personal\""),
        "{out}"
    );
    assert!(!err.contains(PERSONAL_SECRET));
    // --creds-dir elsewhere: the name is unknown there, and the error says where we looked.
    let empty = seed.home.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (ok, _, err) = whoami(
        &[
            "session-token",
            "--profile",
            "personal",
            "--creds-dir",
            empty.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("no personal.access_key in the aws-creds directory"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // ~/.aws/credentials wins over the directory for the same name.
    let aws = seed.home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[work]\naws_access_key_id = AKIAFROMAWSFILE00001\naws_secret_access_key = x\n",
    )
    .unwrap();
    let (ok, _, err) = whoami(&["session-token", "--profile", "work"], &[]);
    assert!(ok, "{err}");
    // Each cache entry names the access key that made it.
    let keys_used: String = std::fs::read_dir(seed.cache())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(keys_used.contains("AKIAFROMAWSFILE00001"), "{keys_used}");
    assert!(!keys_used.contains(WORK_ID), "{keys_used}");
    assert!(keys_used.contains(PERSONAL_ID), "{keys_used}");
}
