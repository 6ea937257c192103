//! One module per subcommand: glue between flags and the library, no protocol logic.

pub mod credential_process;
pub mod demo;
pub mod doctor;
pub mod emulator;
pub mod pki;
pub mod update;
