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

Checks (the roles are /proc/PID/comm: offca-acme, offca-acme-key, -file, -dns):
 - every process: Seccomp 2 (filter), NoNewPrivs 1, CapEff 0, every Uid field EXPECT_UID
   (EXPECT_UID "-" skips the uid check);
 - key, file and dns helpers: descriptors 0, 1, 2 and exactly one socket (their channel);
 - the main process: no regular file open but STATE/lock;
 - no descriptor above 2 refers to an object another inspected process also holds (an inherited
   descriptor: the main's TCP connection, another helper's channel);
 - the hook's shells: descriptors 0, 1, 2 only (and the hook script it reads).
"""
import os
import sys


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
            procs.append((k, c[len("offca-acme-"):]))
    procs += [(h, "hook") for h in hooks]
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
        if role in ("key", "file", "dns"):
            if len(high) != 1 or not list(high.values())[0].startswith("socket:"):
                bad.append(f"{role} {pid}: descriptors {high} (want its channel only)")
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
