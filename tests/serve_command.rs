//! The real `serve` process against the Roles Anywhere emulator: it fetches at start, serves
//! botocore over IMDSv2 and the container route, fails cleanly when the first fetch fails, and
//! stops promptly on SIGTERM.

mod common;

use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn export_value<'a>(lines: &'a [String], name: &str) -> &'a str {
    let prefix = format!("export {name}=");
    lines
        .iter()
        .find_map(|l| l.split_once(&prefix).map(|(_, v)| v))
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

fn botocore_get(env: &[(&str, &str)], home: &std::path::Path) -> Option<String> {
    if !have_python_module("botocore") {
        return None;
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-c", "import botocore.session as s; c = s.Session().get_credentials(); print(c.method, c.access_key)"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

#[test]
fn serve_process_feeds_botocore_and_stops_on_sigterm() {
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
    let mut served = spawn_serve(bin_command(
        &args,
        &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
        home.path(),
    ));
    let lines = served.banner.clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Local server started on port: ")),
        "{lines:?}"
    );
    assert_eq!(
        run.emulator.sessions_created(),
        1,
        "credentials are fetched at start"
    );
    let imds = export_value(&lines, "AWS_EC2_METADATA_SERVICE_ENDPOINT").to_string();
    let full_uri = export_value(&lines, "AWS_CONTAINER_CREDENTIALS_FULL_URI").to_string();
    let token_path = export_value(&lines, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").to_string();
    assert_eq!(token_path, token_file.to_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(
        !lines.iter().any(|l| l.contains(token.trim())),
        "the container token must never be printed"
    );

    if let Some(got) = botocore_get(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)], home.path()) {
        assert!(got.starts_with("iam-role ASIA"), "{got}");
        let got = botocore_get(
            &[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_path),
            ],
            home.path(),
        )
        .unwrap();
        assert!(got.starts_with("container-role ASIA"), "{got}");
    }
    assert_eq!(
        run.emulator.sessions_created(),
        1,
        "requests never trigger CreateSession"
    );

    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(s) = served.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop within 3 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_exits_with_a_clear_error_when_the_first_fetch_fails() {
    let pki = Pki::new();
    let mut config = emulator_config(&pki);
    config.fail_first = 10;
    config.fail_status = 403;
    let run = start(&pki, config);
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let mut args = cp_args(&run, &cert, Some(&key));
    args[0] = "serve".into();
    args.extend(["--port".to_string(), "0".to_string()]);
    let out = run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    assert_clean_failure(&out, "StatusCode: 403");
    let mut bad = args.clone();
    bad.extend(["--hop-limit".to_string(), "0".to_string()]);
    let out = run_bin(&bad, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hop"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn serve_args(run: &Running, cert: &std::path::Path, key: &std::path::Path) -> Vec<String> {
    let mut args = cp_args(run, cert, Some(key));
    args[0] = "serve".into();
    args.extend(["--port".to_string(), "0".to_string()]);
    args
}

#[test]
fn sighup_and_sigquit_remove_the_token_file_as_sigterm_does() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    for sig in ["HUP", "QUIT", "TERM", "INT"] {
        let token_file = home.path().join(format!("token-{sig}"));
        let mut args = serve_args(&run, &cert, &key);
        args.extend([
            "--container-token-file".to_string(),
            token_file.to_str().unwrap().to_string(),
        ]);
        let mut served = spawn_serve(bin_command(
            &args,
            &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
            home.path(),
        ));
        assert!(token_file.exists());
        let pid = served.child.id().to_string();
        assert!(Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap()
            .success());
        let mut status = None;
        assert!(
            wait_until(Duration::from_secs(3), || {
                status = served.child.try_wait().unwrap();
                status.is_some()
            }),
            "serve did not stop within 3 s of SIG{sig}"
        );
        assert!(status.unwrap().success(), "SIG{sig}: {status:?}");
        assert!(!token_file.exists(), "SIG{sig} left the token file behind");
    }
}

/// `eval "$(aws_signing_helper serve --print-env … &)"`: the shell gets exactly the export
/// lines (no log prefix) and goes on while the server keeps serving in the background.
#[test]
fn print_env_sets_up_a_shell_with_eval_and_keeps_serving() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("dir with space/token");
    std::fs::create_dir(token_file.parent().unwrap()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        token_file.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let mut args = serve_args(&run, &cert, &key);
    args.extend([
        "--container-token-file".to_string(),
        token_file.to_str().unwrap().to_string(),
    ]);
    const SCRIPT: &str = r#"bin=$1; shift
eval "$("$bin" "$@" --print-env 2>/dev/null & echo "PID=$!" >&2)"
printf '%s\n' "$AWS_EC2_METADATA_SERVICE_ENDPOINT" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE""#;
    let out = Command::new("bash")
        .args(["-c", SCRIPT, "bash", bin()])
        .args(&args)
        .env("AWS_CA_BUNDLE", &run.ca_bundle)
        .env("HOME", home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let pid = stderr
        .lines()
        .find_map(|l| l.strip_prefix("PID="))
        .unwrap_or_else(|| panic!("no pid: {stderr}"))
        .trim()
        .to_string();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let kill = |pid: &str| Command::new("kill").args(["-TERM", pid]).status();
    let result = std::panic::catch_unwind(|| {
        assert!(out.status.success(), "{stderr}");
        assert_eq!(lines.len(), 3, "{stdout}");
        assert!(lines[0].starts_with("http://127.0.0.1:"), "{stdout}");
        assert!(lines[1].ends_with("/v1/credentials"), "{stdout}");
        assert_eq!(lines[2], token_file.to_str().unwrap());
        // Still serving after the shell moved on.
        let port: u16 = lines[0]
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let role = ROLE_ARN.rsplit('/').next().unwrap();
        let creds = imds_credentials(port, role);
        assert_eq!(creds["Code"], "Success");
        assert_eq!(
            creds["AccountId"], "111122223333",
            "the IMDS answer carries AccountId when known"
        );
        let bearer = std::fs::read_to_string(&token_file).unwrap();
        let (status, body) = http(
            port,
            "GET",
            "/v1/credentials",
            &[("Authorization", &bearer)],
        );
        assert_eq!(status, 200, "{body}");
    });
    let _ = kill(&pid);
    assert!(
        wait_until(Duration::from_secs(3), || !token_file.exists()),
        "the background server did not stop on SIGTERM"
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn have_tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI (apt-get install systemd)"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    ok
}

/// Socket activation: the port is listening before serve even starts (systemd-socket-activate
/// holds it and starts serve on the first connection, as a .socket unit does); that first
/// connection is answered once the credentials are in.
#[test]
fn serve_takes_a_listening_socket_from_systemd() {
    if !have_tool("systemd-socket-activate") {
        return;
    }
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new("systemd-socket-activate");
    // It passes on only a few variables of its own environment; -E adds ours.
    let ca = format!("AWS_CA_BUNDLE={}", run.ca_bundle.display());
    cmd.args(["-l", &format!("127.0.0.1:{port}"), "-E", &ca, bin()])
        .args(serve_args(&run, &cert, &key))
        .args(["--container-token-file", token_file.to_str().unwrap()])
        .env("AWS_CA_BUNDLE", &run.ca_bundle)
        .env("HOME", home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut s);
        s
    });
    let mut conn = None;
    wait_until(Duration::from_secs(5), || {
        conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok();
        conn.is_some()
    });
    let mut conn = conn.expect("systemd-socket-activate listens");
    use std::io::{Read, Write};
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let read = conn.read_to_string(&mut answer).map_err(|e| e.to_string());
    let result = std::panic::catch_unwind(|| {
        read.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let role = ROLE_ARN.rsplit('/').next().unwrap();
        assert_eq!(imds_credentials(port, role)["Code"], "Success");
        assert!(token_file.exists());
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = wait_until(Duration::from_secs(3), || {
        child.try_wait().unwrap().is_some()
    });
    if !status {
        let _ = child.kill();
    }
    let log = log.join().unwrap();
    if let Err(e) = result {
        eprintln!("{log}");
        std::panic::resume_unwind(e);
    }
    assert!(status, "serve did not stop on SIGTERM: {log}");
    assert!(!token_file.exists());
    assert!(
        log.contains(&format!("Local server started on port: {port}")),
        "{log}"
    );
}

#[test]
fn bad_socket_activation_is_a_clear_error() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let args = serve_args(&run, &cert, &key);
    for (setup, needle) in [
        ("LISTEN_FDS=2", "systemd passed 2 sockets"),
        ("LISTEN_FDS=1", "(descriptor 3) is not a socket"),
        ("LISTEN_FDS=one", "LISTEN_FDS=\"one\" is not a number"),
    ] {
        let script = format!("LISTEN_PID=$$ {setup} exec \"$@\" 3</dev/null");
        let out = Command::new("sh")
            .args(["-c", &script, "sh", bin()])
            .args(&args)
            .env("AWS_CA_BUNDLE", &run.ca_bundle)
            .output()
            .unwrap();
        assert_clean_failure(&out, needle);
    }
    assert_eq!(
        run.emulator.sessions_created(),
        0,
        "refused before any fetch"
    );
}

/// `--bindings`: two more roles on the container route. One works and refreshes on its own
/// schedule; the other's certificate is not trusted, so its route answers 503 for ever, and
/// neither the main role nor the working binding notices.
#[test]
fn bindings_serve_more_roles_and_a_failing_one_affects_no_other() {
    let pki = Pki::new();
    let mut config = emulator_config(&pki);
    config.credential_lifetime = Some(Duration::from_secs(6));
    let run = start(&pki, config);
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let stranger = Pki::new();
    let (bad_cert, bad_key) = stranger.leaf("stranger", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let main_token = home.path().join("container-token");
    let entry = |role: &str, cert: &std::path::Path, key: &std::path::Path| {
        binding_entry(&run, cert, key, role)
    };
    let file = home.path().join("bindings.json");
    std::fs::write(
        &file,
        serde_json::json!({"bindings": {
            "second": entry("Second", &cert, &key),
            "broken": entry("Broken", &bad_cert, &bad_key),
        }})
        .to_string(),
    )
    .unwrap();
    let mut args = serve_args(&run, &cert, &key);
    args.extend(
        [
            "--container-token-file",
            main_token.to_str().unwrap(),
            "--bindings",
            file.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let mut child = bin_command(
        &args,
        &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
        home.path(),
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = log.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            sink.lock().unwrap().push(line);
        }
    });
    let lines = || log.lock().unwrap().clone();
    let binding_line = |name: &str| {
        lines()
            .into_iter()
            .find(|l| l.contains(&format!("binding {name}: export")))
    };
    assert!(
        wait_until(Duration::from_secs(10), || binding_line("broken").is_some()
            && binding_line("second").is_some()),
        "{:?}",
        lines()
    );
    let parse = |name: &str| {
        let l = binding_line(name).unwrap();
        let uri = l
            .split("AWS_CONTAINER_CREDENTIALS_FULL_URI=")
            .nth(1)
            .unwrap();
        let uri = uri.split_whitespace().next().unwrap().to_string();
        let file = l
            .split("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=")
            .nth(1)
            .unwrap();
        (uri, std::path::PathBuf::from(file.trim()))
    };
    let (second_uri, second_token) = parse("second");
    let (broken_uri, broken_token) = parse("broken");
    assert_eq!(second_token, home.path().join("container-token-second"));
    let port: u16 = second_uri
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let path_of = |uri: &str| format!("/{}", uri.splitn(4, '/').nth(3).unwrap());
    let get = |uri: &str, token: &std::path::Path| {
        let bearer = std::fs::read_to_string(token).unwrap();
        http(port, "GET", &path_of(uri), &[("Authorization", &bearer)])
    };
    let key_of = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body).unwrap()["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let result = std::panic::catch_unwind(|| {
        let mut first = None;
        assert!(
            wait_until(Duration::from_secs(10), || {
                let (status, body) = get(&second_uri, &second_token);
                if status == 200 {
                    first = Some(key_of(&body));
                }
                first.is_some()
            }),
            "the working binding never served"
        );
        let first = first.unwrap();
        let (status, body) = get(CONTAINER_URI_MAIN, &main_token);
        assert_eq!(status, 200, "{body}");
        assert_ne!(key_of(&body), first, "each binding has its own session");
        // It refreshes on its own while the broken one keeps failing.
        let mut changed = false;
        assert!(
            wait_until(Duration::from_secs(20), || {
                let (status, body) = get(&second_uri, &second_token);
                changed = status == 200 && key_of(&body) != first;
                changed
            }),
            "the working binding was never refreshed"
        );
        let (status, body) = get(&broken_uri, &broken_token);
        assert_eq!(status, 503, "{body}");
        // The broken token does not open the working route, nor the main one.
        let bearer = std::fs::read_to_string(&broken_token).unwrap();
        let (status, _) = http(
            port,
            "GET",
            &path_of(&second_uri),
            &[("Authorization", &bearer)],
        );
        assert_eq!(status, 403);
        let role = ROLE_ARN.rsplit('/').next().unwrap();
        assert_eq!(imds_credentials(port, role)["Code"], "Success");
        let (status, _) = get(CONTAINER_URI_MAIN, &main_token);
        assert_eq!(status, 200);
        assert!(
            lines()
                .iter()
                .any(|l| l.contains("binding broken: Error generating credentials")),
            "{:?}",
            lines()
        );
        // No bearer token in the log.
        for f in [&main_token, &second_token, &broken_token] {
            let t = std::fs::read_to_string(f).unwrap();
            assert!(!lines().iter().any(|l| l.contains(t.trim())));
        }
    });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let stopped = wait_until(Duration::from_secs(3), || {
        child.try_wait().unwrap().is_some()
    });
    if !stopped {
        let _ = child.kill();
    }
    if let Err(e) = result {
        eprintln!("{:?}", lines());
        std::panic::resume_unwind(e);
    }
    assert!(stopped);
    for f in [&main_token, &second_token, &broken_token] {
        assert!(!f.exists(), "{} left behind", f.display());
    }
}

/// The main container route's URI, for `get` above.
const CONTAINER_URI_MAIN: &str = "http://127.0.0.1/v1/credentials";
