//! `sign-string`: signs a fixed test message with the selected key, so users can check
//! that a key (file, token or TPM) works and find out which one it is.
//!
//! Message: `"AWS Roles Anywhere Credential Helper Signing Test"` ‖ `"1"` ‖ D, where D is the raw
//! SHA-256 of `"IAM RA"` ‖ P and P the signer's public key (EC: `04‖X‖Y`; RSA: PKCS#1
//! `RSAPublicKey` DER). D is empty for ML-DSA keys and for signers that do not know their public
//! key (a token key without a token certificate).

use crate::commands::error::CommandError;
use std::io::Write;

use crate::cli::{SignFormat, SignStringArgs};
use aws_signing_helper::identity::source::{self, Purpose};
use aws_signing_helper::identity::{KeyType, Signer};
use aws_signing_helper::{Error, Result};

/// The fixed part of the signed message.
pub const TEST_STRING: &str = "AWS Roles Anywhere Credential Helper Signing Test";
/// The version constant after it.
pub const TEST_VERSION: &str = "1";

/// The message `sign-string` signs for `signer`.
pub fn payload(signer: &dyn Signer) -> Vec<u8> {
    let mut message = format!("{TEST_STRING}{TEST_VERSION}").into_bytes();
    if matches!(signer.key_type(), KeyType::MlDsa(_)) {
        return message;
    }
    if let Some(public) = signer.public_key() {
        let mut input = b"IAM RA".to_vec();
        input.extend_from_slice(&public);
        message.extend_from_slice(&aws_signing_helper::identity::Digest::Sha256.hash(&input));
    }
    message
}

/// Formats a signature as `--format` says.
pub fn render(signature: &[u8], format: SignFormat) -> Vec<u8> {
    match format {
        SignFormat::Text => hex::encode(signature).into_bytes(),
        SignFormat::Json => format!("\"{}\"", hex::encode(signature)).into_bytes(),
        SignFormat::Bin => signature.to_vec(),
    }
}

/// Runs the command.
pub fn run(args: &SignStringArgs) -> Result<()> {
    let identity = source::load_for(&args.key_spec(), Purpose::SignString)?;
    let message = payload(identity.signer.as_ref());
    log::debug!(
        "signing {:?} followed by version {:?} and {} bytes of SHA-256(\"IAM RA\" || public key)",
        TEST_STRING,
        TEST_VERSION,
        message.len() - TEST_STRING.len() - TEST_VERSION.len()
    );
    let signature = identity
        .signer
        .sign(&message, args.digest)
        .map_err(CommandError::SignDigest)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&render(&signature, args.format))
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(format!("cannot write the signature to stdout: {e}")))
}
