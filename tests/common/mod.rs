//! Test support: a PKI made with the `openssl` CLI, the emulator started in-process on
//! loopback, and a runner for the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod softhsm;

use aws_signing_helper::emulator::{Config, Emulator};
use aws_signing_helper::identity::file::load_certificates;

pub const TA_ARN: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/ta-1";
pub const PROFILE_ARN: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p-1";
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/TestRole";

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_aws_signing_helper")
}

/// Runs `openssl` with `args` in `dir`, panicking with its stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI must be installed (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA in a temporary directory, able to issue client certificates.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

const CA_EXT: &str = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n";
const LEAF_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n";

impl Pki {
    /// A new root CA (`ca.pem`, `ca.key`) with an EC P-256 key.
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path();
        std::fs::write(p.join("ca.ext"), CA_EXT).unwrap();
        std::fs::write(p.join("leaf.ext"), LEAF_EXT).unwrap();
        openssl(
            p,
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
                "/CN=Test Root CA",
                "-extensions",
                "v3_ca",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Makes a key `NAME.key` (PKCS#8 PEM) of `alg` (`rsa:2048`, `ec:P-384`, …).
    pub fn key(&self, name: &str, alg: &str) -> PathBuf {
        let key = format!("{name}.key");
        let (kind, param) = alg.split_once(':').unwrap();
        let opt = if kind == "rsa" {
            format!("rsa_keygen_bits:{param}")
        } else {
            format!("ec_paramgen_curve:{param}")
        };
        openssl(
            self.dir.path(),
            &[
                "genpkey",
                "-algorithm",
                if kind == "rsa" { "RSA" } else { "EC" },
                "-pkeyopt",
                &opt,
                "-out",
                &key,
            ],
        );
        self.path(&key)
    }

    /// Issues `NAME.pem` for the key `NAME.key`, signed by `issuer` (`ca` or an intermediate),
    /// with the leaf extensions (or `ext`, a file in the directory).
    pub fn issue(&self, name: &str, issuer: &str, ext: &str, days: &str) -> PathBuf {
        let p = self.dir.path();
        let csr = format!("{name}.csr");
        openssl(
            p,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}/O=Test"),
            ],
        );
        openssl(
            p,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                days,
                "-extfile",
                ext,
                "-sha256",
            ],
        );
        self.path(&format!("{name}.pem"))
    }

    /// A client certificate and key of `alg` issued by the root CA.
    pub fn leaf(&self, name: &str, alg: &str) -> (PathBuf, PathBuf) {
        let key = self.key(name, alg);
        let cert = self.issue(name, "ca", "leaf.ext", "10");
        (cert, key)
    }

    /// An intermediate CA `NAME` under the root.
    pub fn intermediate(&self, name: &str) -> PathBuf {
        self.key(name, "ec:P-256");
        self.issue(name, "ca", "ca.ext", "20")
    }

    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).unwrap();
        p
    }
}

/// Emulator settings for tests: trusts the PKI's root.
pub fn emulator_config(pki: &Pki) -> Config {
    Config {
        trust_anchors: load_certificates(&pki.path("ca.pem")).expect("CA certificate loads"),
        ..Config::default()
    }
}

/// A running emulator plus the file holding its TLS CA (for AWS_CA_BUNDLE).
pub struct Running {
    pub emulator: Emulator,
    pub ca_bundle: PathBuf,
}

pub fn start(pki: &Pki, config: Config) -> Running {
    let emulator =
        Emulator::start(config, "127.0.0.1:0".parse().unwrap(), true).expect("emulator starts");
    let ca_bundle = pki.write(
        "server-ca.pem",
        emulator
            .server_ca_pem()
            .expect("TLS emulator has a CA")
            .as_bytes(),
    );
    Running {
        emulator,
        ca_bundle,
    }
}

