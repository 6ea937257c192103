//! File key loaders (the real implementation arrives on the `keys` branch).
use super::Identity;
use crate::error::{Error, Result};
use std::path::PathBuf;
use zeroize::Zeroizing;
pub struct FileSource {
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    pub intermediates: Option<PathBuf>,
    pub password: Option<Zeroizing<String>>,
}
pub fn load(_src: &FileSource) -> Result<Identity> {
    Err(Error::new("not yet"))
}
pub fn check_identity(_i: &Identity, _s: &FileSource, _n: jiff::Timestamp) -> Result<()> {
    Ok(())
}
