#!/usr/bin/env python3
"""Checks the declared minimum supported Rust version (MSRV) against every dependency.

No second toolchain can be installed on our machines, so instead of building with the MSRV
compiler we check that no crate in the build graph declares a `rust-version` newer than ours
(clippy's `incompatible_msrv` lint, run with -D warnings, covers our own use of std APIs).
"""
import json, subprocess, sys


def version(v):
    return tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])


meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"],
                                 check=True, capture_output=True, text=True).stdout)
root = next(p for p in meta["packages"] if p["id"] == meta["resolve"]["root"])
msrv = root.get("rust_version")
if not msrv:
    sys.exit("Cargo.toml declares no rust-version")
used = {n["id"] for n in meta["resolve"]["nodes"]}
newer = [(p["name"], p["version"], p["rust_version"]) for p in meta["packages"]
         if p["id"] in used and p.get("rust_version") and version(p["rust_version"]) > version(msrv)]
for name, ver, rv in sorted(newer):
    print(f"{name} {ver} needs Rust {rv} > our MSRV {msrv}")
if newer:
    sys.exit(1)
print(f"MSRV {msrv}: every dependency declares {msrv} or older (or nothing)")
