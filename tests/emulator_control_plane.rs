//! The emulator's control plane, driven by the real AWS CLI (`awscli` from PyPI, whose bundled
//! service model is the independent judge of the shapes), and CreateSession checked against
//! what it created, with a real `credential-process`.

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_clean_failure, assert_credentials, aws_cli, have_aws_cli, openssl, run_bin,
    start_background, Background, Pki, ROLE_ARN,
};
use serde_json::Value;

/// Runs `aws rolesanywhere ARGS` against the emulator: (exit code, stdout JSON, stderr).
fn aws(emu: &Background, home: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["rolesanywhere"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--endpoint-url", &emu.url]);
    aws_cli(
        home,
        &[("AWS_CA_BUNDLE", emu.server_ca.to_str().unwrap())],
        &all,
    )
}

#[track_caller]
fn ok(result: (i32, Value, String)) -> Value {
    assert_eq!(result.0, 0, "aws failed: {}", result.2);
    result.1
}

#[track_caller]
fn fails(result: (i32, Value, String), code: &str) {
    assert_ne!(result.0, 0, "aws should fail with {code}");
    assert!(
        result.2.contains(&format!("({code})")),
        "expected {code}: {}",
        result.2
    );
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

/// credential-process with these ARNs against the emulator.
fn session(
    emu: &Background,
    cert: &Path,
    key: &Path,
    ta: &str,
    profile: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args: Vec<String> = [
        "credential-process",
        "--certificate",
        cert.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "--trust-anchor-arn",
        ta,
        "--profile-arn",
        profile,
        "--role-arn",
        ROLE_ARN,
        "--endpoint",
        &emu.url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    run_bin(&args, &[("AWS_CA_BUNDLE", emu.server_ca.to_str().unwrap())])
}

/// A CRL signed by the PKI's CA listing `cert` (made with `openssl ca -revoke`/`-gencrl`).
fn crl_revoking(pki: &Pki, cert: &Path) -> PathBuf {
    pki.write(
        "crl.cnf",
        b"[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=7\n",
    );
    pki.write("index.txt", b"");
    pki.write("crlnumber", b"01\n");
    let ca = [
        "-config", "crl.cnf", "-keyfile", "ca.key", "-cert", "ca.pem",
    ];
    let cert = cert.to_str().unwrap();
    openssl(
        pki.dir.path(),
        &[&["ca"], &ca[..], &["-revoke", cert]].concat(),
    );
    openssl(
        pki.dir.path(),
        &[&["ca"], &ca[..], &["-gencrl", "-out", "crl.pem"]].concat(),
    );
    pki.path("crl.pem")
}

#[test]
fn aws_cli_drives_the_control_plane_and_create_session_obeys_it() {
    if !have_aws_cli() {
        return;
    }
    let pki = Pki::new();
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let (other_cert, other_key) = pki.leaf("other", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().join("emu");
    let mut emu = start_background(&pki, &state_dir);
    let ca_pem = std::fs::read_to_string(pki.path("ca.pem")).unwrap();

    // Trust anchor: create, get, list, update.
    let source =
        format!("sourceType=CERTIFICATE_BUNDLE,sourceData={{x509CertificateData={ca_pem}}}");
    let created = ok(aws(
        &emu,
        home.path(),
        &[
            "create-trust-anchor",
            "--name",
            "ta one",
            "--source",
            &source,
            "--enabled",
            "--tags",
            "key=team,value=a",
        ],
    ));
    let ta = &created["trustAnchor"];
    let ta_id = ta["trustAnchorId"].as_str().unwrap().to_string();
    let ta_arn = ta["trustAnchorArn"].as_str().unwrap().to_string();
    assert!(is_uuid(&ta_id), "{ta_id}");
    assert_eq!(
        ta_arn,
        format!("arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/{ta_id}")
    );
    assert_eq!(ta["enabled"], true);
    assert_eq!(ta["source"]["sourceType"], "CERTIFICATE_BUNDLE");
    assert!(ta["createdAt"].as_str().unwrap().starts_with("20"));
    let got = ok(aws(
        &emu,
        home.path(),
        &["get-trust-anchor", "--trust-anchor-id", &ta_id],
    ));
    assert_eq!(got["trustAnchor"]["name"], "ta one");
    let listed = ok(aws(&emu, home.path(), &["list-trust-anchors"]));
    assert_eq!(listed["trustAnchors"].as_array().unwrap().len(), 1);
    let updated = ok(aws(
        &emu,
        home.path(),
        &[
            "update-trust-anchor",
            "--trust-anchor-id",
            &ta_id,
            "--name",
            "ta-renamed",
        ],
    ));
    assert_eq!(updated["trustAnchor"]["name"], "ta-renamed");
    fails(
        aws(
            &emu,
            home.path(),
            &["create-trust-anchor", "--name", "bad!", "--source", &source],
        ),
        "ValidationException",
    );
    fails(
        aws(
            &emu,
            home.path(),
            &[
                "get-trust-anchor",
                "--trust-anchor-id",
                "00000000-0000-4000-8000-000000000000",
            ],
        ),
        "ResourceNotFoundException",
    );

    // Profile: create, get, list, update.
    let created = ok(aws(
        &emu,
        home.path(),
        &[
            "create-profile",
            "--name",
            "p1",
            "--role-arns",
            ROLE_ARN,
            "--enabled",
            "--duration-seconds",
            "3600",
        ],
    ));
    let profile_id = created["profile"]["profileId"]
        .as_str()
        .unwrap()
        .to_string();
    let profile_arn = created["profile"]["profileArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(is_uuid(&profile_id));
    assert_eq!(created["profile"]["roleArns"][0], ROLE_ARN);
    assert_eq!(created["profile"]["acceptRoleSessionName"], false);
    let got = ok(aws(
        &emu,
        home.path(),
        &["get-profile", "--profile-id", &profile_id],
    ));
    assert_eq!(got["profile"]["durationSeconds"], 3600);
    let listed = ok(aws(&emu, home.path(), &["list-profiles"]));
    assert_eq!(listed["profiles"][0]["profileArn"], profile_arn.as_str());
    let updated = ok(aws(
        &emu,
        home.path(),
        &[
            "update-profile",
            "--profile-id",
            &profile_id,
            "--duration-seconds",
            "1800",
        ],
    ));
    assert_eq!(updated["profile"]["durationSeconds"], 1800);
    // The CLI's paginator follows nextToken page by page.
    ok(aws(
        &emu,
        home.path(),
        &["create-profile", "--name", "p2", "--role-arns", ROLE_ARN],
    ));
    let paged = ok(aws(
        &emu,
        home.path(),
        &[
            "list-profiles",
            "--page-size",
            "1",
            "--query",
            "profiles[].name",
        ],
    ));
    assert_eq!(paged, serde_json::json!(["p1", "p2"]));

    // Tags.
    ok(aws(
        &emu,
        home.path(),
        &[
            "tag-resource",
            "--resource-arn",
            &profile_arn,
            "--tags",
            "key=env,value=test",
        ],
    ));
    let tags = ok(aws(
        &emu,
        home.path(),
        &["list-tags-for-resource", "--resource-arn", &ta_arn],
    ));
    assert_eq!(
        tags["tags"],
        serde_json::json!([{"key": "team", "value": "a"}])
    );
    let tags = ok(aws(
        &emu,
        home.path(),
        &["list-tags-for-resource", "--resource-arn", &profile_arn],
    ));
    assert_eq!(
        tags["tags"],
        serde_json::json!([{"key": "env", "value": "test"}])
    );

    // The state survives a restart.
    drop(emu);
    emu = start_background(&pki, &state_dir);
    let listed = ok(aws(&emu, home.path(), &["list-profiles"]));
    assert_eq!(listed["profiles"][0]["durationSeconds"], 1800);

    // CreateSession against that state.
    // The last character changed (to one it is not: a random id ends in "0" one time in 16).
    let last = if profile_arn.ends_with('0') { "1" } else { "0" };
    let unknown_profile = format!("{}{last}", &profile_arn[..profile_arn.len() - 1]);
    let run =
        |ta: &str, profile: &str, extra: &[&str]| session(&emu, &cert, &key, ta, profile, extra);
    let creds = assert_credentials(&run(&ta_arn, &profile_arn, &["--session-duration", "1800"]));
    assert!(creds["Expiration"].is_string());
    assert_clean_failure(
        &run(&ta_arn, &profile_arn, &["--session-duration", "3600"]),
        "between 900 and 1800",
    );
    assert_clean_failure(
        &run(&ta_arn, &unknown_profile, &["--session-duration", "900"]),
        "does not exist",
    );
    assert_clean_failure(
        &run(
            &ta_arn,
            &profile_arn,
            &["--session-duration", "900", "--role-session-name", "me"],
        ),
        "acceptRoleSessionName",
    );
    ok(aws(
        &emu,
        home.path(),
        &[
            "update-profile",
            "--profile-id",
            &profile_id,
            "--accept-role-session-name",
        ],
    ));
    assert_credentials(&run(
        &ta_arn,
        &profile_arn,
        &["--session-duration", "900", "--role-session-name", "me"],
    ));

    ok(aws(
        &emu,
        home.path(),
        &["disable-trust-anchor", "--trust-anchor-id", &ta_id],
    ));
    assert_clean_failure(
        &run(&ta_arn, &profile_arn, &["--session-duration", "900"]),
        "disabled",
    );
    let enabled = ok(aws(
        &emu,
        home.path(),
        &["enable-trust-anchor", "--trust-anchor-id", &ta_id],
    ));
    assert_eq!(enabled["trustAnchor"]["enabled"], true);
    assert_credentials(&run(&ta_arn, &profile_arn, &["--session-duration", "900"]));

    // A CRL listing the client's serial: refused; another certificate still works.
    let crl = crl_revoking(&pki, &cert);
    let imported = ok(aws(
        &emu,
        home.path(),
        &[
            "import-crl",
            "--name",
            "crl1",
            "--crl-data",
            &format!("fileb://{}", crl.display()),
            "--trust-anchor-arn",
            &ta_arn,
        ],
    ));
    let crl_id = imported["crl"]["crlId"].as_str().unwrap().to_string();
    assert!(is_uuid(&crl_id));
    assert_eq!(imported["crl"]["trustAnchorArn"], ta_arn.as_str());
    let crls = ok(aws(&emu, home.path(), &["list-crls"]));
    assert_eq!(crls["crls"][0]["crlId"], crl_id.as_str());
    assert_clean_failure(
        &run(&ta_arn, &profile_arn, &["--session-duration", "900"]),
        "revoked",
    );
    assert_credentials(&session(
        &emu,
        &other_cert,
        &other_key,
        &ta_arn,
        &profile_arn,
        &["--session-duration", "900"],
    ));
    ok(aws(&emu, home.path(), &["delete-crl", "--crl-id", &crl_id]));
    assert_credentials(&run(&ta_arn, &profile_arn, &["--session-duration", "900"]));

    // Deletes.
    let deleted = ok(aws(
        &emu,
        home.path(),
        &["delete-profile", "--profile-id", &profile_id],
    ));
    assert_eq!(deleted["profile"]["profileId"], profile_id.as_str());
    fails(
        aws(
            &emu,
            home.path(),
            &["get-profile", "--profile-id", &profile_id],
        ),
        "ResourceNotFoundException",
    );
    assert_clean_failure(
        &run(&ta_arn, &profile_arn, &["--session-duration", "900"]),
        "does not exist",
    );
    ok(aws(
        &emu,
        home.path(),
        &["delete-trust-anchor", "--trust-anchor-id", &ta_id],
    ));
    let listed = ok(aws(&emu, home.path(), &["list-trust-anchors"]));
    assert_eq!(listed["trustAnchors"], serde_json::json!([]));
    fails(
        aws(
            &emu,
            home.path(),
            &["list-tags-for-resource", "--resource-arn", &ta_arn],
        ),
        "ResourceNotFoundException",
    );
}
