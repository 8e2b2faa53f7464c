"""Print, as JSON, what Python's socket module (the C library) answers
for the queries given as a JSON document on stdin:
  {"services": [[name, proto], ...], "ports": [[port, proto], ...],
   "hosts": [name, ...], "addrs": [ip, ...], "addrinfo": [[host, service], ...]}
proto may be null. An error is reported as {"error": "..."}.
"""
import json
import socket
import sys


def attempt(f, *args):
    try:
        return f(*args)
    except (OSError, socket.gaierror, socket.herror) as e:
        return {"error": str(e)}


def addrinfo(host, service):
    res = attempt(socket.getaddrinfo, host, service)
    if isinstance(res, dict):
        return res
    return [{"family": fam.name, "socktype": typ.name, "protocol": proto,
             "address": sa[0], "port": sa[1]} for fam, typ, proto, _, sa in res]


def main():
    q = json.load(sys.stdin)
    out = {
        "services": [attempt(lambda n, p: socket.getservbyname(n, p) if p else socket.getservbyname(n), n, p)
                     for n, p in q.get("services", [])],
        "ports": [attempt(lambda n, p: socket.getservbyport(n, p) if p else socket.getservbyport(n), n, p)
                  for n, p in q.get("ports", [])],
        "hosts": [attempt(socket.gethostbyname_ex, h) for h in q.get("hosts", [])],
        "addrs": [attempt(socket.gethostbyaddr, a) for a in q.get("addrs", [])],
        "addrinfo": [addrinfo(h, s) for h, s in q.get("addrinfo", [])],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
