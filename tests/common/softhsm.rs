//! SoftHSM2 tokens for the PKCS#11 tests: a configuration and token directory in a temp dir,
//! keys imported with softhsm2-util, certificates written with pkcs11-tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{openssl, Running};

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const PIN: &str = "pinXYZ-1234";

/// Whether SoftHSM2 and pkcs11-tool are here; panics in CI when not.
pub fn have_tools() -> bool {
    let tool = |t: &str| {
        Command::new(t)
            .arg("--version")
            .output()
            .map(|_| true)
            .unwrap_or(false)
    };
    let ok = Path::new(MODULE).exists() && tool("softhsm2-util") && tool("pkcs11-tool");
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs softhsm2 and opensc (apt-get install softhsm2 opensc p11-kit)"
        );
        eprintln!(
            "skipping: softhsm2/opensc not installed (apt-get install softhsm2 opensc p11-kit)"
        );
    }
    ok
}

/// A SoftHSM2 configuration with its token directory in a temp dir, and one token `L`.
pub struct Hsm {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
}

impl Hsm {
    pub fn new(label: &str) -> Hsm {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let hsm = Hsm { dir, conf };
        hsm.tool(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                PIN,
                "--so-pin",
                "5678",
            ],
        );
        hsm
    }

    pub fn tool(&self, program: &str, args: &[&str]) -> Output {
        let out = Command::new(program)
            .args(args)
            .env("SOFTHSM2_CONF", &self.conf)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn import_key(&self, token: &str, key: &Path, label: &str, id: &str) {
        self.tool(
            "softhsm2-util",
            &[
                "--import",
                key.to_str().unwrap(),
                "--token",
                token,
                "--label",
                label,
                "--id",
                id,
                "--pin",
                PIN,
            ],
        );
    }

    pub fn write_cert(&self, token: &str, cert_pem: &Path, label: &str, id: &str) {
        let der = self.dir.path().join(format!("{label}-{id}.der"));
        openssl(
            self.dir.path(),
            &[
                "x509",
                "-in",
                cert_pem.to_str().unwrap(),
                "-outform",
                "DER",
                "-out",
                der.to_str().unwrap(),
            ],
        );
        self.tool(
            "pkcs11-tool",
            &[
                "--module",
                MODULE,
                "--token-label",
                token,
                "--write-object",
                der.to_str().unwrap(),
                "--type",
                "cert",
                "--label",
                label,
                "--id",
                id,
                "--login",
                "--pin",
                PIN,
            ],
        );
    }

    pub fn env<'a>(&'a self, run: Option<&'a Running>) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![("SOFTHSM2_CONF", self.conf.to_str().unwrap())];
        if let Some(run) = run {
            env.push(("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()));
        }
        env
    }
}
