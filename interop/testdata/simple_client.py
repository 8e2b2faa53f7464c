"""Python socket clients for plumb's small services (RFC 862-868).

usage: simple_client.py SERVICE=HOST:PORT ...   (SERVICE one of echo,
discard, daytime, qotd, chargen, time; each asked over TCP and UDP)

Prints one JSON object with what each service answered, for the Go test
to check. Written against the RFCs with the standard library only.
"""
import hashlib
import json
import os
import socket
import struct
import sys
import time

TIMEOUT = 10


def host_port(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def tcp_read_all(addr, send=b""):
    with socket.create_connection(addr, timeout=TIMEOUT) as s:
        if send:
            s.sendall(send)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                return b"".join(chunks)
            chunks.append(b)


def udp_ask(addr, payload=b""):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(payload, addr)
        data, _ = s.recvfrom(70000)
        return data


def echo(addr):
    out = {}
    # TCP: one connection, several messages, then a large block sent by a
    # thread-free interleaving of send and recv.
    with socket.create_connection(addr, timeout=TIMEOUT) as s:
        msgs = [b"hello\r\n", bytes(range(256)), os.urandom(100000)]
        got_all = []
        for m in msgs:
            s.sendall(m)
            got = b""
            while len(got) < len(m):
                b = s.recv(65536)
                if not b:
                    break
                got += b
            got_all.append(got == m)
        s.shutdown(socket.SHUT_WR)
        tail = s.recv(10)
        out["tcp_intact"] = got_all
        out["tcp_eof_after_half_close"] = tail == b""
    sizes = [0, 1, 1472, 65507]
    res = []
    for n in sizes:
        m = os.urandom(n)
        d = udp_ask(addr, m)
        res.append({"size": n, "got": len(d), "same": d == m})
    out["udp"] = res
    return out


def discard(addr):
    with socket.create_connection(addr, timeout=TIMEOUT) as s:
        s.sendall(b"x" * 200000)
        s.shutdown(socket.SHUT_WR)
        tcp = s.recv(100)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(0.3)
        u.sendto(b"into the void", addr)
        try:
            u.recvfrom(100)
            udp_answered = True
        except socket.timeout:
            udp_answered = False
    return {"tcp_reply": tcp.decode("latin-1"), "udp_answered": udp_answered}


def daytime(addr):
    return {"tcp": tcp_read_all(addr).decode("latin-1"), "udp": udp_ask(addr).decode("latin-1"),
            "now": time.time()}


def qotd(addr):
    return {"tcp": [tcp_read_all(addr).decode("utf-8") for _ in range(5)],
            "udp": [udp_ask(addr, b"x" * 1000).decode("utf-8") for _ in range(5)]}


def chargen(addr):
    with socket.create_connection(addr, timeout=TIMEOUT) as s:
        want = 74 * 200
        got = b""
        while len(got) < want:
            got += s.recv(65536)
    udp = [udp_ask(addr, b"y" * n).decode("latin-1") for n in (0, 10, 5000, 65507)]
    return {"tcp": got[:want].decode("latin-1"), "udp": udp}


def time_(addr):
    tcp = tcp_read_all(addr)
    udp = udp_ask(addr)
    return {"tcp": list(tcp), "udp": list(udp), "now": time.time(),
            "tcp_secs": struct.unpack("!I", tcp)[0] if len(tcp) == 4 else None,
            "udp_secs": struct.unpack("!I", udp)[0] if len(udp) == 4 else None}


def main():
    result = {}
    for arg in sys.argv[1:]:
        name, addr = arg.split("=", 1)
        fn = {"echo": echo, "discard": discard, "daytime": daytime, "qotd": qotd,
              "chargen": chargen, "time": time_}[name]
        result[name] = fn(host_port(addr))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
