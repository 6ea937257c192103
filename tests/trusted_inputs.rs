//! Inputs that decide whose credentials go to whom or what code we run are trusted only from
//! their owner, as the shared AWS files are: `serve --bindings`, the accounts file, a PKCS#11
//! module named by a path. Each is refused when others can write it (or a directory above it),
//! with one line and nothing done; accepted when private; and, as root, refused when another
//! user's unless that user ran `sudo` (`SUDO_UID`). Real binary, real files, a second system
//! user for the root-only parts.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::softhsm::{have_tools, Hsm, MODULE};
use common::*;

/// The other user of the root-only parts (the one `tests/safe_files.rs` uses too).
const TEST_USER: &str = "aws-sh-test-files";

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs `cmd` to its end; one still running after `limit` (a server that started, a request
/// waiting for an answer) is killed and fails the test, naming `what` should have stopped it.
fn run_bounded(mut cmd: Command, limit: Duration, what: &str) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {what} ({})", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `serve` with one binding, `second`, from `file`.
struct BindingsCase {
    pki: Pki,
    run: Running,
    home: tempfile::TempDir,
    file: PathBuf,
}

impl BindingsCase {
    fn new() -> BindingsCase {
        let pki = Pki::new();
        let run = start(&pki, emulator_config(&pki));
        let (cert, key) = pki.leaf("client", "ec:P-256");
        let home = tempfile::tempdir().unwrap();
        let entry = binding_entry(&run, &cert, &key, "Second");
        let file = home.path().join("bindings.json");
        std::fs::write(
            &file,
            serde_json::json!({"bindings": {"second": entry}}).to_string(),
        )
        .unwrap();
        BindingsCase {
            pki,
            run,
            home,
            file,
        }
    }

    fn main_token(&self) -> PathBuf {
        self.home.path().join("container-token")
    }

    fn binding_token(&self) -> PathBuf {
        self.home.path().join("container-token-second")
    }

    fn command(&self, file: &Path, env: &[(&str, &str)]) -> Command {
        let cert = self.pki.path("client.pem");
        let key = self.pki.path("client.key");
        let mut args = cp_args(&self.run, &cert, Some(&key));
        args[0] = "serve".into();
        args.extend(
            [
                "--port",
                "0",
                "--container-token-file",
                self.main_token().to_str().unwrap(),
                "--bindings",
                file.to_str().unwrap(),
            ]
            .map(String::from),
        );
        let mut all = vec![("AWS_CA_BUNDLE", self.run.ca_bundle.to_str().unwrap())];
        all.extend_from_slice(env);
        bin_command(&args, &all, self.home.path())
    }

    /// Serve refuses the file: one line naming it (with `needle`), and nothing served.
    fn assert_refused(&self, file: &Path, env: &[(&str, &str)], needle: &str) {
        let before = self.run.emulator.sessions_created();
        let out = run_bounded(
            self.command(file, env),
            Duration::from_secs(30),
            "serve started with an untrusted bindings file",
        );
        assert_clean_failure(&out, "refusing to read bindings file");
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&file.display().to_string()),
            "{}",
            stderr(&out)
        );
        assert_eq!(self.run.emulator.sessions_created(), before);
        assert!(!self.main_token().exists());
        assert!(!self.binding_token().exists());
    }

    /// Serve starts and the binding's route hands out its role's credentials.
    fn assert_served(&self, file: &Path, env: &[(&str, &str)]) {
        let served = spawn_serve(self.command(file, env));
        let mut body = String::new();
        assert!(
            wait_until(Duration::from_secs(20), || {
                let Ok(bearer) = std::fs::read_to_string(self.binding_token()) else {
                    return false;
                };
                let (status, b) = http(
                    served.port,
                    "GET",
                    "/v1/credentials/second",
                    &[("Authorization", &bearer)],
                );
                body = b;
                status == 200
            }),
            "the binding never served: {body}"
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v["AccessKeyId"].as_str().is_some(), "{body}");
        drop(served);
        let _ = std::fs::remove_file(self.main_token());
        let _ = std::fs::remove_file(self.binding_token());
    }
}

#[test]
fn serve_bindings_are_trusted_only_from_their_owner() {
    let case = BindingsCase::new();
    let file = &case.file;
    // Writable by others: whoever can write it maps their uid or port to a role of ours.
    chmod(file, 0o666);
    case.assert_refused(file, &[], "other users can write to it (mode 0666)");
    // In a directory others can write: refused, naming the directory.
    let open = case.home.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let moved = open.join("bindings.json");
    std::fs::copy(file, &moved).unwrap();
    chmod(&moved, 0o600);
    case.assert_refused(
        &moved,
        &[],
        &format!("{}, above it, cannot be trusted", open.display()),
    );
    // Ours and private: served.
    chmod(file, 0o600);
    case.assert_served(file, &[]);
    if !need_root("a bindings file owned by another user") {
        return;
    }
    // Root (serve's usual user) refuses another user's file, unless that user ran sudo.
    let (uid, gid) = system_user(TEST_USER);
    chmod(file, 0o644);
    chown(file, uid, gid);
    case.assert_refused(file, &[], "belongs to user id");
    let uid_text = uid.to_string();
    case.assert_served(file, &[("SUDO_UID", &uid_text)]);
}

