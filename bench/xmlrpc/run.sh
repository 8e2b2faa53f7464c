#!/usr/bin/env bash
# bench/xmlrpc/run.sh: XML-RPC calls per second of a small method,
# plumb's xmlrpc.Server (on net/http) against Python's SimpleXMLRPCServer,
# both running at once and driven in turn by the same two clients:
#   wrk     (C, CONC connections, bench/xmlrpc/add.lua: POST add(41, 1),
#           every answer checked for 42), the servers' own capacity;
#   xmlrpc  (bench/xmlrpc, plumb's xmlrpc.Client in Go, CONC goroutines
#           calling add(i, 1) and checking each result), the library path.
# Python's server is stock but for a listen backlog of 128: one request
# at a time over HTTP/1.0, so each of its calls is also a TCP connection;
# plumb's keeps connections alive.
# In each MODE (bench/http/lib.sh says what they are):
#   pinned  the client on CPU LOAD_CPU (0), both servers on SERVER_CPU (1),
#           plumb with GOMAXPROCS=1: Python's server is single-threaded,
#           so this is the fair comparison (one CPU each);
#   shared  no pinning, plumb's default GOMAXPROCS.
# Each server is warmed up (WARMUP seconds of wrk), then every client
# runs ROUNDS times per server, servers interleaved (plumb, Python,
# plumb, ...); the table gives medians, the spread of the rounds, the
# CPUs the server used while measured (its CPU time over the wall time:
# in pinned mode well under 1.00 means the client was the limit) and the
# ratio of medians, and the server's CPU time per call (which holds
# even when other load took CPU from it). Target: plumb >= 10x Python.
#
# Extra rows, the fair comparison, in a second table per mode:
#   engines  the same request bytes (bench/xmlrpc/add.xml, what wrk
#           sends) dispatched in process, one call after another on one
#           CPU (SERVER_CPU when pinned), ROUNDS times DURATION each:
#           plumb's Server through ServeHTTP with a minimal
#           ResponseWriter (bench/xmlrpc -engine) against Python's
#           SimpleXMLRPCDispatcher._marshaled_dispatch in a timeit loop
#           (bench/xmlrpc/python_engine.py): XML-RPC alone, no HTTP,
#           counted per second of each process's CPU time;
#   keep-alive  wrk against Python's server speaking HTTP/1.1, threaded
#           (python_server.py --keepalive), beside the stock HTTP/1.0
#           one: what a TCP connection per call costs Python;
#   floor   wrk against a bare net/http handler answering a constant
#           200-byte body (bench/xmlrpc -floor): the least a call costs
#           on net/http, and plumb's CPU per call over it, XML-RPC's own;
#   nginx   wrk against nginx (one worker, pinned like the others)
#           answering the same 200 bytes from its config (return 200):
#           the least an HTTP call costs this client on this machine with
#           a C server, which no XML-RPC server over HTTP can go under.
#
# usage: bench/xmlrpc/run.sh   (env: MODE=both|pinned|shared ROUNDS=5
#        DURATION=10 (seconds) WARMUP=3 CONC=50 LOAD_CPU=0 SERVER_CPU=1 PY=python3)
# Prints a Markdown table per mode and whether the target is met; the
# lead records a run's numbers in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=${MODE:-both}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONC=${CONC:-50}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PY=${PY:-python3}

die() { echo "run.sh: $*" >&2; exit 1; }
. bench/http/lib.sh
case $MODE in
  both) modes="pinned shared" ;;
  pinned | shared) modes=$MODE ;;
  *) die "MODE is pinned, shared or both, not $MODE" ;;
esac
command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
command -v nginx >/dev/null || die "nginx is needed for the floor row: apt-get install nginx"
"$PY" -c 'import xmlrpc.server' 2>/dev/null || die "$PY cannot import xmlrpc.server"
[[ " $modes " != *" pinned "* ]] || pin_check

work=$(mktemp -d "${TMPDIR:-/tmp}/plumb-xmlrpc-bench.XXXXXX")
declare -A pid port
stop_servers() {
  local p
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
  pid=()
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

echo "building the server and driver..." >&2
go build -o "$work/xmlrpc-bench" ./bench/xmlrpc

# start NAME CMD...: runs a server that prints "PORT n" first; sets
# pid[NAME] and port[NAME].
start() {
  local name=$1 p
  shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pid[$name]=$!
  for _ in $(seq 100); do
    p=$(sed -n 's/^PORT //p' "$work/$name.out")
    if [ -n "$p" ]; then port[$name]=$p; return 0; fi
    sleep 0.1
  done
  die "$name did not start: $(cat "$work/$name.err")"
}

# nginx_floor MODE: starts nginx answering /RPC2 with floorBody's 200
# bytes (bench/xmlrpc/main.go), one worker in pinned mode; sets
# pid[nginx] and port[nginx]. (nginx turns each \n of a quoted string
# into a newline, so the 202 characters are 200 bytes.)
nginx_floor() {
  local body
  body=$(printf '%-202s' '<?xml version="1.0"?>\n<methodResponse><params><param><value><int>42</int></value></param></params></methodResponse>\n')
  mkdir -p "$work/nginx"
  port[nginx]=$(freeport)
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes $([ "$1" = pinned ] && echo 1 || echo auto);
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:${port[nginx]};
    location = /RPC2 { default_type "text/xml; charset=utf-8"; return 200 '$body'; }
  }
}
CONF
  "${SRV[@]}" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' > "$work/nginx.out" 2> "$work/nginx.err" &
  pid[nginx]=$!
  waitport "${port[nginx]}" || die "nginx did not start: $(cat "$work/nginx.err")"
}

