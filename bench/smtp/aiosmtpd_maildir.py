"""aiosmtpd delivering every message to one Maildir, durably: the file
is written in tmp/, fsynced, renamed into new/ and new/ fsynced before
the 250 goes out, as plumb and Postfix do.

usage: aiosmtpd_maildir.py PORT MAILDIR
"""
import asyncio
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller

port, maildir = int(sys.argv[1]), sys.argv[2]
for sub in ("tmp", "new", "cur"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
host = socket.gethostname()
seq = 0


def deliver(data):
    global seq
    seq += 1
    name = "%d.M%dP%dQ%d.%s" % (int(time.time()), time.time_ns() % 1000000, os.getpid(), seq, host)
    tmp = os.path.join(maildir, "tmp", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(maildir, "new", name))
    d = os.open(os.path.join(maildir, "new"), os.O_RDONLY)
    try:
        os.fsync(d)
    finally:
        os.close(d)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        # In a worker thread so that one fsync does not stop every session.
        await asyncio.get_running_loop().run_in_executor(None, deliver, envelope.original_content)
        return "250 OK"


c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
print("ready", flush=True)
try:
    sys.stdin.read()
except KeyboardInterrupt:
    pass
finally:
    c.stop()
