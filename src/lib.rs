//! aws-signing-helper: IAM Roles Anywhere credentials for workloads outside AWS.
//!
//! See the README for the commands; `DESIGN.md` in the shared folder for the architecture.

pub mod commands;
pub mod emulator;
pub mod error;
pub mod identity;
pub mod sigv4;
