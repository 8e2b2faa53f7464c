"""Run a command on a pseudo-terminal and answer its password prompts.

usage: pty_password.py PROMPT ANSWER [PROMPT ANSWER...] -- COMMAND ARGS...

Each PROMPT is waited for in the output, then its ANSWER and a carriage
return are typed. Everything the command wrote to the terminal is
printed at the end, so the caller can check the secret was not echoed.
The exit status is the command's.
"""
import os
import pty
import select
import signal
import sys
import time

def main():
    args = sys.argv[1:]
    sep = args.index("--")
    pairs, cmd = args[:sep], args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    deadline = time.time() + 20
    pending = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs), 2)]
    seen = 0
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if pending and out.find(pending[0][0], seen) >= 0:
            prompt, answer = pending.pop(0)
            seen = out.find(prompt, seen) + len(prompt)
            time.sleep(0.05)
            os.write(fd, answer + b"\r")
    done, status = os.waitpid(pid, os.WNOHANG)
    while done == 0 and time.time() < deadline + 5:
        time.sleep(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:  # still running well past the deadline: end it
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.exit(os.waitstatus_to_exitcode(status))

main()
