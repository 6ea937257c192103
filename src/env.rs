//! Environment variables, read as the AWS SDKs read them: a variable set to the empty string
//! counts as unset (`AWS_PROFILE= cmd` means "no profile"), and one that is not UTF-8 as unset
//! too where a string is needed.

use std::ffi::OsString;

/// The value of `name`, when it is set, not empty and UTF-8.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The value of `name`, when it is set and not empty (a path need not be UTF-8).
pub fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}
