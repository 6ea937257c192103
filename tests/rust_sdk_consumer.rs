//! A second real consumer: the AWS SDK for Rust's `credential_process` provider (aws-config)
//! runs our binary and must read the credentials, their expiry and the account id.

mod common;

use aws_config::credential_process::CredentialProcessProvider;
use aws_credential_types::provider::ProvideCredentials;
use common::*;

#[test]
fn aws_sdk_for_rust_reads_credential_process_output() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    // The provider runs the command through a shell; our flags need no quoting here.
    let line = format!("{} {}", bin(), cp_args(&run, &cert, Some(&key)).join(" "));
    // The provider inherits our environment: point the child at the emulator's CA that way.
    std::env::set_var("AWS_CA_BUNDLE", &run.ca_bundle);
    let provider = CredentialProcessProvider::new(line);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let creds = rt
        .block_on(provider.provide_credentials())
        .expect("the SDK accepts our output");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(creds.session_token().is_some_and(|t| !t.is_empty()));
    let expiry = creds.expiry().expect("Expiration is read");
    assert!(expiry > std::time::SystemTime::now());
    assert_eq!(creds.account_id().map(|a| a.as_str()), Some("111122223333"));
    assert_eq!(run.emulator.sessions_created(), 1);
}
