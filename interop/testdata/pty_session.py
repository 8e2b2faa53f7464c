"""Run a command on an 80x24 pseudo-terminal and play a dialogue with it.

usage: pty_session.py [STEP...] -- COMMAND ARGS...

Each STEP is one of
  expect:TEXT  wait until TEXT appears in the output after the previous match
  send:TEXT    type TEXT; backslash escapes (\\t, \\r, \\x03) are decoded
Everything the command wrote to the terminal is copied, byte for byte,
to standard output at the end. The exit status is the command's, or 124
when an expected text did not appear in time (the command is killed and
the missing text is named on standard error).
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

TIMEOUT = 8.0  # seconds for the whole dialogue


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    steps, cmd = args[:sep], args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execvp(cmd[0], cmd)
    out = b""
    seen = 0
    deadline = time.time() + TIMEOUT
    missing = None
    eof = False

    def pump(wait):
        nonlocal out, eof
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            return
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the command ended and its output is drained
            chunk = b""
        if not chunk:
            eof = True
        out += chunk

    for step in steps:
        kind, _, text = step.partition(":")
        if kind == "send":
            time.sleep(0.05)
            os.write(fd, text.encode().decode("unicode_escape").encode("latin-1"))
            continue
        want = text.encode()
        while out.find(want, seen) < 0 and not eof and time.time() < deadline:
            pump(0.1)
        i = out.find(want, seen)
        if i < 0:
            missing = text
            break
        seen = i + len(want)

    if missing is None:
        while not eof and time.time() < deadline:
            pump(0.1)
    done, status = os.waitpid(pid, os.WNOHANG)
    while done == 0 and missing is None and time.time() < deadline + 2:
        time.sleep(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    if missing is not None:
        sys.stderr.write("pty_session: %r did not appear within %gs\n" % (missing, TIMEOUT))
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
