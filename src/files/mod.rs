//! The safe-file layer: every file we read or write goes through here.
//!
//! - [`read`]: one bounded reader for every input file (size caps, FIFOs and devices refused).
//! - [`private`]: one atomic writer (temp file + fsync + rename, explicit modes, no symlink
//!   following, regular files only, owner kept when root replaces a user's file).
//! - [`dir`]: trusted directories (ours or root's, writable by nobody else, not a link).
//! - [`cache`]: the one credential cache store (STS and credential-process).
//! - [`shared_files`]: where `~/.aws/config` and `~/.aws/credentials` are, and the trusted read
//!   of them (ours or root's, writable by nobody else, in trusted directories).
//! - [`credentials_file`]: the lossless `~/.aws/credentials` editor; [`aws_config`]: the shared
//!   config reader.

pub mod aws_config;
pub mod cache;
pub mod credentials_file;
pub mod dir;
mod error;
mod groups;
pub mod private;
pub mod process_cache;
pub mod read;
pub mod shared_files;

pub use dir::Dir;
pub use error::{io_reason, Error};
pub use private::{write_private, write_public, Lock};
pub use read::{
    read_file, read_private_file, read_text, CAP_CACHE_ENTRY, CAP_CA_BUNDLE, CAP_CONFIG, CAP_PEM,
};
pub use shared_files::SharedFile;
