#!/usr/bin/env python3
"""acme_procs.py - run from inside an offca-acme hook: inspect every offca-acme process of this run
(the hook's offca-acme ancestor, the main process above it and all the main process's children)
and the hook's own shells, and report what a role should not have.

Usage: acme_procs.py OUT EXPECT_UID HOOKPID [KEYFILE]   (as root: reads other users' /proc)
HOOKPID is the hook's shell (waiting while this runs). With KEYFILE (a P-256 PEM key), the main
process's memory is also searched for the key's private scalar (either byte order): the process
that talks to the CA must never have held the certificate key.
Writes OUT: one line per process ("pid role uid seccomp nnp capeff fds=..."), then one line
"VIOLATION: ..." per problem, or "OK". Always exits 0 (the test reads OUT), so the hook goes on.

Checks (the roles are /proc/PID/comm: offca-acme, offca-acme-key, -file, -dns, -hook (the hook runner, role "runner")):
 - every process: Seccomp 2 (filter), NoNewPrivs 1, CapEff 0, every Uid field EXPECT_UID
   (EXPECT_UID "-" skips the uid check);
 - key, file and dns helpers: descriptors 0, 1, 2 and exactly one socket (their channel, whose
   peer the main process holds: `ss -xa`); with a DNS hook, the DNS process has a second one,
   whose peer the hook runner holds;
 - the hook runner (when hooks run): exists, descriptors 0, 1, 2 and sockets only (its channel,
   and while a DNS hook runs the DNS process's channel): no file, no network connection;
 - the seccomp filters themselves, read as root with ptrace(PTRACE_SECCOMP_GET_FILTER) and run on
   a seccomp_data for execve: every filter of the main, key, file and DNS processes refuses execve
   (the narrow allow lists; the old hook-mode filters allowed it), the hook runner's allow it,
   and read(2) is allowed everywhere (the evaluator's own check);
 - the main process: no regular file open but STATE/lock;
 - no descriptor above 2 refers to an object another inspected process also holds (an inherited
   descriptor: the main's TCP connection, another helper's channel);
 - the hook's shells: descriptors 0, 1, 2 only (and the hook script it reads).
"""
import ctypes
import os
import platform
import struct
import sys

# ---- the seccomp filters of another process (root: CAP_SYS_ADMIN and ptrace) ----
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER = 17, 0x4206, 0x4207, 0x420C
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
NR = {"x86_64": {"read": 0, "execve": 59}, "aarch64": {"read": 63, "execve": 221}}
SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW = 0xFFFF0000, 0x7FFF0000


