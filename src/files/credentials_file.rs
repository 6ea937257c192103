//! The shared credentials file (`~/.aws/credentials`): a lossless editor and a safe writer.
//!
//! Editing touches only the three key lines of the target profile: every other byte (comments,
//! blank lines, CRLF endings, other keys of the profile such as `region`, other and duplicate
//! sections) stays as it was. The target profile is created at the end when missing.
//!
//! Writing goes through the safe-file layer: the directory must pass the trusted-directory
//! checks (created 0700 when missing), an exclusive lock on a separate `<file>.lock` is held
//! across read-modify-write (a lock on the file itself would protect nothing once we rename over
//! it), the old file is read bounded and only if it is a regular file, and the new one is
//! written by the one atomic writer: mode 0600 (a loose old mode is tightened with a warning),
//! the old owner and group kept when root updates a user's file, temp file + fsync + rename, so
//! a reader or a crash sees the old file or the new one, never half.
//!
//! A `credentials` that is a symbolic link (to a dotfiles repository, say) is updated at its
//! target, keeping the link, but only when the link and its target have the same owner and that
//! owner is the user (or root runs us); any other link, and any target that is not a regular
//! file (`/dev/null`, a FIFO), is refused and left untouched.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::files::dir::{euid, parent_of};
use crate::files::private::PRIVATE;
use crate::files::{Dir, CAP_CONFIG};

const KEYS: [&str; 3] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
];

/// The section name of a header line (`[name]`, optionally followed by a `#`/`;` comment).
fn header_name(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = t.strip_prefix('[')?;
    let end = t.find(']')?;
    let rest = t[end + 1..].trim();
    if !(rest.is_empty() || rest.starts_with('#') || rest.starts_with(';')) {
        return None;
    }
    Some(t[..end].trim())
}

/// The lower-case key of a `key = value` line, if it is one.
fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || t.starts_with('[') {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    Some(k.trim().to_ascii_lowercase())
}

/// Refuses profile names that cannot round-trip through a `[name]` header line: brackets and
/// line breaks would break the line, and surrounding whitespace is trimmed away when the header
/// is read back, so every refresh would append yet another section.
pub fn check_profile_name(profile: &str) -> Result<(), ProfileNameError> {
    check_profile_name_as(profile, "profile name")
}

/// [`check_profile_name`], naming the value as `what` (e.g. `--profile`) in the error.
pub fn check_profile_name_as(profile: &str, what: &str) -> Result<(), ProfileNameError> {
    let problem = if profile.is_empty() {
        None
    } else if profile.contains(['[', ']', '\n', '\r']) {
        Some("a profile name cannot contain brackets or line breaks")
    } else if profile.trim() != profile {
        Some("a profile name cannot start or end with whitespace")
    } else {
        return Ok(());
    };
    Err(ProfileNameError {
        what: what.to_string(),
        profile: profile.to_string(),
        problem,
    })
}

/// A profile name we cannot write a section for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileNameError {
    /// How the value was given (`--profile`, "profile name").
    pub what: String,
    pub profile: String,
    /// What is wrong with it; `None`: it is empty.
    pub problem: Option<&'static str>,
}

impl ProfileNameError {
    /// Nothing to add: the message says what is wrong.
    pub fn hint(&self) -> Option<&'static str> {
        None
    }
}

impl std::fmt::Display for ProfileNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.problem {
            None => write!(f, "invalid {}: it is empty", self.what),
            Some(problem) => write!(f, "invalid {} {:?}: {problem}", self.what, self.profile),
        }
    }
}

impl std::error::Error for ProfileNameError {}

crate::error::typed_error!(ProfileNameError);

/// Returns `text` with `profile`'s credentials set to `creds`, everything else unchanged.
/// `profile` must pass [`check_profile_name`] (otherwise the result is still text, but a second
/// call may not find the section the first one wrote).
pub fn set_profile(text: &str, profile: &str, creds: &Credentials) -> String {
    let values = [
        creds.access_key_id.as_str(),
        creds.secret_access_key.as_str(),
        creds.session_token.as_str(),
    ];
    let pairs: Vec<(&str, &str)> = KEYS.iter().copied().zip(values).collect();
    set_keys(text, profile, &pairs)
}

