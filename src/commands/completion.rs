//! `completion SHELL` (as the official tool has) and `man`: generated from the clap definitions,
//! so they can never drift from the real flags.

use std::io::Write;

use clap::{Args, ValueEnum};

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
    /// Leave the flag and command descriptions out of the script (as cobra's flag does)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", value_parser = crate::cli::go_bool)]
    pub no_descriptions: bool,
}

/// `cmd` and all its subcommands with every description removed.
fn without_descriptions(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd
        .about(None::<&str>)
        .long_about(None::<&str>)
        .mut_args(|a| a.help(None::<&str>).long_help(None::<&str>));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, without_descriptions);
    }
    cmd
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
    let mut cmd = crate::cli::command();
    if args.no_descriptions {
        cmd = without_descriptions(cmd);
    }
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "aws_signing_helper", &mut out);
    std::io::stdout().lock().write_all(&out).map_err(write_err)
}

/// Renders the man page (roff) of the program and every subcommand.
pub fn man_page() -> Result<Vec<u8>> {
    let cmd = crate::cli::command();
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
