//! A real consumer: botocore (from PyPI) runs our binary through a `credential_process`
//! profile and must get the credentials the emulator issued.

mod common;

use common::*;
use std::process::Command;

const READ_PROFILE: &str = r#"
import json, botocore.session
s = botocore.session.Session(profile="ra")
c = s.get_credentials()
f = c.get_frozen_credentials()
print(json.dumps({"method": c.method, "access_key": f.access_key, "secret_key": f.secret_key,
                  "token": f.token, "account_id": getattr(f, "account_id", None)}))
"#;

#[test]
fn botocore_reads_credential_process_output() {
    if !have_python_module("botocore") {
        return;
    }
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "rsa:2048");
    let line = cp_args(&run, &cert, Some(&key))
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile ra]\ncredential_process = \"{}\" {line}\n", bin()),
    )
    .unwrap();
    let out = Command::new("python3")
        .args(["-c", READ_PROFILE])
        .env("HOME", home.path())
        .env("AWS_CA_BUNDLE", &run.ca_bundle)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["method"], "custom-process");
    assert!(v["access_key"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(v["secret_key"].as_str().unwrap().len(), 40);
    assert!(!v["token"].as_str().unwrap().is_empty());
    if !v["account_id"].is_null() {
        assert_eq!(v["account_id"], "111122223333");
    }
    assert_eq!(run.emulator.sessions_created(), 1);
}
