//! aws-signing-helper: IAM Roles Anywhere credentials for workloads outside AWS.
//!
//! Data flows one way: flags → [`identity`] (certificate, chain, signer) → [`sigv4`] →
//! [`rolesanywhere`] over [`http`] → [`credentials`] → an output. The [`emulator`] is a local
//! CreateSession verifier used by the tests and the `demo` command. See the README.

pub mod accounts;
pub mod arn;
pub mod aws_config;
pub mod aws_keys;
pub mod cache;
pub mod cli;
pub mod clock_skew;
pub mod commands;
pub mod credentials;
pub mod credentials_file;
pub mod doctor;
pub mod emulator;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod identity;
pub mod logger;
pub mod output;
pub mod pki;
pub mod process_cache;
pub mod rolesanywhere;
pub mod serve;
pub mod sigv4;
pub mod sts;
