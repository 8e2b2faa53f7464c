"""Python's urllib.request and http.client against plumb's HTTP service.

Usage: http_python_client.py HOST:PORT USER PASSWORD
Prints one JSON object with what each step saw.
"""
import base64
import http.client
import json
import sys
import urllib.error
import urllib.request

addr, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}

with urllib.request.urlopen(f"http://{addr}/hello.txt", timeout=20) as r:
    out["get"] = r.read().decode()
    out["etag"] = r.headers["ETag"]
    out["type"] = r.headers["Content-Type"]

req = urllib.request.Request(f"http://{addr}/hello.txt", headers={"Range": "bytes=7-11"})
with urllib.request.urlopen(req, timeout=20) as r:
    out["range_status"] = r.status
    out["range"] = r.read().decode()

req = urllib.request.Request(f"http://{addr}/hello.txt", headers={"If-None-Match": out["etag"]})
try:
    urllib.request.urlopen(req, timeout=20)
    out["conditional"] = 200
except urllib.error.HTTPError as e:
    out["conditional"] = e.code

req = urllib.request.Request(f"http://{addr}/sub/", headers={"Accept": "application/json"})
with urllib.request.urlopen(req, timeout=20) as r:
    out["listing"] = [e["name"] for e in json.load(r)["entries"]]

c = http.client.HTTPConnection(addr, timeout=20)
auth = base64.b64encode(f"{user}:{password}".encode()).decode()
c.request("PUT", f"/~{user}/py.txt", body=b"from http.client", headers={"Authorization": "Basic " + auth})
r = c.getresponse()
r.read()
out["put"] = r.status
c.request("PUT", f"/~{user}/py.txt", body=b"again", headers={})
r = c.getresponse()
r.read()
out["put_noauth"] = r.status
c.request("GET", f"/~{user}/py.txt", headers={"Authorization": "Basic " + auth})
r = c.getresponse()
out["get_own"] = r.read().decode()
c.close()
print(json.dumps(out))
