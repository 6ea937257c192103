//! Why a key store operation failed (choosing the backend, names, the encrypted file and its
//! passphrase, the kernel keyring, the Secret Service). Messages name the store, the entry or
//! the file, never a key or a passphrase; the failing crate's error stays the source, except
//! the JSON parser's, which can quote the stored text (the secret).

use std::fmt;
use std::path::PathBuf;

use super::PASSPHRASE_FILE_ENV;

/// What went wrong in the key store.
#[derive(Debug)]
pub enum KeyStoreError {
    /// `value` (given in `from`: a flag or a variable) names no backend.
    InvalidKind { value: String, from: String },
    /// The Secret Service backend in a build without it.
    NoSecretService,
    /// The secret stored at `at` is not an entry of ours. The parser's error is dropped on
    /// purpose: it may quote the secret.
    NotEntry { at: String },
    /// An entry name that is not a profile or account name.
    InvalidName { name: String },
    /// The key store file's path names no file (`/`, `..`).
    FileName { path: PathBuf },
    /// No key store file was named and there is no home directory to default to.
    NoHome,
    /// The safe-file layer refused the passphrase file.
    PassphraseFile(crate::files::Error),
    /// The passphrase file `path` is not UTF-8.
    PassphraseNotUtf8 {
        path: PathBuf,
        source: std::str::Utf8Error,
    },
    /// The terminal could not be asked for the passphrase.
    Prompt(std::io::Error),
    /// The passphrase and its repetition differ.
    PassphrasesDiffer,
    /// The passphrase is empty.
    EmptyPassphrase,
    /// The file `path` does not decrypt (`why`).
    Open { path: PathBuf, why: Unseal },
    /// The file `path` decrypts, but not to our JSON (the parser's error is dropped: it may
    /// quote the plaintext).
    NotEntries { path: PathBuf },
    /// The directory of the file `path` could not be created.
    NoDirectory { path: PathBuf },
    /// age could not encrypt the file.
    Encrypt(age::EncryptError),
    /// A kernel keyring call (`what`: "search for \"work\"", …) failed.
    Keyring {
        what: String,
        source: linux_keyutils::KeyError,
    },
    /// A Secret Service call (`what`) failed (boxed: the D-Bus error is large).
    #[cfg(feature = "secret-service")]
    SecretService {
        what: String,
        source: Box<secret_service::Error>,
    },
    /// The runtime of the D-Bus client could not be started.
    DbusClient(std::io::Error),
}

/// Why the encrypted file does not decrypt.
#[derive(Debug)]
pub enum Unseal {
    /// It is not an age file.
    NotAge(age::DecryptError),
    /// The passphrase does not open it.
    WrongPassphrase(age::DecryptError),
    /// age refused it for another reason.
    Refused(age::DecryptError),
    /// Its payload is damaged.
    Damaged(std::io::Error),
}

impl fmt::Display for Unseal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unseal::NotAge(e) => write!(f, "not an age-encrypted file ({e})"),
            Unseal::WrongPassphrase(_) => f.write_str("wrong passphrase"),
            Unseal::Refused(e) => write!(f, "{e}"),
            Unseal::Damaged(e) => write!(f, "damaged ({e})"),
        }
    }
}

impl std::error::Error for Unseal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Unseal::NotAge(e) | Unseal::WrongPassphrase(e) | Unseal::Refused(e) => Some(e),
            Unseal::Damaged(e) => Some(e),
        }
    }
}

const BACKEND_HINT: &str = "check that the kernel has keyrings (CONFIG_KEYS) and that seccomp allows keyctl, or use --key-store file";

