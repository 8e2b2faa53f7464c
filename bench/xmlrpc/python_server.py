"""Python's SimpleXMLRPCServer as it ships, for bench/xmlrpc/run.sh:
one request at a time, HTTP/1.0 (a connection per call), method add.
The one change: a listen backlog of 128 instead of 5, so that many
clients connecting at once wait in the queue instead of timing out.

With --keepalive, the request handler speaks HTTP/1.1
(protocol_version = "HTTP/1.1"), so that a connection carries many
calls, and the server is threaded (socketserver.ThreadingMixIn, a
thread per connection): single-threaded, it would serve the first
kept-alive connection alone until it closed, and the other clients
never. Prints "PORT n" and serves until killed."""
import socketserver
import sys
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler

keepalive = sys.argv[1:] == ["--keepalive"]
if sys.argv[1:] and not keepalive:
    sys.exit("usage: python_server.py [--keepalive]")


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)
    if keepalive:
        protocol_version = "HTTP/1.1"


class Server(SimpleXMLRPCServer):
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client closing its kept-alive connection is no error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ThreadingServer(socketserver.ThreadingMixIn, Server):
    daemon_threads = True


server = (ThreadingServer if keepalive else Server)(("127.0.0.1", 0), requestHandler=Handler, logRequests=False)
server.register_function(lambda a, b: a + b, "add")
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
