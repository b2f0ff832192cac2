#!/usr/bin/env python3
"""pty_drive.py - drive an interactive program through a real pseudo-terminal (stdlib pty only).

usage: pty_drive.py SCRIPT -- COMMAND [ARGS...]

SCRIPT is a text file of steps, one per line ('#' comments, blank lines ignored):
    expect REGEX        wait (default 60 s) until the output so far (after the last match) matches
    send TEXT           type TEXT followed by Enter (\\r). Escapes: \\n \\r \\t \\x03 (Ctrl-C) ...
    sendraw TEXT        type TEXT without Enter (escapes as above)
    timeout SECONDS     change the expect timeout
    sleep SECONDS       pause
    shell COMMAND       run COMMAND with /bin/sh (e.g. pull a token) and require exit status 0
Then waits for the program to exit. Prints everything the program wrote to stdout (so a test can
grep it), and exits with the program's exit status, or 124 when an expect timed out (the output
seen so far is printed to stderr).
"""
import os
import pty
import re
import select
import subprocess
import signal
import sys
import time


def unescape(s):
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1")


def main():
    if "--" not in sys.argv or sys.argv.index("--") != 2:
        sys.stderr.write(__doc__)
        return 2
    script = open(sys.argv[1], encoding="utf-8").read().splitlines()
    cmd = sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    pos = 0
    timeout = 60.0

    def read_some(wait):
        nonlocal out
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        out += data
        return True

    def fail(msg):
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.stderr.write("pty_drive: %s\n" % msg)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        sys.exit(124)

    for line in script:
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        verb, _, arg = line.partition(" ")
        if verb == "expect":
            rx = re.compile(arg.encode("utf-8"))
            deadline = time.time() + timeout
            while True:
                m = rx.search(out, pos)
                if m:
                    pos = m.end()
                    break
                left = deadline - time.time()
                if left <= 0:
                    fail("timed out waiting for /%s/" % arg)
                if not read_some(min(left, 0.5)):
                    m = rx.search(out, pos)
                    if m:
                        pos = m.end()
                        break
                    fail("program ended before /%s/ appeared" % arg)
        elif verb == "send":
            time.sleep(0.05)
            os.write(fd, unescape(arg) + b"\r")
        elif verb == "sendraw":
            time.sleep(0.05)
            os.write(fd, unescape(arg))
        elif verb == "timeout":
            timeout = float(arg)
        elif verb == "sleep":
            time.sleep(float(arg))
        elif verb == "shell":
            if subprocess.run(["/bin/sh", "-c", arg]).returncode != 0:
                fail("shell command failed: %s" % arg)
        else:
            fail("unknown script verb %r" % verb)
    deadline = time.time() + timeout
    while read_some(0.5):
        if time.time() > deadline:
            fail("program did not exit")
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
