//! The deployment recipes under deploy/ cannot run here (no container engine, no cluster, no
//! init system), so they are linted: systemd units with `systemd-analyze verify`, Kubernetes
//! manifests parsed as YAML, and every flag any recipe passes checked against the real CLI.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn deploy(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(rel),
    )
    .unwrap()
}

/// Asserts every `--flag` in `args` is one `aws_signing_helper SUB --help` lists.
fn assert_flags_exist(sub: &str, args: &[String], recipe: &str) {
    let help = String::from_utf8(run_bin(&[sub.to_string(), "--help".into()], &[]).stdout).unwrap();
    assert!(!help.is_empty(), "no help for {sub}");
    for a in args.iter().filter(|a| a.starts_with("--")) {
        let flag = a.split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} "))
                || help.contains(&format!("{flag}\n"))
                || help.contains(&format!("{flag}[")),
            "{recipe}: `{sub}` has no flag {flag}"
        );
    }
}

/// The words of a unit's ExecStart (line continuations joined).
fn exec_start(unit: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .unwrap();
    line["ExecStart=".len()..]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn systemd_units_verify_and_use_real_flags() {
    let have = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "aws-signing-helper-update.service",
        "aws-signing-helper-serve.service",
    ] {
        let unit = deploy(&format!("systemd/{name}"));
        let words = exec_start(&unit);
        assert_eq!(words[0], "/usr/local/bin/aws_signing_helper");
        assert_flags_exist(&words[1], &words[2..], name);
        if !have {
            assert!(
                std::env::var_os("CI").is_none(),
                "systemd-analyze is required in CI"
            );
            eprintln!("skipping systemd-analyze verify: not installed");
            continue;
        }
        // verify insists the binary exists: point a copy of the unit at the one we built.
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            unit.replace("/usr/local/bin/aws_signing_helper", bin()),
        )
        .unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The .socket unit: one loopback stream socket, verified next to the service it starts.
#[test]
fn systemd_socket_unit_verifies_and_listens_on_loopback_only() {
    let socket = deploy("systemd/aws-signing-helper-serve.socket");
    let listens: Vec<&str> = socket
        .lines()
        .filter_map(|l| l.strip_prefix("ListenStream="))
        .collect();
    assert_eq!(listens.len(), 1, "serve takes exactly one socket");
    let addr: std::net::SocketAddr = listens[0].parse().unwrap();
    assert!(addr.ip().is_loopback(), "{addr}");
    let service = deploy("systemd/aws-signing-helper-serve.service");
    let words = exec_start(&service);
    let port = words
        .iter()
        .position(|w| w == "--port")
        .map(|i| words[i + 1].parse::<u16>().unwrap());
    assert_eq!(
        port,
        Some(addr.port()),
        "the socket and the service agree on the port"
    );
    let have = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is required in CI"
        );
        eprintln!("skipping systemd-analyze verify: not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("aws-signing-helper-serve.service"),
        service.replace("/usr/local/bin/aws_signing_helper", bin()),
    )
    .unwrap();
    let path = dir.path().join("aws-signing-helper-serve.socket");
    std::fs::write(&path, &socket).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Unknown keys are only warnings to verify; they are mistakes here.
    assert!(
        out.status.success() && !stderr.contains("Unknown"),
        "{stderr}"
    );
}

#[test]
fn kubernetes_manifests_parse_and_use_real_flags() {
    if !have_python_module("yaml") {
        return;
    }
    for name in ["serve-sidecar.yaml", "update-sidecar.yaml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/kubernetes")
            .join(name);
        // Every container running our image: its args, one JSON list per line.
        let script = r#"
import json, sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    spec = doc["spec"]["template"]["spec"]
    for c in spec.get("initContainers", []) + spec["containers"]:
        if "aws-signing-helper" in c["image"]:
            print(json.dumps(c["args"]))
"#;
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<_> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!lines.is_empty(), "{name}: no helper container");
        for line in lines {
            let args: Vec<String> = serde_json::from_str(&line).unwrap();
            assert_flags_exist(&args[0], &args[1..], name);
        }
    }
}

#[test]
fn container_image_default_command_uses_real_flags() {
    let file = deploy("container/Containerfile");
    let cmd = file.lines().find(|l| l.starts_with("CMD ")).unwrap();
    let args: Vec<String> = serde_json::from_str(&cmd[4..]).unwrap();
    assert_flags_exist(&args[0], &args[1..], "Containerfile");
}
