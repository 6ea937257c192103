#!/usr/bin/env bash
# Benchmark of `serve`: credentials route with a valid IMDSv2 token, load from wrk.
# Targets (2 cores): >= 40,000 req/s, p99 < 2 ms, RSS <= 16 MiB and flat after 1M requests.
#
# Usage: bench/serve.sh [seconds-per-run (default 15)] [connections (default 32)] [wrk threads (default 1)]
# Needs wrk (apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=${2:-32}
# One wrk thread by default: with two, wrk and the server contend for the 2 cores and the
# scheduler, not the server, sets the tail latency.
threads=${3:-1}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

# SERVE_BENCH_BIN=path runs an already built serve_bench (e.g. an older build, for an A/B run).
bin=${SERVE_BENCH_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --example serve_bench >&2
  bin=target/release/examples/serve_bench
fi
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
# SERVE_NOFILE=1024 starts the server with that soft open-files limit (a common default) to
# see how it copes with the flood below when descriptors are scarce.
( [ -n "${SERVE_NOFILE:-}" ] && ulimit -Sn "$SERVE_NOFILE"; exec "$bin" "$tmp" ) >"$tmp/out" &
pid=$!
for _ in $(seq 100); do grep -q '^port ' "$tmp/out" 2>/dev/null && break; sleep 0.05; done
port=$(awk '/^port /{print $2}' "$tmp/out")
[ -n "$port" ] || { echo "serve_bench did not start" >&2; exit 1; }
url="http://127.0.0.1:$port/latest/meta-data/iam/security-credentials/BenchRole"
token=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "http://127.0.0.1:$port/latest/api/token")
curl -sf -o /dev/null -H "X-aws-ec2-metadata-token: $token" "$url"

rss() { awk '/^VmRSS/{print $2" "$3}' "/proc/$pid/status"; }
# The server's user+system CPU time in clock ticks: CPU per request is steadier than req/s on a
# shared machine, where wrk and other load take turns on the cores.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
echo "serve_bench pid $pid port $port; $(nproc) cores; wrk -t$threads -c$conns -d${secs}s"
echo "RSS at start:            $(rss)"
total=0
for run in 1 2 3; do
  t0=$(ticks)
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "X-aws-ec2-metadata-token: $token" "$url" >"$tmp/wrk$run"
  t1=$(ticks)
  reqs=$(awk '/requests in/{print $1}' "$tmp/wrk$run")
  cpu_us=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)*1e6/hz/n}')
  total=$((total + reqs))
  rps=$(awk '/^Requests\/sec/{print $2}' "$tmp/wrk$run")
  p50=$(awk '$1=="50%"{print $2}' "$tmp/wrk$run")
  p99=$(awk '$1=="99%"{print $2}' "$tmp/wrk$run")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$tmp/wrk$run")
  echo "run $run: $rps req/s, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}; server CPU ${cpu_us} us/request; total $total requests; RSS $(rss)"
done
echo "--- last wrk report ---"
cat "$tmp/wrk3"

# Idle flood: FLOOD connections that send nothing (above the server's 512-connection cap), then a
# new client's token + credentials requests, timed by curl; RSS before, during and after.
flood=${FLOOD:-2000}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "--- idle flood: $flood connections ---"
echo "RSS before flood:        $(rss)"
python3 - "$port" "$flood" >"$tmp/flood" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(); s.connect(("127.0.0.1", port)); socks.append(s)
print("open", flush=True)
time.sleep(4)
for s in socks: s.close()
print("closed", flush=True)
PY
fpid=$!
for _ in $(seq 200); do grep -q open "$tmp/flood" 2>/dev/null && break; sleep 0.05; done
t=$(curl -s -o /dev/null -w '%{time_total}' -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "http://127.0.0.1:$port/latest/api/token")
tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "http://127.0.0.1:$port/latest/api/token")
c=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "X-aws-ec2-metadata-token: $tok" "$url")
echo "during flood: token request ${t}s; credentials request (status, s): $c; RSS $(rss)"
wait "$fpid"
sleep 2
echo "RSS after flood:         $(rss)"
