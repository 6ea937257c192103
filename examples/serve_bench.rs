//! Benchmark harness for `serve`: the real server (library entry) with fixed, fake credentials,
//! so it runs without Roles Anywhere. Prints `port N` on stdout and serves until killed.
//!
//! Build: `cargo build --release --example serve_bench`; used by `bench/serve.sh`.

use std::io::Write;
use std::time::Duration;

use aws_signing_helper::credentials::Credentials;
use aws_signing_helper::serve::{self, Refresher, ServeConfig};
use zeroize::Zeroizing;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let refresher: Refresher = Box::new(|| {
        let expires = jiff::Timestamp::now()
            .checked_add(Duration::from_secs(12 * 3600))
            .map_err(|e| aws_signing_helper::Error::new(e.to_string()))?;
        Ok(Credentials {
            access_key_id: "ASIABENCHMARKEXAMPLE".into(),
            secret_access_key: Zeroizing::new("b".repeat(40)),
            session_token: Zeroizing::new("t".repeat(800)),
            expiration: expires.to_string(),
            account_id: None,
        })
    });
    let config = ServeConfig {
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        port: 0,
        hop_limit: 64,
        role_name: "BenchRole".into(),
        container_token_file: dir.join(format!("serve-bench-{}.token", std::process::id())),
        access: Default::default(),
        listener: None,
    };
    let handle = match serve::start(config, refresher) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("serve_bench: {e}");
            std::process::exit(1);
        }
    };
    println!("port {}", handle.addr().port());
    // Nothing to do if stdout is gone; the script reads the port from it.
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
