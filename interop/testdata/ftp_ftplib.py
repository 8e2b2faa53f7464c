"""Drive plumb's FTP server with Python's ftplib and print what happened as JSON.

usage: ftp_ftplib.py MODE HOST PORT USER PASSWORD [ARGS...]

MODE is one of
  session PLAIN|TLS|TLS-STOCK BIGFILE   the whole tour (see tour below)
  abuse                                 bounce, long line, escapes, cut-off uploads
  slowlogin N                           N failed logins, then time one good one
"""
import ftplib
import hashlib
import io
import json
import os
import socket
import ssl
import struct
import sys
import time


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS
    session, as servers requiring session reuse (vsftpd, plumb) expect.
    Python's own FTP_TLS does not do this."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect(kind, host, port, user, password, cafile=None):
    if kind == "PLAIN":
        f = ftplib.FTP()
    else:
        ctx = ssl.create_default_context(cafile=cafile)
        cls = ReusingFTP_TLS if kind == "TLS" else ftplib.FTP_TLS
        f = cls(context=ctx)
    f.encoding = "utf-8"
    f.connect(host, int(port), timeout=60)
    if kind != "PLAIN":
        f.auth()
    f.login(user, password)
    if kind != "PLAIN":
        f.prot_p()
    return f


def sha256_of_retr(f, name, rest=None):
    h = hashlib.sha256()
    n = [0]

    def take(b):
        h.update(b)
        n[0] += len(b)

    f.retrbinary("RETR " + name, take, blocksize=1 << 20, rest=rest)
    return h.hexdigest(), n[0]


def code(e):
    return int(str(e)[:3])


def tour(kind, host, port, user, password, bigfile, cafile):
    out = {}
    f = connect(kind, host, port, user, password, cafile)
    out["welcome"] = f.getwelcome()
    out["pwd"] = f.pwd()
    d = "dir ü space"
    out["mkd"] = f.mkd(d)
    f.cwd(d)
    out["pwd2"] = f.pwd()
    f.cwd("..")

    t0 = time.time()
    with open(bigfile, "rb") as src:
        out["stor"] = f.storbinary("STOR " + d + "/big.bin", src, blocksize=1 << 20)
    out["stor_seconds"] = time.time() - t0
    t0 = time.time()
    out["retr_sha256"], out["retr_bytes"] = sha256_of_retr(f, d + "/big.bin")
    out["retr_seconds"] = time.time() - t0
    out["size"] = f.size(d + "/big.bin")

    # REST: download the tail only.
    out["rest_sha256"], out["rest_bytes"] = sha256_of_retr(f, d + "/big.bin", rest=1000)

    # APPE, and REST + STOR to resume an upload.
    f.storbinary("STOR small.txt", io.BytesIO(b"hello "))
    f.storbinary("APPE small.txt", io.BytesIO(b"world"))
    f.storbinary("STOR small.txt", io.BytesIO(b"WORLD"), rest=6)
    buf = io.BytesIO()
    f.retrbinary("RETR small.txt", buf.write)
    out["small"] = buf.getvalue().decode()

    # UTF-8 names in every listing.
    f.storbinary("STOR 日本語 ファイル.txt", io.BytesIO(b"x"))
    lines = []
    f.retrlines("LIST", lines.append)
    out["list"] = lines
    out["nlst"] = sorted(f.nlst())
    out["mlsd"] = {name: facts for name, facts in f.mlsd()}

    out["rename"] = f.rename("small.txt", d + "/renamed.txt")
    out["delete"] = f.delete(d + "/renamed.txt")
    f.delete(d + "/big.bin")
    out["rmd"] = f.rmd(d)
    out["after"] = sorted(f.nlst())
    out["quit"] = f.quit()
    return out


def tour_stock_tls(host, port, user, password, cafile):
    # Python's own FTP_TLS does not resume the session on data connections.
    f = connect("TLS-STOCK", host, port, user, password, cafile)
    out = {}
    try:
        f.nlst()
        out["nlst"] = "ok"
    except ftplib.Error as e:
        out["nlst"] = str(e)
    except (ssl.SSLError, OSError) as e:
        out["nlst"] = "tls error: " + str(e)
    return out


def abuse(host, port, user, password):
    out = {}
    f = connect("PLAIN", host, port, user, password)
    for name, cmd in [("port_third_party", "PORT 10,9,8,7,200,10"),
                      ("eprt_third_party", "EPRT |1|192.0.2.1|5000|"),
                      ("long_line", "NOOP " + "x" * 2000),
                      ("retr_dotdot", "RETR ../../accounts.toml"),
                      ("retr_symlink", "RETR escape"),
                      ("cwd_symlink", "CWD escape-dir")]:
        try:
            out[name] = f.sendcmd(cmd)
        except ftplib.Error as e:
            out[name] = str(e)
    out["after_long_line"] = f.voidcmd("NOOP")
    out["pwd_after_cdup"] = (f.cwd("/"), f.sendcmd("CDUP"), f.pwd())[2]

    # An upload whose data connection is reset mid-way.
    f.voidcmd("TYPE I")
    conn = f.transfercmd("STOR reset.bin")
    conn.sendall(os.urandom(1 << 20))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    try:
        out["reset_reply"] = f.voidresp()
    except ftplib.Error as e:
        out["reset_reply"] = str(e)
    out["listing"] = sorted(f.nlst())
    f.quit()
    return out


def killed(host, port, user, password):
    # Start an upload, send part of it, and die without closing anything.
    f = connect("PLAIN", host, port, user, password)
    f.voidcmd("TYPE I")
    conn = f.transfercmd("STOR killed.bin")
    conn.sendall(os.urandom(1 << 20))
    sys.stdout.flush()
    os._exit(0)


def slowlogin(host, port, user, password, n):
    out = {"failures": 0}
    while out["failures"] < n:
        f = ftplib.FTP()
        f.connect(host, int(port), timeout=60)
        try:
            while out["failures"] < n:
                try:
                    f.login(user, "wrong password")
                except ftplib.error_perm:
                    out["failures"] += 1
        except (EOFError, OSError, ftplib.Error):
            pass
        finally:
            f.close()
    f = ftplib.FTP()
    f.connect(host, int(port), timeout=60)
    t0 = time.time()
    try:
        f.login(user, password)
        out["login"] = "ok"
    except ftplib.Error as e:
        out["login"] = str(e)
    out["seconds"] = time.time() - t0
    f.close()
    return out


def main():
    mode, host, port, user, password = sys.argv[1:6]
    rest = sys.argv[6:]
    if mode == "session":
        kind, bigfile = rest[0], rest[1]
        cafile = rest[2] if len(rest) > 2 else None
        if kind == "TLS-STOCK":
            res = tour_stock_tls(host, port, user, password, cafile)
        else:
            res = tour(kind, host, port, user, password, bigfile, cafile)
    elif mode == "abuse":
        res = abuse(host, port, user, password)
    elif mode == "killed":
        killed(host, port, user, password)
    elif mode == "slowlogin":
        res = slowlogin(host, port, user, password, int(rest[0]))
    else:
        sys.exit("unknown mode " + mode)
    json.dump(res, sys.stdout, ensure_ascii=False)


main()
