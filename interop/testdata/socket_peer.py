"""Independent socket peers for plumb connect / plumb listen tests.

Modes (the port or path is printed on stdout first for servers):
  tcp-server SENDFILE          accept one TCP connection on 127.0.0.1, read
                               until EOF, print "received <sha256> <n>",
                               then send SENDFILE and close (answers only
                               after the peer's half-close)
  unix-server PATH SENDFILE    the same on a Unix-domain socket
  tcp-client PORT SENDFILE     connect, send SENDFILE, shut the write side,
                               read until EOF, print "received <sha256> <n>"
  tls-client PORT CAFILE SENDFILE   tcp-client over TLS, verifying the
                               server certificate for "localhost"; without
                               the half-close, which Python's ssl lacks
  udp-server COUNT             answer COUNT datagrams with their upper case
  udp-client PORT MESSAGE      send MESSAGE, print the reply
"""
import hashlib
import socket
import ssl
import sys

TIMEOUT = 30


def drain(conn):
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b)
        n += len(b)


def serve_stream(srv, sendfile):
    conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    digest, n = drain(conn)
    print("received", digest, n, flush=True)
    with open(sendfile, "rb") as f:
        conn.sendall(f.read())
    conn.close()


def client(conn, sendfile):
    with open(sendfile, "rb") as f:
        conn.sendall(f.read())
    if not isinstance(conn, ssl.SSLSocket):
        # Python's ssl cannot half-close (unwrap waits for the peer's
        # close_notify and fails on data before it), so over TLS the
        # client reads to EOF and then closes.
        conn.shutdown(socket.SHUT_WR)
    digest, n = drain(conn)
    print("received", digest, n, flush=True)
    conn.close()


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "tcp-server":
        srv = socket.create_server(("127.0.0.1", 0))
        srv.settimeout(TIMEOUT)
        print(srv.getsockname()[1], flush=True)
        serve_stream(srv, args[0])
    elif mode == "unix-server":
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(args[0])
        srv.listen(1)
        srv.settimeout(TIMEOUT)
        print(args[0], flush=True)
        serve_stream(srv, args[1])
    elif mode == "tcp-client":
        conn = socket.create_connection(("127.0.0.1", int(args[0])), timeout=TIMEOUT)
        client(conn, args[1])
    elif mode == "tls-client":
        ctx = ssl.create_default_context(cafile=args[1])
        raw = socket.create_connection(("127.0.0.1", int(args[0])), timeout=TIMEOUT)
        conn = ctx.wrap_socket(raw, server_hostname="localhost")
        print("tls", conn.version(), flush=True)
        client(conn, args[2])
    elif mode == "udp-server":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(TIMEOUT)
        print(s.getsockname()[1], flush=True)
        for _ in range(int(args[0])):
            data, peer = s.recvfrom(65535)
            s.sendto(data.upper(), peer)
    elif mode == "udp-client":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT)
        s.sendto(args[1].encode(), ("127.0.0.1", int(args[0])))
        data, _ = s.recvfrom(65535)
        print("reply", data.decode(), flush=True)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
