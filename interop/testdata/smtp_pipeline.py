"""Pipeline a whole SMTP transaction (RFC 2920) over a raw socket and
print every reply code in order as JSON.

Usage: smtp_pipeline.py HOST PORT FROM TO[,TO...] MSGFILE
"""
import json
import socket
import sys

host, port, sender, rcpts, msgfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(","), sys.argv[5]
body = open(msgfile, "rb").read()
s = socket.create_connection((host, port), timeout=30)
f = s.makefile("rb")


def reply():
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line.rstrip("\r\n"))
        if len(line) < 4 or line[3] != "-":
            return lines


codes = [reply()[-1][:3]]
batch = "EHLO pipeline.test\r\nMAIL FROM:<%s>\r\n" % sender
batch += "".join("RCPT TO:<%s>\r\n" % r for r in rcpts) + "DATA\r\n"
s.sendall(batch.encode())
ehlo = reply()
codes.append(ehlo[-1][:3])
for _ in range(1 + len(rcpts) + 1):
    codes.append(reply()[-1][:3])
stuffed = body.replace(b"\r\n.", b"\r\n..")
if stuffed.startswith(b"."):
    stuffed = b"." + stuffed
s.sendall(stuffed + b".\r\nQUIT\r\n")
codes.append(reply()[-1][:3])
codes.append(reply()[-1][:3])
print(json.dumps({"codes": codes, "pipelining": any("PIPELINING" in l for l in ehlo)}))
