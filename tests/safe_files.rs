//! The safe-file layer end to end, as a hostile local user would attack it: the real binary
//! against device nodes, FIFOs, symbolic links, shared and foreign directories. Attacks that
//! need root run as root (CI does); a second user is created for them, and device nodes are
//! private copies made with mknod in a temp dir, never the real /dev.

mod common;

use common::*;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

const TEST_USER: &str = "aws-sh-test-files";

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn run_cmd(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd).args(args).status().unwrap();
    assert!(st.success(), "{cmd} {args:?}");
}

fn update(run: &Running, cert: &Path, key: &Path, file: &Path, home: &Path) -> Output {
    let mut args = cp_args(run, cert, Some(key));
    args[0] = "update".into();
    args.extend(["--profile".into(), "p".into(), "--once".into()]);
    bin_command(
        &args,
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
        ],
        home,
    )
    .output()
    .unwrap()
}

#[test]
fn update_refuses_fifos_and_devices_and_leaves_them_alone() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    let fifo = pki.path("fifo");
    run_cmd("mkfifo", [fifo.to_str().unwrap()].as_slice());
    let out = update(&run, &cert, &key, &fifo, home.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("FIFO"), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(!pki.path("fifo.lock").exists());
    if !need_root("the /dev/null copy test") {
        return;
    }
    let devnull = pki.path("devnull");
    run_cmd("mknod", &[devnull.to_str().unwrap(), "c", "1", "3"]);
    std::fs::set_permissions(&devnull, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = update(&run, &cert, &key, &devnull, home.path());
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
    let meta = std::fs::symlink_metadata(&devnull).unwrap();
    assert!(meta.file_type().is_char_device(), "the node was replaced");
    assert_eq!(meta.rdev(), std::fs::metadata("/dev/null").unwrap().rdev());
    assert_eq!(mode(&devnull), 0o666);
    assert!(!pki.path("devnull.lock").exists());
}

#[test]
fn root_updating_a_users_file_keeps_its_owner_and_tightens_its_mode() {
    if !need_root("updating another user's file") {
        return;
    }
    let (uid, gid) = system_user(TEST_USER);
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let home = tempfile::tempdir().unwrap();
    // The user's own ~/.aws: a directory and a loose file both theirs.
    let aws = pki.path("aws");
    std::fs::create_dir(&aws).unwrap();
    chown(&aws, uid, gid);
    let file = aws.join("credentials");
    std::fs::write(&file, "[keep]\nk = v\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    chown(&file, uid, gid);
    let out = update(&run, &cert, &key, &file, home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid), "owner changed");
    assert_eq!(mode(&file), 0o600);
    let warnings: Vec<_> = stderr(&out)
        .lines()
        .filter(|l| l.contains("0644"))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("[keep]\nk = v\n") && text.contains("[p]"));
    // A second run has nothing to warn about.
    let out = update(&run, &cert, &key, &file, home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("0600"), "{}", stderr(&out));
    // A directory of that user with no file of theirs in it is not root's to write in.
    let other = pki.path("other");
    std::fs::create_dir(&other).unwrap();
    chown(&other, uid, gid);
    let out = update(&run, &cert, &key, &other.join("credentials"), home.path());
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("belongs to user id"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 0);
}

