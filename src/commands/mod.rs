//! One module per subcommand: glue between flags and the library, no protocol logic.

pub mod completion;
pub mod credential_process;
pub mod demo;
pub mod emulator;
pub mod read_certificate_data;
pub mod sign_string;
pub mod update;
