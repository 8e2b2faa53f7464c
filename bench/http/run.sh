#!/usr/bin/env bash
# bench/http/run.sh: HTTP servers side by side on loopback.
#
# Starts plumb serve's HTTP service (the anonymous area, access log and
# per-IP rate limit off), nginx (a temporary config: sendfile,
# autoindex, access log off) and Python's http.server (threading), all
# serving the same files (hard links into one temporary directory: one
# page cache for all), and measures:
#   small    wrk, CONNS (50) connections for DURATION: a 1 KiB file, requests/s
#   listing  wrk, the same, on a directory of 1,000 files: requests/s
#   big      curl, a SIZE_MB (1024) MiB file to /dev/null: MB/s
# in each MODE (bench/http/lib.sh says what they are):
#   pinned   wrk and curl on CPU LOAD_CPU (0), the servers on SERVER_CPU
#            (1): nginx worker_processes 1, plumb GOMAXPROCS=1. The fair one.
#   shared   no pinning, nginx one worker per CPU, plumb's default
#            GOMAXPROCS, wrk one thread per CPU.
# Before a mode's first round every server is checked to serve the
# files as they are (the 1 KiB and big files byte for byte, all 1,000
# entries listed: wrong content fails the run) and warmed up (WARMUP of
# wrk on each URL); the big file must come whole in every round. wrk's
# errors (socket connect, read, write, timeout; answers not 2xx or 3xx)
# do not fail the run: each cell says in how many rounds there were
# some, and how many of each kind. Then each shape runs ROUNDS times,
# servers interleaved (plumb, nginx, python, plumb, ...), and the table gives each
# server's median, the spread of its rounds and the ratio of medians to
# nginx, and the CPUs the server used while measured (its own CPU time
# over the wall time, median of the rounds): in pinned mode well under
# 1.00 means the client, not the server, was the limit, and the ratio
# says little. The CPU time per request (per MB for the big file), the
# median of the rounds, is the server's cost whatever else the machine
# is doing: when a run was disturbed, it still compares.
#
# usage: bench/http/run.sh   (env: MODE=both|pinned|shared ROUNDS=5
#        DURATION=10s WARMUP=3s CONNS=50 SIZE_MB=1024 SERVERS="plumb nginx python"
#        LOAD_CPU=0 SERVER_CPU=1 BENCH_DIR=/var/tmp PROFILE=0 SHAPES="small listing big")
# PROFILE=1 adds, after each mode's rounds, where each server's time
# goes during one more download of the big file: its system calls
# (strace -f -c: sendfile, epoll, futex, nanosleep, ...) and, with
# perf, the share of its CPU time in the kernel's sendfile, in softirq
# work (the loopback's receive path, ACKs) and in its own code.
# Prints a Markdown table per mode; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=${MODE:-both}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-50}
SIZE_MB=${SIZE_MB:-1024}
SERVERS=${SERVERS:-plumb nginx python}
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
. bench/http/lib.sh
case $MODE in
  both) modes="pinned shared" ;;
  pinned | shared) modes=$MODE ;;
  *) die "MODE is pinned, shared or both, not $MODE" ;;
esac
command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk"
command -v curl >/dev/null || die "curl is needed"
[[ " $SERVERS " != *" nginx "* ]] || command -v nginx >/dev/null || die "nginx is needed: apt-get install nginx"
[[ " $modes " != *" pinned "* ]] || pin_check
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-http-bench.XXXXXX)
pids=()
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT

echo "building plumb..." >&2
go build -o "$work/plumb" ./cmd/plumb


echo "making a ${SIZE_MB} MiB file, a 1 KiB file and 1,000 listed files..." >&2
mkdir -p "$work/files/dir"
head -c "${SIZE_MB}M" /dev/urandom > "$work/files/big.bin"
head -c 1024 /dev/urandom | base64 -w 0 | head -c 1024 > "$work/files/small.txt"
for i in $(seq -w 1000); do : > "$work/files/dir/file-$i.txt"; done

