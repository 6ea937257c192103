//! TPM 2.0 end to end against swtpm: every test starts its own swtpm (TCP, free ports, killed on
//! drop), makes keys with tpm2-tools (persistent handles, `TSS2 PRIVATE KEY` files), has the
//! root CA certify the TPM's public key, and runs the real binary against the emulator.
//! Without swtpm/tpm2-tools the tests fail when `CI` is set and are skipped (with a reason)
//! otherwise. TPM support is in every build (no cargo feature needed).

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_signing_helper::identity::file::load_certificates;
use aws_signing_helper::identity::tpm::TpmKeyFile;
use aws_signing_helper::identity::{chain, Certificate, Digest};
use common::*;

const PASSWORD: &str = "tpm-Secret 42";
const PASSWORD_ENV: &str = "AWS_SIGNING_HELPER_TPM_KEY_PASSWORD";

/// Whether swtpm and tpm2-tools are here; panics in CI when not.
fn have_tools() -> bool {
    let tool = |t: &str| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let ok = tool("swtpm") && tool("tpm2_createprimary") && tool("tpm2_encodeobject");
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs swtpm and tpm2-tools (apt-get install swtpm swtpm-tools tpm2-tools)"
        );
        eprintln!("skipping: swtpm/tpm2-tools not installed (apt-get install swtpm swtpm-tools tpm2-tools)");
    }
    ok
}

