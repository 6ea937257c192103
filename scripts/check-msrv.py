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
# What a user's build compiles: the root's normal and build dependencies, transitively (test
# tools among the dev-dependencies may need a newer compiler; they never reach users).
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
used, todo = set(), [root["id"]]
while todo:
    node = nodes[todo.pop()]
    if node["id"] in used:
        continue
    used.add(node["id"])
    for dep in node["deps"]:
        if any(k["kind"] != "dev" for k in dep["dep_kinds"]):
            todo.append(dep["pkg"])
newer = [(p["name"], p["version"], p["rust_version"]) for p in meta["packages"]
         if p["id"] in used and p.get("rust_version") and version(p["rust_version"]) > version(msrv)]
for name, ver, rv in sorted(newer):
    print(f"{name} {ver} needs Rust {rv} > our MSRV {msrv}")
if newer:
    sys.exit(1)
print(f"MSRV {msrv}: every dependency a user builds declares {msrv} or older (or nothing)")
