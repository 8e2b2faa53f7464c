"""An aiosmtpd server that writes every message it accepts to a
directory: N.json (envelope) and N.eml (the bytes as received).

Usage: smtp_sink.py PORT DIR [reject-prefix]
Recipients starting with reject-prefix are refused with 550 5.1.1.
Prints "ready" when listening.
"""
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller

port, outdir = int(sys.argv[1]), sys.argv[2]
reject = sys.argv[3] if len(sys.argv) > 3 else None
counter = itertools.count(1)


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reject and address.startswith(reject):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        with open(os.path.join(outdir, "%d.eml.tmp" % n), "wb") as f:
            f.write(envelope.original_content)
        os.rename(os.path.join(outdir, "%d.eml.tmp" % n), os.path.join(outdir, "%d.eml" % n))
        with open(os.path.join(outdir, "%d.json" % n), "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "options": envelope.mail_options}, f)
        return "250 OK stored"


c = Controller(Sink(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
c.start()
print("ready", flush=True)
try:
    sys.stdin.read()  # runs until the test closes our stdin or kills us
finally:
    c.stop()
