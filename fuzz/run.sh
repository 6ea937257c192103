#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, one after the other.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# The targets are the [[bin]] entries of fuzz/Cargo.toml (all of them when none is named).
# Each runs with its seeds (fuzz/seeds/<target>, read only) and a working corpus
# (fuzz/corpus/<target>, kept between runs, not committed). One line per target is printed:
# name, executions, result. Exits non-zero if any target crashed, timed out or ran out of memory;
# the reproducer is then in fuzz/artifacts/<target>/ (run it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>`).
#
# Environment: FUZZ_SANITIZER (address; `none` is several times faster, for long campaigns),
# FUZZ_TIMEOUT (seconds one input may take before it counts as a hang, default 25),
# FUZZ_RSS_MB (memory limit, default 2048), FUZZ_JOBS is not supported: run one target at a time.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET="${1:-60}"
shift || true
SANITIZER="${FUZZ_SANITIZER:-address}"
TIMEOUT="${FUZZ_TIMEOUT:-25}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
# cargo-fuzz needs nightly flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1

targets_in_manifest() {
    awk '
        /^\[\[bin\]\]/ { in_bin = 1; next }
        /^\[/ { in_bin = 0 }
        in_bin && /^name *=/ { gsub(/^name *= *"|".*$/, ""); print; in_bin = 0 }
    ' Cargo.toml
}

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(targets_in_manifest)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "no fuzz targets found in fuzz/Cargo.toml" >&2
    exit 2
fi

echo "building ${#targets[@]} targets (sanitizer: $SANITIZER)..." >&2
cargo fuzz build -s "$SANITIZER" >&2

failed=0
mkdir -p logs
printf '%-26s %14s %8s  %s\n' target executions seconds result
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
    log="logs/$t.log"
    start=$(date +%s)
    set +e
    cargo fuzz run -s "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    took=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # A crash ends the run before the final stats; take the last progress line instead.
        execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        failed=1
        kind=$(grep -o -m1 -E 'ERROR: libFuzzer: [a-z-]+|panicked at [^:]*:[0-9]+|ERROR: AddressSanitizer: [a-z-]+' "$log" || true)
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        result="FAILED (${kind:-exit $rc}) ${artifact:+$artifact }log: fuzz/$log"
    fi
    printf '%-26s %14s %8s  %s\n' "$t" "${execs:-0}" "$took" "$result"
done
exit "$failed"