# run_client MODE CLIENT NAME SECONDS: one run; prints calls/s.
run_client() {
  local url="http://127.0.0.1:${port[$3]}/RPC2" out
  case $2 in
    wrk)
      out=$("${CLI[@]}" wrk -t "$(client_threads "$1")" -c "$CONC" -d "${4}s" --timeout 10s -s bench/xmlrpc/add.lua "$url")
      [ "$(sed -n 's/^BAD //p' <<<"$out")" = 0 ] || die "$3: wrk saw bad answers or errors:
$out"
      sed -n 's/^RATE //p' <<<"$out" ;;
    go) "${CLI[@]}" "$work/xmlrpc-bench" -url "$url" -c "$CONC" -d "${4}s" ;;
  esac
}

declare -A res used cost
for mode in $modes; do
  use_mode "$mode"
  if [ "$mode" = pinned ]; then
    GOMAXPROCS=1 start plumb "${SRV[@]}" "$work/xmlrpc-bench" -serve 127.0.0.1:0
  else
    start plumb "${SRV[@]}" "$work/xmlrpc-bench" -serve 127.0.0.1:0
  fi
  start python "${SRV[@]}" "$PY" bench/xmlrpc/python_server.py
  start pykeep "${SRV[@]}" "$PY" bench/xmlrpc/python_server.py --keepalive
  if [ "$mode" = pinned ]; then
    GOMAXPROCS=1 start floor "${SRV[@]}" "$work/xmlrpc-bench" -floor 127.0.0.1:0
  else
    start floor "${SRV[@]}" "$work/xmlrpc-bench" -floor 127.0.0.1:0
  fi
  nginx_floor "$mode"
  for name in plumb python pykeep floor nginx; do
    echo "$mode: warming up $name..." >&2
    run_client "$mode" wrk "$name" "$WARMUP" > /dev/null
  done
  for client in wrk go; do
    names="plumb python"
    [ "$client" = go ] || names="plumb python pykeep floor nginx"
    for r in $(seq "$ROUNDS"); do
      for name in $names; do
        echo "$mode: $client, round $r: $name" >&2
        t0=$(proc_cpu "${pid[$name]}")
        res[$mode $client $name]+="$(run_client "$mode" "$client" "$name" "$DURATION") "
        c=$(cpu_used "$t0" "$(proc_cpu "${pid[$name]}")")
        used[$mode $client $name]+="$c "
        cost[$mode $client $name]+="$(per_unit "$c" "$(tr ' ' '\n' <<<"${res[$mode $client $name]}" | grep -v '^$' | tail -1)") "
      done
    done
  done
  stop_servers
  for r in $(seq "$ROUNDS"); do
    echo "$mode: engines in process, round $r" >&2
    if [ "$mode" = pinned ]; then
      res[$mode engine plumb]+="$(GOMAXPROCS=1 "${SRV[@]}" "$work/xmlrpc-bench" -engine bench/xmlrpc/add.xml -d "${DURATION}s") "
    else
      res[$mode engine plumb]+="$("$work/xmlrpc-bench" -engine bench/xmlrpc/add.xml -d "${DURATION}s") "
    fi
    res[$mode engine python]+="$("${SRV[@]}" "$PY" bench/xmlrpc/python_engine.py bench/xmlrpc/add.xml "$DURATION") "
  done
done

# cell MODE CLIENT NAME: a server's median calls/s, spread, CPUs and
# CPU time per call.
cell() {
  local k="$1 $2 $3"
  echo "$(median "${res[$k]}"), $(spread "${res[$k]}"), $(median "${used[$k]}") CPU, $(median "${cost[$k]}") µs/call"
}

