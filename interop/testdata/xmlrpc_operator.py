"""Python's xmlrpc.client calling plumb serve's operator methods.

usage: xmlrpc_operator.py URL
URL carries the operator's user and password. Prints one JSON object:
the results of plumb.status, plumb.connections, plumb.users and
system.listMethods, or {"http_error": CODE} when the server refuses the
request at the HTTP level.
"""
import json
import sys
import xmlrpc.client as xc

p = xc.ServerProxy(sys.argv[1], allow_none=True, use_builtin_types=True)
try:
    out = {
        "status": p.plumb.status(),
        "connections": p.plumb.connections(),
        "users": p.plumb.users(),
        "methods": p.system.listMethods(),
    }
except xc.ProtocolError as e:
    out = {"http_error": e.errcode}
print(json.dumps(out, default=str))