/// Returns `text` with the keys `pairs` of section `[section]` set (the first line of each key
/// rewritten in place, repeats dropped, missing ones added after the section's last line; the
/// section is appended when missing), every other byte unchanged. Keys are matched
/// case-insensitively; give them in lower case.
pub fn set_keys(text: &str, section: &str, pairs: &[(&str, &str)]) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let line_for = |i: usize| format!("{} = {}", pairs[i].0, pairs[i].1);
    // Lines with their endings, so that untouched lines are copied byte for byte.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let split = |raw: &str| -> (String, String) {
        let body = raw.trim_end_matches(['\n', '\r']);
        (body.to_string(), raw[body.len()..].to_string())
    };
    let Some((start, end)) = section_range(&lines, section) else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        if !out.is_empty() && !out.ends_with(&format!("{eol}{eol}")) {
            out.push_str(eol);
        }
        out.push_str(&format!("[{section}]{eol}"));
        for i in 0..pairs.len() {
            out.push_str(&line_for(i));
            out.push_str(eol);
        }
        return out;
    };
    let mut out = String::with_capacity(text.len() + 256);
    for l in &lines[..=start] {
        out.push_str(l);
    }
    let mut seen = vec![false; pairs.len()];
    let mut body_lines: Vec<String> = Vec::new();
    for raw in &lines[start + 1..end] {
        let (body, ending) = split(raw);
        match key_of(&body).and_then(|k| pairs.iter().position(|(x, _)| *x == k)) {
            Some(i) if !seen[i] => {
                seen[i] = true;
                let indent = &body[..body.len() - body.trim_start().len()];
                body_lines.push(format!("{indent}{}{ending}", line_for(i)));
            }
            Some(_) => {} // a repeated key line: drop it, the first one now holds the value
            None => body_lines.push(raw.to_string()),
        }
    }
    // Missing keys go after the section's last non-blank line.
    let last_content = body_lines.iter().rposition(|l| !l.trim().is_empty());
    let insert_at = last_content.map_or(0, |i| i + 1);
    if let Some(i) = last_content {
        if !body_lines[i].ends_with('\n') {
            body_lines[i].push_str(eol);
        }
    } else if !out.ends_with('\n') {
        out.push_str(eol);
    }
    let missing: Vec<String> = (0..pairs.len())
        .filter(|i| !seen[*i])
        .map(|i| format!("{}{eol}", line_for(i)))
        .collect();
    body_lines.splice(insert_at..insert_at, missing);
    for l in &body_lines {
        out.push_str(l);
    }
    for l in &lines[end..] {
        out.push_str(l);
    }
    out
}

/// The first `[section]`'s header line index and the index of the line after its last line.
fn section_range(lines: &[&str], section: &str) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| header_name(l) == Some(section))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| header_name(l).is_some())
        .map_or(lines.len(), |p| start + 1 + p);
    Some((start, end))
}

/// The value of `key` (lower case) in the first `[section]` of `text`, if any.
pub fn get_key(text: &str, section: &str, key: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (start, end) = section_range(&lines, section)?;
    lines[start + 1..end].iter().find_map(|l| {
        let body = l.trim_end_matches(['\n', '\r']);
        (key_of(body).as_deref() == Some(key)).then(|| {
            body.split_once('=')
                .map_or("", |(_, v)| v)
                .trim()
                .to_string()
        })
    })
}

/// Returns `text` without its first `[section]` (header and lines up to the next header),
/// everything else unchanged.
pub fn remove_section(text: &str, section: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some((mut start, end)) = section_range(&lines, section) else {
        return text.to_string();
    };
    // A last section takes the blank line before it along (a middle one ends with its own).
    if end == lines.len() && start > 0 && lines[start - 1].trim().is_empty() {
        start -= 1;
    }
    let mut out: String = lines[..start].concat();
    out.push_str(&lines[end..].concat());
    out
}

