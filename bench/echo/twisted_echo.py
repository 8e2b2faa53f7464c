"""Twisted's echo server (RFC 862), as in Twisted's own examples, on its
default (epoll) reactor. Needs Debian's python3-twisted: run it with
/usr/bin/python3.

usage: twisted_echo.py PORT   (binds 127.0.0.1)
"""
import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.Factory):
    protocol = Echo


if __name__ == "__main__":
    reactor.listenTCP(int(sys.argv[1]), EchoFactory(), backlog=4096, interface="127.0.0.1")
    reactor.run()
