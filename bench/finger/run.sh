#!/usr/bin/env bash
# bench/finger/run.sh: finger queries per second, plumb serve against
# Debian's fingerd (in.fingerd, run per connection by socat as inetd
# would), over CONNS (50) concurrent clients for DURATION (10s) each,
# one query per connection, asking in turn about the same users on both:
# USERS (system accounts that exist here, default root,daemon,bin,sys,
# nobody), which the run also creates as plumb accounts with the full
# names of /etc/passwd. Prints a Markdown table with plumb's ratio to
# fingerd (the issue's target: at least 5x).
#
# usage: bench/finger/run.sh   (env: CONNS=50 DURATION=10s USERS=root,daemon)
set -euo pipefail
cd "$(dirname "$0")/../.."

CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
USERS=${USERS:-root,daemon,bin,sys,nobody}
FINGERD=${FINGERD:-/usr/sbin/in.fingerd}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v socat >/dev/null || die "socat is needed: apt-get install socat"
[ -x "$FINGERD" ] || die "$FINGERD is needed: apt-get install fingerd finger"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d plumb-finger-bench.XXXXXX -p "${BENCH_DIR:-/tmp}")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building plumb and the load driver..." >&2
go build -o "$work/plumb" ./cmd/plumb
go build -o "$work/load" ./bench/finger/load

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- plumb serve: finger only, the same users -------------------------
P_PLUMB=$(freeport)
mkdir -p "$work/plumb-data"
for u in ${USERS//,/ }; do
  getent passwd "$u" >/dev/null || die "user $u does not exist on this machine (fingerd could not describe it)"
  full=$(getent passwd "$u" | cut -d: -f5 | cut -d, -f1)
  echo "bench-pass-$u" | "$work/plumb" user add "$u" --full-name "$full" --data "$work/plumb-data" >/dev/null
done
{
  echo "data = \"$work/plumb-data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "finger" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:0"\n[log]\nlevel = "warn"\n'
  printf '[finger]\nenabled = true\naddr = "127.0.0.1:%s"\n' "$P_PLUMB"
} > "$work/plumb.toml"
setsid "$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pids+=("$!")

# --- fingerd under socat ----------------------------------------------
P_FINGERD=$(freeport)
setsid socat "TCP-LISTEN:$P_FINGERD,bind=127.0.0.1,fork,reuseaddr,backlog=1024" "EXEC:$FINGERD" 2> "$work/socat.err" &
pids+=("$!")

waitport "$P_PLUMB" || { cat "$work/plumb.err" >&2; die "plumb serve did not start"; }
waitport "$P_FINGERD" || die "socat did not start"

measure() { "$work/load" -addr "127.0.0.1:$1" -users "$USERS" -conns "$CONNS" -duration "$DURATION" 2> "$work/load.err" | awk '{print $1}'; }
echo "measuring plumb..." >&2
q_plumb=$(measure "$P_PLUMB")
echo "measuring fingerd..." >&2
q_fingerd=$(measure "$P_FINGERD")
[ -s "$work/load.err" ] && cat "$work/load.err" >&2

echo
echo "finger, $CONNS clients, one query per connection, users $USERS, $DURATION each:"
echo
echo "| server | queries/s | ratio to fingerd |"
echo "|---|---:|---:|"
awk -v p="$q_plumb" -v f="$q_fingerd" 'BEGIN {
  printf "| plumb serve | %d | %.1fx |\n", p, (f > 0 ? p / f : 0)
  printf "| in.fingerd under socat | %d | 1.0x |\n", f
}'