/// `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
pub fn default_path() -> Result<PathBuf> {
    Ok(crate::files::SharedFile::Credentials.path_required()?)
}

const WRITE: &str = "unable to write to AWS credentials file";

/// Why the credentials file could not be written (the official tool's prefix, then why).
#[derive(Debug)]
pub enum WriteError {
    /// The safe-file layer refused or failed; `context` names the file being written.
    Files {
        context: &'static str,
        error: crate::files::Error,
    },
    /// The path names a directory.
    NamesDirectory {
        context: &'static str,
        path: PathBuf,
    },
    /// The path is a symbolic link we do not write through (`why`).
    Link {
        context: String,
        path: PathBuf,
        why: String,
    },
    /// Profile `profile` of `path` holds long-term keys (`why`), which writing would lose.
    LongTermKeys {
        path: PathBuf,
        profile: String,
        why: String,
    },
    /// The `what` at `path` is not UTF-8 text; it was left unchanged.
    NotUtf8 { what: &'static str, path: PathBuf },
}

impl WriteError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        match self {
            WriteError::Files { error, .. } => error.hint(),
            WriteError::NamesDirectory { .. } => None,
            WriteError::Link { .. } => Some(
                "replace the link with the file, or point AWS_SHARED_CREDENTIALS_FILE (AWS_CONFIG_FILE) at the real file".into(),
            ),
            WriteError::LongTermKeys { .. } => Some(
                "write another profile with --profile NAME (or AWS_PROFILE=NAME), or pass --force to replace the keys".into(),
            ),
            WriteError::NotUtf8 { .. } => Some("fix or move the file; it was left unchanged".into()),
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Files { context, error } => write!(f, "{context}: {error}"),
            WriteError::NamesDirectory { context, path } => write!(
                f,
                "{context}: {} names a directory, not a file",
                path.display()
            ),
            WriteError::Link { context, path, why } => write!(
                f,
                "{context}: refusing to write through the symbolic link {}: {why}",
                path.display()
            ),
            WriteError::LongTermKeys { path, profile, why } => write!(
                f,
                "refusing to overwrite profile [{profile}] of {}: it holds long-term keys ({why}), which would be lost",
                path.display()
            ),
            WriteError::NotUtf8 { what, path } => write!(
                f,
                "unable to get {what} contents: {} is not UTF-8 text",
                path.display()
            ),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Files { error, .. } => Some(error),
            _ => None,
        }
    }
}

crate::error::typed_error!(WriteError);

/// The file to write for `path`: `path` itself, or the target of a symbolic link that the user
/// owns and that points at a file of the same owner.
fn resolve_link(path: &Path, write_ctx: &str) -> Result<PathBuf> {
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => m,
        _ => return Ok(path.to_path_buf()),
    };
    let refuse = |why: String| -> Error {
        WriteError::Link {
            context: write_ctx.to_string(),
            path: path.to_path_buf(),
            why,
        }
        .into()
    };
    let target = std::fs::canonicalize(path).map_err(|e| {
        refuse(format!(
            "its target cannot be found ({})",
            crate::files::io_reason(&e)
        ))
    })?;
    let meta =
        std::fs::symlink_metadata(&target).map_err(|e| refuse(crate::files::io_reason(&e)))?;
    let me = euid();
    if link.uid() != meta.uid() || (link.uid() != me && me != 0) {
        return Err(refuse(format!(
            "the link belongs to user id {} and its target {} to user id {}",
            link.uid(),
            target.display(),
            meta.uid()
        )));
    }
    Ok(target)
}

/// What to do when the target profile holds long-term keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongTermKeys {
    /// Fail with [`long_term_keys_error`] and leave the file as it is.
    Refuse,
    /// Replace them (the user asked for it).
    Overwrite,
}

