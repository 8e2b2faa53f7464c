"""Python's SimpleXMLRPCServer as the peer of plumb's XML-RPC client.

usage: xmlrpc_server.py
Serves on a free 127.0.0.1 port with allow_none, the multicall and the
introspection functions, prints "PORT n" and serves until killed. Its
methods: echo(*args) returns its arguments as a list; add(a, b);
fault(code, text) raises that fault; kinds(*args) returns the Python
type name of each argument; nothing() returns None.
"""
import sys
import xmlrpc.client as xc
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def log_message(self, *a):
        pass


server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, allow_none=True,
                            use_builtin_types=True, logRequests=False)
server.register_introspection_functions()
server.register_multicall_functions()


def echo(*args):
    return list(args)


def add(a, b):
    """Adds two numbers."""
    return a + b


def fault(code, text):
    raise xc.Fault(code, text)


def kinds(*args):
    return [type(a).__name__ for a in args]


def nothing():
    return None


for f in (echo, add, fault, kinds, nothing):
    server.register_function(f)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
