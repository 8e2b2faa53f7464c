#!/usr/bin/env bash
# bench/http/run.sh: HTTP servers side by side on loopback.
#
# Starts plumb serve's HTTP service (the anonymous area, access log off),
# nginx (a temporary config: sendfile, autoindex, access log off, one
# worker per core) and Python's http.server (threading), all serving the
# same files (hard links into one temporary directory), and measures:
#   small    wrk, CONNS (50) connections for DURATION: a 1 KiB file, requests/s
#   listing  wrk, the same, on a directory of 1,000 files: requests/s
#   big      curl, a SIZE_MB (1024) MiB file to /dev/null: MB/s
# Each shape runs ROUNDS times per server, servers interleaved; the best
# round counts. Ratios are to nginx.
#
# usage: bench/http/run.sh   (env: ROUNDS=3 DURATION=10s CONNS=50 THREADS=2
#        SIZE_MB=1024 BENCH_DIR=/var/tmp)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
SIZE_MB=${SIZE_MB:-1024}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
command -v nginx >/dev/null || die "nginx is needed: apt-get install nginx"
command -v curl >/dev/null || die "curl is needed"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-http-bench.XXXXXX)
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

echo "making a ${SIZE_MB} MiB file, a 1 KiB file and 1,000 listed files..." >&2
mkdir -p "$work/files/dir"
head -c "${SIZE_MB}M" /dev/urandom > "$work/files/big.bin"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 > "$work/files/small.txt"
for i in $(seq -w 1000); do : > "$work/files/dir/file-$i.txt"; done

# populate DIR with hard links to the shared files: one copy on disk,
# one page cache for all.
populate() {
  mkdir -p "$1/dir"
  ln "$work/files/big.bin" "$work/files/small.txt" "$1/"
  for f in "$work"/files/dir/*; do ln "$f" "$1/dir/"; done
}

# --- plumb serve -----------------------------------------------------
P_PLUMB=$(freeport)
mkdir -p "$work/plumb-data/files/anonymous"
populate "$work/plumb-data/files/anonymous"
{
  echo "data = \"$work/plumb-data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "http" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:0"\n[log]\nlevel = "warn"\n[accounts]\nfirst_user = ""\n'
  # no per-IP rate limit: every wrk connection comes from 127.0.0.1
  printf '[http]\nenabled = true\naddr = "127.0.0.1:%s"\naccess_log = ""\nrequests_per_second = 0\n' "$P_PLUMB"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pids+=($!)

# --- nginx -----------------------------------------------------------
P_NGINX=$(freeport)
mkdir -p "$work/nginx/www"
populate "$work/nginx/www"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  types { text/plain txt; application/octet-stream bin; }
  server {
    listen 127.0.0.1:$P_NGINX;
    root $work/nginx/www;
    autoindex on;
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' > "$work/nginx.err" 2>&1 &
pids+=($!)

# --- Python http.server ----------------------------------------------
P_PY=$(freeport)
mkdir -p "$work/py"
populate "$work/py"
"$PY" -W ignore -m http.server --bind 127.0.0.1 --directory "$work/py" "$P_PY" > "$work/py.out" 2>&1 &
pids+=($!)

servers=()
declare -A port
for s in plumb:$P_PLUMB nginx:$P_NGINX python:$P_PY; do
  name=${s%%:*} p=${s##*:}
  if waitport "$p"; then
    servers+=("$name"); port[$name]=$p
  else
    echo "run.sh: $name did not come up; measuring the others" >&2
    cat "$work/$name.err" 2>/dev/null >&2 || true
  fi
done
[ "${#servers[@]}" -gt 0 ] || die "no server came up"

# rps URL: wrk's requests per second.
rps() { wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$1" | awk '/^Requests\/sec:/ {print $2}'; }
# mbps URL: curl's download speed in MB/s.
mbps() { curl -s -o /dev/null -w '%{speed_download}' "$1" | awk '{printf "%.1f", $1/1e6}'; }
best() { sort -g | tail -1; }

declare -A small listing big
for name in "${servers[@]}"; do small[$name]=""; listing[$name]=""; big[$name]=""; done
for r in $(seq "$ROUNDS"); do
  for name in "${servers[@]}"; do
    base="http://127.0.0.1:${port[$name]}"
    echo "round $r: $name" >&2
    small[$name]+="$(rps "$base/small.txt") "
    listing[$name]+="$(rps "$base/dir/") "
    big[$name]+="$(mbps "$base/big.bin") "
  done
done

bestof() { tr ' ' '\n' <<<"$1" | grep -v '^$' | best; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }

echo
echo "| server | 1 KiB file, $CONNS conns (req/s) | × nginx | 1,000-entry listing (req/s) | × nginx | ${SIZE_MB} MiB file (MB/s) | × nginx |"
echo "|---|---|---|---|---|---|---|"
ng_s=$(bestof "${small[nginx]:-}") ng_l=$(bestof "${listing[nginx]:-}") ng_b=$(bestof "${big[nginx]:-}")
for name in "${servers[@]}"; do
  s=$(bestof "${small[$name]}") l=$(bestof "${listing[$name]}") b=$(bestof "${big[$name]}")
  echo "| $name | $s | $(ratio "$s" "${ng_s:-0}") | $l | $(ratio "$l" "${ng_l:-0}") | $b | $(ratio "$b" "${ng_b:-0}") |"
done
echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION; curl for the big file; best of $ROUNDS rounds; $(nproc) cores; $(go version | awk '{print $3}'), $(nginx -v 2>&1 | sed 's/.*: //')"
