#!/usr/bin/env bash
# bench/chaos/run.sh: what fault injection costs, and how true its
# faults are, on plumb serve's HTTP service over loopback, with curl.
#
# Every TCP connection the daemon admits goes through the chaos wrapper,
# rule or none, so the first question is its cost: a SIZE_MB (256) MiB
# download with no rule, with a rule of no connection fault (the
# wrapper passes bytes straight through, sendfile included) and with a bandwidth
# cap too high to bind (the pacing code runs on every write, never
# waits). Ratios are to "no rule"; near 1.00 is the goal.
# The second is whether a fault is what it says: a CAP_MB (8) MB/s cap
# on a CAP_FILE_MB (40) MiB download (measured / cap), and LATENCY_MS
# (100) per reply on REQUESTS (20) small requests, one connection each
# (curl's time to the first byte, less the same without the rule, over
# the rule).
# Then the wrapper alone, with go test's benchmarks (32 KiB writes over
# loopback: raw socket, no rule, a cap too high to bind).
# Each shape runs ROUNDS (3) times, shapes interleaved; the best counts.
#
# usage: bench/chaos/run.sh   (env: ROUNDS=3 SIZE_MB=256 CAP_MB=8
#        CAP_FILE_MB=40 LATENCY_MS=100 REQUESTS=20 BENCHTIME=2s BENCH_DIR=/var/tmp)
# Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
SIZE_MB=${SIZE_MB:-256}
CAP_MB=${CAP_MB:-8}
CAP_FILE_MB=${CAP_FILE_MB:-40}
LATENCY_MS=${LATENCY_MS:-100}
REQUESTS=${REQUESTS:-20}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl is needed"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-chaos-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building plumb..." >&2
go build -o "$work/plumb" ./cmd/plumb

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

anon="$work/data/files/anonymous"
mkdir -p "$anon"
head -c "${SIZE_MB}M" /dev/urandom > "$anon/big.bin"
head -c "${CAP_FILE_MB}M" /dev/urandom > "$anon/capped.bin"
echo hello > "$anon/small.txt"

P_HTTP=$(freeport)
P_ADMIN=$(freeport)
{
  echo "data = \"$work/data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "http" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:%s"\n[log]\nlevel = "warn"\n[accounts]\nfirst_user = ""\n' "$P_ADMIN"
  printf '[http]\nenabled = true\naddr = "127.0.0.1:%s"\naccess_log = ""\nrequests_per_second = 0\n' "$P_HTTP"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pids+=($!)
waitport "$P_HTTP" || { cat "$work/plumb.err" >&2; die "plumb serve did not come up"; }

base="http://127.0.0.1:$P_HTTP"
rule() { # rule JSON, or "" to clear
  if [ -z "$1" ]; then
    curl -sf -X DELETE "http://127.0.0.1:$P_ADMIN/api/chaos/http" >/dev/null
  else
    curl -sf -X PUT --data "$1" "http://127.0.0.1:$P_ADMIN/api/chaos/http" >/dev/null
  fi
}
mbps() { curl -s -o /dev/null -w '%{speed_download}' "$1" | awk '{printf "%.2f", $1/1e6}'; }
# ttfb: the mean seconds to the first byte over REQUESTS small requests.
ttfb() {
  for _ in $(seq "$REQUESTS"); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "$base/small.txt"; done |
    awk '{s += $1} END {printf "%.4f", s/NR}'
}
best() { sort -g | tail -1; }
least() { sort -g | head -1; }

declare -A r
# a rule, but no connection fault: tls_failure on a plain listener
no_conn_faults='{"tls_failure":1}'
huge_cap='{"bandwidth":1099511627776}'
capped=$(( CAP_MB * 1000000 ))
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS..." >&2
  rule "";               r[none]+="$(mbps "$base/big.bin") "
  rule "$no_conn_faults";    r[steps]+="$(mbps "$base/big.bin") "
  rule "$huge_cap";      r[hugecap]+="$(mbps "$base/big.bin") "
  rule "{\"bandwidth\":$capped}"; r[cap]+="$(mbps "$base/capped.bin") "
  rule "";               r[ttfb0]+="$(ttfb) "
  rule "{\"latency\":\"${LATENCY_MS}ms\"}"; r[ttfb1]+="$(ttfb) "
  rule ""
done
pick() { tr ' ' '\n' <<<"${r[$1]}" | grep . | "$2"; }
none=$(pick none best) steps=$(pick steps best) hugecap=$(pick hugecap best)
cap=$(pick cap best) t0=$(pick ttfb0 least) t1=$(pick ttfb1 least)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "-" }'; }

echo "running the wrapper's go benchmarks..." >&2
gob=$(go test ./internal/chaos/ -run '^$' -bench 'BenchmarkWrite' -benchtime "${BENCHTIME:-2s}" 2>/dev/null | awk '/^BenchmarkWrite/ {sub(/-[0-9]+$/, "", $1); print $1, $5}')
graw=$(awk '$1 == "BenchmarkWriteRaw" {print $2}' <<<"$gob")

echo
echo "| shape | measured | ratio |"
echo "|---|---|---|"
echo "| ${SIZE_MB} MiB download, no rule | $none MB/s | 1.00 |"
echo "| the same, a rule with no connection fault | $steps MB/s | $(ratio "$steps" "$none") |"
echo "| the same, a bandwidth cap too high to bind | $hugecap MB/s | $(ratio "$hugecap" "$none") |"
echo "| ${CAP_FILE_MB} MiB download under a ${CAP_MB} MB/s cap | $cap MB/s | $(ratio "$cap" "$CAP_MB") of the cap |"
added=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.4f", a - b }')
echo "| first byte, no rule / ${LATENCY_MS} ms latency | ${t0}s / ${t1}s | $(ratio "$added" "$(awk -v l="$LATENCY_MS" 'BEGIN { print l/1000 }')") of the latency |"
while read -r name speed; do
  [ -n "$name" ] || continue
  echo "| go bench $name (32 KiB writes) | $speed MB/s | $(ratio "$speed" "$graw") |"
done <<<"$gob"
