"""Drive an NNTP server with Python's nntplib and print what it saw as JSON.

usage: nntp_nntplib.py HOST PORT USER PASSWORD GROUP
Upgrades with STARTTLS (certificate not verified: the server's is
self-signed), logs in, posts one article to GROUP, then reads the group
back with group, over, article, head, body, newnews and list.
"""
import datetime
import json
import nntplib
import ssl
import sys

host, port, user, password, group = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
out = {}
s = nntplib.NNTP(host, port, timeout=20)
out["welcome"] = s.getwelcome()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(ctx)
out["tls"] = s.tls_on
s.login(user, password)
since = datetime.datetime.now() - datetime.timedelta(days=1)
article = [
    b"From: nntplib <nntplib@example.org>",
    b"Newsgroups: " + group.encode(),
    b"Subject: posted by nntplib",
    b"Message-ID: <nntplib-1@example.org>",
    b"",
    b"Hello from nntplib.",
    b".a line that starts with a dot",
]
out["post"] = s.post(article)
resp, count, first, last, name = s.group(group)
out["group"] = [count, first, last, name]
resp, overviews = s.over((first, last))
out["over"] = [[n, o["subject"], o["message-id"], o[":bytes"], o[":lines"]] for n, o in overviews]
resp, info = s.article(last)
out["article"] = [l.decode() for l in info.lines]
resp, info = s.head("<nntplib-1@example.org>")
out["head"] = [l.decode() for l in info.lines]
resp, info = s.body(last)
out["body"] = [l.decode() for l in info.lines]
resp, ids = s.newnews(group, since)
out["newnews"] = ids
resp, groups = s.list()
out["list"] = [[g.group, int(g.last), int(g.first), g.flag] for g in groups]
try:
    s.post([b"From: x@y", b"Newsgroups: " + group.encode(), b"", b"no subject"])
    out["bad_post"] = "accepted"
except nntplib.NNTPError as e:
    out["bad_post"] = str(e)
s.quit()
print(json.dumps(out))
