#!/usr/bin/env bash
# Fleet-scale refresh simulation (examples/refresh_sim.rs, the library's own schedule): peak
# CreateSession rate and refused requests with and without the refresh jitter.
# Usage: bench/refresh_sim.sh [hosts 10000] [start window s 60] [session s 3600] [quota 50] [hours 24] [seed 1]
set -euo pipefail
cd "$(dirname "$0")/.."
# Deterministic (seeded): a debug build gives the same figures, only slower.
cargo run --quiet --example refresh_sim -- "$@"
