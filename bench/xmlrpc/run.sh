#!/usr/bin/env bash
# bench/xmlrpc/run.sh: XML-RPC calls per second of a small method,
# plumb's xmlrpc.Server (on net/http) against Python's SimpleXMLRPCServer,
# with the same load driver (bench/xmlrpc, plumb's xmlrpc.Client):
# CONC concurrent clients calling add(i, 1) for DURATION, every result
# checked. Python's server is stock: one request at a time over HTTP/1.0,
# so each of its calls is also a TCP connection; plumb's keeps them alive.
# The servers run one after the other, never together.
#
# usage: bench/xmlrpc/run.sh   (env: DURATION=10s CONC=50 PY=/usr/bin/python3)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
CONC=${CONC:-50}
PY=${PY:-python3}

work=$(mktemp -d "${TMPDIR:-/tmp}/plumb-xmlrpc-bench.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the driver..." >&2
go build -o "$work/xmlrpc-bench" ./bench/xmlrpc

# start CMD...: runs a server that prints "PORT n" first, sets pid and port.
start() {
  "$@" > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/^PORT //p' "$work/server.out")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "run.sh: $* did not start: $(cat "$work/server.err")" >&2
  exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

echo "plumb: $CONC clients for $DURATION..." >&2
start "$work/xmlrpc-bench" -serve 127.0.0.1:0
plumb=$("$work/xmlrpc-bench" -url "http://127.0.0.1:$port/RPC2" -c "$CONC" -d "$DURATION")
stop

echo "python: $CONC clients for $DURATION..." >&2
start "$PY" bench/xmlrpc/python_server.py
python=$("$work/xmlrpc-bench" -url "http://127.0.0.1:$port/RPC2" -c "$CONC" -d "$DURATION")
stop

ratio=$(awk -v a="$plumb" -v b="$python" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
echo
echo "| server | calls/s ($CONC clients, add(i, 1)) | vs Python |"
echo "|---|---:|---:|"
echo "| plumb xmlrpc.Server | $plumb | ${ratio}× |"
echo "| Python SimpleXMLRPCServer | $python | 1.0× |"
