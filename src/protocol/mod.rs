//! The wire protocol of IAM Roles Anywhere: ARNs, endpoints, SigV4 (X.509 and HMAC variants),
//! the CreateSession client, and the one HTTPS client with its retry loop.

pub mod arn;
pub(crate) mod clock_skew;
pub mod endpoint;
pub mod http;
pub mod rolesanywhere;
pub mod rolesanywhere_error;
pub mod sigv4;
