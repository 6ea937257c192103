//! The IAM Query API client against moto's server: calls, answers and errors.

mod common;

use std::time::Duration;

use aws_signing_helper::iam::{self, Iam, IamOptions};
use aws_signing_helper::sts::{xml_values, AccessKeys};
use common::moto;
use zeroize::Zeroizing;

fn keys() -> AccessKeys {
    AccessKeys {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        session_token: None,
    }
}

#[test]
fn creates_lists_and_deletes_access_keys_and_reports_iam_errors() {
    let Some(m) = moto() else { return };
    let iam = Iam::new(&IamOptions {
        region: String::new(),
        endpoint: m.url.clone(),
        timeout: Duration::from_secs(30),
        no_verify_ssl: false,
        profile: None,
    })
    .unwrap();
    let k = keys();
    iam.send(&k, &iam::call("CreateUser").param("UserName", "alice"))
        .unwrap();
    let created = iam
        .send(&k, &iam::call("CreateAccessKey").param("UserName", "alice"))
        .unwrap();
    let v = xml_values(
        &created,
        &[
            "CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/AccessKeyId",
            "CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/SecretAccessKey",
        ],
    )
    .unwrap();
    let id = v[0].clone().expect("an access key id").to_string();
    assert!(id.starts_with("AKIA"), "{id}");
    assert!(v[1].as_ref().is_some_and(|s| s.len() >= 40));
    let listed = iam
        .send(&k, &iam::call("ListAccessKeys").param("UserName", "alice"))
        .unwrap();
    assert!(String::from_utf8_lossy(&listed).contains(&id));
    iam.send(
        &k,
        &iam::call("DeleteAccessKey")
            .param("UserName", "alice")
            .param("AccessKeyId", &id),
    )
    .unwrap();
    let listed = iam
        .send(&k, &iam::call("ListAccessKeys").param("UserName", "alice"))
        .unwrap();
    assert!(!String::from_utf8_lossy(&listed).contains(&id));
    let err = iam
        .send(&k, &iam::call("GetUser").param("UserName", "nobody"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("operation error IAM: GetUser, https response error StatusCode: 404")
            && err.contains("api error NoSuchEntity"),
        "{err}"
    );
    assert!(!err.contains("sts:"), "no STS hint on an IAM error: {err}");
}
