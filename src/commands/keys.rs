//! `keys add|list|remove|rotate` and `import-keys`: the key store (library
//! [`aws_signing_helper::keystore`]).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use crate::commands::sts_common::{KeyStoreArgs, StsEndpointArgs};
use aws_signing_helper::iam::{Iam, IamOptions};
use aws_signing_helper::keystore::{self, import, mask, rotate, Backend, Entry};
use aws_signing_helper::sts::{creds_dir, AccessKeys};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Store an access key under NAME (asks for it; on a pipe, reads the id and secret as two lines)
    Add(AddArgs),
    /// List the stored keys: names, masked ids, users (never secrets)
    List(StoreOnly),
    /// Remove NAME from the store (the key itself stays valid in IAM)
    Remove(NameArgs),
    /// New key for NAME: IAM CreateAccessKey, store it, check it with STS, DeleteAccessKey the old
    Rotate(RotateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct StoreOnly {
    #[command(flatten)]
    pub store: KeyStoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct NameArgs {
    /// The profile or account name
    pub name: String,
    #[command(flatten)]
    pub store: KeyStoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// The profile or account name (what --profile NAME finds)
    pub name: String,
    /// The IAM user the key belongs to (keys rotate uses it) [default: the key's own user]
    #[arg(long)]
    pub user: Option<String>,
    #[command(flatten)]
    pub store: KeyStoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    /// The stored key's name
    pub name: String,
    /// IAM endpoint URL [default: $AWS_ENDPOINT_URL_IAM, $AWS_ENDPOINT_URL, the profile's, else AWS's]
    #[arg(long, value_parser = crate::cli::endpoint_url)]
    pub endpoint_url_iam: Option<String>,
    #[command(flatten)]
    pub sts: StsEndpointArgs,
    #[command(flatten)]
    pub store: KeyStoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// aws-sts-helpers' credential directory [default: $AWS_SIGNING_HELPER_CREDS_DIR, else ~/aws-creds]
    #[arg(long)]
    pub creds_dir: Option<PathBuf>,
    #[command(flatten)]
    pub store: KeyStoreArgs,
}

/// The store the flags or the environment name; the key commands need one.
fn open(args: &KeyStoreArgs) -> Result<Box<dyn Backend>> {
    args.config()?
        .ok_or_else(|| {
            Error::new("no key store chosen").hint(
                "pass --key-store keyring|secret-service|file, or set AWS_SIGNING_HELPER_KEY_STORE",
            )
        })?
        .open()
}

/// Runs `keys …`.
pub fn run(args: &KeysArgs) -> Result<()> {
    match &args.command {
        KeysCommand::Add(a) => add(a),
        KeysCommand::List(a) => list(a),
        KeysCommand::Remove(a) => remove(a),
        KeysCommand::Rotate(a) => rotate_cmd(a),
    }
}

/// One line of stdin (the trailing newline removed), at most 4 KiB.
fn line(input: &mut impl BufRead) -> Result<Zeroizing<String>> {
    let mut buf = Zeroizing::new(String::with_capacity(4 << 10));
    input
        .take(4 << 10)
        .read_line(&mut buf)
        .map_err(|e| Error::new(format!("cannot read standard input: {e}")))?;
    Ok(Zeroizing::new(buf.trim().to_string()))
}

/// The access key id and secret: asked on the terminal (the secret without echo), else two
/// lines of standard input.
fn read_keys() -> Result<AccessKeys> {
    let stdin = std::io::stdin();
    let (id, secret) = if stdin.is_terminal() {
        eprint!("Access key id: ");
        let _ = std::io::stderr().flush();
        let id = line(&mut stdin.lock())?;
        let secret = rpassword::prompt_password("Secret access key: ")
            .map(Zeroizing::new)
            .map_err(|e| Error::new(format!("cannot read the secret from the terminal: {e}")))?;
        (id, Zeroizing::new(secret.trim().to_string()))
    } else {
        let mut lock = stdin.lock();
        (line(&mut lock)?, line(&mut lock)?)
    };
    let pipe_hint = "type the access key id, then the secret access key (on a pipe: two lines)";
    if id.is_empty() || secret.is_empty() {
        return Err(
            Error::new("no access key id and secret were given; nothing was stored")
                .hint(pipe_hint),
        );
    }
    if id.len() < 16 || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::new("that is not an access key id (16 to 128 letters and digits, e.g. AKIA…); nothing was stored").hint(pipe_hint));
    }
    if id.starts_with("ASIA") {
        return Err(Error::new(format!(
            "{} is a temporary key (it needs a session token); nothing was stored",
            mask(&id)
        ))
        .hint("store an IAM user's long-term key (AKIA…)"));
    }
    if secret.chars().any(char::is_whitespace) {
        return Err(
            Error::new("the secret access key contains white space; nothing was stored")
                .hint(pipe_hint),
        );
    }
    Ok(AccessKeys {
        access_key_id: id.to_string(),
        secret_access_key: secret,
        session_token: None,
    })
}

