#!/usr/bin/env python3
"""Whole-process cost of `credential-process --cache` when the cache holds fresh credentials.

Makes the PKI with `pki`, starts the local emulator, runs credential-process once to fill the
cache, then measures RUNS cache hits. Prints the median and p90 CPU time (user+system) per
invocation and the peak RSS, and checks that every run got the first run's credentials (one
CreateSession in all). Usage: python3 bench/cache_hit.py [RUNS] (builds the release binary).
"""
import json, os, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spawn import build_spawn, measure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "aws_signing_helper")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def main():
    if "--no-build" not in sys.argv:
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    with tempfile.TemporaryDirectory() as d:
        sh(BIN, "pki", "ca", "--cn", "Bench CA", "--days", "2", cwd=d)
        sh(BIN, "pki", "issue", "--cn", "bench", "--key-type", "rsa-2048", "--days", "1", cwd=d)
        emu = subprocess.Popen([BIN, "emulator", "--trust-anchor", os.path.join(d, "ca.pem"), "--port", "0",
                                "--server-ca-out", os.path.join(d, "server-ca.pem")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = emu.stdout.readline().strip()
            args = [BIN, "credential-process", "--cache", "--certificate", os.path.join(d, "client.pem"),
                    "--private-key", os.path.join(d, "client.key"),
                    "--trust-anchor-arn", "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/t",
                    "--profile-arn", "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p",
                    "--role-arn", "arn:aws:iam::111122223333:role/r", "--endpoint", url]
            env = {"PATH": os.environ.get("PATH", ""), "HOME": d,
                   "AWS_CA_BUNDLE": os.path.join(d, "server-ca.pem")}
            first = json.loads(subprocess.run(args, env=env, check=True, capture_output=True).stdout)
            spawn = build_spawn(d)
            miss_cpu, _ = measure(spawn, [a for a in args if a != "--cache"], env)
            for _ in range(5):
                measure(spawn, args, env)
            cpu, rss = zip(*(measure(spawn, args, env) for _ in range(RUNS)))
            last = json.loads(subprocess.run(args, env=env, check=True, capture_output=True).stdout)
            if last["AccessKeyId"] != first["AccessKeyId"]:
                raise SystemExit("the cache did not hold: a later run got other credentials")
        finally:
            emu.terminate()
            emu.wait()
    cpu_ms = sorted(cpu)
    print(f"credential-process --cache, cache hit, RSA-2048 file key, {RUNS} runs")
    print(f"  CPU time per run: median {statistics.median(cpu_ms):.2f} ms, p90 {cpu_ms[int(len(cpu_ms) * 0.9)]:.2f} ms")
    print(f"  (one uncached run for comparison: {miss_cpu:.2f} ms)")
    print(f"  peak RSS: median {statistics.median(rss) / 1024:.2f} MiB, max {max(rss) / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