def unix_peers():
    """socket inode -> its peer's inode, for the AF_UNIX sockets of this network namespace."""
    import subprocess
    peers = {}
    for line in subprocess.run(["ss", "-xaH"], capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split()
        if len(f) >= 8 and f[5].isdigit() and f[7].isdigit():
            peers[f"socket:[{f[5]}]"] = f"socket:[{f[7]}]"
    return peers


def seccomp_filters(pid):
    """The cBPF programs of pid's filters (list of (code, jt, jf, k) lists), or None if unreadable."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
        return None
    progs = []
    try:
        libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
        os.waitpid(pid, 0x40000000)  # __WALL: the tracee stopped
        for i in range(64):
            n = libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(i), None)
            if n <= 0:
                break
            buf = ctypes.create_string_buffer(8 * n)
            if libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(i), buf) != n:
                return None
            progs.append([struct.unpack_from("<HBBI", buf.raw, 8 * j) for j in range(n)])
    finally:
        libc.ptrace(PTRACE_DETACH, pid, None, None)
    return progs


def bpf_run(prog, data):
    """Classic BPF as seccomp runs it, on the seccomp_data bytes; returns the filter's verdict."""
    a = x = pc = 0
    mem = [0] * 16
    while pc < len(prog):
        code, jt, jf, k = prog[pc]
        cls, pc = code & 7, pc + 1
        if cls == 0:  # LD
            a = struct.unpack_from("<I", data, k)[0] if code == 0x20 else k if code == 0x00 else mem[k]
        elif cls == 1:  # LDX
            x = k if code == 0x01 else mem[k]
        elif cls == 2:
            mem[k] = a
        elif cls == 3:
            mem[k] = x
        elif cls == 4:  # ALU
            v = x if code & 8 else k
            op = code & 0xF0
            a = {0x00: a + v, 0x10: a - v, 0x20: a * v, 0x40: a | v, 0x50: a & v, 0x60: a << v,
                 0x70: a >> v, 0x80: -a, 0xA0: a ^ v}.get(op, a // v if op == 0x30 and v else 0) & 0xFFFFFFFF
        elif cls == 5:  # JMP
            v = x if code & 8 else k
            op = code & 0xF0
            if op == 0x00:
                pc += k
                continue
            t = {0x10: a == v, 0x20: a > v, 0x30: a >= v, 0x40: (a & v) != 0}[op]
            pc += jt if t else jf
        elif cls == 6:  # RET
            return a if code & 0x10 else k
        else:  # MISC: TAX / TXA
            if code == 0x07:
                x = a
            else:
                a = x
    return 0


def allows(progs, call):
    """1 when every filter lets the system call call (no arguments) through, 0 when one refuses it."""
    m = platform.machine()
    data = struct.pack("<iIQ6Q", NR[m][call], AUDIT_ARCH[m], 0, 0, 0, 0, 0, 0, 0)
    return all(bpf_run(p, data) & SECCOMP_RET_ACTION_FULL == SECCOMP_RET_ALLOW for p in progs)


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def ppid(pid):
    return int(status(pid)["PPid"])


def fds(pid):
    res = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            res[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return res


def children(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if ppid(int(d)) == pid:
                    kids.append(int(d))
            except (OSError, KeyError):
                pass
    return kids


def scalar(keyfile):
    import subprocess
    txt = subprocess.run(["openssl", "pkey", "-in", keyfile, "-noout", "-text"], capture_output=True,
                         text=True, check=True).stdout
    hexs, on = "", False
    for line in txt.splitlines():
        if line.startswith("priv:"):
            on = True
            continue
        if on and line.startswith(" "):
            hexs += line.strip().replace(":", "")
        elif on:
            break
    b = bytes.fromhex(hexs)
    return b[-32:].rjust(32, b"\0")


def memory_holds(pid, needle):
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if not perms.startswith("r") or "[vvar]" in line or "[vsyscall]" in line:
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if hi - lo > 1 << 30:
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except OSError:
                continue
            if needle in chunk or needle[::-1] in chunk:
                found = True
    return found


def main():
    out, want_uid, hook = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keyfile = sys.argv[4] if len(sys.argv) > 4 else None
    me = os.getpid()
    # up from the hook to the first offca-acme process; the shells in between are the hook's
    hooks, p = [], hook
    while p > 1 and not comm(p).startswith("offca-acme"):
        hooks.append(p)
        p = ppid(p)
    if p <= 1:
        open(out, "w").write("VIOLATION: no offca-acme process above the hook\n")
        return
    main_pid = p if comm(p) == "offca-acme" else ppid(p)
    procs = [(main_pid, "main")]
    for k in children(main_pid):
        c = comm(k)
        if c.startswith("offca-acme-"):
            r = c[len("offca-acme-"):]
            procs.append((k, "runner" if r == "hook" else r))  # comm "offca-acme-hook": the hook runner
    procs += [(h, "hook") for h in hooks]
    roles = [r for _, r in procs]
    peers, held_by = unix_peers(), {}
    for pid, role in procs:
        for v in fds(pid).values():
            if v.startswith("socket:"):
                held_by[v] = role
    lines, bad, seen = [], [], {}
    for pid, role in procs:
        st, fd = status(pid), fds(pid)
        uids = st["Uid"].split()
        lines.append(f"{pid} {role} uid={uids[0]} seccomp={st.get('Seccomp')} nnp={st.get('NoNewPrivs')} "
                     f"capeff={st.get('CapEff')} fds=" + ",".join(f"{k}:{v}" for k, v in sorted(fd.items())))
        if st.get("Seccomp") != "2":
            bad.append(f"{role} {pid}: Seccomp {st.get('Seccomp')} (no filter)")
        if st.get("NoNewPrivs") != "1":
            bad.append(f"{role} {pid}: NoNewPrivs {st.get('NoNewPrivs')}")
        if int(st.get("CapEff", "0"), 16) != 0:
            bad.append(f"{role} {pid}: CapEff {st.get('CapEff')}")
        if want_uid != "-" and any(u != want_uid for u in uids):
            bad.append(f"{role} {pid}: Uid {st['Uid']} (want {want_uid})")
        high = {k: v for k, v in fd.items() if k > 2}
        if role != "hook" and platform.machine() in NR:
            progs = seccomp_filters(pid)
            if not progs:
                bad.append(f"{role} {pid}: its seccomp filters could not be read")
            else:
                ex, rd = allows(progs, "execve"), allows(progs, "read")
                lines.append(f"{pid} {role} filters={len(progs)} execve={'allowed' if ex else 'refused'}")
                if not rd:
                    bad.append(f"{role} {pid}: the filter evaluator refuses read(2) (evaluator broken)")
                if ex != (role == "runner"):
                    bad.append(f"{role} {pid}: execve {'allowed' if ex else 'refused'} by its filters")
        if role in ("key", "file", "dns"):
            held = [held_by.get(peers.get(v)) for v in high.values()]
            want = ["runner", "main"] if role == "dns" and "runner" in held else ["main"]
            if sorted(held) != sorted(want):
                bad.append(f"{role} {pid}: descriptors {high}, peers held by {held} (want {want}: its channel(s) only)")
        elif role == "runner":
            if not 1 <= len(high) <= 2 or not all(v.startswith("socket:") for v in high.values()):
                bad.append(f"hook runner {pid}: descriptors {high} (want its channel(s) only)")
        elif role == "main":
            for k, v in high.items():
                if v.startswith("/") and not v.endswith("/lock") and v != "/dev/null":
                    bad.append(f"main {pid}: file {k} -> {v} open")
        elif role == "hook":
            for k, v in high.items():
                if not v.endswith(".sh"):
                    bad.append(f"hook shell {pid}: descriptor {k} -> {v} inherited")
        for k, v in high.items():
            if v.endswith(".sh") or v.startswith("/dev/"):
                continue
            if v in seen and seen[v][0] != pid:
                bad.append(f"{role} {pid} fd {k} and {seen[v][1]} {seen[v][0]} share {v}")
            seen.setdefault(v, (pid, role))
    if keyfile:
        if memory_holds(main_pid, scalar(keyfile)):
            bad.append(f"main {main_pid}: the certificate key's private scalar is in its memory")
        else:
            lines.append(f"main {main_pid}: the certificate key is not in its memory")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
        f.write("".join(f"VIOLATION: {b}\n" for b in bad) if bad else "OK\n")
    del me


if __name__ == "__main__":
    main()
