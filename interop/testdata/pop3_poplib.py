"""Drive a POP3 server with Python's poplib and print what it saw as JSON.

usage: pop3_poplib.py MODE HOST PORT USER SECRET
MODE: user (USER/PASS), apop (APOP with SECRET), stls (STLS then
USER/PASS), ssl (POP3_SSL). Every mode lists, reads every message with
RETR and TOP, marks message 1 deleted and quits; the test checks the
store afterwards. Messages are returned as hex of the CRLF-joined lines.
"""
import json
import poplib
import ssl
import sys

mode, host, port, user, secret = sys.argv[1:6]
port = int(port)
ctx = ssl._create_unverified_context()
if mode == "ssl":
    p = poplib.POP3_SSL(host, port, context=ctx, timeout=10)
else:
    p = poplib.POP3(host, port, timeout=10)
out = {"welcome": p.getwelcome().decode()}
if mode == "stls":
    p.stls(context=ctx)
if mode == "apop":
    out["login"] = p.apop(user, secret).decode()
else:
    p.user(user)
    out["login"] = p.pass_(secret).decode()
out["capa"] = sorted(p.capa().keys())
out["stat"] = list(p.stat())
resp, lines, _ = p.list()
out["list"] = [l.decode() for l in lines]
resp, lines, _ = p.uidl()
out["uidl"] = [l.decode() for l in lines]
out["retr"] = []
out["octets"] = []
for i in range(1, out["stat"][0] + 1):
    resp, lines, octets = p.retr(i)
    out["retr"].append((b"\r\n".join(lines) + b"\r\n").hex())
    out["octets"].append(octets)
if out["stat"][0] > 0:
    resp, lines, _ = p.top(1, 0)
    out["top"] = (b"\r\n".join(lines) + b"\r\n").hex()
    out["dele"] = p.dele(1).decode()
out["quit"] = p.quit().decode()
print(json.dumps(out))
