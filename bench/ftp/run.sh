#!/usr/bin/env bash
# bench/ftp/run.sh: FTP servers side by side on loopback, curl as the client.
#
# Starts plumb serve's FTP service (a user "bench" on the data directory's
# file tree), vsftpd (anonymous, a temporary config) and pyftpdlib
# (Debian's python3-pyftpdlib, a user), all serving the same files from
# one temporary directory on disk, and measures with curl:
#   retr   download of a SIZE_MB file (default 1 GiB) to /dev/null
#   stor   upload of that file; plumb answers 226 only after an fsync
#          (temp file, fsync, rename, directory fsync), vsftpd as soon as
#          the bytes are in the page cache, so the durable comparison is
#          also measured: vsftpd's upload followed by an fsync of the
#          uploaded file (coreutils sync FILE), and dd conv=fsync of the
#          same file as the disk's own limit
#   small  SMALL (1,000) 4 KiB files over one session (one curl, many URLs),
#          passive (EPSV) and active (EPRT, curl -P -): curl 7.88 stalls
#          a second before a passive data connection when the EPSV reply
#          is already there during its non-blocking look right after
#          sending EPSV (it then waits on its wake-up pipe alone, 1000
#          ms), which vsftpd's ~0.3 ms answer escapes; plumb holds its
#          PASV/EPSV reply 250 µs from the command's arrival for that
#          (ftp/data.go passiveReplyHold), and the active column shows
#          the servers' per-file cost without that hold
# and with bench/ftp/logins (a Go program, since curl cannot hold a
# session idle): SESSIONS (300) clients connecting and logging in at
# once, and the server's resident memory with them idle, against idle.
# Each transfer shape runs ROUNDS times per server, servers interleaved,
# and the best round counts. Ratios are to vsftpd.
#
# usage: sudo bench/ftp/run.sh   (root, for vsftpd; env: ROUNDS=3 SIZE_MB=1024
#        SMALL=1000 SESSIONS=300 BENCH_DIR=/var/tmp)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
SIZE_MB=${SIZE_MB:-1024}
SMALL=${SMALL:-1000}
SESSIONS=${SESSIONS:-300}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl is needed"
command -v vsftpd >/dev/null || die "vsftpd is needed: apt-get install vsftpd"
"$PY" -c 'import pyftpdlib' 2>/dev/null || die "$PY cannot import pyftpdlib: apt-get install python3-pyftpdlib"
[ "$(id -u)" = 0 ] || die "run as root: vsftpd needs it"
id -u ftp >/dev/null 2>&1 || die "no 'ftp' system user for vsftpd's anonymous login"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-ftp-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building plumb and logins..." >&2
go build -o "$work/plumb" ./cmd/plumb
go build -o "$work/logins" ./bench/ftp/logins

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

echo "making a ${SIZE_MB} MiB file and $SMALL small files..." >&2
head -c "${SIZE_MB}M" /dev/urandom > "$work/big.bin"
mkdir -p "$work/small"
for i in $(seq "$SMALL"); do head -c 4096 /dev/urandom > "$work/small/f$i.bin"; done

