"""Drive an NNTP server under COMPRESS DEFLATE (RFC 8054) with Python's
zlib as the peer's deflater and inflater, and print the replies as JSON.

usage: nntp_compress.py HOST PORT GROUP
After COMPRESS, each batch of commands is deflated with Z_SYNC_FLUSH;
the server's replies are read through one inflater for the whole
session, batch after batch, as RFC 8054 requires of a client.
"""
import json
import socket
import sys
import zlib

host, port, group = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=20)
f = s.makefile("rb")
out = {"greeting": f.readline().decode().rstrip("\r\n")}
s.sendall(b"COMPRESS DEFLATE\r\n")
out["compress"] = f.readline().decode().rstrip("\r\n")
deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
inflate = zlib.decompressobj(-15)
pending = b""


def reply_lines(n_multi_end):
    """Read inflated lines until n_multi_end lines are complete replies."""
    global pending
    lines = []
    while True:
        while b"\r\n" in pending:
            line, pending = pending.split(b"\r\n", 1)
            lines.append(line.decode())
            if n_multi_end(lines):
                return lines
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed; so far %r" % lines)
        pending += inflate.decompress(chunk)


def send(cmds):
    s.sendall(deflate.compress(cmds.encode()) + deflate.flush(zlib.Z_SYNC_FLUSH))


batches = []
send("MODE READER\r\nGROUP %s\r\n" % group)
batches.append(reply_lines(lambda ls: len(ls) == 2))
for n in ("1", "2", "3"):
    send("ARTICLE %s\r\n" % n)
    batches.append(reply_lines(lambda ls: ls[0][:3] != "220" or ls[-1] == "."))
send("OVER 1-3\r\nDATE\r\n")
batches.append(reply_lines(lambda ls: len(ls) >= 2 and ls[-2] == "." and ls[-1].startswith("111")))
send("QUIT\r\n")
batches.append(reply_lines(lambda ls: len(ls) == 1))
out["batches"] = batches
print(json.dumps(out))
