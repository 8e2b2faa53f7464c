"""One step of a Python standard-library client against plumb serve, for
the fault-injection tests; prints what the client saw as JSON.

usage: chaos_clients.py PROTO HOST PORT ARG...
  smtp HOST PORT FROM TO SUBJECT      send one message with smtplib
  pop3 HOST PORT USER PASSWORD        log in with poplib, STAT, RETR 1
  imap HOST PORT USER PASSWORD        log in with imaplib, SELECT, FETCH 1 (BODY.PEEK[])
  ftp HOST PORT USER PASSWORD NAME    log in with ftplib, STOR NAME (passive)
  nntp HOST PORT USER PASSWORD GROUP SUBJECT
                                      STARTTLS, log in and POST with nntplib
A refusal is reported as {"error": "<class>", "reply": "<the server's reply>"}
under the step that was refused; the script itself exits 0.
"""
import ftplib
import imaplib
import io
import json
import nntplib
import poplib
import smtplib
import ssl
import sys
import time

proto, host, port, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
out = {}


def refusal(e):
    reply = ""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        code, msg = list(e.recipients.values())[0]
        reply = "%d %s" % (code, msg.decode(errors="replace"))
    elif isinstance(e, (smtplib.SMTPResponseException,)):
        reply = "%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace"))
    elif e.args:
        a = e.args[0]
        reply = a.decode(errors="replace") if isinstance(a, bytes) else str(a)
    return {"error": type(e).__name__, "reply": reply}


def step(name, fn):
    try:
        out[name] = fn()
        return True
    except Exception as e:  # the refusal is what the test looks at
        out[name] = refusal(e)
        return False


def ok(reply):
    """imaplib answers NO with a status rather than an exception."""
    typ, data = reply
    if typ != "OK":
        raise imaplib.IMAP4.error(data[0])
    return typ


def quietly(fn):
    try:
        fn()
    except Exception:  # the connection a fault closed
        pass


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


if proto == "smtp":
    sender, rcpt, subject = args
    msg = "From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nSent by smtplib.\r\n" % (sender, rcpt, subject)
    s = smtplib.SMTP(host, port, timeout=20)
    started = time.monotonic()
    step("send", lambda: (s.sendmail(sender, [rcpt], msg), "sent")[1])
    out["seconds"] = time.monotonic() - started
    quietly(s.quit)
elif proto == "pop3":
    user, password = args
    p = poplib.POP3(host, port, timeout=20)
    if step("login", lambda: (p.user(user), p.pass_(password).decode())[1]):
        out["stat"] = list(p.stat())
        step("retr", lambda: b"\n".join(p.retr(1)[1]).decode(errors="replace"))
    p.quit()
elif proto == "imap":
    user, password = args
    m = imaplib.IMAP4(host, port, timeout=20)
    if step("login", lambda: m.login(user, password)[0]):
        m.select("INBOX")
        step("fetch", lambda: ok(m.fetch("1", "(BODY.PEEK[])")))
        m.logout()
elif proto == "ftp":
    user, password, name = args
    f = ftplib.FTP(timeout=20)
    f.connect(host, port)
    f.login(user, password)
    step("stor", lambda: f.storbinary("STOR " + name, io.BytesIO(b"uploaded by ftplib\n")))
    f.quit()
elif proto == "nntp":
    user, password, group, subject = args
    n = nntplib.NNTP(host, port, timeout=20)
    if step("starttls", lambda: (n.starttls(tls_context()), "tls")[1]):
        n.login(user, password)
        article = [b"From: nntplib <nntplib@example.org>", b"Newsgroups: " + group.encode(),
                   b"Subject: " + subject.encode(), b"", b"Posted by nntplib."]
        step("post", lambda: n.post(article))
        out["count"] = n.group(group)[1]
    quietly(n.quit)
else:
    sys.exit("unknown protocol " + proto)
print(json.dumps(out))