# populate DIR: hard links to the shared files (one copy on disk, one
# page cache for all), and an "upload" directory owned by OWNER.
populate() {
  mkdir -p "$1/small" "$1/upload"
  ln "$work/big.bin" "$1/big.bin"
  for f in "$work"/small/*; do ln "$f" "$1/small/"; done
  chown "$2" "$1/upload"
}

# --- plumb serve -----------------------------------------------------
P_PLUMB=$(freeport)
mkdir -p "$work/plumb-data"
echo "bench-pass" | "$work/plumb" user add bench --data "$work/plumb-data" >/dev/null
populate "$work/plumb-data/files/home/bench" root
{
  echo "data = \"$work/plumb-data\""
  "$work/plumb" serve --print-config | awk '
    /^\[/ { sect = substr($0, 2, length($0) - 2) }
    /^enabled *=/ && sect != "" && sect != "admin" && sect != "ftp" { print "[" sect "]\nenabled = false" }'
  printf '[admin]\naddr = "127.0.0.1:0"\n[log]\nlevel = "warn"\n'
  printf '[ftp]\nenabled = true\naddr = "127.0.0.1:%s"\n' "$P_PLUMB"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" > "$work/plumb.out" 2> "$work/plumb.err" &
pid_plumb=$!
pids+=("$pid_plumb")

# --- vsftpd ----------------------------------------------------------
P_VSFTPD=$(freeport)
mkdir -p "$work/vsftpd-empty"
populate "$work/vsftpd" ftp
cat > "$work/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$P_VSFTPD
background=NO
seccomp_sandbox=NO
secure_chroot_dir=$work/vsftpd-empty
anonymous_enable=YES
local_enable=NO
no_anon_password=YES
anon_root=$work/vsftpd
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_world_readable_only=NO
connect_from_port_20=NO
xferlog_enable=NO
max_clients=0
max_per_ip=0
CONF
vsftpd "$work/vsftpd.conf" > "$work/vsftpd.err" 2>&1 &
pid_vsftpd=$!
pids+=("$pid_vsftpd")

# --- pyftpdlib -------------------------------------------------------
mkdir -p "$work/py"
populate "$work/py" root
"$PY" -W ignore bench/ftp/pyftpdlib_server.py "$work/py" bench bench-pass > "$work/py.out" 2> "$work/py.err" &
pid_py=$!
pids+=("$pid_py")
for _ in $(seq 100); do grep -q PORT "$work/py.out" 2>/dev/null && break; sleep 0.1; done
P_PY=$(awk '/PORT/ {print $2}' "$work/py.out")

servers=()
declare -A url port pid
if waitport "$P_PLUMB"; then
  servers+=(plumb); url[plumb]="ftp://bench:bench-pass@127.0.0.1:$P_PLUMB"; port[plumb]=$P_PLUMB; pid[plumb]=$pid_plumb

else
  echo "run.sh: plumb serve's FTP did not come up; see below; measuring the others" >&2
  cat "$work/plumb.err" >&2
fi
waitport "$P_VSFTPD" || { cat "$work/vsftpd.err" >&2; die "vsftpd did not start"; }
servers+=(vsftpd); url[vsftpd]="ftp://anonymous:@127.0.0.1:$P_VSFTPD"; port[vsftpd]=$P_VSFTPD; pid[vsftpd]=$pid_vsftpd
[ -n "$P_PY" ] && waitport "$P_PY" || { cat "$work/py.err" >&2; die "pyftpdlib did not start"; }
servers+=(pyftpdlib); url[pyftpdlib]="ftp://bench:bench-pass@127.0.0.1:$P_PY"; port[pyftpdlib]=$P_PY; pid[pyftpdlib]=$pid_py

# Logins with a password: vsftpd here has anonymous access only.
declare -A user pass
user[plumb]=bench; pass[plumb]=bench-pass
user[pyftpdlib]=bench; pass[pyftpdlib]=bench-pass

# rss KiB of a server: the process and all its children (vsftpd forks
# two processes per session).
descendants() { echo "$1"; local c; for c in $(pgrep -P "$1" || true); do descendants "$c"; done; }
rss() {
  local total=0 p
  for p in $(descendants "$1"); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

best() { sort -g | tail -1; }
declare -A retr stor small logins plogins rss_idle rss_busy
declare -A smalla
for s in "${servers[@]}"; do retr[$s]=""; stor[$s]=""; small[$s]=""; smalla[$s]=""; done
stor_vs_fsync=""
dd_fsync=""
bytes=$((SIZE_MB * 1048576))

smallcfg="$work/small.curl"
for i in $(seq "$SMALL"); do printf 'url = "%%URL%%/small/f%d.bin"\noutput = "/dev/null"\n' "$i"; done > "$smallcfg"

for round in $(seq "$ROUNDS"); do
  for s in "${servers[@]}"; do
    echo "round $round: $s" >&2
    r=$(curl -sS --max-time 600 -o /dev/null -w '%{speed_download}' "${url[$s]}/big.bin")
    retr[$s]+="$r "
    w=$(curl -sS --max-time 600 -T "$work/big.bin" -w '%{speed_upload}' "${url[$s]}/upload/up.bin")
    stor[$s]+="$w "
    rm -f "$work/plumb-data/files/home/bench/upload/up.bin" "$work/vsftpd/upload/up.bin" "$work/py/upload/up.bin"
    if [ "$s" = vsftpd ]; then
      # Durable: the upload, then an fsync of the file it made.
      sync
      t0=$(date +%s.%N)
      curl -sS --max-time 600 -T "$work/big.bin" "${url[$s]}/upload/up.bin"
      sync "$work/vsftpd/upload/up.bin"
      t1=$(date +%s.%N)
      stor_vs_fsync+="$(echo "$bytes / ($t1 - $t0)" | bc -l) "
      rm -f "$work/vsftpd/upload/up.bin"
      # The disk's limit: the same bytes written and fsynced by dd.
      sync
      t0=$(date +%s.%N)
      dd if="$work/big.bin" of="$work/dd.bin" bs=1M conv=fsync status=none
      t1=$(date +%s.%N)
      dd_fsync+="$(echo "$bytes / ($t1 - $t0)" | bc -l) "
      rm -f "$work/dd.bin"
    fi
    sed "s#%URL%#${url[$s]}#" "$smallcfg" > "$work/small-$s.curl"
    t0=$(date +%s.%N)
    curl -sS --max-time 600 -K "$work/small-$s.curl"
    t1=$(date +%s.%N)
    small[$s]+="$(echo "$SMALL / ($t1 - $t0)" | bc -l) "
    t0=$(date +%s.%N)
    curl -sS --max-time 600 -P - -K "$work/small-$s.curl"
    t1=$(date +%s.%N)
    smalla[$s]+="$(echo "$SMALL / ($t1 - $t0)" | bc -l) "
  done
done

for s in "${servers[@]}"; do
  sleep 1
  rss_idle[$s]=$(rss "${pid[$s]}")
  fifo="$work/hold-$s"
  mkfifo "$fifo"
  "$work/logins" -addr "127.0.0.1:${port[$s]}" -user anonymous -pass bench@ -n "$SESSIONS" < "$fifo" > "$work/logins-$s.out" &
  lp=$!
  exec 9> "$fifo"
  for _ in $(seq 600); do grep -q READY "$work/logins-$s.out" && break; sleep 0.1; done
  logins[$s]=$(sed -n 's/.*logged_in=\([0-9]*\) failed=\([0-9]*\) seconds=\([0-9.]*\).*/\3 (\1 ok, \2 failed)/p' "$work/logins-$s.out")
  sleep 1
  rss_busy[$s]=$(rss "${pid[$s]}")
  exec 9>&-
  wait "$lp" || true
  plogins[$s]="-"
  if [ -n "${user[$s]:-}" ]; then
    sleep 1
    "$work/logins" -addr "127.0.0.1:${port[$s]}" -user "${user[$s]}" -pass "${pass[$s]}" -n "$SESSIONS" < /dev/null > "$work/plogins-$s.out" 2>&1 || true
    plogins[$s]=$(sed -n 's/.*logged_in=\([0-9]*\) failed=\([0-9]*\) seconds=\([0-9.]*\).*/\3 (\1 ok, \2 failed)/p' "$work/plogins-$s.out")
  fi
done

mib() { printf '%.1f' "$(echo "scale=3; $1 / 1048576" | bc)"; }
kib2mb() { printf '%.1f' "$(echo "scale=3; $1 / 1024" | bc)"; }
ratio() { [ -n "$2" ] && [ "$(echo "$2 > 0" | bc)" = 1 ] && printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)" || echo "-"; }

vs_retr=$(echo ${retr[vsftpd]} | tr ' ' '\n' | best)
vs_stor=$(echo ${stor[vsftpd]} | tr ' ' '\n' | best)
vs_stor_fsync=$(echo $stor_vs_fsync | tr ' ' '\n' | best)
dd_best=$(echo $dd_fsync | tr ' ' '\n' | best)
vs_small=$(echo ${small[vsftpd]} | tr ' ' '\n' | best)
vs_smalla=$(echo ${smalla[vsftpd]} | tr ' ' '\n' | best)
echo
echo "FTP on loopback: $(nproc) cores, $(uname -r), curl $(curl --version | awk 'NR==1 {print $2}'), vsftpd $(dpkg-query -W -f '${Version}' vsftpd 2>/dev/null || echo '?'), pyftpdlib $("$PY" -c 'import pyftpdlib; print(pyftpdlib.__ver__)'); best of $ROUNDS rounds"
echo
echo "| server | RETR ${SIZE_MB} MiB (MiB/s, ×vsftpd) | STOR ${SIZE_MB} MiB (MiB/s, ×vsftpd) | $SMALL × 4 KiB, one session, passive (files/s, ×vsftpd) | same, active (files/s, ×vsftpd) | $SESSIONS anonymous logins at once (s) | $SESSIONS password logins at once (s) | RSS idle (MB) | RSS, $SESSIONS idle sessions (MB) | Δ (MB) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for s in "${servers[@]}"; do
  r=$(echo ${retr[$s]} | tr ' ' '\n' | best); w=$(echo ${stor[$s]} | tr ' ' '\n' | best); f=$(echo ${small[$s]} | tr ' ' '\n' | best)
  fa=$(echo ${smalla[$s]} | tr ' ' '\n' | best)
  printf '| %s | %s (%s×) | %s (%s×) | %.0f (%s×) | %.0f (%s×) | %s | %s | %s | %s | %s |\n' "$s" \
    "$(mib "$r")" "$(ratio "$r" "$vs_retr")" "$(mib "$w")" "$(ratio "$w" "$vs_stor")" "$f" "$(ratio "$f" "$vs_small")" "$fa" "$(ratio "$fa" "$vs_smalla")" \
    "${logins[$s]}" "${plogins[$s]}" "$(kib2mb "${rss_idle[$s]}")" "$(kib2mb "${rss_busy[$s]}")" "$(kib2mb $((rss_busy[$s] - rss_idle[$s])))"
done

# Durable uploads: plumb's STOR above already includes its fsync.
if [ -n "$vs_stor_fsync" ]; then
  pl_stor=$(echo ${stor[plumb]:-} | tr ' ' '\n' | best)
  echo
  echo "Durable STOR of ${SIZE_MB} MiB (MiB/s): plumb (226 after fsync) $( [ -n "$pl_stor" ] && mib "$pl_stor" || echo -)" \
    "($(ratio "${pl_stor:-0}" "$vs_stor_fsync")× vsftpd + fsync), vsftpd then fsync of the file $(mib "$vs_stor_fsync")," \
    "dd conv=fsync (the disk's limit) $(mib "$dd_best")"
fi
