#!/usr/bin/env bash
# Builds the release artifacts into target/dist/:
#   aws_signing_helper-VERSION-x86_64-linux          a binary that runs on glibc >= 2.17
#                                                   (Amazon Linux 2, RHEL/CentOS 7 and 8,
#                                                   Ubuntu 18.04/20.04, Debian 10 and later)
#   aws-signing-helper_VERSION_amd64.deb            that binary, its man page, shell
#                                                   completions and the systemd units
#   SHA256SUMS                                      checksums of both
#
# Needs: cargo-zigbuild (cargo install --locked cargo-zigbuild) and zig from PyPI's `ziglang`
# package (pip install ziglang; cargo-zigbuild finds it through `python3 -m ziglang`), and
# dpkg-deb. Takes a release build (fat LTO): several minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17
DIST=target/dist

command -v cargo-zigbuild >/dev/null 2>&1 || {
    echo "package: cargo-zigbuild is missing: cargo install --locked cargo-zigbuild" >&2
    exit 1
}
python3 -m ziglang version >/dev/null 2>&1 || command -v zig >/dev/null 2>&1 || {
    echo "package: zig is missing: python3 -m pip install ziglang (or install zig)" >&2
    exit 1
}

cargo zigbuild --locked --release --target "$TRIPLE.$GLIBC"
BIN="target/$TRIPLE/release/aws_signing_helper"

rm -rf "$DIST"
mkdir -p "$DIST"
cp "$BIN" "$DIST/aws_signing_helper-$VERSION-x86_64-linux"

# The Debian package, staged by hand (dpkg-deb needs no other tool).
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
install -D -m 0755 "$BIN" "$STAGE/usr/bin/aws_signing_helper"
"$BIN" man | gzip -9n > "$STAGE/man.1.gz"
install -D -m 0644 "$STAGE/man.1.gz" "$STAGE/usr/share/man/man1/aws_signing_helper.1.gz"
rm "$STAGE/man.1.gz"
install -d "$STAGE/usr/share/bash-completion/completions" "$STAGE/usr/share/zsh/vendor-completions" \
    "$STAGE/usr/share/fish/vendor_completions.d"
"$BIN" completion bash > "$STAGE/usr/share/bash-completion/completions/aws_signing_helper"
"$BIN" completion zsh > "$STAGE/usr/share/zsh/vendor-completions/_aws_signing_helper"
"$BIN" completion fish > "$STAGE/usr/share/fish/vendor_completions.d/aws_signing_helper.fish"
install -d "$STAGE/lib/systemd/system"
for unit in deploy/systemd/*; do
    # The units name /usr/local/bin (a manual install); the package puts the binary in /usr/bin.
    sed 's#/usr/local/bin/aws_signing_helper#/usr/bin/aws_signing_helper#g' "$unit" \
        > "$STAGE/lib/systemd/system/$(basename "$unit")"
done
install -D -m 0644 README.md "$STAGE/usr/share/doc/aws-signing-helper/README.md"
chmod 0644 "$STAGE"/usr/share/*/*/* "$STAGE"/usr/share/*/*/*/* "$STAGE"/lib/systemd/system/* 2>/dev/null || true
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
mkdir -p "$STAGE/DEBIAN"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: aws-signing-helper
Version: $VERSION
Section: admin
Priority: optional
Architecture: amd64
Depends: libc6 (>= $GLIBC)
Installed-Size: $SIZE
Maintainer: aws-signing-helper developers <noreply@invalid>
Description: IAM Roles Anywhere credential helper (drop-in aws_signing_helper)
 Temporary AWS credentials for workloads outside AWS from an X.509 certificate
 and its key: credential_process, the credentials file, a local metadata
 endpoint; STS sessions and roles; a local Roles Anywhere emulator; PKI tools.
CONTROL
DEB="$DIST/aws-signing-helper_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$DEB" >/dev/null

(cd "$DIST" && sha256sum "aws_signing_helper-$VERSION-x86_64-linux" "$(basename "$DEB")" > SHA256SUMS)
echo "package: built $DIST:"
ls -l "$DIST"
