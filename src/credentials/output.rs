//! The output formats of every credential-producing command.
//!
//! - `process`: the `credential_process` JSON, exactly as the official tool prints it (no
//!   trailing newline).
//! - `env` (bash/zsh/sh), `env-fish`, `env-powershell`: statements to `eval` / `Invoke-Expression`.
//! - `dotenv`: `NAME=value` lines for `.env` files and `docker --env-file`.
//! - `json`: the process JSON plus what we know about the credentials, pretty-printed.
//! - `seed-json`: aws-sts-helpers' `generate-sts-role-token` JSON: lowercase `access_key`,
//!   `expiration`, `secret_key`, `session_token`, sorted, indented by four spaces.
//!
//! Shell outputs set the current variable names and the legacy ones (`AWS_SECURITY_TOKEN` of
//! old boto, `AWS_ACCESS_KEY`/`AWS_SECRET_KEY`/`AWS_DELEGATION_TOKEN` of the old EC2 CLI), plus
//! `AWS_SIGNING_HELPER_*` variables describing where the credentials came from, which `whoami`
//! reads. Values are quoted for each shell, so nothing in them is interpreted.

use std::io::Write;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Result;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// credential_process JSON (the official output)
    Process,
    /// export statements for bash, zsh and sh: eval "$(… --output env)"
    Env,
    /// set -gx statements for fish: … --output env-fish | source
    EnvFish,
    /// $Env: assignments for PowerShell: … --output env-powershell | Invoke-Expression
    EnvPowershell,
    /// NAME=value lines (.env files, docker --env-file)
    Dotenv,
    /// pretty JSON with the credentials and where they came from
    Json,
    /// aws-sts-helpers' JSON (access_key, expiration, secret_key, session_token)
    SeedJson,
}

/// The shells [`assign`] and [`unassign`] write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// bash, zsh, sh
    Posix,
    Fish,
    Powershell,
}

/// The statement setting (and exporting) `name` to `value` in `shell`, quoted.
pub fn assign(shell: Shell, name: &str, value: &str) -> Zeroizing<String> {
    Zeroizing::new(match shell {
        Shell::Posix => format!("export {name}={}", quote_sh(value)),
        Shell::Fish => format!("set -gx {name} {};", quote_fish(value)),
        Shell::Powershell => format!("$Env:{name} = {}", quote_powershell(value)),
    })
}

/// The statement removing `name` from the environment in `shell`.
pub fn unassign(shell: Shell, name: &str) -> String {
    match shell {
        Shell::Posix => format!("unset {name}"),
        Shell::Fish => format!("set -e {name};"),
        Shell::Powershell => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue"),
    }
}

/// What we know about a set of credentials besides the keys (never secret).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// How they were obtained, e.g. `assume-role arn:aws:iam::…:role/x via profile default`.
    pub source: String,
    /// Whether an MFA code went into them.
    pub mfa: bool,
    /// The identity's ARN (an assumed-role ARN), when known.
    pub arn: Option<String>,
}

/// Variable names we set besides the standard ones.
pub const SOURCE_VAR: &str = "AWS_SIGNING_HELPER_SOURCE";
pub const MFA_VAR: &str = "AWS_SIGNING_HELPER_MFA";
pub const ARN_VAR: &str = "AWS_SIGNING_HELPER_ARN";

/// Every variable the shell outputs may set: what one output does not set, it unsets, so no
/// value from an earlier `eval` (another identity's token, account or ARN) survives.
pub const ALL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_DELEGATION_TOKEN",
    "AWS_ACCOUNT_ID",
    SOURCE_VAR,
    MFA_VAR,
    ARN_VAR,
];

/// The variables, in output order, with their values (a session token, expiry, account or
/// ARN only when there is one).
pub fn env_vars(creds: &Credentials, meta: &Meta) -> Vec<(&'static str, Zeroizing<String>)> {
    let z = |s: &str| Zeroizing::new(s.to_string());
    let token = !creds.session_token.is_empty();
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", z(&creds.access_key_id)),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone()),
    ];
    if token {
        v.push(("AWS_SESSION_TOKEN", creds.session_token.clone()));
        v.push(("AWS_SECURITY_TOKEN", creds.session_token.clone()));
    }
    if !creds.expiration.is_empty() {
        v.push(("AWS_CREDENTIAL_EXPIRATION", z(&creds.expiration)));
    }
    v.push(("AWS_ACCESS_KEY", z(&creds.access_key_id)));
    v.push(("AWS_SECRET_KEY", creds.secret_access_key.clone()));
    if token {
        v.push(("AWS_DELEGATION_TOKEN", creds.session_token.clone()));
    }
    if let Some(account) = &creds.account_id {
        v.push(("AWS_ACCOUNT_ID", z(account)));
    }
    v.push((SOURCE_VAR, z(&meta.source)));
    v.push((MFA_VAR, z(if meta.mfa { "true" } else { "false" })));
    if let Some(arn) = &meta.arn {
        v.push((ARN_VAR, z(arn)));
    }
    v
}

