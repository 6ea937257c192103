//! Every file we read or write: the shared AWS config files, the credentials-file editor and the
//! credential caches.

pub mod aws_config;
pub mod cache;
pub mod credentials_file;
pub mod process_cache;