fn add(a: &AddArgs) -> Result<()> {
    keystore::check_name(&a.name)?;
    let store = open(&a.store)?;
    let keys = read_keys()?;
    store.put(&Entry::new(&a.name, &keys, a.user.clone()))?;
    println!(
        "stored {} as {:?} in {}",
        mask(&keys.access_key_id),
        a.name,
        store.location()
    );
    Ok(())
}

fn list(a: &StoreOnly) -> Result<()> {
    let store = open(&a.store)?;
    let entries = store.list()?;
    if entries.is_empty() {
        eprintln!("no keys in {}", store.location());
        return Ok(());
    }
    let width = entries
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:<14}  {:<11}  {:<16}  CREATED",
        "NAME", "BACKEND", "ACCESS KEY", "USER"
    );
    for e in &entries {
        println!(
            "{:<width$}  {:<14}  {:<11}  {:<16}  {}",
            e.name,
            store.kind().name(),
            mask(&e.access_key_id),
            e.user.as_deref().unwrap_or("-"),
            e.created
        );
    }
    Ok(())
}

fn remove(a: &NameArgs) -> Result<()> {
    keystore::check_name(&a.name)?;
    let store = open(&a.store)?;
    if !store.remove(&a.name)? {
        return Err(
            Error::new(format!("no key named {:?} in {}", a.name, store.location()))
                .hint("see keys list"),
        );
    }
    println!(
        "removed {:?} from {} (the key itself still works in IAM)",
        a.name,
        store.location()
    );
    Ok(())
}

fn rotate_cmd(a: &RotateArgs) -> Result<()> {
    let store = open(&a.store)?;
    let opts = a.sts.options()?;
    let iam = Iam::new(&IamOptions {
        region: opts.region.clone(),
        endpoint: a.endpoint_url_iam.clone().unwrap_or_default(),
        timeout: opts.timeout.min(Duration::from_secs(300)),
        no_verify_ssl: opts.no_verify_ssl,
        profile: None,
    })?;
    let sts = a.sts.context(None)?;
    let r = rotate::rotate(store.as_ref(), &a.name, &iam, &sts)?;
    println!(
        "rotated {:?}: {} -> {} (user {}); the old key is deleted",
        a.name,
        mask(&r.old_id),
        mask(&r.new_id),
        if r.user.is_empty() { "-" } else { &r.user }
    );
    Ok(())
}

/// Runs `import-keys`.
pub fn import_keys(a: &ImportArgs) -> Result<()> {
    let store = open(&a.store)?;
    let dir = a.creds_dir.clone().or_else(creds_dir::default_dir);
    let found = import::find_plaintext(dir.as_deref())?;
    if found.is_empty() {
        println!("no long-term keys found in plaintext");
        return Ok(());
    }
    let outcomes = import::import(store.as_ref(), &found)?;
    let mut deletable = Vec::new();
    for (f, o) in found.iter().zip(&outcomes) {
        let id = mask(&f.keys.access_key_id);
        match o {
            import::Outcome::Imported => {
                println!("imported {:?} ({id}) from {}", f.name, f.from);
                deletable.extend(f.plaintext.iter().cloned());
            }
            import::Outcome::AlreadyStored => {
                println!("{:?} ({id}) from {} is already stored", f.name, f.from);
                deletable.extend(f.plaintext.iter().cloned());
            }
            import::Outcome::Skipped(why) => {
                eprintln!("skipped {:?} ({id}) from {}: {why}", f.name, f.from)
            }
        }
    }
    if !deletable.is_empty() {
        println!(
            "\nThese keys are now in {}. import-keys deleted nothing; once commands work with --key-store {} (or AWS_SIGNING_HELPER_KEY_STORE={}), you may delete these plaintext copies:",
            store.location(),
            store.kind().name(),
            store.kind().name()
        );
        for d in &deletable {
            println!("  {d}");
        }
    }
    if outcomes
        .iter()
        .any(|o| matches!(o, import::Outcome::Skipped(_)))
    {
        return Err(Error::new("some keys were not imported (see above)").hint(
            "rename or remove the stored entry (keys remove NAME), then run import-keys again",
        ));
    }
    Ok(())
}