/// A TCP port nobody answers on: after the binary exits, whether it connected at all.
struct Untouched(std::net::TcpListener);

impl Untouched {
    fn new() -> Untouched {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Untouched(l)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.0.local_addr().unwrap().port())
    }

    fn assert_untouched(&self) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("STS was called: {other:?}"),
        }
    }
}

#[test]
fn accounts_files_are_trusted_only_from_their_owner() {
    let Some(m) = moto() else { return };
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // The default place: ~/.config/aws-signing-helper/accounts.json.
    let dir = home.path().join(".config/aws-signing-helper");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("accounts.json");
    std::fs::write(&file, r#"{"work": "arn:aws:iam::012123456789:"}"#).unwrap();
    let run = |sts: &str, flag: bool, extra: &[(&str, &str)]| {
        let mut args = vec!["assume-role", "--account", "work", "--role", "Dev"];
        if flag {
            args.extend(["--accounts-file", file.to_str().unwrap()]);
        }
        args.extend(["--output", "json"]);
        let mut env = vec![
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            ("AWS_ENDPOINT_URL_STS", sts),
            (
                "AWS_SIGNING_HELPER_CACHE_DIR",
                cache.path().to_str().unwrap(),
            ),
        ];
        env.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        run_bounded(
            bin_command(&args, &env, home.path()),
            Duration::from_secs(60),
            "assume-role called STS",
        )
    };
    let refused = |extra: &[(&str, &str)], needle: &str| {
        for flag in [true, false] {
            let sts = Untouched::new();
            let out = run(&sts.url(), flag, extra);
            assert_clean_failure(&out, "refusing to read accounts file");
            assert!(stderr(&out).contains(needle), "{}", stderr(&out));
            sts.assert_untouched();
        }
    };
    let accepted = |extra: &[(&str, &str)]| {
        for flag in [true, false] {
            let out = run(&m.url, flag, extra);
            assert!(out.status.success(), "{}", stderr(&out));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["AccountId"], "012123456789");
        }
    };
    // Writable by others: whoever can write it picks the role `--account work` assumes.
    chmod(&file, 0o666);
    refused(&[], "other users can write to it (mode 0666)");
    // Ours and private (or readable by all): used.
    chmod(&file, 0o644);
    accepted(&[]);
    // Below a directory others can write: refused, naming it.
    chmod(&dir, 0o777);
    refused(
        &[],
        &format!("{}, above it, cannot be trusted", dir.display()),
    );
    chmod(&dir, 0o755);
    if !need_root("an accounts file owned by another user") {
        return;
    }
    let (uid, gid) = system_user(TEST_USER);
    chown(&file, uid, gid);
    refused(&[], "belongs to user id");
    let uid_text = uid.to_string();
    accepted(&[("SUDO_UID", &uid_text)]);
}

/// A shared library whose constructor creates `$TRUSTED_INPUTS_MARKER`: loading it shows.
fn marker_module(dir: &Path) -> PathBuf {
    let src = dir.join("marker.c");
    std::fs::write(
        &src,
        "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         __attribute__((constructor)) static void ran(void) {\n\
           const char *p = getenv(\"TRUSTED_INPUTS_MARKER\");\n\
           if (p) { int fd = open(p, O_CREAT | O_WRONLY, 0600); if (fd >= 0) close(fd); }\n\
         }\n",
    )
    .unwrap();
    let lib = dir.join("libmarker.so");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()
        .expect("cc runs (the Rust toolchain links with it)");
    assert!(out.status.success(), "cc: {}", stderr(&out));
    lib
}

