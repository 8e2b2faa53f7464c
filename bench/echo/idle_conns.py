"""Opens N idle TCP connections to HOST:PORT, prints "ready N" when all
are open, holds them until standard input closes, then exits.

usage: idle_conns.py HOST PORT N
"""
import resource
import socket
import sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    conns.append(s)
print("ready", len(conns), flush=True)
sys.stdin.read()
