//! User private groups: on systems that give each user a group of their own (Debian, Fedora and
//! most distributions since; the default umask there is 002), a group-writable `~/.aws` or
//! config file is writable by its owner alone. [`is_private_group`] tells that case apart from a
//! group other users are in, as Debian's OpenSSH does for `StrictModes`.
//!
//! A group is its user's private group when it is named as the user, lists nobody else as a
//! member, and is nobody else's primary group. Only `/etc/passwd` and `/etc/group` are read (a
//! group known only to a directory service is never taken as private: the check then refuses,
//! as it would without this exception).

use std::path::Path;

/// Whether `gid` is the private group of the user `uid` (see the module doc).
pub(crate) fn is_private_group(uid: u32, gid: u32) -> bool {
    let read = |p: &str| super::read_text(Path::new(p), super::CAP_CONFIG, "account database");
    match (read("/etc/passwd"), read("/etc/group")) {
        (Ok(passwd), Ok(group)) => private_in(&passwd, &group, uid, gid),
        _ => false,
    }
}

/// [`is_private_group`] over the text of `/etc/passwd` and `/etc/group`.
fn private_in(passwd: &str, group: &str, uid: u32, gid: u32) -> bool {
    let fields = |line: &str| line.split(':').map(str::to_string).collect::<Vec<_>>();
    let users: Vec<Vec<String>> = passwd
        .lines()
        .map(fields)
        .filter(|f| f.len() >= 4)
        .collect();
    let Some(user) = users.iter().find(|f| f[2].parse() == Ok(uid)) else {
        return false;
    };
    let name = &user[0];
    // Nobody else has it as their primary group.
    if users
        .iter()
        .any(|f| f[3].parse() == Ok(gid) && f[2].parse() != Ok(uid))
    {
        return false;
    }
    let mut entries = group
        .lines()
        .map(fields)
        .filter(|f| f.len() >= 4 && f[2].parse() == Ok(gid));
    match (entries.next(), entries.next()) {
        (Some(g), None) => {
            &g[0] == name
                && g[3]
                    .split(',')
                    .map(str::trim)
                    .all(|m| m.is_empty() || m == name)
        }
        // Missing, or two names for one id: not something to trust.
        _ => false,
    }
}

/// For tests: gives `path` a group other users share (`users`, gid 100), so a group-writable
/// mode means what it says whatever the machine's private-group setup.
#[cfg(test)]
pub(crate) fn share_with_group(path: &Path) {
    rustix::fs::chown(path, None, Some(rustix::fs::Gid::from_raw(100)))
        .expect("tests of group-writable directories chgrp them to gid 100 (run them as root)");
    assert!(!is_private_group(super::dir::euid(), 100));
}

#[cfg(test)]
mod tests {
    use super::private_in;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\ncarol:x:1002:100::/home/carol:/bin/sh\ndave:x:1003:1001::/home/dave:/bin/sh\n";

    #[test]
    fn only_a_group_of_its_user_alone_is_private() {
        let group = "root:x:0:\nalice:x:1000:alice\nbob:x:1001:\nusers:x:100:alice\nteam:x:2000:alice,bob\n";
        assert!(private_in(PASSWD, group, 1000, 1000));
        assert!(private_in(PASSWD, group, 0, 0));
        // Named as the user, but dave has it as his primary group.
        assert!(!private_in(PASSWD, group, 1001, 1001));
        // Shared groups, and groups named otherwise.
        assert!(!private_in(PASSWD, group, 1000, 100));
        assert!(!private_in(PASSWD, group, 1000, 2000));
        assert!(!private_in(PASSWD, group, 1002, 100));
        // Another member listed.
        let group2 = "alice:x:1000:alice,mallory\n";
        assert!(!private_in(PASSWD, group2, 1000, 1000));
        // Unknown group or user.
        assert!(!private_in(PASSWD, group, 1000, 4242));
        assert!(!private_in(PASSWD, group, 4242, 1000));
        // Two entries for one gid.
        assert!(!private_in(
            PASSWD,
            "alice:x:1000:\nother:x:1000:\n",
            1000,
            1000
        ));
    }
}
