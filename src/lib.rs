//! aws-signing-helper: IAM Roles Anywhere credentials for workloads outside AWS.
//!
//! Data flows one way: a [`identity::KeySpec`] → [`identity`] (certificate, chain, signer) →
//! [`protocol`] (SigV4-X509, CreateSession over the one HTTPS client and retry loop) →
//! [`credentials`] → an output. [`sts`] is the STS side (HMAC SigV4, session tokens, roles),
//! [`files`] the one safe-file layer, [`serve`] the local metadata endpoint, [`emulator`] a local
//! Roles Anywhere, [`pki`] and [`doctor`] the certificate tooling. The command line lives in the
//! binary (`src/main.rs`, `src/cli.rs`, `src/commands/`); this library knows no flag.

mod error;

pub mod credentials;
pub mod doctor;
pub mod emulator;
pub mod env;
pub mod files;
pub mod iam;
pub mod identity;
pub mod keystore;
pub mod pki;
pub mod protocol;
pub mod serve;
pub mod setup;
pub mod sts;

pub use error::{Error, JsonProblem, Result};