/// Two free consecutive loopback ports (server, control).
fn free_ports() -> u16 {
    for _ in 0..50 {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two free consecutive ports on 127.0.0.1");
}

/// A swtpm of its own, in a temporary directory, and the files the test makes there.
struct Tpm {
    dir: tempfile::TempDir,
    child: Child,
    tcti: String,
}

impl Drop for Tpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tpm {
    fn start() -> Tpm {
        let mut last = String::new();
        // A port taken between free_ports() and swtpm's bind: try again with other ports.
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let state = dir.path().join("state");
            std::fs::create_dir(&state).unwrap();
            let port = free_ports();
            let mut child = Command::new("swtpm")
                .args([
                    "socket",
                    "--tpm2",
                    "--tpmstate",
                    &format!("dir={}", state.display()),
                    "--server",
                    &format!("type=tcp,port={port},bindaddr=127.0.0.1"),
                    "--ctrl",
                    &format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
                    "--flags",
                    "not-need-init,startup-clear",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("swtpm starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Tpm {
                        dir,
                        child,
                        tcti: format!("swtpm:host=127.0.0.1,port={port}"),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("swtpm did not start: {last}");
    }

    /// Stops swtpm (SIGTERM: it saves its state) and serves the same TPM state on a Unix socket
    /// (`tpm.sock`); `tcti` becomes `swtpm:path=…`. tpm2-tools 5.4 (tpm2-tss 3) cannot reach a
    /// Unix socket, so keys are made before. With `startup` false swtpm is not started
    /// (`not-need-init` only): the helper must send TPM2_Startup itself.
    fn restart_on_unix_socket(&mut self, startup: bool) -> PathBuf {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "swtpm did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
        let socket = self.path("tpm.sock");
        let flags = if startup {
            "not-need-init,startup-clear"
        } else {
            "not-need-init"
        };
        self.child = Command::new("swtpm")
            .args([
                "socket",
                "--tpm2",
                "--tpmstate",
                &format!("dir={}", self.path("state").display()),
                "--server",
                &format!("type=unixio,path={}", socket.display()),
                "--ctrl",
                &format!("type=unixio,path={}", self.path("ctrl.sock").display()),
                "--flags",
                flags,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "swtpm on a Unix socket exited"
            );
            assert!(
                Instant::now() < deadline,
                "swtpm did not listen on {socket:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.tcti = format!("swtpm:path={}", socket.display());
        socket
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a tpm2-tools command, then flushes transient objects and sessions (no resource
    /// manager here, and swtpm holds only three objects).
    fn tool(&self, args: &[&str]) -> Output {
        let run = |args: &[&str]| {
            let out = Command::new(args[0])
                .args(&args[1..])
                .env("TPM2TOOLS_TCTI", &self.tcti)
                .env("TSS2_LOG", "all+NONE")
                .current_dir(self.dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };
        let out = run(args);
        for what in ["-t", "-l", "-s"] {
            run(&["tpm2_flushcontext", what]);
        }
        out
    }

    /// The storage primary of the official tool's template under the owner hierarchy (`primary.ctx`),
    /// the one the helper re-creates for key files whose parent is 0x40000001.
    fn primary(&self) {
        self.tool(&[
            "tpm2_createprimary",
            "-Q",
            "-C",
            "o",
            "-g",
            "sha256",
            "-G",
            "ecc256:aes128cfb",
            "-a",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt",
            "-c",
            "primary.ctx",
        ]);
    }

    /// A signing key `NAME.pub`/`NAME.priv` of `alg` (`rsa2048`, `ecc256`, `ecc384`) under
    /// `parent` (a context file or a persistent handle), with `password` as its auth value.
    fn create(&self, name: &str, alg: &str, parent: &str, password: Option<&str>) {
        let (public, private) = (format!("{name}.pub"), format!("{name}.priv"));
        let mut args = vec![
            "tpm2_create",
            "-Q",
            "-C",
            parent,
            "-G",
            alg,
            "-u",
            &public,
            "-r",
            &private,
        ];
        if let Some(p) = password {
            args.extend(["-p", p]);
        }
        self.tool(&args);
    }

    /// Loads `NAME` and writes its public key as `NAME.pub.pem`; with `handle`, also makes it
    /// persistent there.
    fn load(&self, name: &str, parent: &str, handle: Option<&str>) -> PathBuf {
        let ctx = format!("{name}.ctx");
        let pem = format!("{name}.pub.pem");
        self.tool(&[
            "tpm2_load",
            "-Q",
            "-C",
            parent,
            "-u",
            &format!("{name}.pub"),
            "-r",
            &format!("{name}.priv"),
            "-c",
            &ctx,
        ]);
        self.tool(&["tpm2_readpublic", "-Q", "-c", &ctx, "-f", "pem", "-o", &pem]);
        if let Some(h) = handle {
            self.tool(&["tpm2_evictcontrol", "-Q", "-C", "o", "-c", &ctx, h]);
        }
        self.path(&pem)
    }

    /// Writes `NAME.pem`, a `TSS2 PRIVATE KEY` file, with emptyAuth = `empty_auth`.
    /// (tpm2-tools 5.4 writes emptyAuth TRUE with `-p` and FALSE without, the reverse of its
    /// manual; later versions may fix it, so the result is checked and the flag flipped.)
    fn encode(&self, name: &str, parent: &str, empty_auth: bool) -> PathBuf {
        let out = format!("{name}.pem");
        let public = format!("{name}.pub");
        let private = format!("{name}.priv");
        for flag in [false, true] {
            let mut args = vec![
                "tpm2_encodeobject",
                "-Q",
                "-C",
                parent,
                "-u",
                &public,
                "-r",
                &private,
                "-o",
                &out,
            ];
            if flag {
                args.push("-p");
            }
            self.tool(&args);
            let key = TpmKeyFile::load(&self.path(&out)).expect("tpm2_encodeobject output parses");
            if key.empty_auth == empty_auth {
                return self.path(&out);
            }
        }
        panic!("tpm2_encodeobject cannot write emptyAuth={empty_auth}");
    }
}

/// The CA certifies `public_pem` (the TPM key): `NAME.pem`, from a throwaway key's CSR with the
/// public key forced.
fn certify(pki: &Pki, name: &str, public_pem: &Path) -> PathBuf {
    pki.key(name, "ec:P-256");
    let p = pki.dir.path();
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
            &format!("/CN={name}/O=Test TPM"),
        ],
    );
    openssl(
        p,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-force_pubkey",
            public_pem.to_str().unwrap(),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "10",
            "-extfile",
            "leaf.ext",
            "-sha256",
        ],
    );
    pki.path(&format!("{name}.pem"))
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Runs the binary against `tpm` (TPM_DEVICE) and `run` (CA bundle).
fn run_tpm(tpm: &Tpm, run: Option<&Running>, a: &[String], env: &[(&str, &str)]) -> Output {
    let mut all = vec![("TPM_DEVICE", tpm.tcti.as_str())];
    if let Some(run) = run {
        all.push(("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()));
    }
    all.extend_from_slice(env);
    run_bin(a, &all)
}

/// credential-process with `--certificate cert` (if any) and `--private-key key` (if any).
fn cp(
    tpm: &Tpm,
    run: &Running,
    cert: Option<&Path>,
    key: Option<&str>,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut a = args(&[
        "credential-process",
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
        &run.emulator.url(),
    ]);
    if let Some(c) = cert {
        a.extend(args(&["--certificate", c.to_str().unwrap()]));
    }
    if let Some(k) = key {
        a.extend(args(&["--private-key", k]));
    }
    a.extend(args(extra));
    run_tpm(tpm, Some(run), &a, env)
}

fn cert_of(path: &Path) -> Certificate {
    load_certificates(path).unwrap().remove(0)
}

/// RSA and EC persistent keys with and without a password, certified by the CA.
struct Handles {
    pki: Pki,
    tpm: Tpm,
    /// (name, handle, password, certificate)
    keys: Vec<(&'static str, &'static str, Option<&'static str>, PathBuf)>,
}

fn handles() -> Handles {
    let pki = Pki::new();
    let tpm = Tpm::start();
    tpm.primary();
    let mut keys = Vec::new();
    for (name, alg, handle, password) in [
        ("rsa-pw", "rsa2048", "0x81000001", Some(PASSWORD)),
        ("rsa", "rsa2048", "0x81000002", None),
        ("ec-pw", "ecc256", "0x81000003", Some(PASSWORD)),
        ("ec", "ecc256", "0x81000004", None),
    ] {
        tpm.create(name, alg, "primary.ctx", password);
        let public = tpm.load(name, "primary.ctx", Some(handle));
        let cert = certify(&pki, name, &public);
        keys.push((name, handle, password, cert));
    }
    Handles { pki, tpm, keys }
}

#[test]
fn persistent_handle_keys_get_credentials() {
    if !have_tools() {
        return;
    }
    let h = handles();
    let run = start(&h.pki, emulator_config(&h.pki));
    let mut sessions = 0;
    for (name, handle, password, cert) in &h.keys {
        let key = format!("handle:{handle}");
        let out = match password {
            // By flag.
            Some(p) => cp(
                &h.tpm,
                &run,
                Some(cert),
                Some(&key),
                &["--tpm-key-password", p],
                &[],
            ),
            None => cp(
                &h.tpm,
                &run,
                Some(cert),
                Some(&key),
                &["--no-tpm-key-password"],
                &[],
            ),
        };
        assert_credentials(&out);
        sessions += 1;
        // By environment variable, and the handle without 0x.
        if let Some(p) = password {
            let bare = format!("handle:{}", &handle[2..]);
            let out = cp(
                &h.tpm,
                &run,
                Some(cert),
                Some(&bare),
                &[],
                &[(PASSWORD_ENV, p)],
            );
            assert_credentials(&out);
            sessions += 1;
        }
        let _ = name;
    }
    assert_eq!(run.emulator.sessions_created(), sessions);
}

#[test]
fn key_files_get_credentials() {
    if !have_tools() {
        return;
    }
    let pki = Pki::new();
    let tpm = Tpm::start();
    tpm.primary();
    let run = start(&pki, emulator_config(&pki));
    // EC keys under the owner hierarchy (the helper re-creates the primary), with and
    // without a password; an RSA key under a persistent parent.
    tpm.create("ec-pw", "ecc256", "primary.ctx", Some(PASSWORD));
    tpm.create("ec", "ecc256", "primary.ctx", None);
    let ec_pw = tpm.encode("ec-pw", "primary.ctx", false);
    let ec = tpm.encode("ec", "primary.ctx", true);
    let ec_pw_cert = certify(&pki, "ec-pw", &tpm.load("ec-pw", "primary.ctx", None));
    let ec_cert = certify(&pki, "ec", &tpm.load("ec", "primary.ctx", None));
    tpm.tool(&[
        "tpm2_evictcontrol",
        "-Q",
        "-C",
        "o",
        "-c",
        "primary.ctx",
        "0x81000100",
    ]);
    tpm.create("rsa-pw", "rsa2048", "0x81000100", Some(PASSWORD));
    let rsa_pw = tpm.encode("rsa-pw", "0x81000100", false);
    assert_eq!(TpmKeyFile::load(&rsa_pw).unwrap().parent, 0x8100_0100);
    let rsa_pw_cert = certify(&pki, "rsa-pw", &tpm.load("rsa-pw", "0x81000100", None));

    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = cp(
        &tpm,
        &run,
        Some(&ec_pw_cert),
        Some(&s(&ec_pw)),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_credentials(&out);
    let out = cp(
        &tpm,
        &run,
        Some(&ec_pw_cert),
        Some(&s(&ec_pw)),
        &[],
        &[(PASSWORD_ENV, PASSWORD)],
    );
    assert_credentials(&out);
    let out = cp(&tpm, &run, Some(&ec_cert), Some(&s(&ec)), &[], &[]);
    assert_credentials(&out);
    let out = cp(
        &tpm,
        &run,
        Some(&rsa_pw_cert),
        Some(&s(&rsa_pw)),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_credentials(&out);
    // A combined file given only as --certificate: the key block and the certificate.
    let mut combined = std::fs::read(&ec).unwrap();
    combined.extend(std::fs::read(&ec_cert).unwrap());
    let combined = pki.write("combined.pem", &combined);
    let out = cp(&tpm, &run, Some(&combined), None, &[], &[]);
    assert_credentials(&out);
    assert_eq!(run.emulator.sessions_created(), 5);

    // update --once writes the profile with a TPM key file.
    let file = pki.write("credentials", b"");
    let a = args(&[
        "update",
        "--once",
        "--profile",
        "tpm",
        "--certificate",
        ec_cert.to_str().unwrap(),
        "--private-key",
        ec.to_str().unwrap(),
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
        &run.emulator.url(),
    ]);
    let out = run_tpm(
        &tpm,
        Some(&run),
        &a,
        &[("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap())],
    );
    assert!(
        out.status.success(),
        "update: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("[tpm]") && text.contains("aws_access_key_id = ASIA"),
        "{text}"
    );
}

#[test]
fn wrong_passwords_and_missing_certificates_fail_cleanly() {
    if !have_tools() {
        return;
    }
    let h = handles();
    // Dictionary-attack protection as swtpm's default, set explicitly: the third wrong
    // password locks DA-protected keys out (for 1000 s).
    h.tpm.tool(&[
        "tpm2_dictionarylockout",
        "-Q",
        "-s",
        "-n",
        "3",
        "-t",
        "1000",
        "-l",
        "1000",
    ]);
    let run = start(&h.pki, emulator_config(&h.pki));
    let (_, handle, _, cert) = &h.keys[0];
    let key = format!("handle:{handle}");
    // Wrong password by flag, by environment; no password for a key that has one.
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&key),
        &["--tpm-key-password", "wrong"],
        &[],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrong"));
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&key),
        &[],
        &[(PASSWORD_ENV, "wrong")],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&key),
        &["--no-tpm-key-password"],
        &[],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    // No terminal to ask on.
    let out = cp(&h.tpm, &run, Some(cert), Some(&key), &[], &[]);
    assert_clean_failure(&out, "unable to read your TPM key password");
    // A TPM key without a certificate: a clean error, before any TPM or network use.
    let out = cp(
        &h.tpm,
        &run,
        None,
        Some(&key),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_clean_failure(&out, "unable to find certificate");
    let out = cp(
        &h.tpm,
        &run,
        None,
        Some("handle:0x81000004"),
        &["--no-tpm-key-password"],
        &[],
    );
    assert_clean_failure(&out, "unable to find certificate");
    // Somebody else's certificate.
    let other = &h.keys[3].3;
    let out = cp(
        &h.tpm,
        &run,
        Some(other),
        Some(&key),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_clean_failure(&out, "does not match the certificate");
    // A handle with nothing in it; a malformed handle; a Unix socket that is not there.
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some("handle:0x81000042"),
        &["--no-tpm-key-password"],
        &[],
    );
    assert_clean_failure(&out, "cannot find the key 0x81000042");
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some("handle:0x8100zz"),
        &["--no-tpm-key-password"],
        &[],
    );
    assert_clean_failure(&out, "invalid hex TPM handle value");
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&key),
        &["--no-tpm-key-password"],
        &[("TPM_DEVICE", "swtpm:path=/nonexistent")],
    );
    assert_clean_failure(&out, "TPM_DEVICE=swtpm:path=/nonexistent");
    // emptyAuth key file and a password.
    h.tpm.create("ec-file", "ecc256", "primary.ctx", None);
    let file = h.tpm.encode("ec-file", "primary.ctx", true);
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(file.to_str().unwrap()),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_clean_failure(
        &out,
        "password is provided but TPM key file indicates that one isn't required",
    );
    // Three wrong passwords above: now the TPM refuses even the right one, and says why.
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&key),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_clean_failure(&out, "DA lockout");
    assert_eq!(run.emulator.sessions_created(), 0);
}

#[test]
fn wrong_password_for_a_key_file_fails_cleanly() {
    if !have_tools() {
        return;
    }
    let pki = Pki::new();
    let tpm = Tpm::start();
    tpm.primary();
    let run = start(&pki, emulator_config(&pki));
    tpm.create("ec-pw", "ecc256", "primary.ctx", Some(PASSWORD));
    let file = tpm.encode("ec-pw", "primary.ctx", false);
    let cert = certify(&pki, "ec-pw", &tpm.load("ec-pw", "primary.ctx", None));
    let key = file.to_str().unwrap();
    let out = cp(
        &tpm,
        &run,
        Some(&cert),
        Some(key),
        &["--tpm-key-password", "wrong"],
        &[],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    let out = cp(
        &tpm,
        &run,
        Some(&cert),
        Some(key),
        &[],
        &[(PASSWORD_ENV, "wrong")],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    let out = cp(
        &tpm,
        &run,
        None,
        Some(key),
        &["--tpm-key-password", PASSWORD],
        &[],
    );
    assert_clean_failure(&out, "unable to find certificate");
    assert_eq!(run.emulator.sessions_created(), 0);
}

#[test]
fn sign_string_signatures_verify_with_the_tpm_public_key() {
    if !have_tools() {
        return;
    }
    let h = handles();
    h.tpm
        .create("ec-file", "ecc256", "primary.ctx", Some(PASSWORD));
    let file = h.tpm.encode("ec-file", "primary.ctx", false);
    let file_cert = certify(
        &h.pki,
        "ec-file",
        &h.tpm.load("ec-file", "primary.ctx", None),
    );
    let mut keys: Vec<(String, Option<&str>, PathBuf)> = h
        .keys
        .iter()
        .map(|(_, handle, pw, cert)| (format!("handle:{handle}"), *pw, cert.clone()))
        .collect();
    keys.push((
        file.to_str().unwrap().to_string(),
        Some(PASSWORD),
        file_cert,
    ));
    for (key, password, cert_path) in &keys {
        let cert = cert_of(cert_path);
        for format in ["json", "text", "bin"] {
            for (digest, d) in [
                ("SHA256", Digest::Sha256),
                ("SHA384", Digest::Sha384),
                ("SHA512", Digest::Sha512),
            ] {
                // The key alone: the TPM knows its public key, so D is present.
                let mut a = args(&[
                    "sign-string",
                    "--private-key",
                    key,
                    "--format",
                    format,
                    "--digest",
                    digest,
                ]);
                match password {
                    Some(p) => a.extend(args(&["--tpm-key-password", p])),
                    None if key.starts_with("handle:") => a.push("--no-tpm-key-password".into()),
                    None => {}
                }
                let sig = sign_string_signature(&run_tpm(&h.tpm, None, &a, &[]), format);
                assert!(
                    chain::verify(
                        &cert,
                        d,
                        &sign_string_payload(Some(cert.public_key())),
                        &sig
                    ),
                    "{key} {format} {digest}"
                );
                if format == "json" {
                    // With the certificate too.
                    a.extend(args(&["--certificate", cert_path.to_str().unwrap()]));
                    let sig = sign_string_signature(&run_tpm(&h.tpm, None, &a, &[]), format);
                    assert!(chain::verify(
                        &cert,
                        d,
                        &sign_string_payload(Some(cert.public_key())),
                        &sig
                    ));
                }
            }
        }
    }
}

/// A real `serve` process with a TPM persistent key (password from the environment) answers the
/// IMDSv2 flow with credentials the emulator issued for a TPM signature.
#[test]
fn tpm_key_works_in_serve() {
    if !have_tools() {
        return;
    }
    let h = handles();
    let run = start(&h.pki, emulator_config(&h.pki));
    let (_, handle, password, cert) = h.keys.iter().find(|k| k.0 == "ec-pw").unwrap();
    let home = tempfile::tempdir().unwrap();
    let key = format!("handle:{handle}");
    let a = args(&[
        "serve",
        "--port",
        "0",
        "--container-token-file",
        home.path().join("t").to_str().unwrap(),
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        &key,
        "--trust-anchor-arn",
        TA_ARN,
        "--profile-arn",
        PROFILE_ARN,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
        &run.emulator.url(),
    ]);
    let env = [
        ("TPM_DEVICE", h.tpm.tcti.as_str()),
        ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
        (PASSWORD_ENV, password.unwrap()),
    ];
    let served = spawn_serve(bin_command(&a, &env, home.path()));
    let v = imds_credentials(served.port, "TestRole");
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    drop(served);
    assert_eq!(run.emulator.sessions_created(), 1);
}

/// swtpm serving a Unix socket (`--server type=unixio`): a persistent key by
/// `TPM_DEVICE=swtpm:path=…` (simulator framing) and by the socket path itself (raw commands,
/// as the official tool sends them), and a key file under the owner
/// hierarchy (CreatePrimary, Load, Sign, FlushContext over the socket). swtpm is not started
/// (`not-need-init` without `startup-clear`), so the helper's TPM2_Startup is exercised too.
#[test]
fn unix_socket_swtpm_gets_credentials() {
    if !have_tools() {
        return;
    }
    let mut h = handles();
    h.tpm
        .create("ec-file", "ecc256", "primary.ctx", Some(PASSWORD));
    let file = h.tpm.encode("ec-file", "primary.ctx", false);
    let file_cert = certify(
        &h.pki,
        "ec-file",
        &h.tpm.load("ec-file", "primary.ctx", None),
    );
    let socket = h.tpm.restart_on_unix_socket(false);
    let run = start(&h.pki, emulator_config(&h.pki));
    let (_, handle, password, cert) = h.keys.iter().find(|k| k.0 == "ec-pw").unwrap();
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&format!("handle:{handle}")),
        &["--tpm-key-password", password.unwrap()],
        &[],
    );
    assert_credentials(&out);
    let (_, handle, _, cert) = h.keys.iter().find(|k| k.0 == "rsa").unwrap();
    let out = cp(
        &h.tpm,
        &run,
        Some(cert),
        Some(&format!("handle:{handle}")),
        &["--no-tpm-key-password"],
        &[("TPM_DEVICE", socket.to_str().unwrap())],
    );
    assert_credentials(&out);
    let out = cp(
        &h.tpm,
        &run,
        Some(&file_cert),
        Some(file.to_str().unwrap()),
        &[],
        &[(PASSWORD_ENV, PASSWORD)],
    );
    assert_credentials(&out);
    // A wrong password over the socket is the same one-line error.
    let out = cp(
        &h.tpm,
        &run,
        Some(&file_cert),
        Some(file.to_str().unwrap()),
        &["--tpm-key-password", "wrong"],
        &[],
    );
    assert_clean_failure(&out, "incorrect TPM key password");
    assert_eq!(run.emulator.sessions_created(), 3);
}

/// ECC P-384 keys: a persistent one with a password and a key file with emptyAuth, both
/// certified; credential-process works, and sign-string signatures with every digest verify.
#[test]
fn p384_keys_sign_and_get_credentials() {
    if !have_tools() {
        return;
    }
    let pki = Pki::new();
    let tpm = Tpm::start();
    tpm.primary();
    tpm.create("ec384-pw", "ecc384", "primary.ctx", Some(PASSWORD));
    let handle_cert = certify(
        &pki,
        "ec384-pw",
        &tpm.load("ec384-pw", "primary.ctx", Some("0x81000005")),
    );
    tpm.create("ec384", "ecc384", "primary.ctx", None);
    let file = tpm.encode("ec384", "primary.ctx", true);
    let file_cert = certify(&pki, "ec384", &tpm.load("ec384", "primary.ctx", None));
    let run = start(&pki, emulator_config(&pki));
    let keys: [(String, Option<&str>, &Path); 2] = [
        ("handle:0x81000005".into(), Some(PASSWORD), &handle_cert),
        (file.to_str().unwrap().into(), None, &file_cert),
    ];
    for (key, password, cert_path) in &keys {
        let extra: Vec<&str> = match password {
            Some(p) => vec!["--tpm-key-password", p],
            None => vec![],
        };
        assert_credentials(&cp(&tpm, &run, Some(cert_path), Some(key), &extra, &[]));
        let cert = cert_of(cert_path);
        assert!(format!("{:?}", cert.key_type()).contains("P384"));
        for (digest, d) in [
            ("SHA256", Digest::Sha256),
            ("SHA384", Digest::Sha384),
            ("SHA512", Digest::Sha512),
        ] {
            let mut a = args(&["sign-string", "--private-key", key, "--digest", digest]);
            a.extend(args(&extra));
            let sig = sign_string_signature(&run_tpm(&tpm, None, &a, &[]), "json");
            assert!(
                chain::verify(
                    &cert,
                    d,
                    &sign_string_payload(Some(cert.public_key())),
                    &sig
                ),
                "{key} {digest}"
            );
        }
    }
    assert_eq!(run.emulator.sessions_created(), 2);
}
