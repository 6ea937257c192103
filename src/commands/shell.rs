//! `shell-init SHELL`: aws-sts-helpers' shell functions (`ec2switch`, `ec2now`, `ec2mfa`, plus
//! `ec2unset`) to `eval` in a shell rc file; and the hidden `shell-env` they call, which prints
//! the seed tool's messages on stderr and the statements to `eval` on stdout. The functions
//! hold no logic beyond that `eval`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;

use crate::commands::sts_common::{CacheArgs, StsEndpointArgs};
use aws_signing_helper::credentials::output::{quote_fish, quote_sh, Shell};
use aws_signing_helper::sts::creds_dir;
use aws_signing_helper::sts::seed::{self, Switch};
use aws_signing_helper::sts::session::Sts;
use aws_signing_helper::{Error, Result};

/// The shells `shell-init` writes functions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Clone, Args)]
pub struct ShellInitArgs {
    /// The shell: eval "$(aws_signing_helper shell-init bash)" in ~/.bashrc (zsh: ~/.zshrc;
    /// fish: aws_signing_helper shell-init fish | source, in ~/.config/fish/config.fish)
    #[arg(value_enum)]
    pub shell: InitShell,
}

/// How the statements of `shell-env` are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvShell {
    /// bash, zsh, sh
    Posix,
    Fish,
}

#[derive(Debug, Clone, Args)]
pub struct ShellEnvArgs {
    #[command(subcommand)]
    pub action: ShellAction,
}

/// What `shell-env` does (one per shell function).
#[derive(Debug, Clone, Subcommand)]
pub enum ShellAction {
    /// ec2switch [ACCOUNT]
    Switch {
        /// The account of the aws-creds directory (none: list them)
        name: Option<String>,
        #[command(flatten)]
        common: SeedArgs,
    },
    /// ec2now
    Now,
    /// ec2mfa
    Mfa {
        #[command(flatten)]
        common: SeedArgs,
    },
    /// ec2unset
    Unset {
        #[arg(long, value_enum, default_value = "posix")]
        shell: EnvShell,
    },
}

/// Where the seed tool's files are, and how STS is called.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    #[arg(long, value_enum, default_value = "posix")]
    pub shell: EnvShell,
    /// aws-sts-helpers' credential directory [default: $AWS_SIGNING_HELPER_CREDS_DIR, else ~/aws-creds]
    #[arg(long)]
    pub creds_dir: Option<PathBuf>,
    /// Accounts file [default: $AWS_SIGNING_HELPER_ACCOUNTS, else ~/.config/aws-signing-helper/accounts.json, else /etc/default/aws-sts-helpers/accounts.json]
    #[arg(long)]
    pub accounts_file: Option<PathBuf>,
    #[command(flatten)]
    pub sts: StsEndpointArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

impl From<EnvShell> for Shell {
    fn from(s: EnvShell) -> Shell {
        match s {
            EnvShell::Posix => Shell::Posix,
            EnvShell::Fish => Shell::Fish,
        }
    }
}

/// `shell-init`: prints the functions, calling this very binary.
pub fn init(args: &ShellInitArgs) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find this program's path: {e}")))?;
    let exe = exe.to_string_lossy();
    let text = match args.shell {
        InitShell::Bash | InitShell::Zsh => posix_functions(&quote_sh(&exe)),
        InitShell::Fish => fish_functions(&quote_fish(&exe)),
    };
    aws_signing_helper::credentials::output::print(&text)
}

fn posix_functions(exe: &str) -> String {
    format!(
        "# aws-sts-helpers' functions, from aws_signing_helper shell-init\n\
         ec2switch() {{ local _ash_s; _ash_s=\"$(command {exe} shell-env switch --shell posix -- \"$@\")\" || return; eval \"$_ash_s\"; }}\n\
         ec2now() {{ command {exe} shell-env now; }}\n\
         ec2mfa() {{ local _ash_s; _ash_s=\"$(command {exe} shell-env mfa --shell posix)\" || return; eval \"$_ash_s\"; }}\n\
         ec2unset() {{ local _ash_s; _ash_s=\"$(command {exe} shell-env unset --shell posix)\" || return; eval \"$_ash_s\"; }}\n"
    )
}

fn fish_functions(exe: &str) -> String {
    // Every statement of `--shell fish` ends in `;`, so the lines joined by spaces still parse.
    format!(
        "# aws-sts-helpers' functions, from aws_signing_helper shell-init\n\
         function ec2switch; set -l _ash_s (command {exe} shell-env switch --shell fish -- $argv); or return; eval $_ash_s; end\n\
         function ec2now; command {exe} shell-env now; end\n\
         function ec2mfa; set -l _ash_s (command {exe} shell-env mfa --shell fish); or return; eval $_ash_s; end\n\
         function ec2unset; set -l _ash_s (command {exe} shell-env unset --shell fish); or return; eval $_ash_s; end\n"
    )
}