impl KeyStoreError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            KeyStoreError::InvalidKind { .. } => "use keyring, secret-service or file",
            KeyStoreError::NoSecretService => {
                "use --key-store keyring or file, or build with --features secret-service"
            }
            KeyStoreError::NotEntry { .. } => {
                "remove it (keys remove NAME) and add it again (keys add NAME)"
            }
            KeyStoreError::InvalidName { .. } => {
                "use a profile or account name: letters, digits and -_.@+ (up to 64)"
            }
            KeyStoreError::FileName { .. } => {
                "name a file, e.g. ~/.config/aws-signing-helper/keys.age"
            }
            KeyStoreError::NoHome => {
                "pass --key-store-file PATH or set AWS_SIGNING_HELPER_KEY_STORE_FILE"
            }
            KeyStoreError::PassphraseFile(_) => {
                return Some(format!(
                    "{PASSPHRASE_FILE_ENV} must name a file of yours, mode 0600, holding the passphrase"
                ))
            }
            KeyStoreError::Prompt(_) => {
                return Some(format!(
                    "run it on a terminal, or set {PASSPHRASE_FILE_ENV} to a file (mode 0600) holding the passphrase"
                ))
            }
            KeyStoreError::PassphrasesDiffer => "run the command again",
            KeyStoreError::EmptyPassphrase => {
                "choose a passphrase (its first line, when read from a file)"
            }
            KeyStoreError::Open { .. } => {
                "check the passphrase (or its file); a damaged file can be restored from a backup"
            }
            KeyStoreError::Keyring { .. } => BACKEND_HINT,
            #[cfg(feature = "secret-service")]
            KeyStoreError::SecretService { .. } => {
                "start a desktop keyring (gnome-keyring-daemon, KWallet) on the session D-Bus, or use --key-store keyring or file"
            }
            KeyStoreError::PassphraseNotUtf8 { .. }
            | KeyStoreError::NotEntries { .. }
            | KeyStoreError::NoDirectory { .. }
            | KeyStoreError::Encrypt(_)
            | KeyStoreError::DbusClient(_) => return None,
        };
        Some(h.to_string())
    }
}

impl fmt::Display for KeyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyStoreError::InvalidKind { value, from } => {
                write!(f, "invalid key store {value:?} in {from}")
            }
            KeyStoreError::NoSecretService => f.write_str(
                "this build has no Secret Service support (built without the secret-service feature)",
            ),
            KeyStoreError::NotEntry { at } => write!(
                f,
                "cannot read key store entry {at}: not an aws-signing-helper entry"
            ),
            KeyStoreError::InvalidName { name } => write!(f, "invalid key name {name:?}"),
            KeyStoreError::FileName { path } => {
                write!(f, "invalid key store file {}", path.display())
            }
            KeyStoreError::NoHome => f.write_str("no key store file: HOME is not set"),
            KeyStoreError::PassphraseFile(e) => write!(f, "{e}"),
            KeyStoreError::PassphraseNotUtf8 { path, .. } => {
                write!(f, "cannot read {}: not UTF-8 text", path.display())
            }
            KeyStoreError::Prompt(e) => write!(
                f,
                "cannot read the key store passphrase from the terminal: {e}"
            ),
            KeyStoreError::PassphrasesDiffer => {
                f.write_str("the passphrases differ; nothing was stored")
            }
            KeyStoreError::EmptyPassphrase => f.write_str("the key store passphrase is empty"),
            KeyStoreError::Open { path, why } => {
                write!(f, "cannot open key store {}: {why}", path.display())
            }
            KeyStoreError::NotEntries { path } => write!(
                f,
                "cannot read key store {}: it decrypts, but not to aws-signing-helper entries",
                path.display()
            ),
            KeyStoreError::NoDirectory { path } => {
                write!(f, "cannot create the directory of {}", path.display())
            }
            KeyStoreError::Encrypt(e) => write!(f, "cannot encrypt the key store: {e}"),
            KeyStoreError::Keyring { what, source } => {
                write!(f, "kernel keyring: cannot {what}: {source:?}")
            }
            #[cfg(feature = "secret-service")]
            KeyStoreError::SecretService { what, source } => {
                write!(f, "Secret Service: cannot {what}: {source}")
            }
            KeyStoreError::DbusClient(e) => write!(f, "cannot start the D-Bus client: {e}"),
        }
    }
}

