//! Why a PKCS#11 token, its URI, PIN, certificate or key could not be used. Messages name the
//! token and the URI (never a PIN); the official tool's wording is kept where it has one.

use std::fmt;

use cryptoki::error::{Error as CkError, RvError};

/// Where to look when no slot matches.
const LIST_TOKENS: &str =
    "check the token/slot attributes of the URI; list tokens with p11tool --list-tokens or pkcs11-tool -L";

/// What went wrong with a PKCS#11 token.
#[derive(Debug)]
pub enum Pkcs11Error {
    /// The URI is not RFC 7512 (`what` says where); `hint` says what is expected.
    Malformed { what: String, hint: &'static str },
    /// `slot-id` is not a number.
    SlotId { value: String },
    /// A `pin-source` that is not a file.
    PinSource { source: String },
    /// The OS could not read the PIN file `path`.
    PinFileRead {
        path: String,
        source: std::io::Error,
    },
    /// The safe-file layer refused the PIN file.
    PinFileRefused(crate::files::Error),
    /// The PIN file `path` is not UTF-8.
    PinFileText { path: String },
    /// The module at `path` could not be loaded.
    Module { path: String, source: CkError },
    /// The module named by a path cannot be trusted (another user can write it or a directory
    /// above it), so it is not loaded.
    ModuleUntrusted(crate::files::Error),
    /// A PKCS#11 call failed; `what` says which, and on which token.
    Call { what: String, source: CkError },
    /// No slot matches (`what`: the URI, or "the PKCS#11 key URI").
    NoSlots { what: String },
    /// Several slots match and none shows a certificate without logging in.
    ManySlots { n: usize, uri: String },
    /// One slot, no public certificate, and no PIN to log in and look further.
    NoPinToList { token: String, uri: String },
    /// No certificate on any of `n` tokens without logging in.
    NoCertsOnTokens { uri: String, n: usize },
    /// No certificate matches the `--certificate` URI.
    NoCerts { uri: String },
    /// `n` certificates match the `--certificate` URI.
    ManyCerts { n: usize, uri: String },
    /// Neither URI names a key.
    NoKeyUri,
    /// The key URI matches several tokens (`uri` and `n` when no certificate picks one).
    KeySlot { uri: Option<(String, usize)> },
    /// `n` keys match and no certificate tells which.
    ManyKeys { n: usize },
    /// No key on `token` can be used (`why`).
    NoMatchingKey { token: String, why: String },
    /// The PIN given (`given`: from the URI or the environment) is wrong.
    PinIncorrect { token: String, given: bool },
    /// Logging in to `token` failed with `rv`.
    Login { token: String, rv: RvError },
    /// Three prompted PINs were wrong.
    PinGaveUp { token: String },
    /// A PIN is needed and nobody can be asked (`at_login`: logging in to the one matching
    /// slot, else signing later).
    NoPin { token: String, at_login: bool },
    /// A CKA_ALWAYS_AUTHENTICATE key needs a PIN and there is no terminal.
    NoContextPin { key: String },
    /// The context-specific login for `key` failed with `rv`.
    ContextLogin { key: String, rv: RvError },
    /// Another thread panicked holding the context PIN.
    LockPoisoned,
    /// The key `key` is gone from the token (or no longer unique).
    KeyGone { key: String },
    /// `C_Sign` after a context login failed.
    Sign { why: String },
    /// The token's raw ECDSA signature is not `r‖s` of the curve.
    BadSignature(ecdsa::Error),
    /// ML-DSA keys on tokens are not supported.
    MlDsa,
}

/// `PinIncorrect` → `PIN_INCORRECT`.
pub(super) fn rv_name(rv: RvError) -> String {
    let debug = format!("{rv:?}");
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The hint for a missing PIN.
pub(super) fn pin_hint() -> String {
    format!(
        "give the PIN with pin-source=file:/path in the URI, or the {} environment variable",
        super::PIN_ENV
    )
}

impl Pkcs11Error {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            Pkcs11Error::Malformed { hint, .. } => hint,
            Pkcs11Error::SlotId { .. } => {
                "slot-id is the decimal slot number shown by p11tool --list-tokens or pkcs11-tool -L"
            }
            Pkcs11Error::PinSource { .. } => "use pin-source=file:/path/to/pin-file",
            Pkcs11Error::PinFileRefused(e) => return e.hint(),
            Pkcs11Error::Module { .. } => {
                "pass the token's PKCS#11 module with --pkcs11-lib, e.g. /usr/lib/softhsm/libsofthsm2.so or /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
            }
            Pkcs11Error::ModuleUntrusted(crate::files::Error::UntrustedFile {
                path,
                ancestor,
                ..
            }) => {
                return Some(format!(
                    "loading a module runs its code: make it root's (or yours) and writable only by its owner, and the same for the directories above it (chown; chmod go-w {}), or pass another --pkcs11-lib",
                    ancestor.as_deref().unwrap_or(path).display()
                ))
            }
            Pkcs11Error::ModuleUntrusted(e) => return e.hint(),
            Pkcs11Error::NoSlots { .. } => LIST_TOKENS,
            Pkcs11Error::ManySlots { .. } | Pkcs11Error::NoCertsOnTokens { .. } => {
                "add token= to the URI so that one token matches"
            }
            Pkcs11Error::NoPinToList { .. }
            | Pkcs11Error::NoPin { .. }
            | Pkcs11Error::PinIncorrect { given: false, .. } => return Some(pin_hint()),
            Pkcs11Error::PinIncorrect { given: true, .. } => {
                "check the PIN in the URI or in AWS_SIGNING_HELPER_PKCS11_PIN; it is not retried, so the token is not locked by this"
            }
            Pkcs11Error::NoCerts { .. } => {
                "list the token's certificates with: aws_signing_helper read-certificate-data --certificate 'pkcs11:token=...'"
            }
            Pkcs11Error::ManyCerts { .. } => {
                "add object= or id= to the URI; read-certificate-data lists each certificate's URI"
            }
            Pkcs11Error::KeySlot { .. } => "add token= to the --private-key URI",
            Pkcs11Error::ManyKeys { .. } => {
                "add object= or id= to the --private-key URI, or pass --certificate"
            }
            Pkcs11Error::NoMatchingKey { .. } => {
                "check object=/id= of the key URI; pkcs11-tool --list-objects --login shows the token's keys"
            }
            Pkcs11Error::NoContextPin { .. } => {
                "pass --reuse-pin to use the user PIN as the context-specific PIN"
            }
            Pkcs11Error::PinFileRead { .. }
            | Pkcs11Error::PinFileText { .. }
            | Pkcs11Error::Call { .. }
            | Pkcs11Error::NoKeyUri
            | Pkcs11Error::Login { .. }
            | Pkcs11Error::PinGaveUp { .. }
            | Pkcs11Error::ContextLogin { .. }
            | Pkcs11Error::LockPoisoned
            | Pkcs11Error::KeyGone { .. }
            | Pkcs11Error::Sign { .. }
            | Pkcs11Error::BadSignature(_)
            | Pkcs11Error::MlDsa => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for Pkcs11Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkcs11Error::Malformed { what, .. } => write!(f, "Malformed pkcs11 URI: {what}"),
            Pkcs11Error::SlotId { value } => write!(f, "slot-id must be a number: {value}"),
            Pkcs11Error::PinSource { source } => {
                write!(f, "unsupported pin-source {source:?} in the pkcs11 URI")
            }
            Pkcs11Error::PinFileRead { path, source } => write!(
                f,
                "cannot read the PIN file {path} named by pin-source: {}",
                source.kind()
            ),
            Pkcs11Error::PinFileRefused(e) => e.fmt(f),
            Pkcs11Error::PinFileText { path } => write!(f, "the PIN file {path} is not UTF-8 text"),
            Pkcs11Error::Module { path, source } => {
                write!(f, "Failed to load provider library {path}: {source}")
            }
            Pkcs11Error::ModuleUntrusted(crate::files::Error::UntrustedFile {
                path,
                ancestor,
                reason,
                ..
            }) => {
                write!(f, "refusing to load PKCS#11 module {}: ", path.display())?;
                match ancestor {
                    Some(a) => write!(f, "{}, above it, cannot be trusted: {reason}", a.display()),
                    None => f.write_str(reason),
                }
            }
            Pkcs11Error::ModuleUntrusted(e) => write!(f, "PKCS#11 module: {e}"),
            Pkcs11Error::Call {
                what,
                source: CkError::Pkcs11(rv, _),
            } => write!(f, "{what}: CKR_{}", rv_name(*rv)),
            Pkcs11Error::Call { what, source } => write!(f, "{what}: {source}"),
            Pkcs11Error::NoSlots { what } => write!(f, "no matching slots for {what}"),
            Pkcs11Error::ManySlots { n, uri } => write!(
                f,
                "multiple matching slots ({n}) and no certificate matches {uri} without logging in"
            ),
            Pkcs11Error::NoPinToList { token, uri } => write!(
                f,
                "one matching slot, but no user PIN provided: no certificate of token {token:?} matches {uri} without logging in"
            ),
            Pkcs11Error::NoCertsOnTokens { uri, n } => write!(
                f,
                "no matching certificates for --certificate {uri} (searched {n} tokens without logging in)"
            ),
            Pkcs11Error::NoCerts { uri } => {
                write!(f, "no matching certificates for --certificate {uri}")
            }
            Pkcs11Error::ManyCerts { n, uri } => write!(
                f,
                "multiple matching certificates ({n}) for --certificate {uri}"
            ),
            Pkcs11Error::NoKeyUri => f.write_str(
                "no PKCS#11 private key: --private-key is not a pkcs11: URI and --certificate names no token certificate",
            ),
            Pkcs11Error::KeySlot { uri: None } => {
                f.write_str("Could not identify unique slot for PKCS#11 key")
            }
            Pkcs11Error::KeySlot {
                uri: Some((uri, n)),
            } => write!(
                f,
                "Could not identify unique slot for PKCS#11 key {uri}: {n} tokens match"
            ),
            Pkcs11Error::ManyKeys { n } => write!(
                f,
                "multiple matching private keys ({n}), but no certificate provided to match with"
            ),
            Pkcs11Error::NoMatchingKey { token, why } => write!(
                f,
                "unable to find matching private key on token {token:?}: {why}"
            ),
            Pkcs11Error::PinIncorrect { token, .. } => write!(
                f,
                "user authentication failed for token {token:?}: incorrect PIN (CKR_PIN_INCORRECT)"
            ),
            Pkcs11Error::Login { token, rv } => write!(
                f,
                "user authentication failed for token {token:?}: CKR_{}",
                rv_name(*rv)
            ),
            Pkcs11Error::PinGaveUp { token } => write!(
                f,
                "user authentication failed for token {token:?}: incorrect PIN after 3 attempts"
            ),
            Pkcs11Error::NoPin {
                token,
                at_login: true,
            } => write!(
                f,
                "one matching slot, but no user PIN provided for token {token:?}"
            ),
            Pkcs11Error::NoPin {
                token,
                at_login: false,
            } => write!(f, "no user PIN for token {token:?}"),
            Pkcs11Error::NoContextPin { key } => write!(
                f,
                "the key {key} needs its PIN for every signature (CKA_ALWAYS_AUTHENTICATE) and no terminal is available to ask for it"
            ),
            Pkcs11Error::ContextLogin { key, rv } => write!(
                f,
                "user re-authentication failed for {key}: CKR_{}",
                rv_name(*rv)
            ),
            Pkcs11Error::LockPoisoned => f.write_str("PKCS#11 context PIN lock poisoned"),
            Pkcs11Error::KeyGone { key } => write!(
                f,
                "the private key {key} is no longer on the token (or no longer unique)"
            ),
            Pkcs11Error::Sign { why } => write!(f, "C_Sign failed: {why}"),
            Pkcs11Error::BadSignature(e) => {
                write!(f, "the token returned a malformed ECDSA signature: {e}")
            }
            Pkcs11Error::MlDsa => f.write_str("unsupported algorithm: ML-DSA keys on PKCS#11 tokens"),
        }
    }
}

