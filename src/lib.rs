//! aws-signing-helper: IAM Roles Anywhere credentials for workloads outside AWS.
//!
//! Data flows one way: flags → [`identity`] (certificate, chain, signer) → [`sigv4`] →
//! [`rolesanywhere`] over [`http`] → [`credentials`] → an output. See the README for the
//! commands.

pub mod arn;
pub mod aws_config;
pub mod cli;
pub mod commands;
pub mod credentials;
pub mod credentials_file;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod identity;
pub mod logger;
pub mod rolesanywhere;
pub mod serve;
pub mod sigv4;
