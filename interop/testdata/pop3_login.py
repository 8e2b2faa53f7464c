"""Log in to a POP3 server with USER/PASS and print the outcome.

usage: pop3_login.py HOST PORT USER PASSWORD
Prints the server's reply to PASS ("+OK ..." or "-ERR ...") on one line.
"""
import poplib
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = poplib.POP3(host, port, timeout=20)
try:
    p.user(user)
    print(p.pass_(password).decode("utf-8", "replace"))
    p.quit()
except poplib.error_proto as e:
    print(e.args[0].decode("utf-8", "replace") if isinstance(e.args[0], bytes) else e.args[0])
