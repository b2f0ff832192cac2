#!/usr/bin/env bash
# qr show and the terminal's size (issue 17): at 80x24 a CSR that would need a larger code is shown
# with a smaller fragment size, saying so, and every line of the code fits; a --fragment-size that
# does not fit is refused with one line; the code has a 4-module quiet zone; the status line says
# "frame k of n" and "(fountain s)" past the pure fragments; the arrow keys move one frame back or on.
source "$(dirname "$0")/../lib/e2e.sh"
need python3
need openssl
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=fit.example.com" \
  -addext "subjectAltName=DNS:fit.example.com,DNS:www.fit.example.com" -outform DER -out "$T/csr.der" 2>/dev/null
python3 - "$OFFCA" "$T/csr.der" <<'PY' || fail "qr show in a sized pty"
import fcntl, os, pty, re, select, struct, sys, termios, time
offca, csr = sys.argv[1], sys.argv[2]

def run(args, cols, rows, keys=(), wait=2.0):
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
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
    read(wait)
    for k in keys:
        os.write(fd, k)
        read(0.7)
    _, st = os.waitpid(pid, 0)
    return out.decode("utf-8", "replace"), st

def frames(out):
    # each drawn screen: after the clear-screen sequence, the QR lines then the status line
    return [s for s in out.split("\x1b[H\x1b[2J")[1:]]

def qr_lines(screen):
    return re.findall(r"\x1b\[30;107m(.*?)\x1b\[0m", screen)

# 80x24: the default (one 400-byte frame) would not fit: a smaller fragment size is picked
out, st = run(["--step"], 80, 24, [b"\x1b[C", b"\x1b[D", b"q"])
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, (st, out[-400:])
assert "picked to fit this 80x24 terminal" in out, out[-400:]
scr = frames(out)
assert len(scr) == 3, len(scr)
for s in scr:
    lines = qr_lines(s)
    assert len(lines) + 1 <= 24 and all(len(l) <= 80 for l in lines), (len(lines), max(len(l) for l in lines))
    # a 4-module quiet zone: two blank text rows at top and bottom, four blank columns each side
    assert lines[0].strip() == "" and lines[1].strip() == "" and lines[-1].strip() == "", "no quiet zone rows"
    assert lines[-2].strip() == "" or (len(lines[0]) % 2 == 1), "no quiet zone at the bottom"
    assert all(l.startswith("    ") and l.endswith("    ") for l in lines), "no 4-module quiet zone at the sides"
    assert lines[2][:4] == "    " and lines[2][4] != " ", "the code does not start right after 4 quiet modules"
st_lines = [re.search(r"frame \d+ of \d+( \(fountain \d+\))?", s).group(0) for s in scr]
n = int(re.search(r"of (\d+)", st_lines[0]).group(1))
assert n > 1, st_lines
assert st_lines == ["frame 1 of %d" % n, "frame 2 of %d" % n, "frame 1 of %d" % n], st_lines

# a fragment size that does not fit: refused, one line, nothing drawn
out, st = run(["--fragment-size", "400", "--step"], 80, 24)
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) != 0, st
assert "needs a" in out and "this one is 80x24" in out, out
assert "\x1b[30;107m" not in out, "a code was drawn"

# a large terminal: the default, one frame, no note; then fountain frames on the status line
out, st = run(["--fragment-size", "100", "--interval", "30", "--max-frames", "12"], 200, 120, wait=2.5)
assert "picked" not in out, out[-300:]
st_lines = re.findall(r"frame \d+ of \d+(?: \(fountain \d+\))?", out)
n = int(re.search(r"of (\d+)", st_lines[0]).group(1))
assert len(st_lines) == 12 and st_lines[n] == "frame 1 of %d (fountain %d)" % (n, n + 1), st_lines
print("ok")
PY
pass "qr show: fits 80x24 by picking a smaller fragment (said), refuses a --fragment-size that does not fit, 4-module quiet zone, 'frame k of n (fountain s)', arrows move one frame"