/// The credential-process command line for `cert`/`key` against `run`.
pub fn cp_args(run: &Running, cert: &Path, key: Option<&Path>) -> Vec<String> {
    let mut args = vec![
        "credential-process".to_string(),
        "--certificate".into(),
        cert.display().to_string(),
        "--trust-anchor-arn".into(),
        TA_ARN.into(),
        "--profile-arn".into(),
        PROFILE_ARN.into(),
        "--role-arn".into(),
        ROLE_ARN.into(),
        "--endpoint".into(),
        run.emulator.url(),
    ];
    if let Some(k) = key {
        args.push("--private-key".into());
        args.push(k.display().to_string());
    }
    args
}

/// The binary as a command with a clean AWS environment (HOME is `home`), plus `env`.
pub fn bin_command(args: &[String], env: &[(&str, &str)], home: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Runs the binary with a clean AWS environment (HOME in a temp dir), plus `env`.
pub fn run_bin(args: &[String], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    bin_command(args, env, home.path())
        .output()
        .expect("binary runs")
}

/// Runs credential-process against `run`, trusting its TLS CA.
pub fn credential_process(
    run: &Running,
    cert: &Path,
    key: Option<&Path>,
    extra: &[&str],
) -> Output {
    let mut args = cp_args(run, cert, key);
    args.extend(extra.iter().map(|s| s.to_string()));
    run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())])
}

/// Asserts success and a well-formed credential_process document; returns it.
pub fn assert_credentials(out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "credential-process failed: {stderr}");
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!stdout.ends_with('\n'), "no trailing newline expected");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(v["Version"], 1);
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(!v["SecretAccessKey"].as_str().unwrap().is_empty());
    assert!(!v["SessionToken"].as_str().unwrap().is_empty());
    assert!(v["Expiration"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .is_ok());
    assert_eq!(v["AccountId"], "111122223333");
    v
}

/// Asserts a clean failure: non-zero exit, nothing on stdout, exactly one stderr line that
/// contains `needle`, no panic.
pub fn assert_clean_failure(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty, got {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got: {stderr}");
    assert!(
        stderr.contains(needle),
        "stderr {stderr:?} lacks {needle:?}"
    );
}

/// Whether `python3 -c "import MODULE"` works. In CI (where `.ci/run` installs it) a missing
/// module fails the test; locally the caller skips, and this prints why.
pub fn have_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 module {module} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: python3 module {module} is not installed (pip install -r .ci/requirements.txt)");
    }
    ok
}

/// Whether `program` runs (`program --version`); outside CI its absence skips the test with
/// the printed reason, in CI it fails it (`.ci/run` installs it; `install` says how).
pub fn have_tool(program: &str, install: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI ({install})"
        );
        eprintln!("skipping: {program} is not installed ({install})");
    }
    ok
}

/// The message `sign-string` signs: the fixed text, version "1", and SHA-256("IAM RA" ‖
/// public key) when the signer knows its public key.
pub fn sign_string_payload(public_key: Option<&[u8]>) -> Vec<u8> {
    let mut m = b"AWS Roles Anywhere Credential Helper Signing Test1".to_vec();
    if let Some(p) = public_key {
        let mut input = b"IAM RA".to_vec();
        input.extend_from_slice(p);
        m.extend_from_slice(&aws_signing_helper::identity::Digest::Sha256.hash(&input));
    }
    m
}

/// The signature bytes of a successful `sign-string` run in `format` (json, text or bin); its
/// text output never ends with a newline (raw `bin` bytes may end in 0x0a by chance).
pub fn sign_string_signature(out: &Output, format: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "sign-string failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        format == "bin" || !out.stdout.ends_with(b"\n"),
        "sign-string output must not end with a newline"
    );
    match format {
        "bin" => out.stdout.clone(),
        "text" => hex::decode(&out.stdout).unwrap(),
        _ => hex::decode(serde_json::from_slice::<String>(&out.stdout).unwrap()).unwrap(),
    }
}

