//! Chooses the key source from the flags (SPEC §8.1) and loads the identity.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::file::{self, FileSource};
use super::Identity;
use crate::cli::CredentialArgs;
use crate::error::{Error, Result};

fn not_yet(what: &str) -> Error {
    Error::new(format!("{what} is not supported yet by this build"))
        .hint("use --certificate and --private-key files for now")
}

/// The file source described by the flags, if they describe files.
pub fn file_source(args: &CredentialArgs) -> FileSource {
    let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
    FileSource {
        certificate: path(&args.certificate),
        private_key: path(&args.private_key),
        intermediates: path(&args.intermediates),
        password: (!args.pkcs8_password.is_empty())
            .then(|| Zeroizing::new(args.pkcs8_password.clone())),
    }
}

/// Loads the identity the credential flags describe, and checks it before any network call.
pub fn load(args: &CredentialArgs) -> Result<Identity> {
    if !args.cert_selector.is_empty()
        || (args.certificate.is_empty() && args.private_key.is_empty())
    {
        if args.certificate.is_empty()
            && args.private_key.is_empty()
            && args.cert_selector.is_empty()
        {
            return Err(Error::new("unable to use cert store signer on linux: no --certificate or --private-key given")
                .hint("pass --certificate and --private-key (OS certificate stores exist only on macOS and Windows)"));
        }
        return Err(Error::new("unable to use cert store signer on linux: --cert-selector needs an OS certificate store")
            .hint("OS certificate stores are not available on Linux; pass --certificate and --private-key"));
    }
    if args.certificate.starts_with("pkcs11:") || args.private_key.starts_with("pkcs11:") {
        return Err(not_yet("PKCS#11 (pkcs11: URIs)"));
    }
    if args.private_key.starts_with("handle:") {
        return Err(not_yet("TPM 2.0 keys (handle:)"));
    }
    let src = file_source(args);
    let identity = file::load(&src)?;
    file::check_identity(&identity, &src, jiff::Timestamp::now())?;
    Ok(identity)
}
