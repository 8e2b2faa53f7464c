"""Log in to plumb serve's telnet console with Python's telnetlib and
run console commands; print what each showed as JSON.

usage: telnet_telnetlib.py HOST PORT USER PASSWORD COMMAND...
"""
import json
import sys
import telnetlib

TIMEOUT = 10


def main():
    host, port, user, password = sys.argv[1:5]
    commands = sys.argv[5:]
    t = telnetlib.Telnet(host, int(port), TIMEOUT)
    out = {"banner": t.read_until(b"login: ", TIMEOUT).decode("utf-8", "replace")}
    t.write(user.encode() + b"\n")
    t.read_until(b"Password: ", TIMEOUT)
    t.write(password.encode() + b"\n")
    out["welcome"] = t.read_until(b"plumb> ", TIMEOUT).decode("utf-8", "replace")
    out["commands"] = {}
    for c in commands:
        t.write(c.encode() + b"\n")
        got = t.read_until(b"plumb> ", TIMEOUT).decode("utf-8", "replace")
        out["commands"][c] = got
    t.write(b"quit\n")
    out["end"] = t.read_all().decode("utf-8", "replace")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