/// Why `profile` in credentials file text `text` holds long-term keys, or `None`: an
/// `aws_access_key_id` without an `aws_session_token` (long-term keys never have one), or an
/// IAM user key (`AKIA…`; temporary keys start with `ASIA`).
pub fn long_term_keys(text: &str, profile: &str) -> Option<&'static str> {
    let ini = crate::files::aws_config::Ini::parse(text);
    let section = ini.section(profile)?;
    let get = |key: &str| {
        section
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let key_id = get("aws_access_key_id")?;
    if key_id.starts_with("AKIA") {
        Some("an IAM user access key (AKIA...)")
    } else if get("aws_session_token").is_none() {
        Some("an aws_access_key_id without an aws_session_token")
    } else {
        None
    }
}

/// The refusal for a profile that holds long-term keys (`why` from [`long_term_keys`]), with
/// what `update` offers instead.
pub fn long_term_keys_error(path: &Path, profile: &str, why: &str) -> Error {
    WriteError::LongTermKeys {
        path: path.to_path_buf(),
        profile: profile.to_string(),
        why: why.to_string(),
    }
    .into()
}

/// Checks, before any work, that `profile` of the file at `path` (if it exists) holds no
/// long-term keys. [`write_profile`] checks again under its lock.
pub fn check_overwrite(path: &Path, profile: &str) -> Result<()> {
    let text = match crate::files::read_file(path, CAP_CONFIG, "credentials file") {
        Ok(bytes) => zeroize::Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
            return Ok(())
        }
        Err(error) => {
            return Err(WriteError::Files {
                context: WRITE,
                error,
            }
            .into())
        }
    };
    match long_term_keys(&text, profile) {
        Some(why) => Err(long_term_keys_error(path, profile, why)),
        None => Ok(()),
    }
}

/// Sets `profile`'s credentials in the file at `path`, safely (see the module doc).
pub fn write_profile(
    path: &Path,
    profile: &str,
    creds: &Credentials,
    long_term: LongTermKeys,
) -> Result<()> {
    check_profile_name(profile)?;
    edit_file(path, "credentials file", WRITE, |old| {
        if long_term == LongTermKeys::Refuse {
            if let Some(why) = long_term_keys(old, profile) {
                return Err(long_term_keys_error(path, profile, why));
            }
        }
        Ok(Some(zeroize::Zeroizing::new(set_profile(
            old, profile, creds,
        ))))
    })
    .map(|_| ())
}

