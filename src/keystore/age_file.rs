//! The encrypted-file backend: every entry in one age file (age-encryption.org/v1) encrypted
//! to a passphrase (scrypt recipient, work factor 2^18, age's default; files made with a
//! factor up to 2^22 are read).
//!
//! The file is `--key-store-file`, else `$AWS_SIGNING_HELPER_KEY_STORE_FILE`, else
//! `$XDG_CONFIG_HOME/aws-signing-helper/keys.age` (`~/.config/…`); it is written through the
//! safe-file layer (atomic, 0600, in a directory that is ours and 0700 when we create it), under
//! the lock file `keys.age.lock` while it is changed.
//! Its plaintext is `{"entries":[Entry…]}`. The passphrase comes from the file named by
//! `$AWS_SIGNING_HELPER_KEY_STORE_PASSPHRASE_FILE` (ours, mode 0600; its first line; `/dev/fd/N`
//! for a pipe we inherited) or from
//! the terminal, never from argv or an environment variable's value.

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    check_name, to_json, Backend, Entry, KeyStoreError, Kind, Unseal, FILE_ENV, PASSPHRASE_FILE_ENV,
};
use crate::error::Result;
use crate::files::{self, Dir};

/// scrypt's log2(N) for new files: age's default.
pub const WORK_FACTOR: u8 = 18;
/// The highest log2(N) accepted when reading.
const MAX_WORK_FACTOR: u8 = 22;
/// The cap on the encrypted file and on the passphrase file.
const CAP_STORE: u64 = 4 << 20;
const CAP_PASSPHRASE: u64 = 4 << 10;

/// The encrypted file.
pub struct AgeFile {
    path: PathBuf,
    passphrase: RefCell<Option<Zeroizing<String>>>,
}

/// What the file holds once decrypted: JSON `{"entries": [ENTRY…]}`.
#[derive(Serialize, Deserialize, Default)]
pub struct Contents {
    pub entries: Vec<Entry>,
}

impl Contents {
    /// The decrypted file's entries; `None` when it is not that JSON.
    pub fn parse(plain: &[u8]) -> Option<Contents> {
        serde_json::from_slice(plain).ok()
    }

    /// The JSON to encrypt, in a buffer wiped on drop.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        to_json(self)
    }
}

/// `$XDG_CONFIG_HOME/aws-signing-helper/keys.age`, else `~/.config/aws-signing-helper/keys.age`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| files::aws_config::home_dir().map(|h| h.join(".config")))
        .map(|d| d.join("aws-signing-helper").join("keys.age"))
}

fn split(path: &Path) -> Result<(PathBuf, std::ffi::OsString), KeyStoreError> {
    let name = path.file_name().ok_or_else(|| KeyStoreError::FileName {
        path: path.to_path_buf(),
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_os_string()))
}

