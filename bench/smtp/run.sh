#!/usr/bin/env bash
# bench/smtp/run.sh: SMTP servers delivering to Maildir, side by side.
#
# Postfix's smtp-source sends MESSAGES (10,000) messages of SIZE (4096)
# bytes over SESSIONS (20) parallel sessions (-d: several messages per
# connection) to one local mailbox of:
#   plumb     plumb serve's smtp service, user "bench" (the Maildir is
#             fsynced before each 250)
#   postfix   a private Postfix instance (own config, queue and port in a
#             temporary directory), virtual(8) delivering to a Maildir; its
#             250 means the queue file is fsynced, delivery follows
#   aiosmtpd  Debian's python3-aiosmtpd with a handler writing the Maildir
#             (tmp/, fsync, rename, fsync new/) before its 250
# For each it measures the wall time of smtp-source (messages per second
# acknowledged, each on disk before its 250) and the time until the last
# message is in the Maildir (delivered per second). Servers run one after
# another, ROUNDS (3) times interleaved; the best round counts.
#
# usage: sudo bench/smtp/run.sh   (root, for Postfix; env: MESSAGES SIZE
#        SESSIONS ROUNDS BENCH_DIR=/var/tmp)
# Prints a Markdown table; docs/BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

MESSAGES=${MESSAGES:-10000}
SIZE=${SIZE:-4096}
SESSIONS=${SESSIONS:-20}
ROUNDS=${ROUNDS:-3}
PY=${PY:-/usr/bin/python3}

die() { echo "run.sh: $*" >&2; exit 1; }
command -v smtp-source >/dev/null || PATH=$PATH:/usr/sbin
command -v smtp-source >/dev/null || die "smtp-source is needed: apt-get install postfix"
command -v postfix >/dev/null || die "postfix is needed: apt-get install postfix"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd: apt-get install python3-aiosmtpd"
[ "$(id -u)" = 0 ] || die "run as root: a Postfix instance needs it"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-smtp-bench.XXXXXX)
chmod 755 "$work" # Postfix and virtual(8) run as other users
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/postfix/main.cf" ] && postfix -c "$work/postfix" stop >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 200); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# count DIR: files in a Maildir's new/ and cur/
count() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }
now() { date +%s.%N; }

echo "building plumb..." >&2
go build -o "$work/plumb" ./cmd/plumb

# --- plumb serve -----------------------------------------------------
P_PLUMB=$(freeport)
mkdir -p "$work/plumb-data"
echo "bench-password" | "$work/plumb" user add bench --data "$work/plumb-data" >/dev/null
{
  echo "data = \"$work/plumb-data\""
  echo "[log]"; echo 'level = "warn"'
  echo "[admin]"; echo "enabled = false"
  echo "[accounts]"; echo 'first_user = ""'
  for s in echo discard daytime qotd chargen time ftp pop3; do echo "[$s]"; echo "enabled = false"; done
  echo "[ftp.ftps]"; echo "enabled = false"
  echo "[pop3.pop3s]"; echo "enabled = false"
  echo "[limits]"; echo "max_conns_per_ip = 0"
  echo "[smtp]"; echo "addr = \"127.0.0.1:$P_PLUMB\""; echo 'domains = ["bench.test"]'
  echo "[smtp.submission]"; echo "enabled = false"
  echo "[smtp.submissions]"; echo "enabled = false"
} > "$work/plumb.toml"
"$work/plumb" serve --config "$work/plumb.toml" >/dev/null 2>"$work/plumb.log" &
pids+=($!)
waitport "$P_PLUMB" || die "plumb serve did not start: $(cat "$work/plumb.log")"
MD_PLUMB="$work/plumb-data/mail/bench"

