//! Subcommands (argument structs and their `run` functions).

pub mod emulator;
