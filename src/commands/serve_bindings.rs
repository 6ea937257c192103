//! `serve --bindings FILE`: more roles on the container route, one per name.
//!
//! The file is JSON: `{"bindings": {"NAME": {"role-arn": "…", "profile-arn": "…",
//! "trust-anchor-arn": "…", "certificate": "…", "private-key": "…", …}}}`. Each entry's keys
//! are the shared credential flags without their `--` (values are strings, numbers or
//! booleans), plus `container-token-file` (default: next to the main token file, named after
//! the binding). Entries are parsed like command lines, so every flag means what it means on
//! the command line; nothing is inherited from the command line itself.
//!
//! Whoever can write the file decides which uid or port gets which role (and serve often runs
//! as root), so it is read as the shared AWS files are: it and every directory above it must
//! be ours or root's (or `$SUDO_UID`'s under sudo) and writable by nobody else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::cli::CredentialArgs;
use aws_signing_helper::files;
use aws_signing_helper::protocol::rolesanywhere;
use aws_signing_helper::serve::{Binding, Refresher};
use aws_signing_helper::{Error, Result};

/// One entry, parsed as if its keys were flags.
#[derive(Debug, Parser)]
#[command(name = "binding", no_binary_name = true, disable_help_flag = true)]
struct BindingArgs {
    #[command(flatten)]
    credentials: CredentialArgs,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingsFile {
    bindings: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

/// The token file of binding `name` when the entry does not say: beside `main`, named after
/// it (`container-token` → `container-token-NAME`, `x-123.token` → `x-123-NAME.token`).
fn default_token_file(main: &Path, name: &str) -> PathBuf {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = match main.extension() {
        Some(ext) => format!("{stem}-{name}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{name}"),
    };
    main.with_file_name(file)
}

/// A file of `serve` that decides who gets which credentials, read as the shared files are
/// (trusted only from its owner, see `files::shared_files`); every error is `FLAG: …`, and a
/// missing file is the open's `ENOENT`, as it has always been.
pub(crate) fn read_trusted_text(
    path: &Path,
    what: &'static str,
    flag: &str,
) -> Result<zeroize::Zeroizing<String>> {
    files::shared_files::read_trusted_file(path, files::CAP_CONFIG, what)
        .and_then(|bytes| files::read::into_text(bytes, path))
        .map_err(|e| {
            let out = Error::new(format!("{flag}: {e}"));
            match e.hint() {
                Some(h) => out.hint(h),
                None => out,
            }
            .with_source(e)
        })
}

/// Reads and checks `path`; every error names the file and the binding.
pub fn load(path: &Path, main_token_file: &Path) -> Result<Vec<Binding>> {
    // Serve often runs as root, and whoever can write the file decides which uid or port gets
    // which role.
    let text = read_trusted_text(path, "bindings file", "--bindings")?;
    let parsed: BindingsFile = serde_json::from_str(&text).map_err(|e| {
        Error::new(format!("--bindings {}: {e}", path.display())).hint(
            "expected {\"bindings\": {\"NAME\": {\"role-arn\": \"…\", \"certificate\": \"…\", …}}}",
        )
    })?;
    let mut out = Vec::with_capacity(parsed.bindings.len());
    for (name, entry) in parsed.bindings {
        let fail = |msg: String| {
            Error::new(format!(
                "--bindings {}: binding {name:?}: {msg}",
                path.display()
            ))
        };
        let mut argv = Vec::new();
        let mut token_file = None;
        for (key, value) in entry {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(fail(format!(
                        "{key:?} must be a string, number or boolean, not {other}"
                    )))
                }
            };
            if key == "container-token-file" {
                token_file = Some(PathBuf::from(value));
                continue;
            }
            if key.is_empty()
                || key.starts_with('-')
                || !key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(fail(format!("{key:?} is not a flag name")));
            }
            argv.push(format!("--{key}={value}"));
        }
        let args = BindingArgs::try_parse_from(&argv).map_err(|e| {
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            fail(first.to_string())
        })?;
        let creds = args.credentials;
        if creds.role_arn.is_empty() {
            return Err(fail("\"role-arn\" is missing".into()));
        }
        let config = creds.client_config().map_err(|e| fail(e.to_string()))?;
        let refresher: Refresher =
            Box::new(move || rolesanywhere::fetch(&config).map(|f| f.credentials));
        out.push(Binding {
            container_token_file: token_file
                .unwrap_or_else(|| default_token_file(main_token_file, &name)),
            name,
            refresher,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Vec<Binding>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        std::fs::write(&p, text).unwrap();
        load(&p, Path::new("/run/x/aws_signing_helper-serve-7.token"))
    }

    #[test]
    fn entries_parse_like_flags() {
        let b = load_text(
            r#"{"bindings": {"app-1": {"role-arn": "arn:aws:iam::111122223333:role/A",
                "certificate": "/c.pem", "private-key": "/k.pem", "session-duration": 900,
                "no-verify-ssl": false, "container-token-file": "/run/x/app1.token"},
              "b": {"role-arn": "arn:aws:iam::111122223333:role/B"}}}"#,
        )
        .unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].name, "app-1");
        assert_eq!(b[0].container_token_file, Path::new("/run/x/app1.token"));
        assert_eq!(
            b[1].container_token_file,
            Path::new("/run/x/aws_signing_helper-serve-7-b.token")
        );
        assert_eq!(
            default_token_file(Path::new("/d/container-token"), "n"),
            Path::new("/d/container-token-n")
        );
    }

    #[test]
    fn mistakes_name_the_binding() {
        for (text, needle) in [
            (
                r#"{"bindings": {"a": {"role-arn": "x", "no-such-flag": "1"}}}"#,
                "binding \"a\": unexpected argument '--no-such-flag",
            ),
            (
                r#"{"bindings": {"a": {"certificate": "/c"}}}"#,
                "binding \"a\": \"role-arn\" is missing",
            ),
            (
                r#"{"bindings": {"a": {"role-arn": ["x"]}}}"#,
                "must be a string",
            ),
            (
                r#"{"bindings": {"a": {"--role-arn": "x"}}}"#,
                "is not a flag name",
            ),
            (
                r#"{"bindings": {"a": {"role-arn": "x", "timeout": 0}}}"#,
                "--timeout 0",
            ),
            (r#"{"roles": {}}"#, "unknown field"),
            ("not json", "expected"),
        ] {
            let e = match load_text(text) {
                Ok(_) => panic!("{text} was accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
