#!/usr/bin/env bash
# bench/echo/run.sh: echo (RFC 862) over TCP on loopback, side by side.
#
# Builds plumb, compiles a minimal single-threaded C epoll echo server
# (epoll_echo.c), starts it, Python asyncio's echo (asyncio_echo.py),
# Twisted's echo (twisted_echo.py, Debian's python3-twisted) and plumb
# serve's echo service (with the daemon's limits and metrics on, as
# shipped), and drives each with plumb echo's load mode in two shapes:
# 50 connections x 64-byte messages and 8 connections x 64 KiB messages.
# Each shape runs ROUNDS times per server, servers interleaved, and the
# best round counts (a shared machine's noise only ever slows a round).
# Beside throughput it reports the CPU time each server spent per round
# trip (user + system, from /proc), which other load on the machine
# disturbs far less than throughput. Then it holds IDLE idle connections to plumb's echo and reports the
# resident memory each costs.
#
# usage: bench/echo/run.sh            (env: DURATION=5s ROUNDS=3 IDLE=10000)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-10000}
PY=${PY:-python3}
TWISTED_PY=${TWISTED_PY:-/usr/bin/python3}

# Each of IDLE connections takes a descriptor at both ends.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
  echo "run.sh: ulimit -n is $(ulimit -n); IDLE=$IDLE needs more: raise the hard limit or lower IDLE" >&2
  exit 1
fi
command -v gcc >/dev/null || { echo "run.sh: gcc is needed for the C reference server" >&2; exit 1; }
"$TWISTED_PY" -c 'import twisted' 2>/dev/null || {
  echo "run.sh: $TWISTED_PY cannot import twisted: apt-get install python3-twisted" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building plumb and epoll_echo..." >&2
go build -o "$work/plumb" ./cmd/plumb
gcc -O2 -Wall -o "$work/epoll_echo" bench/echo/epoll_echo.c

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run.sh: nothing listens on port $1" >&2; exit 1
}

# plumb serve: only echo (no UDP), everything else as shipped.
P_PLUMB=$(freeport)
{
  echo "data = \"$work/data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "echo" { print "[" sect "]\nenabled = false" }'
  echo "[admin]"
  echo "addr = \"127.0.0.1:0\""
  echo "[log]"
  echo "level = \"warn\""
  echo "[echo]"
  echo "addr = \"127.0.0.1:$P_PLUMB\""
  echo "udp = false"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pid_plumb=$!
pids+=("$pid_plumb")

P_C=$(freeport)
"$work/epoll_echo" "$P_C" &
pid_c=$!
pids+=($!)
P_ASYNCIO=$(freeport)
"$PY" bench/echo/asyncio_echo.py "$P_ASYNCIO" &
pid_asyncio=$!
pids+=($!)
P_TWISTED=$(freeport)
"$TWISTED_PY" bench/echo/twisted_echo.py "$P_TWISTED" &
pid_twisted=$!
pids+=($!)
for p in "$P_PLUMB" "$P_C" "$P_ASYNCIO" "$P_TWISTED"; do waitport "$p"; done

servers=(c-epoll plumb asyncio twisted)
declare -A port=([c-epoll]=$P_C [plumb]=$P_PLUMB [asyncio]=$P_ASYNCIO [twisted]=$P_TWISTED)
declare -A pid=([c-epoll]=$pid_c [plumb]=$pid_plumb [asyncio]=$pid_asyncio [twisted]=$pid_twisted)
shapes=("50 64" "8 65536")
declare -A best_rt best_mb best_cpu
hz=$(getconf CLK_TCK)
# cputicks PID: user + system CPU time of a process, in clock ticks.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for round in $(seq "$ROUNDS"); do
  for shape in "${shapes[@]}"; do
    set -- $shape
    for s in "${servers[@]}"; do
      t0=$(cputicks "${pid[$s]}")
      out=$("$work/plumb" echo --conns "$1" --size "$2" --duration "$DURATION" --json "127.0.0.1:${port[$s]}")
      t1=$(cputicks "${pid[$s]}")
      read -r rt mb cpu < <(echo "$out" | "$PY" -c "import json,sys; r=json.load(sys.stdin); print(r['round_trips_per_sec'], r['mb_per_sec'], ($t1 - $t0) * 1e6 / $hz / max(r['round_trips'], 1))")
      echo "round $round: $s ${1}x${2}: $rt round trips/s, $mb MB/s, $cpu server CPU us per round trip" >&2
      key="$s/$shape"
      if [ -z "${best_rt[$key]:-}" ] || "$PY" -c "import sys; sys.exit(0 if $rt > ${best_rt[$key]} else 1)"; then
        best_rt[$key]=$rt
        best_mb[$key]=$mb
      fi
      if [ -z "${best_cpu[$key]:-}" ] || "$PY" -c "import sys; sys.exit(0 if $cpu < ${best_cpu[$key]} else 1)"; then
        best_cpu[$key]=$cpu
      fi
    done
  done
done

echo "## echo, $(date -u +%Y-%m-%d), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $DURATION per run, best of $ROUNDS"
echo
echo "| shape | server | round trips/s | MB/s (one way) | × C epoll | server CPU µs per round trip | CPU × C epoll |"
echo "|---|---|---:|---:|---:|---:|---:|"
for shape in "${shapes[@]}"; do
  set -- $shape
  c=${best_rt["c-epoll/$shape"]}
  ccpu=${best_cpu["c-epoll/$shape"]}
  for s in "${servers[@]}"; do
    rt=${best_rt["$s/$shape"]}
    mb=${best_mb["$s/$shape"]}
    cpu=${best_cpu["$s/$shape"]}
    "$PY" -c "print('| $1 conns × $2 B | $s | %.0f | %.1f | %.2f | %.1f | %.2f |' % ($rt, $mb, $rt / $c, $cpu, $cpu / $ccpu))"
  done
done

# Idle connections: resident memory of plumb serve before and after.
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
sleep 1
before=$(rss "$pid_plumb")
coproc IDLER { "$PY" bench/echo/idle_conns.py 127.0.0.1 "$P_PLUMB" "$IDLE"; }
pids+=("$IDLER_PID")
read -r ready n <&"${IDLER[0]}"
# Wait until the daemon has accepted them all.
for _ in $(seq 100); do
  [ "$(ls "/proc/$pid_plumb/fd" | wc -l)" -ge "$IDLE" ] && break
  sleep 0.1
done
sleep 2
after=$(rss "$pid_plumb")
echo
"$PY" -c "print('Idle connections: %d held by plumb serve, RSS %d KiB -> %d KiB: %.1f KiB per connection' % ($n, $before, $after, ($after - $before) / $n))"
exec {IDLER[1]}>&-