/// Edits the INI file at `path` by the rules of the module doc (trusted directory, lock
/// beside it, bounded read, atomic 0600 write, a link followed only to the user's own file):
/// `edit` gets the old text (empty when there is no file) and returns the new one, or `None`
/// to leave the file as it is. `what` names the file in read errors, `write_ctx` prefixes write
/// errors. Returns whether the file was written.
pub fn edit_file(
    path: &Path,
    what: &'static str,
    write_ctx: &'static str,
    edit: impl FnOnce(&str) -> Result<Option<zeroize::Zeroizing<String>>>,
) -> Result<bool> {
    let path = resolve_link(path, write_ctx)?;
    let Some(name) = path.file_name().map(|n| n.to_os_string()) else {
        return Err(WriteError::NamesDirectory {
            context: write_ctx,
            path,
        }
        .into());
    };
    // Root updating a user's existing file trusts that user's directory too (and keeps the
    // file theirs); nobody else's directory is ever trusted.
    let also = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() && euid() == 0 => Some(m.uid()),
        _ => None,
    };
    let files = |error| WriteError::Files {
        context: write_ctx,
        error,
    };
    let dir = Dir::create_private_with(&parent_of(&path), also).map_err(files)?;
    // Refused before anything (even the lock file) is created beside it.
    dir.check_target(&name).map_err(files)?;
    let lock = dir.lock(&name).map_err(files)?;
    let old = match dir.read(&name, CAP_CONFIG, what) {
        Ok(bytes) => String::from_utf8(bytes.to_vec()).map_err(|_| WriteError::NotUtf8 {
            what,
            path: path.clone(),
        })?,
        Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
            String::new()
        }
        Err(e) => return Err(files(e).into()),
    };
    let old = zeroize::Zeroizing::new(old);
    let Some(new) = edit(&old)? else {
        return Ok(false);
    };
    if *new == *old {
        return Ok(false);
    }
    dir.write(&name, new.as_bytes(), PRIVATE, Some(&lock))
        .map_err(files)?;
    // The lock is released when `lock` is dropped, also on error.
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;
    use zeroize::Zeroizing;

    fn creds(n: &str) -> Credentials {
        Credentials {
            access_key_id: format!("AK{n}"),
            secret_access_key: Zeroizing::new(format!("SK{n}")),
            session_token: Zeroizing::new(format!("ST{n}")),
            expiration: "2030-01-01T00:00:00Z".into(),
            account_id: None,
        }
    }

    #[test]
    fn config_sections_are_set_read_and_removed_keeping_the_rest() {
        let text = "# mine\n[default]\nregion = eu-west-1\n\n[profile dev]\noutput = json\ncredential_process = old\n\n[profile other]\nregion = x\n";
        let out = set_keys(
            text,
            "profile dev",
            &[
                ("credential_process", "/bin/a \"b c\""),
                ("region", "us-east-1"),
            ],
        );
        assert_eq!(
            out,
            "# mine\n[default]\nregion = eu-west-1\n\n[profile dev]\noutput = json\ncredential_process = /bin/a \"b c\"\nregion = us-east-1\n\n[profile other]\nregion = x\n"
        );
        assert_eq!(
            get_key(&out, "profile dev", "credential_process").as_deref(),
            Some("/bin/a \"b c\"")
        );
        assert_eq!(get_key(&out, "profile dev", "missing"), None);
        assert_eq!(get_key(&out, "profile nope", "region"), None);
        let removed = remove_section(&out, "profile dev");
        assert_eq!(
            removed,
            "# mine\n[default]\nregion = eu-west-1\n\n[profile other]\nregion = x\n"
        );
        assert_eq!(remove_section(&removed, "profile dev"), removed);
        let fresh = set_keys("", "profile dev", &[("region", "r")]);
        assert_eq!(fresh, "[profile dev]\nregion = r\n");
        assert_eq!(remove_section(&fresh, "profile dev"), "");
    }

    #[test]
    fn long_term_keys_are_recognised() {
        let text = "[lt]\naws_access_key_id = ABCD\naws_secret_access_key = s\n\n\
            [user]\nAWS_ACCESS_KEY_ID = AKIAXYZ\naws_session_token = t\n\n\
            [tmp]\naws_access_key_id = ASIAXYZ\naws_secret_access_key = s\naws_session_token = t\n\n\
            [region]\nregion = eu-west-1\n";
        assert!(long_term_keys(text, "lt")
            .unwrap()
            .contains("without an aws_session_token"));
        assert!(long_term_keys(text, "user").unwrap().contains("AKIA"));
        assert_eq!(long_term_keys(text, "tmp"), None);
        assert_eq!(long_term_keys(text, "region"), None);
        assert_eq!(long_term_keys(text, "missing"), None);
        // What we write ourselves never counts as long-term.
        let ours = set_profile(text, "new", &creds("1"));
        assert_eq!(long_term_keys(&ours, "new"), None);
    }

    #[test]
    fn appends_missing_profile() {
        assert_eq!(set_profile("", "default", &creds("1")), "[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\naws_session_token = ST1\n");
        assert_eq!(
            set_profile("[a]\nx = 1", "b", &creds("1")),
            "[a]\nx = 1\n\n[b]\naws_access_key_id = AK1\naws_secret_access_key = SK1\naws_session_token = ST1\n"
        );
    }

    #[test]
    fn replaces_in_place_and_keeps_everything_else() {
        let text = "# top comment\n[default]\nregion = eu-west-1\naws_access_key_id = OLD\n; note\naws_secret_access_key=OLD\naws_session_token = OLD\noutput = json\n\n[other]\naws_access_key_id = KEEP\n";
        let out = set_profile(text, "default", &creds("2"));
        assert_eq!(out, "# top comment\n[default]\nregion = eu-west-1\naws_access_key_id = AK2\n; note\naws_secret_access_key = SK2\naws_session_token = ST2\noutput = json\n\n[other]\naws_access_key_id = KEEP\n");
    }

    #[test]
    fn last_section_keeps_its_last_line() {
        // The official tool drops the file's last line here.
        let out = set_profile(
            "[p]\naws_access_key_id = OLD\nregion = us-east-1",
            "p",
            &creds("3"),
        );
        assert_eq!(out, "[p]\naws_access_key_id = AK3\nregion = us-east-1\naws_secret_access_key = SK3\naws_session_token = ST3\n");
        let out = set_profile("[p]", "p", &creds("3"));
        assert_eq!(
            out,
            "[p]\naws_access_key_id = AK3\naws_secret_access_key = SK3\naws_session_token = ST3\n"
        );
    }

    #[test]
    fn crlf_duplicates_and_lookalikes() {
        let text = "[test]\r\nregion = x\r\n\r\n[test profile]\r\nk = v\r\n[test]\r\naws_access_key_id = SECOND\r\n";
        let out = set_profile(text, "test", &creds("4"));
        assert_eq!(out, "[test]\r\nregion = x\r\naws_access_key_id = AK4\r\naws_secret_access_key = SK4\r\naws_session_token = ST4\r\n\r\n[test profile]\r\nk = v\r\n[test]\r\naws_access_key_id = SECOND\r\n");
        let out = set_profile("# [test]\n", "test", &creds("5"));
        assert!(out.starts_with("# [test]\n\n[test]\n"));
    }

    /// The `credentials_file` fuzzer's idempotence invariant: a name with surrounding whitespace
    /// was written as `[ p]`, read back as `p`, and so appended again on every refresh.
    #[test]
    fn profile_names_must_round_trip_through_a_header() {
        for bad in [
            "", " p", "p ", "\tp", "p\u{a0}", "a]b", "[a", "a\nb", "a\rb",
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
        for good in ["default", "p q", "dev#1", "x;y", "profile-1.a_b"] {
            assert!(check_profile_name(good).is_ok(), "{good:?}");
            let once = set_profile("[a]\nk = v\n", good, &creds("1"));
            assert_eq!(set_profile(&once, good, &creds("1")), once, "{good:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        let e = write_profile(&path, " p", &creds("1"), LongTermKeys::Refuse).unwrap_err();
        assert!(e.message().contains("whitespace"), "{e}");
        assert!(!path.exists());
    }

    #[test]
    fn writes_atomically_with_private_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/.aws/credentials");
        write_profile(&path, "default", &creds("6"), LongTermKeys::Refuse).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        write_profile(&path, "second", &creds("7"), LongTermKeys::Refuse).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("AK6") && text.contains("AK7"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_profile(&path, "default", &creds("8"), LongTermKeys::Refuse).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600,
            "a loose mode is tightened"
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".credentials"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "temporary files left behind: {leftovers:?}"
        );
    }

    #[test]
    fn non_utf8_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, b"[a]\n\xff\xfe\n").unwrap();
        assert!(write_profile(&path, "a", &creds("9"), LongTermKeys::Refuse).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"[a]\n\xff\xfe\n");
    }

    #[test]
    fn links_are_followed_only_to_a_file_of_the_same_owner() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/credentials");
        std::fs::create_dir(dir.path().join("dotfiles")).unwrap();
        std::fs::write(&real, "[keep]\nk = v\n").unwrap();
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_profile(&link, "p", &creds("1"), LongTermKeys::Refuse).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let text = std::fs::read_to_string(&real).unwrap();
        assert!(
            text.starts_with("[keep]\nk = v\n") && text.contains("AK1"),
            "{text}"
        );
        // A link to something that is not a regular file is refused, the node untouched.
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = write_profile(&fifo, "p", &creds("1"), LongTermKeys::Refuse).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(!dir.path().join("fifo.lock").exists());
    }
}