/// Our variables that `vars` does not set.
pub fn unset_vars(vars: &[(&'static str, Zeroizing<String>)]) -> Vec<&'static str> {
    ALL_VARS
        .iter()
        .copied()
        .filter(|n| !vars.iter().any(|(set, _)| set == n))
        .collect()
}

/// POSIX shell single quoting: `'…'`, with `'` written as `'\''`.
pub fn quote_sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// fish single quoting: inside `'…'` only `\` and `'` need a backslash.
pub fn quote_fish(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quoting: every character PowerShell takes for a single quote (`'` and
/// U+2018–U+201B) is doubled.
pub fn quote_powershell(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// dotenv: bare when the value is plain (every credential is), else in single quotes, which
/// `set -a; . .env`, python-dotenv and Compose all take literally (no `$`, backtick or `$(`
/// expansion). A single quote or line break cannot be written inside them, so in such a value
/// (only descriptive ones, never a key or token) they become U+2019 and a space.
pub fn quote_dotenv(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=_-.:@,".contains(c))
    {
        return s.to_string();
    }
    let inner: String = s
        .chars()
        .map(|c| match c {
            '\'' => '\u{2019}',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    format!("'{inner}'")
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonOutput<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    source: &'a str,
    mfa: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
}

/// aws-sts-helpers' JSON, keys in its (sorted) order.
#[derive(Serialize)]
struct SeedJson<'a> {
    access_key: &'a str,
    expiration: &'a str,
    secret_key: &'a str,
    session_token: &'a str,
}

/// Renders the credentials in `format`.
pub fn render(format: Format, creds: &Credentials, meta: &Meta) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let vars = env_vars(creds, meta);
    let lines = |out: &mut String,
                 set: &dyn Fn(&str, &str) -> String,
                 unset: Option<&dyn Fn(&str) -> String>| {
        for (name, value) in &vars {
            let line = Zeroizing::new(set(name, value));
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(unset) = unset {
            for name in unset_vars(&vars) {
                out.push_str(&unset(name));
                out.push('\n');
            }
        }
    };
    match format {
        Format::Process => return creds.to_process_json(),
        Format::Env | Format::EnvFish | Format::EnvPowershell => {
            let shell = match format {
                Format::Env => Shell::Posix,
                Format::EnvFish => Shell::Fish,
                _ => Shell::Powershell,
            };
            lines(
                &mut out,
                &|n, v| assign(shell, n, v).to_string(),
                Some(&|n| unassign(shell, n)),
            )
        }
        // A file has nothing to unset.
        Format::Dotenv => lines(&mut out, &|n, v| format!("{n}={}", quote_dotenv(v)), None),
        Format::Json => {
            let doc = JsonOutput {
                version: 1,
                access_key_id: &creds.access_key_id,
                secret_access_key: &creds.secret_access_key,
                session_token: &creds.session_token,
                expiration: &creds.expiration,
                account_id: creds.account_id.as_deref(),
                source: &meta.source,
                mfa: meta.mfa,
                arn: meta.arn.as_deref(),
            };
            // A struct of strings and a bool always serializes.
            out.push_str(&serde_json::to_string_pretty(&doc).unwrap_or_default());
            out.push('\n');
        }
        Format::SeedJson => {
            let doc = SeedJson {
                access_key: &creds.access_key_id,
                expiration: &creds.expiration,
                secret_key: &creds.secret_access_key,
                session_token: &creds.session_token,
            };
            // Python's json.dumps(indent=4) layout; a struct of strings always serializes.
            let mut buf = Zeroizing::new(Vec::new());
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut *buf, fmt);
            let _ = doc.serialize(&mut ser);
            out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

/// Why rendered credentials could not be printed.
#[derive(Debug)]
pub enum OutputError {
    /// Writing to stdout failed (a closed pipe, a full disk behind a redirect).
    Stdout(std::io::Error),
}

impl OutputError {
    /// Nothing to add: the OS error says it.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Stdout(e) => write!(f, "cannot write the credentials to stdout: {e}"),
        }
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutputError::Stdout(e) => Some(e),
        }
    }
}

crate::error::typed_error!(OutputError);

/// Writes rendered credentials to stdout.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| OutputError::Stdout(e).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: Zeroizing::new("s/+'\"$x".into()),
            session_token: Zeroizing::new("t=".into()),
            expiration: "2030-01-01T00:00:00Z".into(),
            account_id: Some("123456789012".into()),
        }
    }

    #[test]
    fn process_is_the_official_json() {
        let c = creds();
        assert_eq!(
            render(Format::Process, &c, &Meta::default()).as_str(),
            c.to_process_json().as_str()
        );
    }

    #[test]
    fn seed_json_is_the_seed_tools_layout() {
        let out = render(Format::SeedJson, &creds(), &Meta::default());
        assert_eq!(
            out.as_str(),
            "{\n    \"access_key\": \"ASIA1\",\n    \"expiration\": \"2030-01-01T00:00:00Z\",\n    \"secret_key\": \"s/+'\\\"$x\",\n    \"session_token\": \"t=\"\n}\n"
        );
    }

    #[test]
    fn shells_quote_everything() {
        let m = Meta {
            source: "it's".into(),
            mfa: true,
            arn: None,
        };
        let sh = render(Format::Env, &creds(), &m);
        assert!(
            sh.contains(r#"export AWS_SECRET_ACCESS_KEY='s/+'\''"$x'"#),
            "{}",
            sh.as_str()
        );
        assert!(sh.contains("export AWS_DELEGATION_TOKEN='t='\n"));
        assert!(sh.contains("export AWS_SIGNING_HELPER_MFA='true'\n"));
        let fish = render(Format::EnvFish, &creds(), &m);
        assert!(fish.contains(r#"set -gx AWS_SECRET_ACCESS_KEY 's/+\'"$x';"#));
        let ps = render(Format::EnvPowershell, &creds(), &m);
        assert!(ps.contains(r#"$Env:AWS_SECRET_ACCESS_KEY = 's/+''"$x'"#));
        let de = render(Format::Dotenv, &creds(), &m);
        assert!(
            de.contains("AWS_SECRET_ACCESS_KEY='s/+\u{2019}\"$x'"),
            "{}",
            de.as_str()
        );
        assert!(de.contains("AWS_SESSION_TOKEN=t=\n"));
        let js: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &creds(), &m)).unwrap();
        assert_eq!(js["SecretAccessKey"], "s/+'\"$x");
        assert_eq!(js["Mfa"], true);
        assert_eq!(js["AccountId"], "123456789012");
    }

    #[test]
    fn shell_outputs_unset_what_they_do_not_set() {
        let mut c = creds();
        c.account_id = None;
        let m = Meta::default();
        let sh = render(Format::Env, &c, &m);
        assert!(
            sh.contains("\nunset AWS_ACCOUNT_ID\n")
                && sh.contains("\nunset AWS_SIGNING_HELPER_ARN\n")
        );
        assert!(!sh.contains("unset AWS_SESSION_TOKEN"));
        c.session_token = Zeroizing::new(String::new());
        let sh = render(Format::Env, &c, &m);
        assert!(
            sh.contains("unset AWS_SESSION_TOKEN\n") && !sh.contains("export AWS_SESSION_TOKEN")
        );
        let fish = render(Format::EnvFish, &c, &m);
        assert!(fish.contains("set -e AWS_SESSION_TOKEN;"));
        let ps = render(Format::EnvPowershell, &c, &m);
        assert!(ps.contains("Remove-Item Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue"));
        assert!(!render(Format::Dotenv, &c, &m).contains("unset"));
    }

    #[test]
    fn powershell_doubles_every_single_quote_it_knows() {
        assert_eq!(
            quote_powershell("a'b\u{2018}c\u{2019}d\u{201A}e\u{201B}f"),
            "'a''b\u{2018}\u{2018}c\u{2019}\u{2019}d\u{201A}\u{201A}e\u{201B}\u{201B}f'"
        );
    }

    #[test]
    fn dotenv_values_never_expand() {
        for v in ["$(id)", "`id`", "a b", "${HOME}", "x'y"] {
            let q = quote_dotenv(v);
            assert!(
                q.starts_with('\'') && q.ends_with('\'') && !q[1..q.len() - 1].contains('\''),
                "{q}"
            );
        }
        assert_eq!(quote_dotenv("ASIA+/=1"), "ASIA+/=1");
    }

    #[test]
    fn stdout_error_renders_todays_text_and_stays_typed() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let e: crate::error::Error = OutputError::Stdout(io).into();
        assert_eq!(
            e.to_string(),
            "cannot write the credentials to stdout: broken pipe"
        );
        let typed = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<OutputError>());
        assert!(
            matches!(typed, Some(OutputError::Stdout(io)) if io.kind() == std::io::ErrorKind::BrokenPipe)
        );
        assert!(std::error::Error::source(typed.unwrap()).is_some_and(|s| s.is::<std::io::Error>()));
    }
}
