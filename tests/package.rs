//! The release artifacts of `scripts/package.sh` (which `.ci/run` runs before the tests): the
//! portable binary needs nothing newer than glibc 2.17, the checksums match, and the Debian
//! package installs with `dpkg -i`, works, and removes cleanly.

use std::path::{Path, PathBuf};
use std::process::Command;

fn dist() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dist");
    if dir.join("SHA256SUMS").exists() {
        return Some(dir);
    }
    if std::env::var("ONLY_TESTS").as_deref() == Ok("1") {
        eprintln!("skipping: ONLY_TESTS=1 builds no release artifacts");
        return None;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "target/dist is missing: .ci/run builds it with scripts/package.sh before the tests"
    );
    eprintln!("skipping: run scripts/package.sh to build target/dist");
    None
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn parse_version(v: &str) -> Vec<u32> {
    v.split('.').filter_map(|p| p.parse().ok()).collect()
}

#[test]
fn portable_binary_needs_glibc_2_17_at_most_and_runs() {
    let Some(dist) = dist() else { return };
    let bin = dist.join(format!("aws_signing_helper-{}-x86_64-linux", version()));
    let out = Command::new("objdump")
        .arg("-T")
        .arg(&bin)
        .output()
        .expect("objdump (binutils) runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut versions: Vec<Vec<u32>> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .map(parse_version)
        .collect();
    versions.sort();
    let newest = versions
        .last()
        .expect("the binary links glibc symbols")
        .clone();
    assert!(newest <= vec![2, 17], "needs GLIBC_{newest:?}");
    let out = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), version());
    let sums = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
}

#[test]
fn debian_package_holds_everything_and_installs_with_dpkg() {
    let Some(dist) = dist() else { return };
    let deb = dist.join(format!("aws-signing-helper_{}_amd64.deb", version()));
    let out = Command::new("dpkg-deb")
        .arg("-c")
        .arg(&deb)
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    for path in [
        "./usr/bin/aws_signing_helper",
        "./usr/share/man/man1/aws_signing_helper.1.gz",
        "./usr/share/bash-completion/completions/aws_signing_helper",
        "./usr/share/zsh/vendor-completions/_aws_signing_helper",
        "./usr/share/fish/vendor_completions.d/aws_signing_helper.fish",
        "./lib/systemd/system/aws-signing-helper-serve.service",
        "./lib/systemd/system/aws-signing-helper-update.service",
    ] {
        assert!(
            listing.contains(path),
            "{path} missing from the package:\n{listing}"
        );
    }
    let root = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root to test dpkg -i"
        );
        eprintln!("skipping dpkg -i: not root");
        return;
    }
    let install = Command::new("dpkg").arg("-i").arg(&deb).output().unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let installed = Command::new("/usr/bin/aws_signing_helper")
        .arg("version")
        .output();
    let unit = std::fs::read_to_string("/lib/systemd/system/aws-signing-helper-serve.service");
    let man = Path::new("/usr/share/man/man1/aws_signing_helper.1.gz").exists();
    let remove = Command::new("dpkg")
        .args(["-r", "aws-signing-helper"])
        .output()
        .unwrap();
    let installed = installed.unwrap();
    assert_eq!(String::from_utf8_lossy(&installed.stdout).trim(), version());
    assert!(unit.unwrap().contains("/usr/bin/aws_signing_helper"));
    assert!(man);
    assert!(
        remove.status.success(),
        "{}",
        String::from_utf8_lossy(&remove.stderr)
    );
    assert!(!Path::new("/usr/bin/aws_signing_helper").exists());
}