impl AgeFile {
    /// The store at `path` (else the environment's or the default path); nothing is read yet.
    pub fn new(path: Option<PathBuf>) -> Result<AgeFile, KeyStoreError> {
        let path = path
            .or_else(|| {
                std::env::var_os(FILE_ENV)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(default_path)
            .ok_or(KeyStoreError::NoHome)?;
        Ok(AgeFile {
            path,
            passphrase: RefCell::new(None),
        })
    }

    /// The passphrase: the passphrase file's first line, else asked on the terminal (twice
    /// when the file is being created).
    fn passphrase(&self, creating: bool) -> Result<Zeroizing<String>, KeyStoreError> {
        if let Some(p) = self.passphrase.borrow().as_ref() {
            return Ok(p.clone());
        }
        let pass = match std::env::var_os(PASSPHRASE_FILE_ENV).filter(|v| !v.is_empty()) {
            Some(file) => {
                let file = PathBuf::from(file);
                let bytes = files::read_private_file(&file, CAP_PASSPHRASE, "passphrase file")
                    .map_err(KeyStoreError::PassphraseFile)?;
                let text = std::str::from_utf8(&bytes).map_err(|source| {
                    KeyStoreError::PassphraseNotUtf8 {
                        path: file.clone(),
                        source,
                    }
                })?;
                Zeroizing::new(text.lines().next().unwrap_or_default().to_string())
            }
            None => {
                let ask = |prompt: String| {
                    rpassword::prompt_password(prompt)
                        .map(Zeroizing::new)
                        .map_err(KeyStoreError::Prompt)
                };
                let p = ask(format!("Passphrase for {}: ", self.path.display()))?;
                if creating {
                    let again = ask("Passphrase again: ".to_string())?;
                    if *again != *p {
                        return Err(KeyStoreError::PassphrasesDiffer);
                    }
                }
                p
            }
        };
        if pass.is_empty() {
            return Err(KeyStoreError::EmptyPassphrase);
        }
        *self.passphrase.borrow_mut() = Some(pass.clone());
        Ok(pass)
    }

    /// The directory, checked (and created 0700 when `create`), and the file's name.
    fn dir(&self, create: bool) -> Result<Option<(Dir, std::ffi::OsString)>> {
        let (parent, name) = split(&self.path)?;
        let dir = if create {
            Dir::create_private(&parent)
        } else {
            Dir::open(&parent, None)
        };
        match dir {
            Ok(d) => Ok(Some((d, name))),
            Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The decrypted contents (empty when the file does not exist).
    fn load(&self) -> Result<(Contents, bool)> {
        match self.dir(false)? {
            Some((dir, name)) => self.load_from(&dir, &name),
            None => Ok((Contents::default(), false)),
        }
    }

    fn load_from(&self, dir: &Dir, name: &std::ffi::OsStr) -> Result<(Contents, bool)> {
        let bytes = match dir.read(name, CAP_STORE, "key store file") {
            Ok(b) => b,
            Err(e) if e.io_error().map(|e| e.kind()) == Some(std::io::ErrorKind::NotFound) => {
                return Ok((Contents::default(), false))
            }
            Err(e) => return Err(e.into()),
        };
        let pass = self.passphrase(false)?;
        let plain = decrypt(&bytes, &pass).map_err(|why| KeyStoreError::Open {
            path: self.path.clone(),
            why,
        })?;
        let contents = Contents::parse(&plain).ok_or_else(|| KeyStoreError::NotEntries {
            path: self.path.clone(),
        })?;
        Ok((contents, true))
    }

    /// Reads, changes and writes the file under its lock (`keys.age.lock`), so that two
    /// commands changing it at once both take effect. `change` returns whether to write.
    fn modify<T>(&self, change: impl FnOnce(&mut Contents) -> (bool, T)) -> Result<T> {
        let Some((dir, name)) = self.dir(true)? else {
            return Err(KeyStoreError::NoDirectory {
                path: self.path.clone(),
            }
            .into());
        };
        dir.check_target(&name)?;
        let lock = dir.lock(&name)?;
        let (mut contents, existed) = self.load_from(&dir, &name)?;
        let (write, out) = change(&mut contents);
        if write {
            let pass = self.passphrase(!existed)?;
            let plain = to_json(&contents);
            let mut recipient = age::scrypt::Recipient::new(SecretString::from(pass.to_string()));
            recipient.set_work_factor(WORK_FACTOR);
            let sealed = age::encrypt(&recipient, &plain).map_err(KeyStoreError::Encrypt)?;
            dir.write(&name, &sealed, files::private::PRIVATE, Some(&lock))?;
        }
        Ok(out)
    }
}

/// Decrypts `bytes` with `pass`; the error says why.
fn decrypt(bytes: &[u8], pass: &str) -> Result<Zeroizing<Vec<u8>>, Unseal> {
    let mut identity = age::scrypt::Identity::new(SecretString::from(pass.to_string()));
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(Unseal::NotAge)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                Unseal::WrongPassphrase(e)
            }
            e => Unseal::Refused(e),
        })?;
    // Sized so that it never reallocates (the plaintext is shorter than the ciphertext).
    let mut plain = Zeroizing::new(Vec::with_capacity(bytes.len()));
    reader.read_to_end(&mut plain).map_err(Unseal::Damaged)?;
    Ok(plain)
}

impl Backend for AgeFile {
    fn kind(&self) -> Kind {
        Kind::File
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn get(&self, name: &str) -> Result<Option<Entry>> {
        check_name(name)?;
        let (contents, _) = self.load()?;
        Ok(contents.entries.into_iter().find(|e| e.name == name))
    }

    fn put(&self, entry: &Entry) -> Result<()> {
        check_name(&entry.name)?;
        self.modify(|contents| {
            contents.entries.retain(|e| e.name != entry.name);
            contents.entries.push(entry.clone());
            contents.entries.sort_by(|a, b| a.name.cmp(&b.name));
            (true, ())
        })
    }

    fn remove(&self, name: &str) -> Result<bool> {
        check_name(name)?;
        self.modify(|contents| {
            let before = contents.entries.len();
            contents.entries.retain(|e| e.name != name);
            let removed = contents.entries.len() != before;
            (removed, removed)
        })
    }

    fn list(&self) -> Result<Vec<Entry>> {
        Ok(self.load()?.0.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypts_with_a_passphrase_and_refuses_a_wrong_one() {
        let mut r = age::scrypt::Recipient::new(SecretString::from("right".to_string()));
        r.set_work_factor(10);
        let sealed = age::encrypt(&r, b"{\"entries\":[]}").unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1\n-> scrypt "));
        assert_eq!(&decrypt(&sealed, "right").unwrap()[..], b"{\"entries\":[]}");
        assert!(matches!(
            decrypt(&sealed, "wrong").unwrap_err(),
            Unseal::WrongPassphrase(_)
        ));
        assert_eq!(
            decrypt(&sealed, "wrong").unwrap_err().to_string(),
            "wrong passphrase"
        );
        assert!(decrypt(b"plain", "x")
            .unwrap_err()
            .to_string()
            .starts_with("not an age"));
        const { assert!(WORK_FACTOR >= 15) };
    }
}
