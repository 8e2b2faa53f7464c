#!/usr/bin/env bash
# bench/gopher/run.sh: gopher menu requests per second, plumb serve
# against gophernicus, on loopback, in one run.
#
# Both serve one directory of FILES (50) files, the same files (hard
# links): plumb serve's gopher service (the anonymous area of its file
# tree) and Debian's gophernicus the way it is deployed, forked per
# connection by an inetd (socat here: TCP-LISTEN,fork + EXEC). The load
# is bench/gopher/load: CLIENTS (50) clients at once, each connecting,
# asking for the directory's menu, reading it to its "." line and the
# end of the connection, and checking it names the last file, for
# DURATION (10s). Gopher has one request per connection, so a request
# per second is a connection per second. Servers run ROUNDS (3) times,
# interleaved; the best round counts; the ratio is plumb's to
# gophernicus's (target: 5 or more).
#
# usage: bench/gopher/run.sh   (env: ROUNDS=3 DURATION=10s CLIENTS=50 FILES=50)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-50}
FILES=${FILES:-50}
PY=${PY:-python3}
GOPHERNICUS=${GOPHERNICUS:-$(command -v gophernicus || echo /usr/sbin/gophernicus)}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v socat >/dev/null || die "socat is needed: apt-get install socat"
[ -x "$GOPHERNICUS" ] || die "gophernicus is needed: apt-get install gophernicus"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-gopher-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building plumb and the load driver..." >&2
go build -o "$work/plumb" ./cmd/plumb
go build -o "$work/load" ./bench/gopher/load

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

mkdir -p "$work/files/menu"
for i in $(seq -f %03g 0 $((FILES - 1))); do
  head -c 2048 /dev/urandom > "$work/files/menu/file-$i.txt"
done
last=$(printf 'file-%03d.txt' $((FILES - 1)))

# --- plumb serve: gopher alone ----------------------------------------
P_PLUMB=$(freeport)
mkdir -p "$work/plumb-data/files/anonymous"
cp -al "$work/files/menu" "$work/plumb-data/files/anonymous/menu"
{
  echo "data = \"$work/plumb-data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "gopher" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:0"\n[log]\nlevel = "warn"\n[accounts]\nfirst_user = ""\n'
  printf '[limits]\nmax_conns_per_ip = 0\naccept_rate_per_ip = 0\n'
  printf '[gopher]\nenabled = true\naddr = "127.0.0.1:%s"\n' "$P_PLUMB"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pids+=($!)

# --- gophernicus under socat (inetd style) ----------------------------
P_GPH=$(freeport)
mkdir -p "$work/gph"
cp -al "$work/files/menu" "$work/gph/menu"
# -nr: may run as root; -ns: no syslog; -nv: no virtual hosts; -i/-k:
# no throttling of the one client address the load comes from.
setsid socat "TCP-LISTEN:$P_GPH,bind=127.0.0.1,fork,reuseaddr,backlog=1024" \
  "EXEC:$GOPHERNICUS -h 127.0.0.1 -p $P_GPH -r $work/gph -nr -ns -nv -i 1000000000 -k 1000000000" \
  2> "$work/socat.err" &
pids+=($!)

waitport "$P_PLUMB" || { cat "$work/plumb.err" >&2; die "plumb serve's gopher did not come up"; }
waitport "$P_GPH" || { cat "$work/socat.err" >&2; die "socat did not come up"; }

declare -A best
for s in plumb gophernicus; do best[$s]=0; done
for r in $(seq "$ROUNDS"); do
  for s in plumb gophernicus; do
    p=$P_PLUMB; [ "$s" = gophernicus ] && p=$P_GPH
    out=$("$work/load" -addr "127.0.0.1:$p" -selector /menu/ -expect "$last" -c "$CLIENTS" -d "$DURATION")
    echo "round $r $s: $out" >&2
    rps=$(awk '{print $8}' <<<"$out")
    errs=$(awk '{print $4}' <<<"$out")
    [ "$errs" = 0 ] || echo "run.sh: $s had $errs failed requests in round $r" >&2
    awk -v a="$rps" -v b="${best[$s]}" 'BEGIN { exit !(a > b) }' && best[$s]=$rps
  done
done

echo
echo "Gopher menu of $FILES files, $CLIENTS clients at once, best of $ROUNDS x $DURATION"
echo
echo "| server | menus/s | vs gophernicus |"
echo "|---|---:|---:|"
for s in plumb gophernicus; do
  awk -v s="$s" -v a="${best[$s]}" -v g="${best[gophernicus]}" \
    'BEGIN { printf "| %s | %.0f | %.2fx |\n", s, a, (g > 0 ? a / g : 0) }'
done
awk -v a="${best[plumb]}" -v g="${best[gophernicus]}" \
  'BEGIN { r = (g > 0 ? a / g : 0); printf "\nratio plumb/gophernicus: %.2fx (target 5x: %s)\n", r, (r >= 5 ? "met" : "not met") }'
