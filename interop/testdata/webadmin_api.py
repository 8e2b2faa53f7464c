"""Drives plumb serve's admin REST API as a user's test would, with only
the standard library: smtplib sends a mail, urllib waits for it, reads
it, marks it, deletes it, and uploads and reads back a file.

usage: webadmin_api.py ADMIN_URL SMTP_HOST SMTP_PORT
"""
import datetime
import json
import smtplib
import sys
import urllib.error
import urllib.parse
import urllib.request

admin, smtp_host, smtp_port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def api(method, path, body=None, ctype="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(admin + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        if resp.headers.get_content_type() == "application/json":
            return resp.status, json.loads(raw)
        return resp.status, raw


def api_error(method, path):
    try:
        api(method, path)
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert body["code"] == e.code, body
        return e.code, body["error"]
    raise AssertionError(f"{method} {path} succeeded")


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


since = datetime.datetime.now(datetime.timezone.utc).isoformat()
msg = (
    "From: Shop <shop@example.com>\r\n"
    "To: alice@localhost\r\n"
    "Subject: Reset your password\r\n"
    "X-Campaign: reset-42\r\n"
    "\r\n"
    "Your reset code is 314159.\r\n"
)
with smtplib.SMTP(smtp_host, smtp_port, timeout=30) as s:
    s.sendmail("shop@example.com", ["alice@localhost"], msg)

q = urllib.parse.urlencode({"to": "alice@localhost", "subject": "reset", "header": "X-Campaign:reset-42",
                            "since": since, "timeout": "20s"})
status, m = api("GET", "/api/wait?" + q)
check(status == 200 and m["subject"] == "Reset your password" and m["user"] == "alice", f"wait: {status} {m}")
ref = f"/api/messages/{m['user']}/{m['folder']}/{m['uid']}"

status, text = api("GET", ref + "/text")
check(b"reset code is 314159" in text, f"text: {text!r}")

status, got = api("POST", ref + "/flags", {"add": ["\\Seen"]})
check(got["flags"] == ["\\Seen"], f"flags: {got}")
status, unseen = api("GET", "/api/messages?user=alice&unseen=1")
check(unseen["total"] == 0, f"unseen after marking: {unseen}")

status, _ = api("DELETE", ref)
check(status == 204, f"delete: {status}")
code, err = api_error("GET", ref)
check(code == 404, f"get after delete: {code} {err}")

code, err = api_error("GET", "/api/wait?" + urllib.parse.urlencode({"subject": "never", "timeout": "0.2"}))
check(code == 408, f"wait for nothing: {code} {err}")

data = bytes(range(256)) * 40
status, info = api("PUT", "/api/files/anonymous/py/report.bin", data, "application/octet-stream")
check(status == 201 and info["size"] == len(data) and info["path"] == "anonymous/py/report.bin", f"put: {status} {info}")
status, back = api("GET", "/api/files/anonymous/py/report.bin")
check(back == data, "the file read back differs")
status, listing = api("GET", "/api/files/anonymous/py")
check([e["name"] for e in listing["entries"]] == ["report.bin"], f"listing: {listing}")
print("ok")
