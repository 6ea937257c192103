//! `demo`: the main job end to end with no AWS account. Makes a throwaway CA and client
//! certificate, starts the local Roles Anywhere emulator on a free loopback port, runs
//! `credential-process` against it as a separate process (exactly as the AWS CLI would), and
//! prints the credentials and the line that does the same against AWS.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use aws_signing_helper::emulator::{Config, Emulator};
use aws_signing_helper::identity::Certificate;
use aws_signing_helper::pki::{self, ClientSpec, KeyAlg};
use aws_signing_helper::{Error, Result};

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the demo CA, certificate and key in this directory (default: a temporary one, removed at the end)
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Key type of the demo client certificate
    #[arg(long, value_enum, default_value = "ec-p256")]
    pub key_type: crate::cli::KeyType,
}

const TA: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/demo-trust-anchor";
const PROFILE: &str = "arn:aws:rolesanywhere:us-east-1:111122223333:profile/demo-profile";
const ROLE: &str = "arn:aws:iam::111122223333:role/DemoRole";

pub fn run(args: &DemoArgs) -> Result<()> {
    let temp;
    let dir: &Path = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .map_err(|e| Error::new(format!("cannot create --dir {}: {e}", d.display())))?;
            d
        }
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| Error::new(format!("cannot create a temporary directory: {e}")))?;
            temp.path()
        }
    };
    let ca = pki::new_ca("Demo Roles Anywhere CA", KeyAlg::EcP256, 30)?;
    let client = pki::issue_client(
        &ca.cert_pem,
        &ca.key_pem,
        &ClientSpec {
            common_name: "demo-workload",
            organization: Some("Demo"),
            alg: args.key_type.into(),
            days: 7,
            sans: vec![],
        },
    )?;
    let (ca_path, cert_path, key_path) = (
        dir.join("ca.pem"),
        dir.join("client.pem"),
        dir.join("client.key"),
    );
    pki::write_public(&ca_path, ca.cert_pem.as_bytes())?;
    pki::write_private(&dir.join("ca.key"), ca.key_pem.as_bytes())?;
    pki::write_public(&cert_path, client.cert_pem.as_bytes())?;
    pki::write_private(&key_path, client.key_pem.as_bytes())?;

    let anchor_der = pem_to_der(&ca.cert_pem)?;
    let config = Config {
        trust_anchors: vec![Certificate::from_der(&anchor_der)?],
        ..Config::default()
    };
    let emulator = Emulator::start(config, ([127, 0, 0, 1], 0).into(), true)?;
    let bundle = dir.join("emulator-ca.pem");
    pki::write_public(
        &bundle,
        emulator.server_ca_pem().unwrap_or_default().as_bytes(),
    )?;

    let flags = |endpoint: Option<&str>| {
        let mut f = vec![
            "credential-process".to_string(),
            "--certificate".into(),
            cert_path.display().to_string(),
            "--private-key".into(),
            key_path.display().to_string(),
            "--trust-anchor-arn".into(),
            TA.into(),
            "--profile-arn".into(),
            PROFILE.into(),
            "--role-arn".into(),
            ROLE.into(),
        ];
        if let Some(e) = endpoint {
            f.extend(["--endpoint".into(), e.to_string()]);
        }
        f
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find this program's path: {e}")))?;
    let url = emulator.url();
    println!(
        "1. Made a demo CA and a client certificate ({:?}) in {}",
        args.key_type,
        dir.display()
    );
    println!("2. Started the local Roles Anywhere emulator at {url} (it trusts only the demo CA)");
    println!(
        "3. Running, as the AWS CLI would:\n\n   AWS_CA_BUNDLE={} aws_signing_helper {}\n",
        bundle.display(),
        flags(Some(&url)).join(" ")
    );
    let out = Command::new(&exe)
        .args(flags(Some(&url)))
        .env("AWS_CA_BUNDLE", &bundle)
        .output()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", exe.display())))?;
    emulator.shutdown();
    if !out.status.success() {
        return Err(Error::new(format!(
            "the demo credential-process call failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        Error::new(format!(
            "the demo credential-process output is not JSON: {}",
            aws_signing_helper::JsonProblem::from(e)
        ))
    })?;
    println!("4. It printed credential_process JSON (secrets shortened here):\n");
    let short = |k: &str| {
        let s = json[k].as_str().unwrap_or("");
        format!("{}…", s.chars().take(8).collect::<String>())
    };
    println!(
        "   AccessKeyId     {}",
        json["AccessKeyId"].as_str().unwrap_or("")
    );
    println!("   SecretAccessKey {}", short("SecretAccessKey"));
    println!("   SessionToken    {}", short("SessionToken"));
    println!(
        "   Expiration      {}",
        json["Expiration"].as_str().unwrap_or("")
    );
    println!(
        "   AccountId       {}",
        json["AccountId"].as_str().unwrap_or("")
    );
    println!("\nAgainst AWS, register your CA as a trust anchor, create a profile and a role, then put this in ~/.aws/config:\n");
    println!(
        "   [profile my-workload]\n   credential_process = aws_signing_helper {}",
        flags(None)
            .join(" ")
            .replace(&dir.display().to_string(), "/path/to")
    );
    Ok(())
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    let (_, der) = der::pem::decode_vec(pem.as_bytes())
        .map_err(|e| Error::new(format!("cannot decode the demo CA PEM: {e}")))?;
    Ok(der)
}
