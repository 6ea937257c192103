//! Shell completions and the man page are generated from the CLI definitions; check that real
//! bash completes our flags with them and that the man page documents every command.

mod common;

use common::*;
use std::process::Command;

#[test]
fn bash_completes_subcommands_and_flags() {
    let script = run_bin(&["completion".into(), "bash".into()], &[]);
    assert!(script.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("completion.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let complete = |words: &str| {
        let cword = words.split(' ').count() - 1;
        let prog = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _aws_signing_helper aws_signing_helper \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash").args(["-c", &prog]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let subs = complete("aws_signing_helper cred");
    assert!(subs.lines().any(|l| l == "credential-process"), "{subs}");
    let flags = complete("aws_signing_helper credential-process --trust");
    assert!(flags.lines().any(|l| l == "--trust-anchor-arn"), "{flags}");
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run_bin(&["completion".into(), shell.into()], &[]);
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("credential-process"),
            "{shell}"
        );
    }
    let bad = run_bin(&["completion".into(), "tcsh".into()], &[]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn man_page_documents_every_command_and_flag() {
    let out = run_bin(&["man".into()], &[]);
    assert!(out.status.success());
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.starts_with(".TH"),
        "not roff: {}",
        &roff[..40.min(roff.len())]
    );
    for name in [
        "aws_signing_helper-credential-process",
        "aws_signing_helper-update",
        "aws_signing_helper-emulator",
    ] {
        assert!(roff.contains(name), "man page lacks {name}");
    }
    assert!(
        roff.contains("\\-\\-trust\\-anchor\\-arn"),
        "man page lacks --trust-anchor-arn"
    );
}