# extra_rows MODE: the fair comparison's table.
extra_rows() {
  local m=$1 a b pe ye pf ff
  a=$(median "${res[$m wrk plumb]}")
  pe=$(median "${res[$m engine plumb]}") ye=$(median "${res[$m engine python]}")
  pf=$(median "${cost[$m wrk plumb]}") ff=$(median "${cost[$m wrk floor]}")
  echo
  echo "| fair comparison (add) | plumb | the other | plumb / other |"
  echo "|---|---|---|---:|"
  echo "| engines alone: in process, one call at a time, no HTTP | $pe, $(spread "${res[$m engine plumb]}"), $(awk -v r="$pe" 'BEGIN { if (r > 0) printf "%.2f", 1e6 / r; else print "-" }') µs/call" \
    "| Python _marshaled_dispatch: $ye, $(spread "${res[$m engine python]}"), $(awk -v r="$ye" 'BEGIN { if (r > 0) printf "%.2f", 1e6 / r; else print "-" }') µs/call | $(ratio "$pe" "$ye") |"
  echo "| wrk, Python kept alive (HTTP/1.1, threaded) | $(cell "$m" wrk plumb) | $(cell "$m" wrk pykeep) | $(ratio "$a" "$(median "${res[$m wrk pykeep]}")") |"
  echo "| wrk, bare net/http (constant 200 bytes) | $(cell "$m" wrk plumb) | $(cell "$m" wrk floor) | $(ratio "$a" "$(median "${res[$m wrk floor]}")") |"
  echo "| wrk, nginx (the same 200 bytes from its config) | $(cell "$m" wrk plumb) | $(cell "$m" wrk nginx) | $(ratio "$a" "$(median "${res[$m wrk nginx]}")") |"
  echo
  echo "- engines alone: the request of add(41, 1) wrk sends, decoded, dispatched and its answer encoded, one call after another in one process on one CPU; plumb's Server.ServeHTTP with a minimal ResponseWriter against what SimpleXMLRPCServer's handler calls with each body; calls per second of the process's CPU time (other load on the machine does not count), and its inverse."
  echo "- Python kept alive: the same wrk against Python's server on HTTP/1.1 (threaded, or it would serve one kept-alive connection only), beside the stock HTTP/1.0 row above: what a TCP connection per call costs Python."
  echo "- nginx: one worker (in pinned mode) answering the same 200 bytes with return 200, on the same CPU: the least an HTTP call costs this client here with a C server. 10× Python over HTTP needs $(awk -v b="$(median "${res[$m wrk python]}")" 'BEGIN { if (b > 0) printf "%.0f calls/s (%.1f µs a call)", 10 * b, 1e5 / b; else print "-" }'); nginx's constant answer: $(median "${res[$m wrk nginx]}") calls/s."
  echo "- bare net/http: a handler that reads the body and writes 200 constant bytes, on the same CPU and GOMAXPROCS as plumb: the floor net/http sets. plumb's CPU per call over it, XML-RPC's own share: $(awk -v p="$pf" -v f="$ff" 'BEGIN { if (p + 0 > 0 && f + 0 > 0) printf "%.1f µs of %.1f (the floor %.1f)", p - f, p, f; else print "-" }')."
}

verdicts=()
for mode in $modes; do
  echo
  if [ "$mode" = pinned ]; then
    echo "### pinned: client on CPU $LOAD_CPU, both servers on CPU $SERVER_CPU (plumb GOMAXPROCS=1)"
  else
    echo "### shared: client and servers on all $(nproc) CPUs (plumb GOMAXPROCS=$(nproc))"
  fi
  echo
  echo "| client ($CONC at once, add) | plumb calls/s | Python calls/s | plumb / Python |"
  echo "|---|---|---|---:|"
  for client in wrk go; do
    a=$(median "${res[$mode $client plumb]}") b=$(median "${res[$mode $client python]}")
    label=$([ "$client" = wrk ] && echo "wrk (C)" || echo "plumb xmlrpc.Client")
    echo "| $label | $a, $(spread "${res[$mode $client plumb]}"), $(median "${used[$mode $client plumb]}") CPU, $(median "${cost[$mode $client plumb]}") µs/call" \
      "| $b, $(spread "${res[$mode $client python]}"), $(median "${used[$mode $client python]}") CPU, $(median "${cost[$mode $client python]}") µs/call | $(ratio "$a" "$b") |"
    verdicts+=("$(awk -v m="$mode" -v c="$client" -v a="$a" -v b="$b" \
      'BEGIN { r = (b > 0 ? a / b : 0); printf "ratio plumb/Python (%s, %s): %.1fx (target 10x: %s)", m, c, r, (r >= 10 ? "met" : "not met") }')")
  done
  extra_rows "$mode"
done
echo
echo "Median of $ROUNDS rounds of ${DURATION}s (servers interleaved, after ${WARMUP}s of warm-up each), min–max (± half the range over the median), the CPUs the server used and its CPU time per call; $(nproc) CPUs; $(go version | awk '{print $3}'), $("$PY" -V)"
printf '%s\n' "${verdicts[@]}"