# populate DIR with hard links to the shared files.
populate() {
  mkdir -p "$1/dir"
  ln "$work/files/big.bin" "$work/files/small.txt" "$1/"
  for f in "$work"/files/dir/*; do ln "$f" "$1/dir/"; done
}
mkdir -p "$work/plumb-data/files/anonymous" "$work/nginx/www" "$work/py"
populate "$work/plumb-data/files/anonymous"
populate "$work/nginx/www"
populate "$work/py"

declare -A port pidof
P_PLUMB=$(freeport) P_NGINX=$(freeport) P_PY=$(freeport)
port=([plumb]=$P_PLUMB [nginx]=$P_NGINX [python]=$P_PY)
{
  echo "data = \"$work/plumb-data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "http" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:0"\n[log]\nlevel = "warn"\n[accounts]\nfirst_user = ""\n'
  # no per-IP rate limit: every wrk connection comes from 127.0.0.1
  printf '[http]\nenabled = true\naddr = "127.0.0.1:%s"\naccess_log = ""\nrequests_per_second = 0\n' "$P_PLUMB"
} > "$work/plumb.toml"

# nginx_conf WORKERS: nginx's configuration with that many workers.
nginx_conf() {
  cat <<CONF
worker_processes $1;
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
}

# start_servers MODE: starts every server of SERVERS for MODE; sets up,
# the ones that answer.
start_servers() {
  local mode=$1 name
  use_mode "$mode"
  for name in $SERVERS; do
    case $name in
      plumb)
        if [ "$mode" = pinned ]; then
          GOMAXPROCS=1 "${SRV[@]}" "$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
        else
          "${SRV[@]}" "$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
        fi ;;
      nginx)
        nginx_conf "$([ "$mode" = pinned ] && echo 1 || echo auto)" > "$work/nginx/nginx.conf"
        "${SRV[@]}" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' > "$work/nginx.err" 2>&1 & ;;
      python)
        "${SRV[@]}" "$PY" -W ignore -m http.server --bind 127.0.0.1 --directory "$work/py" "$P_PY" > "$work/python.err" 2>&1 & ;;
      *) die "unknown server $name (SERVERS: plumb nginx python)" ;;
    esac
    pids+=($!)
    pidof[$name]=$!
  done
  up=()
  for name in $SERVERS; do
    if waitport "${port[$name]}"; then
      up+=("$name")
    else
      echo "run.sh: $name did not come up in $mode mode; measuring the others" >&2
      cat "$work/$name.err" >&2 2>/dev/null || true
    fi
  done
  [ "${#up[@]}" -gt 0 ] || die "no server came up"
}

# wrk_rps MODE URL: "RPS ERRORS": requests per second, and wrk's errors
# as "connect,read,write,timeout,non2xx" (socket errors and answers
# other than 2xx or 3xx). A round with errors still counts (its rate is
# what was answered), and the table says how many rounds had them.
wrk_rps() {
  local out
  out=$("${CLI[@]}" wrk -t"$(client_threads "$1")" -c"$CONNS" -d"$DURATION" "$2")
  awk '/^Requests\/sec:/ { rps = sprintf("%.0f", $2) }
    /^ +Socket errors:/ { gsub(/,/, ""); c = $4; r = $6; w = $8; t = $10 }
    /^ +Non-2xx or 3xx responses:/ { n = $5 }
    END { if (rps == "") exit 1; printf "%s %d,%d,%d,%d,%d", rps, c, r, w, t, n }' <<<"$out" ||
    { echo "run.sh: wrk gave no rate for $2:" >&2; echo "$out" >&2; return 1; }
}
# curl_mbps MODE URL: curl's download speed in MB/s; fails unless the
# whole file came.
curl_mbps() {
  local out
  out=$("${CLI[@]}" curl -fsS -o /dev/null -w '%{speed_download} %{size_download}' "$2")
  [ "${out#* }" = $((SIZE_MB << 20)) ] || { echo "run.sh: $2 sent ${out#* } bytes, not $((SIZE_MB << 20))" >&2; return 1; }
  awk '{printf "%.1f", $1/1e6}' <<<"$out"
}

# check_content NAME: fails unless NAME serves the files as they are:
# the 1 KiB file and the big one byte for byte, every entry in the
# listing. wrk sees only status codes, so this runs before measuring.
check_content() {
  local base="http://127.0.0.1:${port[$1]}" n
  "${CLI[@]}" curl -fsS "$base/small.txt" | cmp -s - "$work/files/small.txt" || die "$1 served small.txt wrong"
  n=$("${CLI[@]}" curl -fsS "$base/dir/" | grep -o 'file-[0-9]*\.txt' | sort -u | wc -l)
  [ "$n" = 1000 ] || die "$1 listed $n of the 1,000 files in dir/"
  "${CLI[@]}" curl -fsS "$base/big.bin" | cmp -s - "$work/files/big.bin" || die "$1 served big.bin wrong"
}

# errors_of "E1 E2 ...": the rounds with errors and the sums, for the
# table: "" when there were none.
errors_of() {
  awk -v RS='[ \n]+' -F, 'NF { rounds++; for (i = 1; i <= 5; i++) s[i] += $i; if ($1 + $2 + $3 + $4 + $5 > 0) bad++ }
    END { if (bad == 0) exit; split("connect read write timeout non-2xx", k, " "); out = ""
      for (i = 1; i <= 5; i++) if (s[i] > 0) out = out (out == "" ? "" : ", ") k[i] " " s[i]
      printf "%d of %d rounds with errors (%s)", bad, rounds, out }' <<<"$1"
}

declare -A res busy cost errs servers_of
# measure MODE SHAPE NAME: one round; appends to res[MODE SHAPE NAME],
# busy[...], cost[...] and errs[...].
measure() {
  local mode=$1 shape=$2 name=$3 base="http://127.0.0.1:${port[$3]}" t0 v c e=0,0,0,0,0
  t0=$(proc_cpu "${pidof[$name]}")
  case $shape in
    small) read -r v e <<<"$(wrk_rps "$mode" "$base/small.txt")" ;;
    listing) read -r v e <<<"$(wrk_rps "$mode" "$base/dir/")" ;;
    big) v=$(curl_mbps "$mode" "$base/big.bin") ;;
  esac
  [ -n "$v" ] || die "$name: no result for $shape"
  res[$mode $shape $name]+="$v "
  errs[$mode $shape $name]+="$e "
  c=$(cpu_used "$t0" "$(proc_cpu "${pidof[$name]}")")
  busy[$mode $shape $name]+="$c "
  cost[$mode $shape $name]+="$(per_unit "$c" "$v") "
}

# profile MODE NAME: strace -c and perf record of NAME (all its
# processes) over one download of the big file, summarised on stderr.
profile() {
  local mode=$1 name=$2 url="http://127.0.0.1:${port[$2]}/big.bin" pids sp
  pids=$(tree "${pidof[$name]}" | paste -sd,)
  echo "== $mode, $name: system calls during one download of big.bin" >&2
  if command -v strace >/dev/null; then
    strace -f -c -p "$pids" -o "$work/$name.strace" 2>/dev/null & sp=$!
    waitfor "$work/$name.strace"
    curl_mbps "$mode" "$url" > /dev/null
    kill -INT "$sp"; wait "$sp" 2>/dev/null || true
    awk 'NR > 2 && $1 !~ /^-/ { print "   " $0 }' "$work/$name.strace" | head -12 >&2
  fi
  if command -v perf >/dev/null; then
    perf record -q -e cpu-clock -F 2000 -g -p "$pids" -o "$work/$name.perf" 2>/dev/null & sp=$!
    waitfor "$work/$name.perf"
    curl_mbps "$mode" "$url" > /dev/null
    kill -INT "$sp"; wait "$sp" 2>/dev/null || true
    echo "   CPU samples: $(perf report -i "$work/$name.perf" --stdio --no-children -n --sort dso -g none 2>/dev/null |
      awk '$1 ~ /%$/ { n += $2; o = o sprintf(", %s %s", $3, $1) } END { printf "%d%s", n, o }')" >&2
    perf report -i "$work/$name.perf" --stdio --children --sort sym -g none 2>/dev/null |
      grep -E '\] (__x64_sys_[a-z_0-9]+|handle_softirqs|net_rx_action|tcp_rcv_established|tcp_sendmsg_locked|filemap_splice_read|schedule|runtime\.[a-z]+)$' |
      head -14 | sed 's/^/   /' >&2
  fi
}
# waitfor FILE: until a tracer has created FILE (it is attached then).
waitfor() { for _ in $(seq 50); do [ -e "$1" ] && break; sleep 0.1; done; sleep 0.3; }

shapes=${SHAPES:-small listing big}
for shape in $shapes; do
  case $shape in small | listing | big) ;; *) die "SHAPES are small, listing and big, not $shape" ;; esac
done
for mode in $modes; do
  start_servers "$mode"
  for name in "${up[@]}"; do
    echo "$mode: checking what $name serves, warming it up..." >&2
    check_content "$name"
    base="http://127.0.0.1:${port[$name]}"
    for u in small.txt dir/; do
      "${CLI[@]}" wrk -t1 -c"$CONNS" -d"$WARMUP" "$base/$u" > /dev/null
    done
    "${CLI[@]}" curl -fsS -o /dev/null "$base/big.bin"
  done
  for shape in $shapes; do
    for r in $(seq "$ROUNDS"); do
      for name in "${up[@]}"; do
        echo "$mode: $shape, round $r: $name" >&2
        measure "$mode" "$shape" "$name"
      done
    done
  done
  if [ "${PROFILE:-0}" = 1 ]; then
    for name in "${up[@]}"; do profile "$mode" "$name"; done
  fi
  stop_servers
  servers_of[$mode]="${up[*]}"
done

cpus="$(nproc) CPUs"
for mode in $modes; do
  echo
  if [ "$mode" = pinned ]; then
    echo "### pinned: client on CPU $LOAD_CPU, each server on CPU $SERVER_CPU (nginx 1 worker, plumb GOMAXPROCS=1)"
  else
    echo "### shared: client and servers on all $cpus (nginx one worker per CPU, plumb GOMAXPROCS=$(nproc), wrk -t$(nproc))"
  fi
  echo
  head="| server |" rule="|---|"
  for shape in $shapes; do
    case $shape in
      small) head+=" 1 KiB file, $CONNS conns (req/s) |" ;;
      listing) head+=" 1,000-entry listing (req/s) |" ;;
      big) head+=" ${SIZE_MB} MiB file (MB/s) |" ;;
    esac
    head+=" × nginx |" rule+="---|---|"
  done
  echo "$head"
  echo "$rule"
  for name in ${servers_of[$mode]}; do
    row="| $name |"
    for shape in $shapes; do
      m=$(median "${res[$mode $shape $name]}")
      cell="$m, $(spread "${res[$mode $shape $name]}")"
      unit=$([ "$shape" = big ] && echo MB || echo req)
      cell+=", $(median "${busy[$mode $shape $name]}") CPU, $(median "${cost[$mode $shape $name]}") µs/$unit"
      e=$(errors_of "${errs[$mode $shape $name]}")
      [ -z "$e" ] || cell+="; **$e**"
      row+=" $cell | $(ratio "$m" "$(median "${res[$mode $shape nginx]:-}")") |"
    done
    echo "$row"
  done
done
echo
echo "Median of $ROUNDS rounds (servers interleaved, after a ${WARMUP} warm-up each), min–max (± half the range over the median), rounds in which wrk saw errors (counted in the median all the same: the rate is of what was answered), the CPUs the server used and its CPU time per request (per MB); wrk -c$CONNS -d$DURATION; curl for the big file; $cpus; $(go version | awk '{print $3}'), $(nginx -v 2>&1 | sed 's/.*: //')"
