//! The credential-process cache end to end: the real binary, the emulator counting sessions.

mod common;

use common::*;
use std::path::Path;

fn cached(
    run: &Running,
    cert: &Path,
    key: &Path,
    dir: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = cp_args(run, cert, Some(key));
    args.extend([
        "--cache".to_string(),
        "--cache-dir".into(),
        dir.display().to_string(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())])
}

#[test]
fn twenty_parallel_runs_make_one_create_session() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let dir = pki.path("cache");
    let outputs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| s.spawn(|| cached(&run, &cert, &key, &dir, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: Vec<_> = outputs
        .iter()
        .map(|o| {
            assert_credentials(o)["AccessKeyId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(run.emulator.sessions_created(), 1);
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "all runs share one session"
    );
    // A later run is a plain hit.
    assert_credentials(&cached(&run, &cert, &key, &dir, &[]));
    assert_eq!(run.emulator.sessions_created(), 1);
    // Without --cache, every run is a CreateSession as before.
    assert_credentials(&credential_process(&run, &cert, Some(&key), &[]));
    assert_eq!(run.emulator.sessions_created(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
            assert!(
                !p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(".entry."),
                "no temp files left"
            );
        }
    }
}

#[test]
fn expiry_margin_is_respected() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let dir = pki.path("cache");
    // 900 s sessions never have more than the default 900 s margin left: always refreshed.
    for _ in 0..2 {
        assert_credentials(&cached(
            &run,
            &cert,
            &key,
            &dir,
            &["--session-duration", "900"],
        ));
    }
    assert_eq!(run.emulator.sessions_created(), 2);
    // With a 600 s margin the last one is reused (the margin is not part of the key).
    for _ in 0..2 {
        assert_credentials(&cached(
            &run,
            &cert,
            &key,
            &dir,
            &["--session-duration", "900", "--cache-margin", "600"],
        ));
    }
    assert_eq!(run.emulator.sessions_created(), 2);
    // The environment variables turn it on and set the margin too.
    let mut args = cp_args(&run, &cert, Some(&key));
    args.extend(["--session-duration".to_string(), "900".into()]);
    let env = [
        ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
        ("AWS_SIGNING_HELPER_CACHE", "1"),
        ("AWS_SIGNING_HELPER_CACHE_DIR", dir.to_str().unwrap()),
        ("AWS_SIGNING_HELPER_CACHE_MARGIN", "600"),
    ];
    assert_credentials(&run_bin(&args, &env));
    assert_eq!(run.emulator.sessions_created(), 2);
    // --cache=false wins over the environment.
    args.push("--cache=false".into());
    assert_credentials(&run_bin(&args, &env));
    assert_eq!(run.emulator.sessions_created(), 3);
}

#[test]
fn a_different_certificate_or_key_never_gets_anothers_credentials() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert_a, key_a) = pki.leaf("a", "ec:P-256");
    let (cert_b, key_b) = pki.leaf("b", "ec:P-256");
    let dir = pki.path("cache");
    let a = assert_credentials(&cached(&run, &cert_a, &key_a, &dir, &[]));
    let b = assert_credentials(&cached(&run, &cert_b, &key_b, &dir, &[]));
    assert_eq!(run.emulator.sessions_created(), 2);
    assert_ne!(a["AccessKeyId"], b["AccessKeyId"]);
    // A's certificate with B's key: refused as before, not served A's cached credentials.
    assert_clean_failure(
        &cached(&run, &cert_a, &key_b, &dir, &[]),
        "does not match the certificate",
    );
    // Another role is another cache entry.
    let mut other_role = cp_args(&run, &cert_a, Some(&key_a));
    let i = other_role.iter().position(|a| a == "--role-arn").unwrap();
    other_role[i + 1] = "arn:aws:iam::111122223333:role/OtherRole".into();
    other_role.extend([
        "--cache".to_string(),
        "--cache-dir".into(),
        dir.display().to_string(),
    ]);
    let c = assert_credentials(&run_bin(
        &other_role,
        &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())],
    ));
    assert_ne!(a["AccessKeyId"], c["AccessKeyId"]);
    assert_eq!(run.emulator.sessions_created(), 3);
    // And A still hits its own entry.
    let again = assert_credentials(&cached(&run, &cert_a, &key_a, &dir, &[]));
    assert_eq!(a["AccessKeyId"], again["AccessKeyId"]);
    assert_eq!(run.emulator.sessions_created(), 3);
}

#[test]
fn bad_cache_settings_fail_cleanly() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let file = pki.write("not-a-dir", b"x");
    assert_clean_failure(&cached(&run, &cert, &key, &file, &[]), "cache directory");
    assert_clean_failure(
        &cached(&run, &cert, &key, &pki.path("c"), &["--cache-margin=-5"]),
        "--cache-margin",
    );
    let mut args = cp_args(&run, &cert, Some(&key));
    args.push("--cache".into());
    // No HOME and no XDG_CACHE_HOME: no default directory.
    let out = std::process::Command::new(bin())
        .args(&args)
        .env_clear()
        .output()
        .unwrap();
    assert_clean_failure(&out, "HOME");
    assert_eq!(run.emulator.sessions_created(), 0);
}
