//! `completion SHELL` (as the official tool has) and `man`: generated from the clap definitions,
//! so they can never drift from the real flags.

use std::io::Write;

use clap::{Args, CommandFactory, ValueEnum};

use crate::cli::Cli;
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// The shell to generate the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

fn write_err(e: std::io::Error) -> Error {
    Error::new(format!("cannot write to stdout: {e}"))
}

/// Prints the completion script for a shell on stdout.
pub fn completion(args: &CompletionArgs) -> Result<()> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "aws_signing_helper", &mut out);
    std::io::stdout().lock().write_all(&out).map_err(write_err)
}

/// Renders the man page (roff) of the program and every subcommand.
pub fn man_page() -> Result<Vec<u8>> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .map_err(write_err)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let title = format!("aws_signing_helper-{}", sub.get_name());
        out.extend_from_slice(b"\n");
        clap_mangen::Man::new(sub.clone())
            .title(title)
            .render(&mut out)
            .map_err(write_err)?;
    }
    Ok(out)
}

/// Prints the man page on stdout (`aws_signing_helper man | man -l -`).
pub fn man() -> Result<()> {
    let page = man_page()?;
    std::io::stdout().lock().write_all(&page).map_err(write_err)
}
