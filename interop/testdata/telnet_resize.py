"""Run plumb telnet on an 80x24 pseudo-terminal, log in to plumb serve's
console, resize the terminal to 132x50 and check that the console sees
both sizes (NAWS at the start, and again after SIGWINCH).

usage: telnet_resize.py USER PASSWORD -- COMMAND ARGS...
Everything the terminal showed is printed at the end; the exit status
is 0 on success, 124 when an expected text did not appear in time.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

DEADLINE = time.time() + 20


def main():
    user, password = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execvp(cmd[0], cmd)
    out = b""
    seen = 0

    def expect(text, within=None):
        nonlocal out, seen
        end = min(DEADLINE, time.time() + within) if within else DEADLINE
        want = text.encode()
        while out.find(want, seen) < 0:
            left = end - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    return out.find(want, seen) >= 0
                out += chunk
        seen = out.find(want, seen) + len(want)
        return True

    def fail(what):
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.stderr.write("telnet_resize: %s did not appear in time\n" % what)
        os.kill(pid, 9)
        sys.exit(124)

    steps = [("login: ", user), ("Password: ", password), ("plumb> ", "term"), ("size=80x24", None)]
    for want, send in steps:
        if not expect(want):
            fail(repr(want))
        if send is not None:
            os.write(fd, send.encode() + b"\r")
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 0))
    # The client sends NAWS when it handles SIGWINCH, which may come
    # after it passed on keys typed at once: ask until the size shows.
    for _ in range(10):
        os.write(fd, b"term\r")
        if expect("size=132x50", within=1.0):
            break
    else:
        fail("'size=132x50'")
    os.write(fd, b"quit\r")
    if not expect("Connection closed."):
        fail("'Connection closed.'")
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
