"""Python's SimpleXMLRPCServer as it ships, for bench/xmlrpc/run.sh:
one request at a time, HTTP/1.0 (a connection per call), method add.
Prints "PORT n" and serves until killed."""
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)


server = SimpleXMLRPCServer(("127.0.0.1", 0), requestHandler=Handler, logRequests=False)
server.register_function(lambda a, b: a + b, "add")
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
