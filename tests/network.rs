//! How credential-process reaches the endpoint: TLS trust, endpoint from the environment,
//! and proxies (through a real CONNECT proxy on loopback).

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A minimal HTTP CONNECT proxy that tunnels every request to `upstream`, whatever host the
/// client names, and counts tunnels.
fn connect_proxy(upstream: std::net::SocketAddr) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if !line.starts_with("CONNECT ") {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                }
                c.fetch_add(1, Ordering::SeqCst);
                let server = TcpStream::connect(upstream).unwrap();
                let mut client_w = client.try_clone().unwrap();
                client_w
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let mut server_r = server.try_clone().unwrap();
                let mut server_w = server;
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut reader, &mut server_w);
                    let _ = server_w.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut server_r, &mut client_w);
                let _ = t.join();
            });
        }
    });
    (url, count)
}

fn with_endpoint(
    run: &Running,
    cert: &std::path::Path,
    key: &std::path::Path,
    endpoint: &str,
) -> Vec<String> {
    let mut args = cp_args(run, cert, Some(key));
    let i = args.iter().position(|a| a == "--endpoint").unwrap();
    args[i + 1] = endpoint.to_string();
    args
}

#[test]
fn tls_trust_comes_from_aws_ca_bundle_or_no_verify() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    // Without the emulator's CA the TLS handshake must fail, with a hint.
    let out = run_bin(
        &cp_args(&run, &cert, Some(&key)),
        &[("AWS_MAX_ATTEMPTS", "1")],
    );
    assert_clean_failure(&out, "AWS_CA_BUNDLE");
    assert_eq!(run.emulator.sessions_created(), 0);
    let mut args = cp_args(&run, &cert, Some(&key));
    args.push("--no-verify-ssl".into());
    let out = run_bin(&args, &[]);
    assert_credentials(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--no-verify-ssl"),
        "a warning must say verification is off"
    );
    let bad_bundle = pki.write("bad-bundle.pem", b"not a certificate");
    let out = run_bin(
        &cp_args(&run, &cert, Some(&key)),
        &[("AWS_CA_BUNDLE", bad_bundle.to_str().unwrap())],
    );
    assert_clean_failure(&out, "bad-bundle.pem");
}

#[test]
fn endpoint_from_environment_wins_over_the_flag() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let args = with_endpoint(&run, &cert, &key, "https://127.0.0.1:1");
    let url = run.emulator.url();
    let out = run_bin(
        &args,
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_ENDPOINT_URL_ROLESANYWHERE", &url),
        ],
    );
    assert_credentials(&out);
    // Without --endpoint, the global AWS_ENDPOINT_URL is used.
    let mut args = cp_args(&run, &cert, Some(&key));
    let i = args.iter().position(|a| a == "--endpoint").unwrap();
    args.drain(i..i + 2);
    let out = run_bin(
        &args,
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_ENDPOINT_URL", &url),
        ],
    );
    assert_credentials(&out);
    assert_eq!(run.emulator.sessions_created(), 2);
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let upstream: std::net::SocketAddr = run
        .emulator
        .url()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let (proxy, tunnels) = connect_proxy(upstream);
    // A host name only the proxy can reach; the emulator's certificate does not name it.
    let mut args = with_endpoint(
        &run,
        &cert,
        &key,
        &format!("https://rolesanywhere.proxy-only.test:{}", upstream.port()),
    );
    args.push("--no-verify-ssl".into());
    let out = run_bin(&args, &[("HTTPS_PROXY", &proxy)]);
    assert_credentials(&out);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    // NO_PROXY sends it direct, where the name does not resolve.
    let out = run_bin(
        &args,
        &[
            ("HTTPS_PROXY", &proxy),
            ("NO_PROXY", ".proxy-only.test"),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("StatusCode: 0") && stderr.contains("proxy-only.test"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        2,
        "the --no-verify-ssl warning and the error: {stderr}"
    );
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    // Loopback is never proxied.
    let out = run_bin(
        &cp_args(&run, &cert, Some(&key)),
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("HTTPS_PROXY", &proxy),
        ],
    );
    assert_credentials(&out);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
}