# --- Postfix, a private instance ---------------------------------------
P_POSTFIX=$(freeport)
pf="$work/postfix"
mkdir -p "$pf" "$work/postfix-queue" "$work/postfix-data" "$work/postfix-mail"
chown postfix "$work/postfix-data"
chown nobody:nogroup "$work/postfix-mail"
cat > "$pf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $work/postfix-queue
data_directory = $work/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $work/postfix-mail
virtual_mailbox_maps = static:bench/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
virtual_destination_concurrency_limit = $SESSIONS
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
anvil_rate_time_unit = 60s
maillog_file = /dev/stdout
alias_maps =
alias_database =
biff = no
CF
cat > "$pf/master.cf" <<CF
127.0.0.1:$P_POSTFIX inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
local     unix - n n - - local
virtual   unix - n n - - virtual
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
showq     unix n - n - - showq
CF
postfix -c "$pf" check >"$work/postfix.log" 2>&1 || die "postfix check failed: $(tail "$work/postfix.log")"
postfix -c "$pf" start-fg >>"$work/postfix.log" 2>&1 &
pids+=($!)
waitport "$P_POSTFIX" || die "postfix did not listen on $P_POSTFIX: $(tail "$work/postfix.log")"
MD_POSTFIX="$work/postfix-mail/bench"

# --- aiosmtpd ------------------------------------------------------------
P_AIO=$(freeport)
MD_AIO="$work/aiosmtpd-mail"
mkfifo "$work/aio.in"
"$PY" bench/smtp/aiosmtpd_maildir.py "$P_AIO" "$MD_AIO" < "$work/aio.in" > "$work/aio.out" 2>&1 &
pids+=($!)
exec 9>"$work/aio.in"
waitport "$P_AIO" || die "aiosmtpd did not start: $(cat "$work/aio.out")"

# run NAME PORT MAILDIR RCPT: one round; prints "accept_s deliver_s"
run() {
  local before target t0 t1 t2
  before=$(count "$3")
  target=$((before + MESSAGES))
  t0=$(now)
  smtp-source -d -c -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f bench@sender.test -t "$4" "127.0.0.1:$2" >/dev/null
  t1=$(now)
  for _ in $(seq 6000); do
    [ "$(count "$3")" -ge "$target" ] && break
    sleep 0.05
  done
  t2=$(now)
  [ "$(count "$3")" -ge "$target" ] || die "$1: only $(( $(count "$3") - before )) of $MESSAGES messages delivered"
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$t2 - $t0" | bc -l)"
}

declare -A best_acc best_del
for r in $(seq "$ROUNDS"); do
  for s in plumb postfix aiosmtpd; do
    case $s in
      plumb) res=$(run plumb "$P_PLUMB" "$MD_PLUMB" bench@bench.test) ;;
      postfix) res=$(run postfix "$P_POSTFIX" "$MD_POSTFIX" bench@bench.test) ;;
      aiosmtpd) res=$(run aiosmtpd "$P_AIO" "$MD_AIO" bench@bench.test) ;;
    esac
    read -r acc del <<<"$res"
    echo "round $r $s: accepted in ${acc}s, delivered in ${del}s" >&2
    if [ -z "${best_acc[$s]:-}" ] || (( $(echo "$acc < ${best_acc[$s]}" | bc -l) )); then best_acc[$s]=$acc; fi
    if [ -z "${best_del[$s]:-}" ] || (( $(echo "$del < ${best_del[$s]}" | bc -l) )); then best_del[$s]=$del; fi
  done
done

rate() { printf '%.0f' "$(echo "$MESSAGES / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$2 / $1" | bc -l)"; }
echo
echo "SMTP: $MESSAGES messages of $SIZE bytes over $SESSIONS sessions (smtp-source -d), best of $ROUNDS"
echo
echo "| server | accepted msg/s (250 after fsync) | in Maildir msg/s | vs Postfix (in Maildir) |"
echo "|---|---|---|---|"
for s in plumb postfix aiosmtpd; do
  echo "| $s | $(rate "${best_acc[$s]}") | $(rate "${best_del[$s]}") | $(ratio "${best_del[$s]}" "${best_del[postfix]}")x |"
done
