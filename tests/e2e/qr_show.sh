#!/usr/bin/env bash
# qr_show.sh - offca qr show on a real pseudo-terminal: --step moves on at a key press and q quits;
# on a timer Ctrl-C stops it; the terminal is left usable (exit 0).
source "$(dirname "$0")/../lib/e2e.sh"
need python3
need openssl
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/k.pem" -subj "/CN=show.example.com" \
  -outform DER -out "$T/csr.der" 2>/dev/null
python3 - "$OFFCA" "$T/csr.der" <<'PY' || fail "show on a pty"
import os, pty, select, sys, time
offca, csr = sys.argv[1], sys.argv[2]

def run(args, keys):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(offca, [offca, "qr", "show", csr] + args)
    out = b""
    def read(t):
        nonlocal out
        end = time.time() + t
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return
    counts = []
    read(2)
    for k in keys:
        counts.append(out.count(b"  frame "))
        os.write(fd, k)
        read(1)
    _, st = os.waitpid(pid, 0)
    return counts, out, st

counts, out, st = run(["--step"], [b" ", b"q"])
assert counts == [1, 2], counts
assert "\u2580".encode() in out or "\u2584".encode() in out, "no half blocks"
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
counts, out, st = run(["--interval", "50"], [b"\x03"])
assert counts[0] >= 3, counts
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
print("ok")
PY
pass "--step: a key shows the next frame, q quits; timer mode stops on Ctrl-C"