fn cached(run: &Running, cert: &Path, key: &Path, dir: &Path) -> Output {
    let mut args = cp_args(run, cert, Some(key));
    args.extend([
        "--cache".to_string(),
        "--cache-dir".into(),
        dir.display().to_string(),
    ]);
    run_bin(&args, &[("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap())])
}

#[test]
fn shared_and_foreign_cache_directories_are_refused_untouched() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    // A /tmp-like sticky directory: never used as a cache, never chmod'ed.
    let sticky = pki.path("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = cached(&run, &cert, &key, &sticky);
    assert_clean_failure(&out, "cache directory");
    assert!(stderr(&out).contains("1777"), "{}", stderr(&out));
    assert_eq!(mode(&sticky), 0o1777);
    assert_eq!(std::fs::read_dir(&sticky).unwrap().count(), 0);
    // A symbolic link to a private directory is not trusted either.
    let real = pki.path("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = pki.path("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_clean_failure(&cached(&run, &cert, &key, &link), "symbolic link");
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    assert_eq!(run.emulator.sessions_created(), 0);
    if !need_root("a cache directory owned by another user") {
        return;
    }
    let (uid, gid) = system_user(TEST_USER);
    let foreign = pki.path("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).unwrap();
    chown(&foreign, uid, gid);
    let out = cached(&run, &cert, &key, &foreign);
    assert_clean_failure(&out, "belongs to user id");
    assert_eq!(mode(&foreign), 0o700);
    assert_eq!(std::fs::metadata(&foreign).unwrap().uid(), uid);
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 0);
    // Nor is a new directory created inside it.
    let inside = foreign.join("cache");
    assert_clean_failure(&cached(&run, &cert, &key, &inside), "cache directory");
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 0);
    assert_eq!(run.emulator.sessions_created(), 0);
}

#[test]
fn directories_below_a_shared_or_foreign_ancestor_are_refused_untouched() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let private = |p: &Path| {
        std::fs::create_dir_all(p).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
    };
    // A private cache directory of ours, two levels below a group-writable directory: whoever
    // is in that group could swap `me` for a directory of theirs.
    let team = pki.path("team");
    let cache = team.join("me/cache");
    private(&cache);
    private(&team.join("me"));
    // A group other users share (as root): a group-writable directory in its owner's private
    // group is trusted (umask 002 systems), so this one is not such a group. Without root,
    // world-writable stands in for it.
    let team_mode = if is_root() {
        chown(&team, 0, 100);
        0o770
    } else {
        0o777
    };
    std::fs::set_permissions(&team, std::fs::Permissions::from_mode(team_mode)).unwrap();
    let out = cached(&run, &cert, &key, &cache);
    assert_clean_failure(&out, "above it, cannot be trusted");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}, above it", team.display())),
        "{err}"
    );
    assert!(err.contains(&format!("(mode {team_mode:04o})")), "{err}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    // Nor is a missing cache directory created below it.
    let new = team.join("me/new");
    assert_clean_failure(&cached(&run, &cert, &key, &new), "above it");
    assert!(!new.exists());
    assert_eq!(mode(&team), team_mode, "never chmod'ed");
    assert_eq!(run.emulator.sessions_created(), 0);
    if !need_root("an ancestor directory owned by another user") {
        return;
    }
    let (uid, gid) = system_user(TEST_USER);
    // Our private directory inside a directory that belongs to someone else.
    let foreign = pki.path("foreign");
    let cache = foreign.join("mine/cache");
    private(&cache);
    private(&foreign.join("mine"));
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(&foreign, uid, gid);
    let out = cached(&run, &cert, &key, &cache);
    assert_clean_failure(&out, &format!("belongs to user id {uid}"));
    assert!(
        stderr(&out).contains(&format!("{}, above it", foreign.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    // A link on the way, owned by another user in a sticky shared directory, who could repoint
    // it: refused even though it leads to a private directory of ours.
    let sticky = pki.path("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let target = pki.path("target");
    private(&target.join("cache"));
    let link = sticky.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    chown(&link, uid, gid);
    let out = cached(&run, &cert, &key, &link.join("cache"));
    assert_clean_failure(&out, "symbolic link owned by user id");
    assert_eq!(std::fs::read_dir(target.join("cache")).unwrap().count(), 0);
    // The same link owned by us is fine: the directory it leads to is private.
    chown(&link, 0, 0);
    let out = cached(&run, &cert, &key, &link.join("cache"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(run.emulator.sessions_created(), 1);
}

fn pki_cmd(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("pki")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn pki_force_writes_keys_0600_and_never_through_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = pki_cmd(d, &["ca", "--cn", "Files CA"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&d.join("ca.key")), 0o600);
    assert_eq!(mode(&d.join("ca.pem")), 0o644);
    // An existing world-readable key file: the new key ends 0600 (a new inode, renamed).
    std::fs::set_permissions(d.join("ca.key"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let old_inode = std::fs::metadata(d.join("ca.key")).unwrap().ino();
    let out = pki_cmd(d, &["ca", "--cn", "Files CA", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&d.join("ca.key")), 0o600);
    assert_ne!(
        std::fs::metadata(d.join("ca.key")).unwrap().ino(),
        old_inode
    );
    // A symbolic link where the key goes: refused, its target untouched.
    let elsewhere = d.join("elsewhere");
    std::fs::write(&elsewhere, b"not a key").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(d.join("ca.key")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, d.join("ca.key")).unwrap();
    let out = pki_cmd(d, &["ca", "--cn", "Files CA", "--force"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&elsewhere).unwrap(), b"not a key");
    assert_eq!(mode(&elsewhere), 0o644);
    assert!(std::fs::symlink_metadata(d.join("ca.key"))
        .unwrap()
        .file_type()
        .is_symlink());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn oversized_and_special_certificates_fail_fast_with_the_cap() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let args = |cert: &Path| -> Vec<String> {
        [
            "credential-process",
            "--certificate",
            cert.to_str().unwrap(),
            "--private-key",
            d.join("key.pem").to_str().unwrap(),
            "--trust-anchor-arn",
            TA_ARN,
            "--profile-arn",
            PROFILE_ARN,
            "--role-arn",
            ROLE_ARN,
            "--endpoint",
            "https://127.0.0.1:9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let big = d.join("big.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let out = run_bin(&args(&big), &[]);
    assert_clean_failure(&out, "is larger than 1 MiB");
    assert!(stderr(&out).contains("big.pem"));
    let fifo = d.join("cert.fifo");
    run_cmd("mkfifo", &[fifo.to_str().unwrap()]);
    // With no writer on the FIFO, a blocking open would hang here forever.
    assert_clean_failure(&run_bin(&args(&fifo), &[]), "FIFO");
    if !need_root("the /dev/zero copy test") {
        return;
    }
    let zero = d.join("zero");
    run_cmd("mknod", &[zero.to_str().unwrap(), "c", "1", "5"]);
    assert_clean_failure(&run_bin(&args(&zero), &[]), "character device");
}

/// `export PROFILE` of a profile whose `credential_process` leaves `marker` behind when it runs.
fn export_with_config(home: &Path, config: &Path, extra: &[(&str, &str)]) -> Output {
    let mut env = vec![("AWS_CONFIG_FILE", config.to_str().unwrap())];
    env.extend_from_slice(extra);
    bin_command(
        &["export".into(), "x".into(), "--output".into(), "env".into()],
        &env,
        home,
    )
    .output()
    .unwrap()
}

#[test]
fn shared_config_files_are_trusted_only_from_their_owner() {
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
    let marker = home.path().join("ran");
    let script = home.path().join("cp.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\":1,\"AccessKeyId\":\"AKIAEXAMPLE\",\"SecretAccessKey\":\"s\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = aws.join("config");
    std::fs::write(
        &config,
        format!("[profile x]\ncredential_process = {}\n", script.display()),
    )
    .unwrap();
    // Writable by others: whoever can write it picks the command we run. Refused, not run.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = export_with_config(home.path(), &config, &[]);
    assert_clean_failure(&out, "refusing to read AWS config file");
    assert!(
        stderr(&out).contains("other users can write to it (mode 0666)"),
        "{}",
        stderr(&out)
    );
    assert!(
        !marker.exists(),
        "credential_process ran from an untrusted config"
    );
    // Ours and private: read, and its credential_process runs.
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = export_with_config(home.path(), &config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("AKIAEXAMPLE"));
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();
    // /dev/null is the usual "no config file": read as empty (the profile is then unknown).
    let out = export_with_config(home.path(), Path::new("/dev/null"), &[]);
    assert!(
        !stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
    assert!(!marker.exists());
    // A world-writable (non-sticky) directory on the way: refused, naming it.
    let open = home.path().join("open");
    std::fs::create_dir_all(open.join("aws")).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let moved = open.join("aws/config");
    std::fs::copy(&config, &moved).unwrap();
    let out = export_with_config(home.path(), &moved, &[]);
    assert_clean_failure(&out, "above it, cannot be trusted");
    assert!(
        stderr(&out).contains(&open.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert!(!marker.exists());
    if !need_root("a config file owned by another user") {
        return;
    }
    // Root reading another user's config would run that user's command as root: refused,
    // unless that user is the one who ran sudo (as git allows for its repositories).
    let (uid, gid) = system_user(TEST_USER);
    chown(&config, uid, gid);
    let out = export_with_config(home.path(), &config, &[]);
    assert_clean_failure(&out, "belongs to user id");
    assert!(!marker.exists());
    let uid_text = uid.to_string();
    let out = export_with_config(home.path(), &config, &[("SUDO_UID", &uid_text)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(marker.exists());
}

#[test]
fn credential_process_reads_a_null_config_file_as_empty() {
    let pki = Pki::new();
    let run = start(&pki, emulator_config(&pki));
    let (cert, key) = pki.leaf("client", "ec:P-256");
    let out = run_bin(
        &cp_args(&run, &cert, Some(&key)),
        &[
            ("AWS_CA_BUNDLE", run.ca_bundle.to_str().unwrap()),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(run.emulator.sessions_created(), 1);
}
