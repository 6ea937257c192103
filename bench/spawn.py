"""Shared by the benchmarks: whole-process CPU time and peak RSS of one command.

Runs each command under bench/spawn.c, a tiny fork+exec parent: a child's ru_maxrss includes
the memory it shared with its parent before exec, so measured straight from Python every run
would look about 10 MiB bigger than it is.
"""
import os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_spawn(workdir):
    """Compiles bench/spawn.c into workdir; returns its path."""
    exe = os.path.join(workdir, "spawn")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(ROOT, "bench", "spawn.c")], check=True)
    return exe


def measure(spawn, args, env):
    """CPU milliseconds and peak RSS (KiB) of one run of args, its stdout discarded."""
    out = subprocess.run([spawn] + args, env=env, check=True, capture_output=True, text=True).stdout
    status, cpu_ms, rss = out.split()
    if status != "0":
        raise SystemExit(f"run failed (exit {status}): {args[:2]}")
    return float(cpu_ms), int(rss)