#[test]
fn pkcs11_modules_named_by_a_path_are_trusted_only_from_their_owner() {
    if !have_tools() {
        return;
    }
    let pki = Pki::new();
    let hsm = Hsm::new("L");
    let (cert, key) = pki.leaf("ec", "ec:P-256");
    hsm.import_key("L", &key, "ec", "02");
    hsm.write_cert("L", &cert, "ec", "02");
    let libs = tempfile::tempdir().unwrap();
    chmod(libs.path(), 0o755);
    let module = libs.path().join("libsofthsm2.so");
    std::fs::copy(MODULE, &module).unwrap();
    let marker = libs.path().join("loaded");
    let marker_lib = marker_module(libs.path());
    let read = |lib: &Path, by_uri: bool, extra: &[(&str, &str)]| {
        let mut args = vec!["read-certificate-data".to_string(), "--certificate".into()];
        if by_uri {
            args.push(format!(
                "pkcs11:token=L;type=cert?module-path={}",
                lib.display()
            ));
        } else {
            args.extend([
                "pkcs11:token=L;type=cert".into(),
                "--pkcs11-lib".into(),
                lib.display().to_string(),
            ]);
        }
        let mut env = vec![
            ("SOFTHSM2_CONF", hsm.conf.to_str().unwrap()),
            ("TRUSTED_INPUTS_MARKER", marker.to_str().unwrap()),
        ];
        env.extend_from_slice(extra);
        run_bin(&args, &env)
    };
    let refused = |lib: &Path, extra: &[(&str, &str)], needle: &str| {
        for by_uri in [false, true] {
            let out = read(lib, by_uri, extra);
            assert_clean_failure(&out, "refusing to load PKCS#11 module");
            assert!(stderr(&out).contains(needle), "{}", stderr(&out));
            assert!(
                stderr(&out).contains(&lib.display().to_string()),
                "{}",
                stderr(&out)
            );
            assert!(!marker.exists(), "the untrusted module was loaded");
        }
    };
    let works = |lib: &Path, extra: &[(&str, &str)]| {
        for by_uri in [false, true] {
            let out = read(lib, by_uri, extra);
            assert!(out.status.success(), "{}", stderr(&out));
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Subject: CN=ec,O=Test"), "{text}");
        }
    };
    // Writable by others: loading it would run their code as us. Refused, not loaded.
    chmod(&marker_lib, 0o666);
    refused(&marker_lib, &[], "other users can write to it (mode 0666)");
    chmod(&module, 0o666);
    refused(&module, &[], "other users can write to it (mode 0666)");
    // The marker works: the same library made private is loaded (and is no PKCS#11 module).
    chmod(&marker_lib, 0o755);
    let out = read(&marker_lib, false, &[]);
    assert_clean_failure(&out, "Failed to load provider library");
    assert!(marker.exists(), "the marker library did not run");
    std::fs::remove_file(&marker).unwrap();
    // Private: loaded, and the token's certificate is read.
    chmod(&module, 0o755);
    works(&module, &[]);
    // In a directory others can write (the file could be swapped): refused, naming it.
    let open = tempfile::tempdir().unwrap();
    chmod(open.path(), 0o777);
    let exposed = open.path().join("libmarker.so");
    std::fs::copy(&marker_lib, &exposed).unwrap();
    chmod(&exposed, 0o755);
    refused(
        &exposed,
        &[],
        &format!("{}, above it, cannot be trusted", open.path().display()),
    );
    if !need_root("a PKCS#11 module owned by another user") {
        return;
    }
    // Root loading another user's module would run their code as root: refused, unless that
    // user ran sudo.
    let (uid, gid) = system_user(TEST_USER);
    chown(&marker_lib, uid, gid);
    refused(&marker_lib, &[], "belongs to user id");
    chown(&module, uid, gid);
    refused(&module, &[], "belongs to user id");
    let uid_text = uid.to_string();
    works(&module, &[("SUDO_UID", &uid_text)]);
}

/// `serve --allow-user NAME` looks the user up in `/etc/passwd`, read as a trusted file (it
/// decides which uid gets credentials): root's file is accepted, and a name it lacks is one line.
#[test]
fn allow_user_reads_the_user_database_as_a_trusted_file() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let serve = |user: &str| {
        let mut args = cp_args(&run, &cert, Some(&key));
        args[0] = "serve".into();
        args.extend(
            [
                "--port",
                "0",
                "--container-token-file",
                home.path().join("token").to_str().unwrap(),
                "--allow-user",
                user,
            ]
            .map(String::from),
        );
        bin_command(
            &args,
            &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
            home.path(),
        )
    };
    let out = run_bounded(
        serve("no-such-user-here"),
        Duration::from_secs(30),
        "serve started for an unknown --allow-user",
    );
    assert_clean_failure(
        &out,
        "--allow-user no-such-user-here: no such user in /etc/passwd",
    );
    let served = spawn_serve(serve("root"));
    let role = ROLE_ARN.rsplit('/').next().unwrap();
    if is_root() {
        assert_eq!(imds_credentials(served.port, role)["Code"], "Success");
    }
}

#[test]
fn a_ca_bundle_others_can_write_is_refused_before_any_request() {
    // Whoever can write the bundle can put their CA in it and read our credentials in transit.
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ca.pem");
    std::fs::copy(&run.ca_bundle, &bundle).unwrap();
    chmod(&bundle, 0o666);
    let cp = |bundle: &Path| {
        run_bin(
            &cp_args(&run, &cert, Some(&key)),
            &[("AWS_CA_BUNDLE", bundle.to_str().unwrap())],
        )
    };
    let out = cp(&bundle);
    assert_clean_failure(&out, "refusing to read CA bundle");
    assert!(
        stderr(&out).contains("other users can write to it (mode 0666)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(run.emulator.sessions_created(), 0);
    chmod(&bundle, 0o644);
    let out = cp(&bundle);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(run.emulator.sessions_created(), 1);
}