/// A running `serve` process: its port and the banner it printed on stderr.
pub struct Served {
    pub child: std::process::Child,
    pub port: u16,
    pub banner: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns a `serve` command and reads its banner (it ends with the container token file line;
/// the wait is bounded by the process exiting). stderr keeps being drained afterwards so the
/// server never blocks on a full pipe.
pub fn spawn_serve(mut cmd: Command) -> Served {
    use std::io::BufRead;
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut reader = std::io::BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let done = line.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        banner.push(line.trim_end().to_string());
        if done {
            break;
        }
    }
    std::thread::spawn(move || for _ in reader.lines() {});
    let port = banner
        .iter()
        .find_map(|l| l.rsplit_once("Local server started on port: "))
        .map(|(_, p)| p.trim().parse::<u16>().unwrap())
        .unwrap_or_else(|| panic!("serve did not start: {banner:?}"));
    Served {
        child,
        port,
        banner,
    }
}

/// One HTTP/1.1 exchange on loopback (Connection: close); returns (status, body).
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split(' ').nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The IMDSv2 flow against a local serve: a token, then the role's credentials (asserted to be
/// a 200 "Success" answer); returns the JSON.
pub fn imds_credentials(port: u16, role: &str) -> serde_json::Value {
    let (status, token) = http(
        port,
        "PUT",
        "/latest/api/token",
        &[("X-aws-ec2-metadata-token-ttl-seconds", "60")],
    );
    assert_eq!(status, 200, "token: {token}");
    let path = format!("/latest/meta-data/iam/security-credentials/{role}");
    let (status, body) = http(port, "GET", &path, &[("X-aws-ec2-metadata-token", &token)]);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v["Code"], "Success");
    v
}

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: std::process::Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto, or returns `None` (after printing why) when python3 with moto is missing
/// outside CI; in CI its absence fails the test.
pub fn moto() -> Option<Moto> {
    moto_with_env(&[])
}

/// [`moto`] with extra environment for the server (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`, which
/// turns on moto's IAM authentication and authorization after that many requests).
pub fn moto_with_env(env: &[(&str, &str)]) -> Option<Moto> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto[server] is required in CI (.ci/run installs it)"
        );
        eprintln!(
            "skipping: python3 with moto[server] is not installed (pip install 'moto[server]')"
        );
        return None;
    }
    // A port the kernel just handed out and we released; moto binds it right after.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto starts");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "moto did not listen within 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(moto)
}

/// The local STS stand-in (`tests/support/sts_standin.py`) for the rules moto does not
/// enforce, killed on drop.
pub struct Standin {
    child: std::process::Child,
    pub port: u16,
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Standin {
    pub fn start() -> Option<Standin> {
        Standin::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Option<Standin> {
        Standin::script("sts_standin.py", env)
    }

    /// The federation endpoint stand-in (`tests/support/federation_standin.py`).
    pub fn federation(env: &[(&str, &str)]) -> Option<Standin> {
        Standin::script("federation_standin.py", env)
    }

    /// Starts `tests/support/NAME`, which prints its port on its first line.
    pub fn script(name: &str, env: &[(&str, &str)]) -> Option<Standin> {
        use std::io::BufRead;
        if Command::new("python3").arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 is required in CI"
            );
            eprintln!("skipping: python3 is not installed");
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/support")
            .join(name);
        let mut child = Command::new("python3")
            .arg(script)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("the stand-in starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the stand-in prints its port");
        let port = line.trim().parse().expect("a port number");
        Some(Standin { child, port })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The calls it received so far.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"GET /calls HTTP/1.0\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("[]");
        serde_json::from_str(body).expect("calls JSON")
    }
}

/// The uid and gid of system user `name` (no home, no login shell), created with `useradd`
/// on first use: the "other user" of the multi-user tests (run as root).
pub fn system_user(name: &str) -> (u32, u32) {
    let id = |flag: &str| {
        std::process::Command::new("id")
            .args([flag, name])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .ok()
            })
    };
    if id("-u").is_none() {
        let st = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ])
            .status()
            .expect("useradd runs");
        assert!(st.success() || id("-u").is_some(), "useradd {name} failed");
    }
    (
        id("-u").expect("the user's uid"),
        id("-g").expect("the user's gid"),
    )
}

