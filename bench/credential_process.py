#!/usr/bin/env python3
"""Whole-process cost of `credential-process` with an RSA-2048 file key against the local emulator.

Prints the median and p90 CPU time (user+system) per invocation, the peak RSS, and the
stripped release binary's size. Usage: python3 bench/credential_process.py [RUNS [BIN...]]
(builds the release binary first; needs the openssl CLI). Given binaries (e.g. an older build and
a newer one, for an A/B run), it builds nothing and measures each of them, runs interleaved, against
one emulator started from the first.
"""
import os, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spawn import build_spawn, measure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
BINS = sys.argv[2:] or [os.path.join(ROOT, "target", "release", "aws_signing_helper")]


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def main():
    if not sys.argv[2:]:
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    with tempfile.TemporaryDirectory() as d:
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Bench CA",
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", cwd=d)
        with open(os.path.join(d, "leaf.ext"), "w") as f:
            f.write("keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key", cwd=d)
        sh("openssl", "req", "-new", "-key", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=bench", cwd=d)
        sh("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
           "-out", "leaf.pem", "-days", "1", "-extfile", "leaf.ext", cwd=d)
        emu = subprocess.Popen([BINS[0], "emulator", "--trust-anchor", os.path.join(d, "ca.pem"), "--port", "0",
                                "--server-ca-out", os.path.join(d, "server-ca.pem")],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = emu.stdout.readline().strip()
            args = ["credential-process", "--certificate", os.path.join(d, "leaf.pem"),
                    "--private-key", os.path.join(d, "leaf.key"),
                    "--trust-anchor-arn", "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/t",
                    "--profile-arn", "arn:aws:rolesanywhere:us-east-1:111122223333:profile/p",
                    "--role-arn", "arn:aws:iam::111122223333:role/r", "--endpoint", url]
            env = {"PATH": os.environ.get("PATH", ""), "HOME": d,
                   "AWS_CA_BUNDLE": os.path.join(d, "server-ca.pem")}
            spawn = build_spawn(d)
            for b in BINS:
                for _ in range(5):
                    measure(spawn, [b] + args, env)
            runs = {b: [] for b in BINS}
            for _ in range(RUNS):
                for b in BINS:
                    runs[b].append(measure(spawn, [b] + args, env))
        finally:
            emu.terminate()
            emu.wait()
    print(f"credential-process, RSA-2048 file key, local emulator over HTTPS, {RUNS} runs")
    for b in BINS:
        cpu, rss = zip(*runs[b])
        cpu_ms = sorted(cpu)
        if len(BINS) > 1:
            print(f"{b}:")
        print(f"  CPU time per run: median {statistics.median(cpu_ms):.2f} ms, p90 {cpu_ms[int(len(cpu_ms) * 0.9)]:.2f} ms")
        print(f"  peak RSS: median {statistics.median(rss) / 1024:.2f} MiB, max {max(rss) / 1024:.2f} MiB")
        print(f"  stripped release binary: {os.path.getsize(b) / (1 << 20):.2f} MiB ({os.path.getsize(b)} bytes)")


if __name__ == "__main__":
    main()
