"""Send one message with Python's smtplib and print the outcome as JSON.

Usage: smtp_smtplib.py JOB.json, where JOB holds host, port, from, to
(a list), msgfile, and optionally ssl (implicit TLS), starttls, user,
password, options (MAIL parameters such as "SMTPUTF8").
"""
import json
import smtplib
import ssl
import sys


def main():
    job = json.load(open(sys.argv[1]))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = {"ok": False}
    msg = open(job["msgfile"], "rb").read()
    try:
        if job.get("ssl"):
            s = smtplib.SMTP_SSL(job["host"], job["port"], context=ctx, timeout=60)
        else:
            s = smtplib.SMTP(job["host"], job["port"], timeout=60)
        code, text = s.ehlo("smtplib.test")
        out["ehlo"] = text.decode("utf-8", "replace").split("\n")
        if job.get("starttls"):
            s.starttls(context=ctx)
            out["tls"] = True
            s.ehlo("smtplib.test")
        if job.get("user"):
            s.login(job["user"], job["password"])
            out["auth"] = True
        refused = s.sendmail(job["from"], job["to"], msg, mail_options=job.get("options", []))
        out["refused"] = {k: [v[0], v[1].decode("utf-8", "replace")] for k, v in refused.items()}
        out["ok"] = True
        s.quit()
    except smtplib.SMTPRecipientsRefused as e:
        out["refused"] = {k: [v[0], v[1].decode("utf-8", "replace")] for k, v in e.recipients.items()}
    except smtplib.SMTPResponseException as e:
        out["code"] = e.smtp_code
        out["error"] = e.smtp_error.decode("utf-8", "replace")
    except Exception as e:  # the test prints it
        out["error"] = repr(e)
    print(json.dumps(out))


main()
