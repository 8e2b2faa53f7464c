#!/usr/bin/env bash
# bench/nntp/run.sh: plumb serve's NNTP service and INN side by side on
# loopback, driven by bench/nntp (a Go program using plumb's client).
#
# Three servers carry one group, bench.test: plumb; INN as it runs by
# default ("inn"); and INN with its whole tree on an ext4 image mounted
# -o sync ("inn-sync"). For each, in one run:
#   idle   first, on the fresh server: the memory (PSS, INN's nnrpd
#          children included) per idle reader, IDLE (1,000) readers
#          after MODE READER and GROUP, then IDLE more under COMPRESS
#   feed   N (100,000) articles of 1-20 KiB over SESSIONS (10) sessions,
#          TAKETHIS when the server streams (all do), each answered only
#          once the server has the article: plumb, fsynced file and
#          journal; inn, written as INN writes (no fsync: not durable);
#          inn-sync, every write on disk before it returns (durable, the
#          fair row for "acknowledged only when durable on both")
#   over   OVER of the whole group in one session
#   read   READS (10,000) ARTICLE commands by number over SESSIONS sessions
# Ratios are to plumb. INN must run as the news user, and the image is
# loop-mounted: run as root. SYNC=0 leaves the inn-sync row out.
#
# usage: sudo bench/nntp/run.sh   (env: N=100000 READS=10000 SESSIONS=10 IDLE=1000 SYNC=1)
# Smoke: sudo N=200 READS=100 IDLE=10 bench/nntp/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-100000}
READS=${READS:-10000}
SESSIONS=${SESSIONS:-10}
IDLE=${IDLE:-1000}
INN=/usr/lib/news/bin

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$INN/innd" ] || die "INN is needed: apt-get install inn2"
[ "$(id -u)" = 0 ] || die "run as root: innd runs as the news user"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}" plumb-nntp-bench.XXXXXX)
chmod 755 "$work"
pids=()
servers=()
mounted=
cleanup() {
  for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$mounted" ] || umount "$mounted" || umount -l "$mounted" || true
  rm -rf "$work"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitport() {
  for _ in $(seq 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),timeout=1).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

echo "building plumb and the driver..." >&2
go build -o "$work/plumb" ./cmd/plumb
go build -o "$work/driver" ./bench/nntp

# plumb serve: NNTP alone, feeds from loopback.
pport=$(freeport)
mkdir -p "$work/plumb-data"
{
  echo "data = \"$work/plumb-data\""
  echo 'listen = "127.0.0.1"'
  echo '[admin]'; echo 'addr = "127.0.0.1:0"'
  for s in echo discard daytime qotd chargen time ftp ftp.ftps smtp smtp.submission smtp.submissions pop3 pop3.pop3s nntp.nntps; do
    printf '[%s]\nenabled = false\n' "$s"
  done
  printf '[nntp]\naddr = "127.0.0.1:%s"\nhostname = "plumb.bench"\nmax_article_bytes = 1048576\n' "$pport"
} > "$work/plumb.toml"
"$work/plumb" news group add bench.test --data "$work/plumb-data" >/dev/null
"$work/plumb" serve --config "$work/plumb.toml" >"$work/plumb.out" 2>&1 &
ppid=$!
pids+=("$ppid")
waitport "$pport" || die "plumb serve did not start: $(cat "$work/plumb.out")"

# start_inn DIR: an INN tree in DIR, innd in the foreground as news;
# sets inn_port and inn_pid.
start_inn() {
  local inn=$1 iport
  iport=$(freeport)
  mkdir -p "$inn"/{etc,db,spool/articles,spool/overview,run,log,tmp,outgoing,incoming,archive,http}
  for f in moderators distrib.pats control.ctl control.ctl.local innfeed.conf inn-secrets.conf passwd.nntp subscriptions localgroups nocem.ctl; do
    [ -e "/etc/news/$f" ] && cp "/etc/news/$f" "$inn/etc/"
  done
  cat > "$inn/etc/inn.conf" <<CONF
mta: "/bin/true %s"
organization: "plumb bench"
ovmethod: tradindexed
hismethod: hisv6
pathhost: inn.bench
pathnews: /usr/lib/news
domain: localdomain
mailcmd: /bin/true
port: $iport
bindaddress: 127.0.0.1
maxconnections: $((2 * IDLE + SESSIONS + 50))
enableoverview: true
storeonxref: true
wireformat: true
allownewnews: true
maxartsize: 1048576
pgpverify: false
docancels: none
doinnwatch: false
nnrpdloadlimit: 0
# (nnrpd turns readers away while the load average is over its default 16; the feed's fsyncs push it there)
pathetc: $inn/etc
pathdb: $inn/db
pathspool: $inn/spool
pathrun: $inn/run
pathlog: $inn/log
pathtmp: $inn/tmp
pathoverview: $inn/spool/overview
pathoutgoing: $inn/outgoing
pathincoming: $inn/incoming
patharchive: $inn/archive
pathhttp: $inn/http
pathfilter: $inn/etc/filter
CONF
  printf 'method tradspool {\n    newsgroups: *\n    class: 0\n}\n' > "$inn/etc/storage.conf"
  printf 'auth "local" {\n    hosts: "127.0.0.1"\n    default: "<local>"\n}\naccess "local" {\n    users: "<local>"\n    newsgroups: "*"\n    access: RPA\n}\n' > "$inn/etc/readers.conf"
  printf 'streaming: true\nmax-connections: 64\npeer ME {\n  hostname: "localhost, 127.0.0.1"\n}\n' > "$inn/etc/incoming.conf"
  printf 'ME:*::\n' > "$inn/etc/newsfeeds"
  printf '/remember/:10\n*:A:1:10:never\n' > "$inn/etc/expire.ctl"
  printf 'control 0000000000 0000000001 n\ncontrol.cancel 0000000000 0000000001 n\njunk 0000000000 0000000001 n\nbench.test 0000000000 0000000001 y\n' > "$inn/db/active"
  : > "$inn/db/active.times"; : > "$inn/db/newsgroups"; : > "$inn/db/history"
  chown -R news:news "$inn"
  (cd "$inn/db" && setpriv --reuid=news --regid=news --init-groups env INNCONF="$inn/etc/inn.conf" "$INN/makedbz" -i -o)
  # setsid, setpriv and env exec: $! is innd, the parent of its nnrpds.
  setsid setpriv --reuid=news --regid=news --init-groups env INNCONF="$inn/etc/inn.conf" "$INN/innd" -f >"$inn.out" 2>&1 &
  inn_pid=$!
  pids+=("$inn_pid")
  waitport "$iport" || die "innd did not start: $(cat "$inn.out")"
  inn_port=$iport
}

# INN as it runs by default: it writes its spool, overview and history
# without fsync (storage/tradspool writes and closes; history and active
# are written out every icdsynccount articles; inn.conf has no option
# to sync them), so its acknowledgement is not "durable".
start_inn "$work/inn"
servers+=("inn=127.0.0.1:$inn_port:$inn_pid")

# INN durable: the same tree on an ext4 image mounted -o sync (every
# write and directory change reaches the disk before the call returns),
# the image in the same filesystem as plumb's data. SYNC=0 leaves it out.
if [ "${SYNC:-1}" != 0 ]; then
  mkdir -p "$work/inn-sync"
  truncate -s "$(( N * 48 / 1024 + 512 ))M" "$work/inn-sync.img"
  if mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$work/inn-sync.img" && mount -o loop,sync "$work/inn-sync.img" "$work/inn-sync"; then
    mounted=$work/inn-sync
    start_inn "$work/inn-sync/inn"
    servers+=("inn-sync=127.0.0.1:$inn_port:$inn_pid")
  else
    echo "run.sh: cannot loop-mount an ext4 image with -o sync here: no inn-sync row" >&2
  fi
fi

echo "each server: $IDLE idle readers, then feeding $N articles, OVER and $READS ARTICLEs..." >&2
"$work/driver" -group bench.test -n "$N" -reads "$READS" -sessions "$SESSIONS" -idle "$IDLE" \
  "plumb=127.0.0.1:$pport:$ppid" "${servers[@]}"