/// Whether the tests run as root (the multi-user parts need it).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    uid_line.split_whitespace().nth(2) == Some("0")
}

/// Whether the test may run its root-only part `what`; in CI a missing root fails the test.
pub fn need_root(what: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} needs root, and CI runs as root"
    );
    eprintln!("skipping {what}: it needs root");
    false
}

/// `chown` without following a link.
pub fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

/// What [`run_in_pty`] saw.
pub struct PtyRun {
    /// The exit code.
    pub status: i32,
    /// What the binary wrote on the terminal (prompts, warnings, errors).
    pub terminal: String,
    /// How many answers were typed.
    pub answered: usize,
    pub stdout: String,
}

/// Runs the binary (clean environment as [`bin_command`], plus `env`) on a pseudo-terminal
/// through `tests/support/pty_run.py`, typing one of `answers` at each MFA prompt; its stdout
/// is kept apart from the terminal.
pub fn run_in_pty(args: &[String], env: &[(&str, &str)], answers: &[&str]) -> PtyRun {
    let home = tempfile::tempdir().unwrap();
    let out_file = home.path().join("stdout");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pty_run.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(&out_file)
        .arg("MFA code for")
        .args(answers)
        .arg("--")
        .arg(bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().expect("python3 runs the pty driver");
    assert!(
        out.status.success(),
        "pty driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the driver's JSON");
    PtyRun {
        status: v["status"].as_i64().expect("an exit status") as i32,
        terminal: v["terminal"].as_str().unwrap_or_default().to_string(),
        answered: v["answered"].as_u64().unwrap_or_default() as usize,
        stdout: std::fs::read_to_string(&out_file).unwrap_or_default(),
    }
}

/// An emulator started with `emulator --background --state STATE` (control plane and
/// CreateSession); killed (by its pid) when dropped.
pub struct Background {
    pub url: String,
    pub pid: u32,
    pub server_ca: PathBuf,
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

pub fn start_background(pki: &Pki, state: &Path) -> Background {
    let server_ca = pki.path("server-ca.pem");
    let out = Command::new(bin())
        .args(["emulator", "--background", "--state"])
        .arg(state)
        .arg("--server-ca-out")
        .arg(&server_ca)
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "emulator did not start: {stderr}");
    let pid = stderr
        .split("pid ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {stderr:?}"));
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    Background {
        url,
        pid,
        server_ca,
    }
}

pub fn have_aws_cli() -> bool {
    let ok = Command::new("aws")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "the AWS CLI is required in CI (.ci/requirements.txt: awscli)"
        );
        eprintln!("skipping: the AWS CLI is not installed (pip install -r .ci/requirements.txt)");
    }
    ok
}

/// Runs `aws ARGS --region us-east-1 --output json` with only `PATH`, `HOME`, example keys and
/// `env` in its environment: (exit code, stdout JSON, stderr).
pub fn aws_cli(
    home: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (i32, serde_json::Value, String) {
    let out = Command::new("aws")
        .args(args)
        .args(["--region", "us-east-1", "--output", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .envs(env.iter().copied())
        .output()
        .expect("aws runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = if stdout.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The standard error of a finished run, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `f` every 20 ms until it holds or `limit` has passed; whether it held.
pub fn wait_until(limit: std::time::Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    f()
}

/// One `serve --bindings` entry: the flags of [`cp_args`] as keys, plus `role-arn` for `role`.
pub fn binding_entry(run: &Running, cert: &Path, key: &Path, role: &str) -> serde_json::Value {
    let a = cp_args(run, cert, Some(key));
    let mut m = serde_json::Map::new();
    for pair in a[1..].chunks(2) {
        m.insert(
            pair[0].trim_start_matches("--").to_string(),
            pair[1].clone().into(),
        );
    }
    m.insert(
        "role-arn".into(),
        format!("arn:aws:iam::111122223333:role/{role}").into(),
    );
    serde_json::Value::Object(m)
}
