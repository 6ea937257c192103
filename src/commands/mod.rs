//! One module per subcommand: glue between flags and the library, no protocol logic.

pub mod assume_role;
pub mod completion;
pub mod credential_process;
pub mod demo;
pub mod doctor;
pub mod emulator;
pub mod error;
pub mod exec;
pub mod keys;
pub mod login;
pub mod pki;
pub mod read_certificate_data;
pub mod serve;
pub mod serve_bindings;
pub mod session_token;
pub mod setup;
pub mod shell;
pub mod sign_string;
pub mod sts_common;
pub mod update;
pub mod whoami;
