"""Python's SimpleXMLRPCServer as it ships, for bench/xmlrpc/run.sh:
one request at a time, HTTP/1.0 (a connection per call), method add.
The one change: a listen backlog of 128 instead of 5, so that many
clients connecting at once wait in the queue instead of timing out.
Prints "PORT n" and serves until killed."""
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)


class Server(SimpleXMLRPCServer):
    request_queue_size = 128


server = Server(("127.0.0.1", 0), requestHandler=Handler, logRequests=False)
server.register_function(lambda a, b: a + b, "add")
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
