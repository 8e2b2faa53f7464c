#!/usr/bin/env bash
# bench/xmlrpc/run.sh: XML-RPC calls per second of a small method,
# plumb's xmlrpc.Server (on net/http) against Python's SimpleXMLRPCServer,
# each driven by the same two clients in turn:
#   wrk     (C, CONC connections, bench/xmlrpc/add.lua: POST add(41, 1),
#           every answer checked for 42), the servers' own capacity;
#   xmlrpc  (bench/xmlrpc, plumb's xmlrpc.Client in Go, CONC goroutines
#           calling add(i, 1) and checking each result), the library path.
# Python's server is stock but for a listen backlog of 128: one request
# at a time over HTTP/1.0, so each of its calls is also a TCP connection;
# plumb's keeps connections alive. One server runs at a time; the client
# shares the machine's cores with it. Target: plumb >= 10x Python.
#
# usage: bench/xmlrpc/run.sh   (env: DURATION=10 (seconds) CONC=50 PY=python3)
# Prints a Markdown table and whether the 10x target is met (for each
# client); the lead records a run's numbers in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10}
CONC=${CONC:-50}
PY=${PY:-python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
"$PY" -c 'import xmlrpc.server' 2>/dev/null || die "$PY cannot import xmlrpc.server"

work=$(mktemp -d "${TMPDIR:-/tmp}/plumb-xmlrpc-bench.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the server and driver..." >&2
go build -o "$work/xmlrpc-bench" ./bench/xmlrpc

# start CMD...: runs a server that prints "PORT n" first; sets pid and port.
start() {
  "$@" > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^PORT //p' "$work/server.out")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  die "$* did not start: $(cat "$work/server.err")"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

# measure NAME: both clients against the running server; sets wrk_NAME and go_NAME.
measure() {
  local url="http://127.0.0.1:$port/RPC2" out threads
  threads=$(( CONC < 2 ? 1 : 2 ))
  echo "$1: wrk, $CONC connections, ${DURATION}s..." >&2
  out=$(wrk -t "$threads" -c "$CONC" -d "${DURATION}s" --timeout 10s -s bench/xmlrpc/add.lua "$url")
  [ "$(sed -n 's/^BAD //p' <<<"$out")" = 0 ] || die "$1: wrk saw bad answers or errors:
$out"
  printf -v "wrk_$1" '%s' "$(sed -n 's/^RATE //p' <<<"$out")"
  echo "$1: plumb's Go client, $CONC goroutines, ${DURATION}s..." >&2
  printf -v "go_$1" '%s' "$("$work/xmlrpc-bench" -url "$url" -c "$CONC" -d "${DURATION}s")"
}

start "$work/xmlrpc-bench" -serve 127.0.0.1:0
measure plumb
stop
start "$PY" bench/xmlrpc/python_server.py
measure python
stop

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
echo
echo "| client ($CONC at once, add) | plumb calls/s | Python calls/s | plumb / Python |"
echo "|---|---:|---:|---:|"
echo "| wrk | $wrk_plumb | $wrk_python | $(ratio "$wrk_plumb" "$wrk_python")× |"
echo "| plumb xmlrpc.Client | $go_plumb | $go_python | $(ratio "$go_plumb" "$go_python")× |"
for c in wrk go; do
  a="${c}_plumb" b="${c}_python"
  awk -v c="$c" -v a="${!a}" -v b="${!b}" \
    'BEGIN { r = (b > 0 ? a / b : 0); printf "ratio plumb/Python (%s): %.1fx (target 10x: %s)\n", c, r, (r >= 10 ? "met" : "not met") }'
done