impl std::error::Error for Pkcs11Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Pkcs11Error::PinFileRead { source, .. } => Some(source),
            Pkcs11Error::PinFileRefused(e) | Pkcs11Error::ModuleUntrusted(e) => Some(e),
            Pkcs11Error::Module { source, .. } | Pkcs11Error::Call { source, .. } => Some(source),
            Pkcs11Error::BadSignature(e) => Some(e),
            _ => None,
        }
    }
}

crate::error::typed_error!(Pkcs11Error);

/// A failed PKCS#11 call: `what` (which call, on which token) and the module's answer.
pub(super) fn ck(what: impl Into<String>, source: CkError) -> Pkcs11Error {
    Pkcs11Error::Call {
        what: what.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_module;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_untrusted_module_is_one_line_naming_it_and_keeps_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libtoken.so");
        std::fs::write(&lib, b"not loaded").unwrap();
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();
        let path = lib.to_str().unwrap();
        let e = check_module(path).unwrap_err();
        assert!(matches!(
            &e,
            Pkcs11Error::ModuleUntrusted(crate::files::Error::UntrustedFile { .. })
        ));
        let e: crate::Error = e.into();
        assert_eq!(
            e.to_string(),
            format!("refusing to load PKCS#11 module {path}: other users can write to it (mode 0666) (hint: loading a module runs its code: make it root's (or yours) and writable only by its owner, and the same for the directories above it (chown; chmod go-w {path}), or pass another --pkcs11-lib)")
        );
        assert!(std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<Pkcs11Error>())
            .and_then(std::error::Error::source)
            .is_some_and(|s| s.is::<crate::files::Error>()));
        // A bare name is the dynamic loader's to find; a path that cannot be opened keeps the
        // loader's own error.
        assert!(check_module("p11-kit-proxy.so").is_ok());
        assert!(check_module(dir.path().join("missing.so").to_str().unwrap()).is_ok());
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_module(path).is_ok());
    }
}
