"""Python's XML-RPC engine without the network, for bench/xmlrpc/run.sh:
SimpleXMLRPCDispatcher._marshaled_dispatch, the method SimpleXMLRPCServer's
request handler calls with each request's body, on the request in the
file given (add(41, 1), the bytes wrk sends), in a timeit loop for the
seconds given; every answer is checked for 42. Prints the calls per
second of the process's CPU time (time.process_time, as bench/xmlrpc
-engine counts plumb's), so that other load on the machine does not
count.

usage: python3 python_engine.py bench/xmlrpc/add.xml SECONDS"""
import gc
import sys
import time
import timeit
from xmlrpc.server import SimpleXMLRPCDispatcher

request = open(sys.argv[1], "rb").read()
seconds = float(sys.argv[2])
dispatcher = SimpleXMLRPCDispatcher(allow_none=False, encoding=None)
dispatcher.register_function(lambda a, b: a + b, "add")


def call():
    if b"<int>42</int>" not in dispatcher._marshaled_dispatch(request):
        sys.exit("python_engine.py: the answer is not 42")


# timeit turns the garbage collector off while it times; a server runs
# with it on, so it is on here too.
timer = timeit.Timer(call, setup="gc.enable()", timer=time.process_time, globals={"gc": gc})
calls, spent = 0, 0.0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    spent += timer.timeit(1000)
    calls += 1000
print("%.0f" % (calls / spent))
