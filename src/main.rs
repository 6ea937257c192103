//! `aws_signing_helper`: parse the command line, run one command, and turn any error into one
//! line on stderr and exit code 1.

use std::process::ExitCode;

mod cli;
mod commands;
mod logger;

use aws_signing_helper::Result;
use clap::FromArgMatches;
use cli::{Cli, Command};

fn main() -> ExitCode {
    if let Some(args) = cli::fast_credential_process(std::env::args_os()) {
        return finish(run(Command::CredentialProcess(args)));
    }
    let command = cli::command();
    match cli::help_topic(&command, std::env::args_os()) {
        Some(cli::HelpTopic::Unknown(line)) => {
            // cobra's help command: the line and the root usage on stderr, exit 0. A closed
            // stderr leaves nobody to tell.
            use std::io::Write;
            let help = command.clone().render_help();
            let _ = write!(std::io::stderr().lock(), "{line}\n{help}");
            return ExitCode::SUCCESS;
        }
        Some(cli::HelpTopic::Command(path)) => {
            // Its help, the trailing words ignored (cobra's help command): exactly what
            // `PATH --help` prints.
            let argv = std::iter::once("aws_signing_helper".to_string())
                .chain(path)
                .chain(std::iter::once("--help".to_string()));
            return match command.clone().try_get_matches_from(argv) {
                Err(e) => clap_exit(&command, e),
                Ok(_) => ExitCode::SUCCESS,
            };
        }
        None => {}
    }
    let matches = match command.clone().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_exit(&command, e),
    };
    if let Some(line) = cli::extra_args_warning(&command, &matches) {
        eprintln!("{} {line}", logger::timestamp());
    }
    if let Some((name, sub)) = matches.subcommand() {
        if let Err(msg) = cli::check_exclusions(sub, cli::exclusions_for(name)) {
            eprintln!("Error: {msg}");
            eprintln!("{} {msg}", logger::timestamp());
            return ExitCode::from(1);
        }
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(&command, e),
    };
    if let Command::ShellEnv(args) = &cli.command {
        logger::init(shell_env_debug(args));
        return match commands::shell::run(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{} {e}", logger::timestamp());
                ExitCode::from(1)
            }
        };
    }
    if let Command::Exec(args) = &cli.command {
        logger::init(args.args.sts.debug);
        return match commands::exec::run(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("{} {e}", logger::timestamp());
                ExitCode::from(1)
            }
        };
    }
    finish(run(cli.command))
}

fn shell_env_debug(args: &commands::shell::ShellEnvArgs) -> bool {
    use commands::shell::ShellAction;
    match &args.action {
        ShellAction::Switch { common, .. } | ShellAction::Mfa { common } => common.sts.debug,
        ShellAction::Now | ShellAction::Unset { .. } => false,
    }
}

/// Exit 0, or one error line on stderr and exit 1.
fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e}", logger::timestamp());
            ExitCode::from(1)
        }
    }
}

/// Help and version go to stdout with exit 0; usage errors to stderr with exit 1, like cobra.
fn clap_exit(command: &clap::Command, mut e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Like the official tool: the root without a command prints help on stdout, exit 0.
            println!("{}", command.clone().render_long_help());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayVersion => {
            // `--version` prints exactly what the `version` command prints.
            println!("{}", cli::VERSION);
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelp => {
            // Printing help can only fail if stdout is closed; nothing to do then.
            let _ = e.print();
            ExitCode::SUCCESS
        }
        kind => {
            if kind == ErrorKind::UnknownArgument {
                if let Some(hint) = cli::single_dash_hint(command, std::env::args_os()) {
                    e.insert(
                        ContextKind::Suggested,
                        ContextValue::StyledStrs(vec![hint.into()]),
                    );
                }
            }
            let _ = e.print();
            ExitCode::from(1)
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::CredentialProcess(args) => {
            logger::init(args.credentials.debug);
            commands::credential_process::run(&args)
        }
        Command::Serve(args) => {
            logger::init(args.credentials.debug);
            commands::serve::run(&args)
        }
        Command::Update(args) => {
            logger::init(args.credentials.debug);
            commands::update::run(&args)
        }
        Command::SignString(args) => {
            logger::init(args.debug);
            commands::sign_string::run(&args)
        }
        Command::ReadCertificateData(args) => {
            logger::init(false);
            commands::read_certificate_data::run(&args)
        }
        Command::Emulator(args) => {
            logger::init(false);
            commands::emulator::run(&args)
        }
        Command::Demo(args) => {
            logger::init(false);
            commands::demo::run(&args)
        }
        Command::Completion(args) => commands::completion::completion(&args),
        Command::Man => commands::completion::man(),
        Command::SessionToken(args) => {
            logger::init(args.sts.debug);
            commands::session_token::run(&args)
        }
        Command::AssumeRole(cmd) => {
            logger::init(cmd.args.sts.debug);
            commands::assume_role::run(&cmd)
        }
        Command::Export(cmd) => {
            logger::init(cmd.args.sts.debug);
            commands::exec::export(&cmd)
        }
        Command::Whoami(args) => {
            logger::init(args.sts.debug);
            commands::whoami::run(&args)
        }
        Command::Keys(args) => {
            logger::init(match &args.command {
                commands::keys::KeysCommand::Rotate(r) => r.sts.debug,
                _ => false,
            });
            commands::keys::run(&args)
        }
        Command::ImportKeys(args) => {
            logger::init(false);
            commands::keys::import_keys(&args)
        }
        Command::Login(cmd) => {
            logger::init(cmd.args.sts.debug);
            commands::login::run(&cmd)
        }
        // Handled in main: they return an exit status of their own.
        Command::Exec(_) | Command::ShellEnv(_) => Ok(()),
        Command::ShellInit(args) => commands::shell::init(&args),
        Command::GenerateStsRoleToken(cmd) => {
            logger::init(cmd.args.sts.debug);
            commands::assume_role::run_seed(&cmd)
        }
        Command::Pki(args) => {
            logger::init(false);
            commands::pki::run(&args)
        }
        Command::Doctor(args) => {
            logger::init(false);
            commands::doctor::run(&args)
        }
        Command::Setup(args) => {
            logger::init(args.debug);
            commands::setup::run(&args)
        }
        Command::Version => {
            println!("{}", cli::VERSION);
            Ok(())
        }
    }
}
