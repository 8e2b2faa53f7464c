"""Python's xmlrpc.client against plumb's XML-RPC server.

usage: xmlrpc_client.py URL
Calls the interop test's methods (types, echo, add, fault, boom,
nothing) with every XML-RPC type, faults, system.multicall and the
introspection methods, asserting what comes back; exits non-zero on the
first difference and prints "ok" at the end.
"""
import datetime
import sys
import xmlrpc.client as xc

url = sys.argv[1]
p = xc.ServerProxy(url, allow_none=True, use_builtin_types=True)

when = datetime.datetime(2026, 12, 1, 10, 30, 15)
record = {"name": "plumb <&> \u00e9t\u00e9", "n": 7, "nested": {"list": [1, "two", 3.5, None], "empty": {}}}
args = [42, -2147483648, True, False, "h\u00e9llo <&> \"world\"\n\ttab", 3.25, -0.0001, when,
        b"\x00\x01binary\xff", record, [1, "two", [3, [4]], {}, []], None]


def check(name, got, want):
    if got != want or type(got) is not type(want):
        sys.exit(f"{name}: got {got!r} ({type(got).__name__}), want {want!r} ({type(want).__name__})")


# Every type, into typed Go parameters and back.
got = p.types(*args)
check("types length", len(got), len(args))
for i, (g, w) in enumerate(zip(got, args)):
    check(f"types[{i}]", g, w)

# An untyped method: whatever comes, goes back.
check("echo", p.echo(*args), args)
check("echo none", p.echo(), [])

# The nil extension as a result and as an argument.
check("nothing", p.nothing(), None)

# Integers past 32 bits come back as <i8>, which Python reads.
check("add", p.add(2, 3), 5)
check("add i8", p.add(2**30, 2**30), 2**31)


def fault_of(fn, *a):
    try:
        fn(*a)
    except xc.Fault as f:
        return f.faultCode, f.faultString
    sys.exit(f"{fn}: no fault")


check("fault code", fault_of(p.fault, 42, "custom trouble"), (42, "custom trouble"))
code, text = fault_of(p.nosuch)
check("unknown method", code, -32601)
code, text = fault_of(p.add, 1, "two")
check("bad argument", code, -32602)
code, text = fault_of(p.add, 1)
check("argument count", code, -32602)
code, text = fault_of(p.boom)
check("panic", (code, text), (-32603, "internal error in boom"))

# Introspection.
names = p.system.listMethods()
for n in ["add", "echo", "types", "system.listMethods", "system.methodHelp",
          "system.methodSignature", "system.multicall"]:
    if n not in names:
        sys.exit(f"system.listMethods lacks {n}: {names}")
check("methodHelp", p.system.methodHelp("add"), "Adds two integers.")
check("methodSignature", p.system.methodSignature("add"), [["int", "int", "int"]])

# system.multicall, with a fault in the middle.
mc = xc.MultiCall(p)
mc.add(1, 2)
mc.fault(7, "seven")
mc.echo("a", None)
mc.nothing()
res = mc()
check("multicall raw", res.results, [[3], {"faultCode": 7, "faultString": "seven"}, [["a", None]], [None]])
it = iter(res)
check("multicall 0", next(it), 3)
try:
    next(it)
    sys.exit("multicall 1: no fault")
except xc.Fault as f:
    check("multicall 1", f.faultCode, 7)

# Keep-alive: many calls over one connection.
for i in range(50):
    check("loop", p.add(i, i), 2 * i)

# A bad request at the HTTP level is a fault, not an error page.
t = xc.Transport()
try:
    t.request(url.split("//", 1)[1].split("/", 1)[0], "/" + url.split("//", 1)[1].split("/", 1)[1],
              b"<methodCall><methodName>add</methodName><params><param><value><int>x</int></value></param></params></methodCall>")
    sys.exit("a malformed int: no fault")
except xc.Fault as f:
    check("malformed int", f.faultCode, -32700)

print("ok")
