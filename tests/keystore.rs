//! The key store through the binary: each backend end to end (`keys add` on stdin, `keys
//! list` masked, `session-token` / `assume-role` against moto with `--profile NAME` from the
//! store, `keys remove`), `import-keys`, `keys rotate` against moto, and that the secret
//! appears in no file, output, `--debug` log or argv.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_signing_helper::iam::{self, Iam, IamOptions};
use aws_signing_helper::sts::{xml_values, AccessKeys};
use common::{bin_command, moto, Moto};
use zeroize::Zeroizing;

const ROLE: &str = "arn:aws:iam::123456789012:role/KeyStoreTest";

/// A secret no other test uses, so finding it anywhere is this test's leak.
fn secret() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("kS{:038}", nanos ^ u128::from(std::process::id()))
}

/// An access key id of the AKIA form, unique to the test.
fn key_id(tag: &str) -> String {
    format!("AKIA{tag:X<12}{:04}", std::process::id() % 10000)
        .chars()
        .take(20)
        .collect()
}

/// A test's world: a temp HOME, the environment it adds, and every argv and output seen.
struct World {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
    argvs: Vec<Vec<String>>,
    outputs: Vec<Output>,
}

impl World {
    fn new(env: &[(&str, &str)]) -> World {
        World {
            home: tempfile::tempdir().unwrap(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            argvs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn command(&mut self, args: &[&str]) -> Command {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.argvs.push(args.clone());
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        bin_command(&args, &env, self.home.path())
    }

    /// Runs the binary with `stdin` written to its standard input.
    fn run(&mut self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("binary runs");
        // Written and closed: the binary reads at most two lines.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        self.outputs.push(out.clone());
        out
    }

    fn ok(&mut self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&mut self, args: &[&str], needle: &str) -> String {
        let out = self.run(args, "");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// The secret is in no file under HOME (the cache dir included), no output and no argv.
    fn assert_secret_nowhere(&self, secret: &str) {
        let mut stack = vec![self.home.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    let bytes = std::fs::read(e.path()).unwrap();
                    assert!(
                        !contains(&bytes, secret.as_bytes()),
                        "the secret is in {}",
                        e.path().display()
                    );
                }
            }
        }
        for o in &self.outputs {
            assert!(!contains(&o.stdout, secret.as_bytes()), "secret on stdout");
            assert!(!contains(&o.stderr, secret.as_bytes()), "secret on stderr");
        }
        for a in &self.argvs {
            assert!(!a.iter().any(|w| w.contains(secret)), "secret in argv");
        }
        for (k, v) in &self.env {
            assert!(!v.contains(secret), "secret in the environment ({k})");
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `keys add`, `keys list`, STS through `--profile NAME` from the store, `keys remove`: the
/// same flow for each backend. `store` is the `--key-store` flags.
fn backend_flow(w: &mut World, m: &Moto, store: &[&str], name: &str) {
    let id = key_id(&format!("T{}", store[1].len()));
    let secret = secret();
    // Plaintext keys of the same profile name, which the store must win over.
    let aws = w.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[{name}]\naws_access_key_id = AKIAPLAINTEXTKEY0001\naws_secret_access_key = plain\n"
        ),
    )
    .unwrap();

    let add = [&["keys", "add", name, "--user", "alice"], store].concat();
    let out = w.ok(&add, &format!("{id}\n{secret}\n"));
    assert!(
        out.contains(&format!("{}…{}", &id[..4], &id[16..])),
        "{out}"
    );

    let list = [&["keys", "list"], store].concat();
    let out = w.ok(&list, "");
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} listed: {out}"));
    assert!(
        line.contains(store[1]) && line.contains(&format!("AKIA…{}", &id[16..])),
        "{line}"
    );
    assert!(line.contains("alice"), "{line}");
    assert!(!out.contains(&id), "the full id is masked: {out}");

    let cache = w.home().join(".cache").display().to_string();
    let sts = ["--endpoint", m.url.as_str(), "--cache-dir", cache.as_str()];
    let st = [
        &[
            "session-token",
            "--profile",
            name,
            "--output",
            "json",
            "--debug",
        ],
        store,
        &sts,
    ]
    .concat();
    let out = w.run(&st, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["SessionToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{v}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "long-term keys AKIA…{} of {name:?} from the {} key store",
            &id[16..],
            store[1]
        )),
        "the store's key, not the plaintext one: {err}"
    );

    // exec: the role's credentials in a child's environment, the store's key as the source.
    let ex = [
        &["exec", "--profile", name, "--role-arn", ROLE, "--no-cache"][..],
        store,
        &[
            "--endpoint",
            m.url.as_str(),
            "--",
            "sh",
            "-c",
            "test -n \"$AWS_SESSION_TOKEN\"",
        ],
    ]
    .concat();
    w.ok(&ex, "");

    // assume-role with the store named by the environment instead of the flag.
    w.env
        .push(("AWS_SIGNING_HELPER_KEY_STORE".into(), store[1].into()));
    let mut ar = vec![
        "assume-role",
        "--profile",
        name,
        "--role-arn",
        ROLE,
        "--role-session-name",
        "ks",
        "--no-cache",
        "--endpoint",
        m.url.as_str(),
        "--debug",
    ];
    ar.extend_from_slice(&store[2..]); // --key-store-file, if any
    let out = w.run(&ar, "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("AKIA…{}", &id[16..])));
    w.env.pop();

    let rm = [&["keys", "remove", name], store].concat();
    assert!(w.ok(&rm, "").contains("removed"));
    w.fails(&rm, "no key named");
    let out = w.ok(&list, "");
    assert!(!out.contains(&format!("{name} ")), "{out}");
    w.assert_secret_nowhere(&secret);
}

#[test]
fn kernel_keyring_backend_end_to_end() {
    let Some(m) = moto() else { return };
    // The persistent keyring is shared by every process of this user: a name of our own.
    let name = format!("ks-kernel-{}", std::process::id());
    let mut w = World::new(&[]);
    backend_flow(&mut w, &m, &["--key-store", "keyring"], &name);
    // A temporary key is refused, nothing half-stored.
    let err = w.run(
        &["keys", "add", &name, "--key-store", "keyring"],
        "ASIAIOSFODNN7EXAMPLE\nx\n",
    );
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("temporary key"));
    // Without a store configured, nothing is asked of it: the plaintext profile is used.
    let out = w.run(
        &[
            "session-token",
            "--profile",
            &name,
            "--no-cache",
            "--endpoint",
            &m.url,
            "--debug",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("key store"));
}

#[test]
fn encrypted_file_backend_end_to_end() {
    let Some(m) = moto() else { return };
    let mut w = World::new(&[]);
    let pass = w.home().join("passphrase");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    w.env.push((
        "AWS_SIGNING_HELPER_KEY_STORE_PASSPHRASE_FILE".into(),
        pass.display().to_string(),
    ));
    let file = w.home().join("store").join("keys.age");
    let file_s = file.display().to_string();
    // The file exists between the steps: add one more entry first so it survives the flow.
    w.ok(
        &[
            "keys",
            "add",
            "other",
            "--key-store",
            "file",
            "--key-store-file",
            &file_s,
        ],
        &format!("{}\n{}\n", key_id("OTHER"), secret()),
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    let header = String::from_utf8_lossy(&bytes[..80]);
    assert!(
        header.lines().nth(1).unwrap().ends_with(" 18"),
        "work factor 2^18: {header}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    backend_flow(
        &mut w,
        &m,
        &["--key-store", "file", "--key-store-file", &file_s],
        "work",
    );
    assert!(w
        .ok(
            &[
                "keys",
                "list",
                "--key-store",
                "file",
                "--key-store-file",
                &file_s
            ],
            ""
        )
        .contains("other "));

    // The passphrase from an inherited descriptor (a pipe): /dev/fd/3.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "exec 3<&0 </dev/null; exec \"$0\" keys list --key-store file --key-store-file \"$1\"",
        common::bin(),
        &file_s,
    ])
    .env_clear()
    .env("HOME", w.home())
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("AWS_SIGNING_HELPER_KEY_STORE_PASSPHRASE_FILE", "/dev/fd/3")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("other "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A passphrase file others can read is refused; a wrong passphrase is said so; the file
    // stays as it was.
    let sealed = std::fs::read(&file).unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
    w.fails(
        &[
            "keys",
            "list",
            "--key-store",
            "file",
            "--key-store-file",
            &file_s,
        ],
        "mode 0600",
    );
    std::fs::write(&pass, "wrong\n").unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    w.fails(
        &[
            "keys",
            "list",
            "--key-store",
            "file",
            "--key-store-file",
            &file_s,
        ],
        "wrong passphrase",
    );
    w.fails(
        &[
            "keys",
            "remove",
            "other",
            "--key-store",
            "file",
            "--key-store-file",
            &file_s,
        ],
        "wrong passphrase",
    );
    assert_eq!(std::fs::read(&file).unwrap(), sealed);
}

/// A private D-Bus session bus with an unlocked gnome-keyring, killed on drop.
struct SecretServiceBus {
    bus: Child,
    keyring: Child,
    address: String,
}

impl Drop for SecretServiceBus {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn secret_service(home: &Path) -> Option<SecretServiceBus> {
    if !(have("dbus-daemon") && have("gnome-keyring-daemon")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "dbus-daemon and gnome-keyring-daemon are required in CI (.ci/run installs them)"
        );
        eprintln!("skipping: dbus-daemon or gnome-keyring-daemon is not installed (apt-get install dbus-daemon gnome-keyring)");
        return None;
    }
    let socket: PathBuf = home.join("bus");
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .arg(format!("--address=unix:path={}", socket.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(bus.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let address = line.trim().to_string();
    assert!(address.starts_with("unix:path="), "{address}");
    let mut keyring = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DBUS_SESSION_BUS_ADDRESS", &address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon starts");
    // The login keyring's password, then EOF.
    keyring.stdin.take().unwrap().write_all(b"pw").unwrap();
    Some(SecretServiceBus {
        bus,
        keyring,
        address,
    })
}

#[test]
fn secret_service_backend_end_to_end() {
    let Some(m) = moto() else { return };
    let mut w = World::new(&[]);
    let Some(ss) = secret_service(w.home()) else {
        return;
    };
    w.env
        .push(("DBUS_SESSION_BUS_ADDRESS".into(), ss.address.clone()));
    // The service claims its bus name shortly after starting.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = w.run(&["keys", "list", "--key-store", "secret-service"], "");
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no Secret Service within 30 s: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    w.outputs.clear();
    backend_flow(&mut w, &m, &["--key-store", "secret-service"], "work");
    drop(ss);
    // Without a bus: one clear line.
    w.fails(
        &["keys", "list", "--key-store", "secret-service"],
        "Secret Service: cannot",
    );
}

#[test]
fn import_keys_copies_plaintext_keys_and_deletes_nothing() {
    let Some(m) = moto() else { return };
    let mut w = World::new(&[]);
    let pass = w.home().join("passphrase");
    std::fs::write(&pass, "import pass\n").unwrap();
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    w.env.push((
        "AWS_SIGNING_HELPER_KEY_STORE_PASSPHRASE_FILE".into(),
        pass.display().to_string(),
    ));
    w.env
        .push(("AWS_SIGNING_HELPER_KEY_STORE".into(), "file".into()));
    let creds = w.home().join("aws-creds");
    std::fs::create_dir(&creds).unwrap();
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (seed_id, seed_secret) = (key_id("SEED"), secret());
    std::fs::write(creds.join("work.access_key"), format!("{seed_id}\n")).unwrap();
    std::fs::write(creds.join("work.secret_key"), format!("{seed_secret}\n")).unwrap();
    std::fs::write(creds.join("work.user"), "alice\n").unwrap();
    let aws = w.home().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    let plain_id = key_id("PLAIN");
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[default]\naws_access_key_id = {plain_id}\naws_secret_access_key = plainsecret\n\
             [temp]\naws_access_key_id = ASIATEMPORARY000001\naws_secret_access_key = t\naws_session_token = tok\n"
        ),
    )
    .unwrap();
    let before: Vec<_> = [
        creds.join("work.access_key"),
        creds.join("work.secret_key"),
        aws.join("credentials"),
    ]
    .iter()
    .map(|p| std::fs::read(p).unwrap())
    .collect();

    let out = w.ok(&["import-keys"], "");
    assert!(
        out.contains("imported \"work\"") && out.contains("imported \"default\""),
        "{out}"
    );
    assert!(
        !out.contains("\"temp\""),
        "temporary credentials are not imported: {out}"
    );
    for f in ["work.access_key", "work.secret_key", "work.user"] {
        assert!(
            out.contains(&creds.join(f).display().to_string()),
            "{f}: {out}"
        );
    }
    assert!(
        out.contains("the aws_access_key_id and aws_secret_access_key lines of [default]"),
        "{out}"
    );
    assert!(out.contains("deleted nothing"), "{out}");
    let after: Vec<_> = [
        creds.join("work.access_key"),
        creds.join("work.secret_key"),
        aws.join("credentials"),
    ]
    .iter()
    .map(|p| std::fs::read(p).unwrap())
    .collect();
    assert_eq!(before, after, "nothing deleted or changed");

    let list = w.ok(&["keys", "list"], "");
    assert!(
        list.lines()
            .any(|l| l.starts_with("work ") && l.contains("alice")),
        "{list}"
    );
    assert!(list.lines().any(|l| l.starts_with("default ")), "{list}");
    assert!(w.ok(&["import-keys"], "").contains("is already stored"));

    // The seed tool's account works with every STS command through the store.
    std::fs::remove_dir_all(&creds).unwrap();
    let out = w.ok(
        &[
            "session-token",
            "--profile",
            "work",
            "--no-cache",
            "--endpoint",
            &m.url,
        ],
        "",
    );
    assert!(out.contains("\"SessionToken\""), "{out}");
    let store = std::fs::read(w.home().join(".config/aws-signing-helper/keys.age")).unwrap();
    assert!(!contains(&store, seed_secret.as_bytes()) && !contains(&store, b"plainsecret"));
}

fn iam_client(m: &Moto) -> Iam {
    Iam::new(&IamOptions {
        region: String::new(),
        endpoint: m.url.clone(),
        timeout: Duration::from_secs(30),
        no_verify_ssl: false,
        profile: None,
    })
    .unwrap()
}

fn admin() -> AccessKeys {
    AccessKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        session_token: None,
    }
}

fn list_keys(iam: &Iam, user: &str) -> String {
    String::from_utf8_lossy(
        &iam.send(
            &admin(),
            &iam::call("ListAccessKeys").param("UserName", user),
        )
        .unwrap(),
    )
    .to_string()
}

#[test]
fn rotate_replaces_the_stored_key_and_deletes_the_old_one() {
    let Some(m) = moto() else { return };
    let iam = iam_client(&m);
    iam.send(&admin(), &iam::call("CreateUser").param("UserName", "rot"))
        .unwrap();
    let created = iam
        .send(
            &admin(),
            &iam::call("CreateAccessKey").param("UserName", "rot"),
        )
        .unwrap();
    let p = "CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/";
    let v = xml_values(
        &created,
        &[&format!("{p}AccessKeyId"), &format!("{p}SecretAccessKey")],
    )
    .unwrap();
    let (old_id, old_secret) = (
        v[0].clone().unwrap().to_string(),
        v[1].clone().unwrap().to_string(),
    );

    let name = format!("ks-rotate-{}", std::process::id());
    let mut w = World::new(&[]);
    let store = ["--key-store", "keyring"];
    w.ok(
        &[&["keys", "add", name.as_str(), "--user", "rot"][..], &store].concat(),
        &format!("{old_id}\n{old_secret}\n"),
    );
    let rotate = [
        &[
            "keys",
            "rotate",
            name.as_str(),
            "--endpoint-url-iam",
            m.url.as_str(),
            "--endpoint",
            m.url.as_str(),
            "--debug",
        ][..],
        &store,
    ]
    .concat();
    let out = w.ok(&rotate, "");
    assert!(out.contains("the old key is deleted"), "{out}");

    let listed = list_keys(&iam, "rot");
    assert!(!listed.contains(&old_id), "old key deleted: {listed}");
    let ids = xml_values(
        listed.as_bytes(),
        &["ListAccessKeysResponse/ListAccessKeysResult/AccessKeyMetadata/member/AccessKeyId"],
    )
    .unwrap();
    let new_id = ids[0].clone().expect("the new key").to_string();
    let list = w.ok(&[&["keys", "list"][..], &store].concat(), "");
    assert!(
        list.lines().any(|l| l.starts_with(&format!("{name} "))
            && l.contains(&format!("{}…{}", &new_id[..4], &new_id[16..]))),
        "the new key is stored: {list}"
    );
    assert!(out.contains(&format!("AKIA…{}", &old_id[16..])));

    // STS unreachable after the new key is made: the new key is stored, the old one is kept,
    // and the error says both, with the command to finish.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let err = w.fails(
        &[
            &[
                "keys",
                "rotate",
                name.as_str(),
                "--endpoint-url-iam",
                m.url.as_str(),
            ][..],
            &["--endpoint", dead.as_str(), "--timeout", "1"],
            &store,
        ]
        .concat(),
        "is stored, but STS did not accept it",
    );
    assert!(
        err.contains(&format!("the old key {new_id} was not deleted"))
            && err.contains(&format!(
                "aws iam delete-access-key --access-key-id {new_id} --user-name rot"
            )),
        "{err}"
    );
    let listed = list_keys(&iam, "rot");
    assert!(listed.contains(&new_id), "the old key is kept: {listed}");
    let list = w.ok(&[&["keys", "list"][..], &store].concat(), "");
    assert!(
        !list.contains(&format!("{}…{} ", &new_id[..4], &new_id[16..])),
        "the newest key is stored: {list}"
    );

    // A failing CreateAccessKey says that nothing changed.
    let ghost = format!("ks-ghost-{}", std::process::id());
    w.ok(
        &[
            &["keys", "add", ghost.as_str(), "--user", "nobody"][..],
            &store,
        ]
        .concat(),
        &format!("{}\n{}\n", key_id("GHOST"), secret()),
    );
    let err = w.fails(
        &[
            &[
                "keys",
                "rotate",
                ghost.as_str(),
                "--endpoint-url-iam",
                m.url.as_str(),
                "--endpoint",
                m.url.as_str(),
            ][..],
            &store,
        ]
        .concat(),
        "CreateAccessKey failed, nothing changed",
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for n in [&name, &ghost] {
        w.ok(&[&["keys", "remove", n.as_str()][..], &store].concat(), "");
    }
    w.assert_secret_nowhere(&old_secret);
}