impl std::error::Error for KeyStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyStoreError::PassphraseFile(e) => Some(e),
            KeyStoreError::PassphraseNotUtf8 { source, .. } => Some(source),
            KeyStoreError::Prompt(e) | KeyStoreError::DbusClient(e) => Some(e),
            KeyStoreError::Open { why, .. } => Some(why),
            KeyStoreError::Encrypt(e) => Some(e),
            KeyStoreError::Keyring { source, .. } => Some(source),
            #[cfg(feature = "secret-service")]
            KeyStoreError::SecretService { source, .. } => Some(source.as_ref()),
            KeyStoreError::InvalidKind { .. }
            | KeyStoreError::NoSecretService
            | KeyStoreError::NotEntry { .. }
            | KeyStoreError::InvalidName { .. }
            | KeyStoreError::FileName { .. }
            | KeyStoreError::NoHome
            | KeyStoreError::PassphrasesDiffer
            | KeyStoreError::EmptyPassphrase
            | KeyStoreError::NotEntries { .. }
            | KeyStoreError::NoDirectory { .. } => None,
        }
    }
}

crate::error::typed_error!(KeyStoreError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::{check_name, Entry, Kind};

    fn typed(e: &crate::Error) -> &KeyStoreError {
        std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<KeyStoreError>())
            .expect("a KeyStoreError source")
    }

    #[test]
    fn key_store_errors_render_the_old_line_and_stay_typed() {
        let e: crate::Error = check_name("a/b").unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "invalid key name \"a/b\" (hint: use a profile or account name: letters, digits and -_.@+ (up to 64))"
        );
        assert!(matches!(typed(&e), KeyStoreError::InvalidName { name } if name == "a/b"));

        let e: crate::Error = Kind::parse("plain", "--key-store").unwrap_err().into();
        assert_eq!(
            e.to_string(),
            "invalid key store \"plain\" in --key-store (hint: use keyring, secret-service or file)"
        );
        assert!(matches!(typed(&e), KeyStoreError::InvalidKind { .. }));

        // A stored secret that is not our JSON: the message names the place, never the text.
        let e: crate::Error = Entry::from_json(b"{\"secret\":\"wJalrXUtnFEMI\"}", "x:y")
            .unwrap_err()
            .into();
        assert_eq!(
            e.to_string(),
            "cannot read key store entry x:y: not an aws-signing-helper entry (hint: remove it (keys remove NAME) and add it again (keys add NAME))"
        );
        assert!(matches!(typed(&e), KeyStoreError::NotEntry { .. }));
        assert!(std::error::Error::source(typed(&e)).is_none());

        let e: crate::Error = KeyStoreError::Keyring {
            what: "search for \"work\"".into(),
            source: linux_keyutils::KeyError::AccessDenied,
        }
        .into();
        assert_eq!(
            e.to_string(),
            "kernel keyring: cannot search for \"work\": AccessDenied (hint: check that the kernel has keyrings (CONFIG_KEYS) and that seccomp allows keyctl, or use --key-store file)"
        );
        let cause = std::error::Error::source(typed(&e)).expect("the keyutils error");
        assert!(cause.is::<linux_keyutils::KeyError>());

        let e: crate::Error = KeyStoreError::Open {
            path: "/s/keys.age".into(),
            why: Unseal::WrongPassphrase(age::DecryptError::DecryptionFailed),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "cannot open key store /s/keys.age: wrong passphrase (hint: check the passphrase (or its file); a damaged file can be restored from a backup)"
        );
        assert!(matches!(
            typed(&e),
            KeyStoreError::Open {
                why: Unseal::WrongPassphrase(_),
                ..
            }
        ));

        let e: crate::Error = KeyStoreError::PassphraseFile(crate::files::Error::Symlink {
            path: "/s/pass".into(),
        })
        .into();
        assert_eq!(
            e.to_string(),
            format!(
                "{} (hint: {PASSPHRASE_FILE_ENV} must name a file of yours, mode 0600, holding the passphrase)",
                crate::files::Error::Symlink {
                    path: "/s/pass".into()
                }
            )
        );
        assert!(std::error::Error::source(typed(&e)).is_some_and(|c| c.is::<crate::files::Error>()));

        let e: crate::Error = KeyStoreError::PassphrasesDiffer.into();
        assert_eq!(
            e.to_string(),
            "the passphrases differ; nothing was stored (hint: run the command again)"
        );
        let e: crate::Error = KeyStoreError::NoHome.into();
        assert_eq!(
            e.to_string(),
            "no key store file: HOME is not set (hint: pass --key-store-file PATH or set AWS_SIGNING_HELPER_KEY_STORE_FILE)"
        );
    }
}
