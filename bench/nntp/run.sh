#!/usr/bin/env bash
# bench/nntp/run.sh: plumb serve's NNTP service and INN side by side on
# loopback, driven by bench/nntp (a Go program using plumb's client).
#
# Both servers carry one group, bench.test. For each, in one run:
#   feed   N (100,000) articles of 1-20 KiB over SESSIONS (10) sessions,
#          TAKETHIS when the server streams (both do), each answered only
#          once the server has the article (plumb: fsynced file and
#          journal; INN: its history and spool, written as INN writes them)
#   over   OVER of the whole group in one session
#   read   READS (10,000) ARTICLE commands by number over SESSIONS sessions
#   idle   plumb's resident memory per idle reader, IDLE (1,000) readers
#          (INN forks an nnrpd per reader: no one-process figure)
# Ratios are to plumb. INN must run as the news user: run as root.
#
# usage: sudo bench/nntp/run.sh   (env: N=100000 READS=10000 SESSIONS=10 IDLE=1000)
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
cleanup() {
  for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
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

# INN: a temporary tree, innd in the foreground as news.
iport=$(freeport)
inn="$work/inn"
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
enableoverview: true
storeonxref: true
wireformat: true
allownewnews: true
maxartsize: 1048576
pgpverify: false
docancels: none
doinnwatch: false
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
setsid setpriv --reuid=news --regid=news --init-groups env INNCONF="$inn/etc/inn.conf" "$INN/innd" -f >"$work/inn.out" 2>&1 &
pids+=("$!")
waitport "$iport" || die "innd did not start: $(cat "$work/inn.out")"

echo "feeding $N articles to each, then OVER and $READS ARTICLEs..." >&2
"$work/driver" -group bench.test -n "$N" -reads "$READS" -sessions "$SESSIONS" -idle "$IDLE" \
  "plumb=127.0.0.1:$pport:$ppid" "inn=127.0.0.1:$iport"
