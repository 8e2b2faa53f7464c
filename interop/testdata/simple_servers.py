"""Python socketserver servers for the small services (RFC 862-868), as
independent peers for plumb's clients.

usage: simple_servers.py
Binds echo, daytime, qotd, chargen and time on 127.0.0.1, TCP and UDP,
on free ports, prints {"echo": PORT, ...} as one JSON line (each
service's TCP and UDP share the port) and serves until killed.
"""
import json
import socket
import socketserver
import struct
import sys
import threading
import time

DAYTIME = "Tuesday, February 22, 1982 17:37:43-PST\r\n"
QUOTE = "Python peer: simple is better than complex.\r\n"
FIXED_TIME = 2208988800 + 500000000  # 1985-11-05 00:53:20 UTC


def ring_line(n):
    return "".join(chr(32 + (n + i) % 95) for i in range(72)) + "\r\n"


PATTERN = "".join(ring_line(n) for n in range(95)).encode()


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UDPServer(socketserver.ThreadingUDPServer):
    allow_reuse_address = True
    daemon_threads = True
    max_packet_size = 65535


def reply_handlers(payload_fn):
    class T(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(payload_fn())

    class U(socketserver.BaseRequestHandler):
        def handle(self):
            _, sock = self.request
            sock.sendto(payload_fn(), self.client_address)

    return T, U


class EchoTCP(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(65536)
            if not b:
                return
            self.request.sendall(b)


class EchoUDP(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class ChargenTCP(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                self.request.sendall(PATTERN)
        except OSError:
            return


class ChargenUDP(socketserver.BaseRequestHandler):
    def handle(self):
        _, sock = self.request
        sock.sendto(PATTERN[:512], self.client_address)


def serve_pair(tcp_handler, udp_handler):
    tcp = TCPServer(("127.0.0.1", 0), tcp_handler)
    port = tcp.server_address[1]
    udp = UDPServer(("127.0.0.1", port), udp_handler)
    for s in (tcp, udp):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return port


def main():
    ports = {
        "echo": serve_pair(EchoTCP, EchoUDP),
        "daytime": serve_pair(*reply_handlers(lambda: DAYTIME.encode())),
        "qotd": serve_pair(*reply_handlers(lambda: QUOTE.encode())),
        "time": serve_pair(*reply_handlers(lambda: struct.pack("!I", FIXED_TIME))),
        "chargen": serve_pair(ChargenTCP, ChargenUDP),
    }
    print(json.dumps(ports), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
