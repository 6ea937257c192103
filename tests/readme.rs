//! The README's runnable snippets (fenced blocks marked ```` ```sh readme-test ````) run, in
//! order, as one script in an empty directory, with the binary under test on PATH: what a
//! newcomer pastes works.

mod common;

use common::*;

/// The marked blocks of the README, in order.
fn blocks(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.trim() == "```sh readme-test" => current = Some(String::new()),
            Some(block) if line.trim() == "```" => {
                out.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn readme_snippets_run_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 2, "the README marks its runnable blocks");
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(bin()).parent().unwrap();
    let script = format!("set -euo pipefail\n{}", blocks.join("\n"));
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README's snippets failed:\n{stderr}\n---\n{script}"
    );
    // The last block printed credentials (credential_process JSON).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json_start = stdout
        .rfind("{\"Version\":1")
        .expect("credentials on stdout");
    let v: serde_json::Value = serde_json::from_str(&stdout[json_start..]).expect("JSON");
    assert!(v["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
    // And stopped the emulator it started (it exits on SIGTERM after draining; bounded wait).
    let pid = std::fs::read_to_string(dir.path().join("emulator.pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the emulator kept running after kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
