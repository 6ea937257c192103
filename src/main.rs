//! Temporary entry point that only runs the emulator (the real CLI wires `EmulatorArgs` in).

use clap::Parser;

#[derive(Parser)]
#[command(name = "aws_signing_helper")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Run a local IAM Roles Anywhere CreateSession emulator
    Emulator(aws_signing_helper::commands::emulator::EmulatorArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Emulator(args) => aws_signing_helper::commands::emulator::run(args),
    };
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
