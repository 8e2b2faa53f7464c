"""Drive an IMAP server with Python's imaplib and print what it saw as JSON.

usage: imap_imaplib.py MODE HOST PORT USER PASSWORD SMTPHOST SMTPPORT
MODE: plain (LOGIN on a plain connection), starttls (STARTTLS, then
LOGIN), ssl (IMAP4_SSL). Every mode selects INBOX, searches, fetches
ENVELOPE, BODYSTRUCTURE and a partial body, stores flags, copies and
moves, appends a 10 MB message, and waits in IDLE while smtplib
delivers a message to the same user over SMTP.
"""
import json
import imaplib
import smtplib
import ssl
import sys
import time

mode, host, port, user, password, smtphost, smtpport = sys.argv[1:8]
port = int(port)
ctx = ssl._create_unverified_context()
if mode == "ssl":
    M = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=20)
else:
    M = imaplib.IMAP4(host, port, timeout=20)
out = {"capabilities": list(M.capabilities)}
if mode == "starttls":
    out["starttls"] = M.starttls(ssl_context=ctx)[0]
    out["capabilities_tls"] = list(M.capabilities)


def s(x):
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, tuple):
        return [s(i) for i in x]
    if isinstance(x, list):
        return [s(i) for i in x]
    return x


out["login"] = M.login(user, password)[0]
typ, data = M.select("INBOX")
out["select"] = [typ, s(data)]
out["search"] = {}
for q in ['ALL', '(FROM "alice")', '(SUBJECT "plan" UNSEEN)', '(OR FROM bob SUBJECT plan)',
          '(BODY "quarterly")', '(LARGER 100 NOT DELETED)', '(SINCE 1-Jan-2000 TEXT "numbers")']:
    typ, data = M.search(None, q)
    out["search"][q] = s(data[0]).split()
typ, data = M.fetch("1", "(ENVELOPE BODYSTRUCTURE RFC822.SIZE)")
out["fetch_structure"] = s(data[0])
typ, data = M.fetch("1", "(BODY.PEEK[1]<0.10>)")
out["fetch_partial"] = s(data[0][1])
typ, data = M.uid("FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
out["fetch_header"] = s(data[0][1])
out["store"] = s(M.store("1", "+FLAGS", "(\\Flagged \\Seen)")[1])
out["copy"] = M.copy("1:2", "Archive")[0]
out["move"] = s(M._simple_command("MOVE", "2", "Trash"))
out["after_move"] = s(M.response("EXPUNGE")[1])
big = b"Subject: big\r\nFrom: big@example.org\r\n\r\n" + (b"x" * 998 + b"\r\n") * 10500
out["big_size"] = len(big)
typ, data = M.append("INBOX", "(\\Seen)", None, big)
out["append"] = [typ, s(data)]
typ, data = M.select("INBOX")
n = int(data[0])
typ, data = M.fetch(str(n), "(RFC822.SIZE)")
out["big_fetched_size"] = s(data[0])

# IDLE (imaplib of 3.11 has no idle()): send it, deliver over SMTP, read.
tag = M._new_tag()
M.send(tag + b" IDLE\r\n")
out["idle_cont"] = s(M.readline().strip())
t0 = time.monotonic()
with smtplib.SMTP(smtphost, int(smtpport), timeout=10) as smtp:
    smtp.sendmail("carol@example.org", [user + "@localhost"], b"From: carol@example.org\r\nSubject: while idle\r\n\r\nhi\r\n")
t1 = time.monotonic()
line = M.readline().strip()
out["idle_update"] = s(line)
out["idle_wake_ms"] = (time.monotonic() - t1) * 1000
while not line.endswith(b"EXISTS"):
    line = M.readline().strip()
M.send(b"DONE\r\n")
while True:
    line = M.readline()
    if line.startswith(tag):
        out["idle_done"] = s(line.strip())
        break
out["logout"] = M.logout()[0]
print(json.dumps(out))
