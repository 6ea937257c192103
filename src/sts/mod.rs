//! AWS STS over its Query API: GetSessionToken, AssumeRole, GetFederationToken,
//! GetCallerIdentity; and console sign-in through the federation endpoint ([`signin`]).
//!
//! Wire contract: `POST {endpoint path or /}` with `Content-Type:
//! application/x-www-form-urlencoded; charset=utf-8` and the form body
//! `Action=…&Version=2011-06-15&Param=…` (RFC 3986 percent-encoding, parameters sorted), signed
//! with classic SigV4 (`AWS4-HMAC-SHA256`, service `sts`) using the caller's access keys; a
//! session token goes in `X-Amz-Security-Token` (signed). Success is XML
//! `<{Action}Response><{Action}Result>…`; failure is
//! `<ErrorResponse><Error><Code>…</Code><Message>…</Message></Error><RequestId>…`.
//!
//! Endpoint: `--endpoint`, else `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the
//! `$AWS_PROFILE` profile's `services` → `sts` → `endpoint_url`, else its `endpoint_url` (none of
//! these four with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls`),
//! else `https://sts.{region}.amazonaws.com` when a region is set (`--region`, `AWS_REGION`,
//! `AWS_DEFAULT_REGION`, the profile's `region`), else the global `https://sts.amazonaws.com`
//! signed for us-east-1.
//!
//! Secrets (secret keys, session tokens, MFA codes) stay in `Zeroizing` buffers and never reach
//! logs or errors: `--debug` shows the canonical request with the body's hash only.

pub mod accounts;
pub mod accounts_error;
pub mod assume_role;
pub mod aws_keys;
pub mod chain;
pub mod chain_error;
pub mod check_error;
pub(crate) mod checks;
pub(crate) mod client;
pub mod creds_dir;
pub(crate) mod endpoint;
pub(crate) mod error;
pub mod federation_token;
pub mod handoff;
pub mod mfa;
pub mod mfa_error;
pub mod profile;
pub mod profile_error;
pub mod seed;
pub mod seed_error;
pub mod session;
pub mod session_token;
pub mod signin;
pub mod signin_error;
pub mod source;
pub mod sts_error;
pub(crate) mod xml;

pub use accounts_error::AccountsError;
pub use chain_error::ChainError;
pub use check_error::CheckError;
pub use checks::*;
pub use client::*;
pub use endpoint::*;
pub use error::{QueryError, ServiceError};
pub use mfa_error::MfaError;
pub use profile_error::ProfileError;
pub use seed_error::SeedError;
pub use signin_error::SigninError;
pub use sts_error::StsError;
pub use xml::*;
