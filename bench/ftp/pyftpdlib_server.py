"""An independent FTP server for the FTP benchmark: pyftpdlib.

Usage: ftp_client_pyftpdlib.py DIR USER PASSWORD [CERTFILE KEYFILE]
Listens on a free 127.0.0.1 port, prints "PORT n" on stdout, serves DIR
read-write to USER and read-only to anonymous; with a certificate, offers AUTH TLS and requires
TLS on both control and data connections.
"""
import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.servers import FTPServer


def main():
    root, user, password = sys.argv[1:4]
    auth = DummyAuthorizer()
    auth.add_user(user, password, root, perm="elradfmwMT")
    auth.add_anonymous(root)
    if len(sys.argv) > 5:
        from pyftpdlib.handlers import TLS_FTPHandler as Handler
        Handler.certfile = sys.argv[4]
        Handler.keyfile = sys.argv[5]
        Handler.tls_control_required = True
        Handler.tls_data_required = True
    else:
        from pyftpdlib.handlers import FTPHandler as Handler
    Handler.authorizer = auth
    Handler.permit_foreign_addresses = False
    logging.basicConfig(level=logging.WARNING)
    server = FTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
