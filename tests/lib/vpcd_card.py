#!/usr/bin/env python3
"""A virtual smart card for vsmartcard's vpcd reader driver (stdlib only), and a private pcscd.

vpcd talks to a card over TCP with messages prefixed by a 2-byte big-endian length. A 1-byte
message is a control code (0 power off, 1 power on, 2 reset, 4 get ATR -> answered with the ATR);
anything longer is an APDU, answered here with 6D00 (instruction not supported): enough for pcscd
to report a card present in the reader. Closing the connection removes the card.

  vpcd_card.py --connect 127.0.0.1:PORT [--seconds N]
connects to vpcd (reader.conf DEVICENAME /dev/null:0xPORT) and stays inserted N seconds (default:
until killed). (vpcd's reverse mode, DEVICENAME 127.0.0.1:0xPORT with the card listening, crashes
pcscd 1.9.9 on Debian 12 while no card is connected, so it is not offered.)

  vpcd_card.py --pcscd SOCKET_PATH -- pcscd -f -c CONFDIR ...
starts pcscd on a private socket. Debian 12's pcscd always creates /run/pcscd/pcscd.comm, except
when it is socket-activated: then it serves the listening socket it inherits (fd 3, LISTEN_FDS=1,
LISTEN_PID=its pid). This does what systemd would: binds SOCKET_PATH, passes it as fd 3 and execs
the command. Clients reach it with PCSCLITE_CSOCK_NAME=SOCKET_PATH, so a test never meets (or
disturbs) a system pcscd.
"""
import os
import argparse
import socket
import struct
import sys
import time

ATR = bytes.fromhex("3B8880010000000000000000")  # a plausible ATR; content does not matter to pcscd


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send_msg(sock, data):
    sock.sendall(struct.pack(">H", len(data)) + data)


def serve(sock, until):
    sock.settimeout(0.5)
    while until is None or time.monotonic() < until:
        try:
            hdr = recv_exact(sock, 2)
        except socket.timeout:
            continue
        if hdr is None:
            return
        (length,) = struct.unpack(">H", hdr)
        msg = recv_exact(sock, length) if length else b""
        if msg is None:
            return
        if length == 1:
            if msg[0] == 4:
                send_msg(sock, ATR)
            # 0 power off, 1 power on, 2 reset: no answer expected
        else:
            send_msg(sock, bytes.fromhex("6D00"))


def exec_pcscd(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execvp(cmd[0], cmd)


def main():
    if len(sys.argv) > 4 and sys.argv[1] == "--pcscd" and sys.argv[3] == "--":
        exec_pcscd(sys.argv[2], sys.argv[4:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True, help="HOST:PORT of vpcd")
    ap.add_argument("--seconds", type=float)
    a = ap.parse_args()
    until = time.monotonic() + a.seconds if a.seconds else None
    host, port = a.connect.rsplit(":", 1)
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = socket.create_connection((host, int(port)), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                print("vpcd_card: cannot reach vpcd at %s" % a.connect, file=sys.stderr)
                return 1
            time.sleep(0.2)
    print("vpcd_card: inserted", flush=True)
    serve(conn, until)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
