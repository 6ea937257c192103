//! TPM 2.0 keys (SPEC §8.5): persistent handles (`handle:0x81000001`) and `TSS2 PRIVATE KEY`
//! key files. Signing needs the `tpm` cargo feature (it links libtss2); without it every TPM
//! key is a clear error.

use crate::cli::CredentialArgs;
use crate::error::{Error, Result};

use super::Identity;

/// The PEM line that marks a TPM key file.
pub const PEM_BEGIN: &str = "-----BEGIN TSS2 PRIVATE KEY-----";

/// Loads a TPM key (and the certificate from `--certificate`, if any).
pub fn load(args: &CredentialArgs) -> Result<Identity> {
    let _ = args;
    Err(Error::new("TPM 2.0 keys are not supported by this build")
        .hint("rebuild with: cargo build --features tpm (needs libtss2-dev)"))
}
