#!/usr/bin/env bash
# dovecot-first.sh times what bench/webadmin's (a) times for plumb, the
# first search of a 100,000-message folder nothing has read yet, with
# Dovecot (Debian's dovecot-imapd) on the same files: SELECT of the
# folder (Dovecot builds its index), then UID SEARCH BODY needle7 (it
# reads every message; without an FTS plugin it reads them again for
# every body search, as the second search shows).
#
# Usage, as root, on the mailbox of a run with -keep:
#
#	go run ./bench/webadmin -plumb ./plumb -keep    # names its directory on standard error
#	bench/webadmin/dovecot-first.sh DIR/data/mail/bench
set -euo pipefail
src=${1:?usage: dovecot-first.sh MAILDIR}
dovecot=${DOVECOT:-/usr/sbin/dovecot}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
chmod 755 "$work" # mktemp makes it 0700: Dovecot's users could not reach their home
mkdir -p "$work/mail/bench" "$work/home" "$work/run" "$work/state"
cp -a "$src/cur" "$src/new" "$src/tmp" "$work/mail/bench/"
chown -R 65534:65534 "$work/mail" "$work/home" # Dovecot refuses to read mail as root
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "bench:{PLAIN}pw:65534:65534::$work/home::" >"$work/passwd"
cat >"$work/dovecot.conf" <<CONF
base_dir = $work/run
state_dir = $work/state
log_path = $work/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:$work/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $work/passwd
}
userdb {
  driver = passwd-file
  args = $work/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
CONF
"$dovecot" -F -c "$work/dovecot.conf" &
pid=$!
python3 - "$port" <<'PY'
import imaplib, sys, time
port = int(sys.argv[1])
for _ in range(100):  # up to 10 s for Dovecot to listen
    try:
        c = imaplib.IMAP4("127.0.0.1", port)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("dovecot did not listen on port %d" % port)
c.login("bench", "pw")
t0 = time.monotonic()
typ, data = c.select("INBOX")
t1 = time.monotonic()
typ, first = c.uid("SEARCH", "BODY", "needle7")
t2 = time.monotonic()
typ, second = c.uid("SEARCH", "BODY", "needle7")
t3 = time.monotonic()
c.logout()
n, hits = int(data[0]), len(first[0].split())
if typ != "OK" or hits == 0 or first != second:
    sys.exit("unexpected answers: %d hits, %r" % (hits, typ))
print("Dovecot, %d messages never read: SELECT %.0f ms, first UID SEARCH BODY %.0f ms (%d hits), "
      "together %.0f ms; second search %.0f ms" % (n, (t1-t0)*1e3, (t2-t1)*1e3, hits, (t2-t0)*1e3, (t3-t2)*1e3))
PY