/// `shell-env`: the exit code is 1 after one of the seed tool's messages of failure.
pub fn run(args: &ShellEnvArgs) -> Result<ExitCode> {
    match &args.action {
        ShellAction::Now => {
            now();
            Ok(ExitCode::SUCCESS)
        }
        ShellAction::Unset { shell } => {
            aws_signing_helper::credentials::output::print(&seed::unset_statements(
                (*shell).into(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        ShellAction::Switch { name, common } => switch(name.as_deref(), common),
        ShellAction::Mfa { common } => mfa(common),
    }
}

use aws_signing_helper::env::var;

fn say(line: &str) {
    eprintln!("{line}");
}

fn now() {
    match var(seed::SET_FOR_VAR) {
        None => println!("No keys set"),
        Some(a) => println!("Keys set for {a} AWS account"),
    }
    if let Some(r) = var("AWS_DEFAULT_REGION") {
        println!("Region is {r}");
    }
}

fn dir(common: &SeedArgs) -> Result<PathBuf> {
    common
        .creds_dir
        .clone()
        .or_else(creds_dir::default_dir)
        .ok_or_else(|| {
            Error::new("cannot find the aws-creds directory: HOME is not set")
                .hint("pass --creds-dir or set AWS_SIGNING_HELPER_CREDS_DIR")
        })
}

fn context(common: &SeedArgs) -> Result<Sts> {
    common.sts.context(Some(&common.cache))
}

fn switch(name: Option<&str>, common: &SeedArgs) -> Result<ExitCode> {
    let dir = dir(common)?;
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        let Some(names) = creds_dir::names_if_exists(&dir)? else {
            say(&format!("No creds directory? {}", dir.display()));
            return Ok(ExitCode::from(1));
        };
        let list: String = names.iter().map(|n| format!("{n} ")).collect();
        say(&format!("Possible accounts: {list}"));
        return Ok(ExitCode::SUCCESS);
    };
    // Keys can be set without our cache: a cache that cannot be opened is only a warning.
    let ctx = context(common)
        .map_err(|e| log::warn!("warning: the STS cache is not read: {e}"))
        .ok();
    let sel = match seed::switch(
        &dir,
        name,
        ctx.as_ref(),
        common.accounts_file.as_deref(),
        std::time::SystemTime::now(),
    )? {
        Switch::NoDir(d) => {
            say(&format!("No creds directory? {}", d.display()));
            return Ok(ExitCode::from(1));
        }
        Switch::NoAccount { canary, name } => {
            say(&format!(
                "Didn't find canary {} for account {name}",
                canary.display()
            ));
            return Ok(ExitCode::from(1));
        }
        Switch::Selected(sel) => sel,
    };
    say(&sel.cache.message(&sel.name));
    let statements = seed::statements(
        common.shell.into(),
        &sel,
        name,
        var("AWS_DEFAULT_REGION").is_none(),
    );
    aws_signing_helper::credentials::output::print(&statements)?;
    say(&format!("Set keys for {} AWS account", sel.set_for(name)));
    Ok(ExitCode::SUCCESS)
}

fn mfa(common: &SeedArgs) -> Result<ExitCode> {
    let Some(current) = var(seed::SET_FOR_VAR) else {
        say("No keys set");
        return Ok(ExitCode::from(1));
    };
    if current.contains(seed::MFA_SUFFIX.trim_start_matches('-')) {
        say("MFA STS token already cached");
        return Ok(ExitCode::SUCCESS);
    }
    let dir = dir(common)?;
    let result = (|| {
        let key = creds_dir::read(&dir, &current)?.ok_or_else(|| {
            Error::new(format!(
                "no {}.access_key in {} for MY_AWS_SET_FOR={current}",
                current.to_lowercase(),
                dir.display()
            ))
            .hint("run ec2switch ACCOUNT first")
        })?;
        let serial = seed::mfa_serial(&key, common.accounts_file.as_deref())?;
        // Everything that can fail without STS fails before a code is asked for.
        let ctx = context(common)?;
        let code = read_code(&seed::user_of(&key))?;
        seed::mfa_session(&ctx, &key, &serial, &code)
    })();
    if let Err(e) = result {
        eprintln!("{} {e}", crate::logger::timestamp());
        say("Failed to set MFA token");
        return Ok(ExitCode::from(1));
    }
    switch(Some(&current), common)
}

/// The MFA code: typed on the terminal (not echoed) when stdin is one, else the first line of
/// stdin. Never from the environment or argv.
fn read_code(user: &str) -> Result<Zeroizing<String>> {
    let prompt = format!("Enter token for user {user}: ");
    let code =
        if std::io::stdin().is_terminal() {
            Zeroizing::new(rpassword::prompt_password(&prompt).map_err(|e| {
                Error::new(format!("cannot read the MFA code from the terminal: {e}"))
            })?)
        } else {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{prompt}");
            let _ = err.flush();
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::new(format!("cannot read the MFA code from stdin: {e}")))?;
            let _ = writeln!(err);
            line
        };
    Ok(Zeroizing::new(code.trim().to_string()))
}
