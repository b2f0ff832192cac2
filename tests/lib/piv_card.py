#!/usr/bin/env python3
"""A PIV card that answers like a YubiKey 5, for vsmartcard's vpcd (test-only, never installed).

The real middleware (OpenSC's PIV driver, Yubico's ykcs11 and yubico-piv-tool) talks to it in
APDUs through a private pcscd, as to a YubiKey; see tests/lib/piv_env.sh and tests/lib/README.md
(which lists every instruction implemented, and where each behaviour was checked against NIST
SP 800-73-4 and Yubico's documentation). Python 3 standard library plus python3-cryptography.

  piv_card.py --connect 127.0.0.1:PORT --state DIR [--log FILE] [--touch-timeout S]
              [--pull-at-sign N | --pull-after-sign N]
  piv_card.py --touch DIR [SECONDS]     touch the card of DIR once it waits for a touch

DIR keeps the card's state (state.json: PIN/PUK/management key and their counters, the keys of the
slots, the data objects; made on first use with the factory defaults PIN 123456, PUK 12345678,
3DES management key 010203...08) and attestation-root.pem, the root the emulator's attestation
intermediate (slot f9) chains to, for the test to trust. Private keys stay in DIR: no instruction
returns them.

Touch: a signature with a touch policy writes DIR/touch-waiting, then waits until the file
DIR/touch appears (removed when used) or SIGUSR1 arrives; after --touch-timeout seconds (default
15, as a YubiKey; the number in DIR/touch-timeout when that file exists) the signature fails with
6982 (security status not satisfied), as a YubiKey's does (Yubico/yubico-piv-tool#185).
--pull-at-sign N: on the Nth signature (counted from start), the card is pulled instead of
answering: the connection to vpcd closes and the process exits 0 (pcscd reports the card removed).
--pull-after-sign N: the same, right after the answer to the Nth signature went out (between two
APDUs, as a key pulled between two signatures of a batch).
"""
import argparse
import datetime
import json
import os
import signal
import socket
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

try:  # cryptography >= 43 moved 3DES; Debian 12 has 38
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    TripleDES = algorithms.TripleDES

# YubiKey 5 over USB CCID ("YubiKey@"; OpenSC's card-piv.c knows it as a YubiKey)
ATR = bytes.fromhex("3BFD1300008131FE158073C021C057597562694B657940")
PIV_AID = bytes.fromhex("A000000308")
VERSION = bytes([5, 4, 3])
FORM_FACTOR = 0x01  # USB-A keychain

ALG_3DES, ALG_AES128, ALG_AES192, ALG_AES256 = 0x03, 0x08, 0x0A, 0x0C
ALG_RSA1024, ALG_RSA2048, ALG_P256, ALG_P384 = 0x06, 0x07, 0x11, 0x14
KEY_SLOTS = {0x9A: 0x5FC105, 0x9C: 0x5FC10A, 0x9D: 0x5FC10B, 0x9E: 0x5FC101}
KEY_SLOTS.update({0x82 + i: 0x5FC10D + i for i in range(20)})  # retired key management 82..95
ATTEST_OBJ = 0x5FFF01
PRINTED_OBJ = 0x5FC109
# YubiKey defaults when GENERATE names no policy (Yubico: "PIV PIN and touch policies")
DEFAULT_PIN_POLICY = {0x9A: 2, 0x9C: 3, 0x9D: 2, 0x9E: 1}  # 1 never, 2 once, 3 always
DEFAULT_TOUCH_POLICY = 1                                    # 1 never, 2 always, 3 cached
CACHED_TOUCH_SECONDS = 15
DEFAULT_MGM = "010203040506070801020304050607080102030405060708"

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY = b"\x69\x82"
SW_BLOCKED = b"\x69\x83"
SW_COND = b"\x69\x85"
SW_WRONG_DATA = b"\x6A\x80"
SW_FUNC = b"\x6A\x81"
SW_NOT_FOUND = b"\x6A\x82"
SW_P1P2 = b"\x6A\x86"
SW_REF_NOT_FOUND = b"\x6A\x88"
SW_INS = b"\x6D\x00"
SW_CLA = b"\x6E\x00"

touched = False


def on_usr1(_sig, _frame):
    global touched
    touched = True


# ---------------------------------------------------------------- BER-TLV helpers
def tlv(tag, value):
    t = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    return t + ln + value


def parse_tlv(data):
    """[(tag, value)] of a flat BER-TLV string; tags of one or two bytes (0x5F.., 0x7F..)."""
    out, i = [], 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[i]
            i += 1
        if i >= len(data):
            raise ValueError("truncated TLV")
        n = data[i]
        i += 1
        if n == 0x81:
            n = data[i]
            i += 1
        elif n == 0x82:
            n = int.from_bytes(data[i:i + 2], "big")
            i += 2
        elif n > 0x82:
            raise ValueError("bad TLV length")
        if i + n > len(data):
            raise ValueError("truncated TLV")
        out.append((tag, data[i:i + n]))
        i += n
    return out


def parse_apdu(b):
    """(cla, ins, p1, p2, data, extended) of a command APDU (ISO 7816-4 cases 1 to 4)."""
    if len(b) < 4:
        raise ValueError("short APDU")
    cla, ins, p1, p2 = b[0], b[1], b[2], b[3]
    rest = b[4:]
    if len(rest) <= 1:
        return cla, ins, p1, p2, b"", False
    if rest[0] != 0 and len(rest) in (1 + rest[0], 2 + rest[0]):
        return cla, ins, p1, p2, rest[1:1 + rest[0]], False
    if rest[0] == 0 and len(rest) == 3:
        return cla, ins, p1, p2, b"", True
    if rest[0] == 0 and len(rest) >= 3:
        n = int.from_bytes(rest[1:3], "big")
        if len(rest) in (3 + n, 5 + n):
            return cla, ins, p1, p2, rest[3:3 + n], True
    raise ValueError("malformed APDU")


# ---------------------------------------------------------------- state
class State:
    def __init__(self, d):
        self.dir = d
        self.path = os.path.join(d, "state.json")
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.s = json.load(f)
        else:
            self.s = self.factory()
            self.save()

    def factory(self):
        serial = int.from_bytes(os.urandom(3), "big") + 10000000
        guid = os.urandom(16)
        fascn = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
        chuid = tlv(0x30, fascn) + tlv(0x34, guid) + tlv(0x35, b"20301231") + tlv(0x3E, b"") + tlv(0xFE, b"")
        ccc = (tlv(0xF0, bytes.fromhex("A000000116FF02") + os.urandom(14)) + tlv(0xF1, b"\x21")
               + tlv(0xF2, b"\x21") + tlv(0xF3, b"") + tlv(0xF4, b"\x00") + tlv(0xF5, b"\x10") + tlv(0xF6, b"")
               + tlv(0xF7, b"") + tlv(0xFA, b"") + tlv(0xFB, b"") + tlv(0xFC, b"") + tlv(0xFD, b"") + tlv(0xFE, b""))
        keyhist = tlv(0xC1, b"\x00") + tlv(0xC2, b"\x00") + tlv(0xFE, b"")
        root_key = ec.generate_private_key(ec.SECP384R1())
        root = self.make_cert("offca PIV emulator attestation root (test only)", root_key, root_key.public_key(),
                              None, ca=True)
        f9_key = ec.generate_private_key(ec.SECP256R1())
        f9 = self.make_cert("offca PIV emulator attestation intermediate (test only)", root_key,
                            f9_key.public_key(), root, ca=True)
        with open(os.path.join(self.dir, "attestation-root.pem"), "wb") as f:
            f.write(root.public_bytes(serialization.Encoding.PEM))
        objects = {
            "5fc102": chuid.hex(), "5fc107": ccc.hex(), "5fc10c": keyhist.hex(),
            "%06x" % ATTEST_OBJ: cert_container(f9.public_bytes(serialization.Encoding.DER)).hex(),
        }
        return {
            "serial": serial, "pin": "123456", "puk": "12345678", "pin_tries": 3, "puk_tries": 3,
            "pin_max": 3, "puk_max": 3, "mgm": DEFAULT_MGM, "mgm_alg": ALG_3DES,
            "objects": objects, "keys": {},
            "f9_key": pem_of(f9_key),
        }

    @staticmethod
    def make_cert(cn, sign_key, pub, issuer, ca, extensions=(), subject_cn=None):
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn or cn)])
        b = (x509.CertificateBuilder().subject_name(name)
             .issuer_name(issuer.subject if issuer else name).public_key(pub)
             .serial_number(x509.random_serial_number()).not_valid_before(now)
             .not_valid_after(now + datetime.timedelta(days=3650)))
        if ca:
            b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        for oid, value in extensions:
            b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
        return b.sign(sign_key, hashes.SHA256())

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.s, f, indent=1)
        os.replace(tmp, self.path)


def pem_of(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cert_container(der):
    """The PIV certificate object content (SP 800-73-4 Part 1, Appendix A): 70 cert, 71 info, FE LRC."""
    return tlv(0x70, der) + tlv(0x71, b"\x00") + tlv(0xFE, b"")


def der_int(n):
    """DER INTEGER of a non-negative n."""
    b = n.to_bytes(n.bit_length() // 8 + 1, "big")
    return tlv(0x02, b)


def pin_bytes(b):
    """An 8-byte PIN/PUK reference field (padded with FF) -> text, or None when malformed."""
    if len(b) != 8:
        return None
    v = b.rstrip(b"\xff")
    if b"\xff" in v or len(v) < 6:
        return None
    try:
        return v.decode("ascii")
    except UnicodeDecodeError:
        return None


# ---------------------------------------------------------------- the card
class Card:
    def __init__(self, state, log, touch_timeout, pull_at_sign, pull_after_sign=0):
        self.st = state
        self.log = log
        self.touch_timeout = touch_timeout
        self.pull_at_sign = pull_at_sign
        self.pull_after_sign = pull_after_sign
        self.pull_now = False  # set after the answer that precedes a pull
        self.signs = 0
        self.last_touch = 0.0
        self.pulled = False
        self.t0 = time.monotonic()
        self.power_reset()

    def power_reset(self):
        self.selected = False
        self.pin_ok = False
        self.pin_always_ok = False  # a VERIFY since the last PIN-always signature
        self.mgm_ok = False
        self.mgm_witness = None
        self.mgm_challenge = None
        self.chain = b""
        self.pending = b""

    @property
    def s(self):
        return self.st.s

    def logmsg(self, msg):
        if self.log:
            self.log.write("%8.3f %s\n" % (time.monotonic() - self.t0, msg))
            self.log.flush()

    # one APDU in, one response out
    def process(self, apdu):
        try:
            cla, ins, p1, p2, data, ext = parse_apdu(apdu)
        except ValueError:
            return SW_WRONG_LENGTH
        shown = data.hex() if ins not in (0x20, 0x24, 0x2C) else "(%d bytes)" % len(data)
        self.logmsg("> %02X %02X %02X %02X %s" % (cla, ins, p1, p2, shown))
        if ins == 0xC0:  # GET RESPONSE
            return self.respond(self.pending, ext)
        self.pending = b""
        if cla & 0xEF != 0x00:
            return SW_CLA
        if cla & 0x10:  # command chaining (ISO 7816-4 5.1.1.1)
            self.chain += data
            return SW_OK
        data, self.chain = self.chain + data, b""
        if ins == 0xA4:
            return self.select(p1, data)
        if not self.selected:
            return SW_INS
        handler = {
            0xCB: self.get_data, 0xDB: self.put_data, 0x20: self.verify, 0x24: self.change_ref,
            0x2C: self.reset_retry, 0x87: self.general_auth, 0x47: self.generate,
            0xFD: self.get_version, 0xF8: self.get_serial, 0xF9: self.attest, 0xF7: self.metadata,
            0xFF: self.set_mgm, 0xFB: self.reset_applet,
        }.get(ins)
        if handler is None:
            return SW_INS
        out = handler(p1, p2, data)
        if self.pulled:
            return None
        if out[-2:] == SW_OK and len(out) > 2:
            return self.respond(out[:-2], ext)
        return out

    def respond(self, body, ext):
        """Data up to 256 bytes per response for short APDUs, the rest with 61xx / GET RESPONSE."""
        if ext or len(body) <= 256:
            self.pending = b""
            return body + SW_OK
        self.pending = body[256:]
        return body[:256] + bytes([0x61, min(len(self.pending), 256) & 0xFF])

    def select(self, p1, data):
        if p1 != 0x04:
            return SW_P1P2
        if len(data) >= 5 and bytes.fromhex("A000000308000010000100").startswith(data):
            self.power_reset()
            self.selected = True
            return tlv(0x61, tlv(0x4F, bytes.fromhex("000010000100"))
                       + tlv(0x79, tlv(0x4F, PIV_AID))) + SW_OK
        return SW_NOT_FOUND  # another application: the selection stays as it was (ISO 7816-4 7.1.1)

    # ---- data objects
    def get_data(self, p1, p2, data):
        if (p1, p2) != (0x3F, 0xFF):
            return SW_P1P2
        try:
            t = parse_tlv(data)
        except ValueError:
            return SW_WRONG_DATA
        if len(t) != 1 or t[0][0] != 0x5C or not 1 <= len(t[0][1]) <= 3:
            return SW_WRONG_DATA
        tag = int.from_bytes(t[0][1], "big")
        if tag == 0x7E:  # discovery object: PIV AID, PIN usage policy "PIN only" (SP 800-73-4 Part 1 3.3.2)
            return tlv(0x7E, tlv(0x4F, bytes.fromhex("A000000308000010000100")) + tlv(0x5F2F, b"\x40\x00")) + SW_OK
        if tag == PRINTED_OBJ and not self.pin_ok:
            return SW_SECURITY
        v = self.s["objects"].get("%06x" % tag)
        if v is None:
            return SW_NOT_FOUND
        return tlv(0x53, bytes.fromhex(v)) + SW_OK

    def put_data(self, p1, p2, data):
        if (p1, p2) != (0x3F, 0xFF):
            return SW_P1P2
        if not self.mgm_ok:
            return SW_SECURITY
        try:
            t = parse_tlv(data)
        except ValueError:
            return SW_WRONG_DATA
        if len(t) != 2 or t[0][0] != 0x5C or t[1][0] != 0x53 or len(t[0][1]) != 3:
            return SW_WRONG_DATA
        key = "%06x" % int.from_bytes(t[0][1], "big")
        if t[1][1]:
            self.s["objects"][key] = t[1][1].hex()
        else:
            self.s["objects"].pop(key, None)
        self.st.save()
        return SW_OK

    # ---- PIN and PUK
    def verify(self, p1, p2, data):
        if p2 != 0x80:
            return SW_REF_NOT_FOUND
        if p1 == 0xFF:  # reset the security status (SP 800-73-4 Part 2 3.2.1)
            if data:
                return SW_WRONG_DATA
            self.pin_ok = self.pin_always_ok = False
            return SW_OK
        if p1 != 0x00:
            return SW_P1P2
        if not data:  # status: 9000 verified, 63CX tries left, 6983 blocked
            if self.s["pin_tries"] == 0:
                return SW_BLOCKED
            return SW_OK if self.pin_ok else bytes([0x63, 0xC0 | self.s["pin_tries"]])
        return self.check_ref("pin", data)

    def check_ref(self, which, field):
        """VERIFY-style check of the PIN or PUK; 9000, 63CX (X tries left) or 6983."""
        tries = which + "_tries"
        if self.s[tries] == 0:
            return SW_BLOCKED
        if len(field) != 8:
            return SW_WRONG_DATA
        if pin_bytes(field) == self.s[which]:
            self.s[tries] = self.s[which + "_max"]
            self.st.save()
            if which == "pin":
                self.pin_ok = self.pin_always_ok = True
            return SW_OK
        self.s[tries] -= 1
        self.st.save()
        if which == "pin":
            self.pin_ok = self.pin_always_ok = False
        return bytes([0x63, 0xC0 | self.s[tries]])

    def change_ref(self, p1, p2, data):
        if p1 != 0x00:
            return SW_P1P2
        which = {0x80: "pin", 0x81: "puk"}.get(p2)
        if which is None:
            return SW_REF_NOT_FOUND
        if len(data) != 16:
            return SW_WRONG_DATA
        sw = self.check_ref(which, data[:8])
        if sw != SW_OK:
            return sw
        new = pin_bytes(data[8:])
        if new is None:
            return SW_WRONG_DATA
        self.s[which] = new
        self.st.save()
        return SW_OK

    def reset_retry(self, p1, p2, data):
        if (p1, p2) != (0x00, 0x80):
            return SW_P1P2
        if len(data) != 16:
            return SW_WRONG_DATA
        sw = self.check_ref("puk", data[:8])
        if sw != SW_OK:
            return sw
        new = pin_bytes(data[8:])
        if new is None:
            return SW_WRONG_DATA
        self.s["pin"] = new
        self.s["pin_tries"] = self.s["pin_max"]
        self.st.save()
        return SW_OK

    # ---- management key
    def mgm_cipher(self, alg):
        key = bytes.fromhex(self.s["mgm"])
        if alg != self.s["mgm_alg"]:
            return None
        if alg == ALG_3DES:
            return TripleDES(key), 8
        return algorithms.AES(key), 16

    def mgm_auth(self, alg, items):
        c = self.mgm_cipher(alg)
        if c is None:
            return SW_WRONG_DATA
        algo, bs = c

        def enc(b):
            e = Cipher(algo, modes.ECB()).encryptor()
            return e.update(b) + e.finalize()

        def dec(b):
            d = Cipher(algo, modes.ECB()).decryptor()
            return d.update(b) + d.finalize()

        d = dict(items)
        if d.get(0x80) == b"" and len(items) == 1:  # host asks for a witness
            self.mgm_witness = os.urandom(bs)
            self.mgm_ok = False
            return tlv(0x7C, tlv(0x80, enc(self.mgm_witness))) + SW_OK
        if 0x80 in d and 0x81 in d and len(d[0x80]) == bs and len(d[0x81]) == bs:  # witness back + challenge
            ok = self.mgm_witness is not None and d[0x80] == self.mgm_witness
            self.mgm_witness = None
            if not ok:
                return SW_SECURITY
            self.mgm_ok = True
            return tlv(0x7C, tlv(0x82, enc(d[0x81]))) + SW_OK
        if d.get(0x81) == b"" and len(items) == 1:  # host asks for a challenge
            self.mgm_challenge = os.urandom(bs)
            self.mgm_ok = False
            return tlv(0x7C, tlv(0x81, self.mgm_challenge)) + SW_OK
        if 0x82 in d and len(items) == 1 and len(d[0x82]) == bs:
            ok = self.mgm_challenge is not None and dec(d[0x82]) == self.mgm_challenge
            self.mgm_challenge = None
            if not ok:
                return SW_SECURITY
            self.mgm_ok = True
            return SW_OK
        return SW_WRONG_DATA

    def set_mgm(self, p1, p2, data):
        if p1 != 0xFF or p2 not in (0xFF, 0xFE):
            return SW_P1P2
        if not self.mgm_ok:
            return SW_SECURITY
        if len(data) < 3 or data[1] != 0x9B or data[2] != len(data) - 3:
            return SW_WRONG_DATA
        alg, key = data[0], data[3:]
        if {ALG_3DES: 24, ALG_AES128: 16, ALG_AES192: 24, ALG_AES256: 32}.get(alg) != len(key):
            return SW_WRONG_DATA
        self.s["mgm"], self.s["mgm_alg"] = key.hex(), alg
        self.st.save()
        return SW_OK

    # ---- keys
    def key(self, slot):
        k = self.s["keys"].get("%02x" % slot)
        if k is None:
            return None, None
        return k, serialization.load_pem_private_key(k["pem"].encode(), None)

    @staticmethod
    def pub_tlv(alg, pub):
        if alg in (ALG_P256, ALG_P384):
            return tlv(0x86, pub.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint))
        n = pub.public_numbers()
        return tlv(0x81, n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")) + tlv(0x82, n.e.to_bytes(3, "big"))

    def generate(self, p1, p2, data):
        if p1 != 0x00 or p2 not in KEY_SLOTS:
            return SW_P1P2 if p1 != 0x00 else SW_REF_NOT_FOUND
        if not self.mgm_ok:
            return SW_SECURITY
        try:
            t = parse_tlv(data)
            if len(t) != 1 or t[0][0] != 0xAC:
                return SW_WRONG_DATA
            d = dict(parse_tlv(t[0][1]))
        except ValueError:
            return SW_WRONG_DATA
        alg = d.get(0x80, b"\x00")[0]
        pinp = d.get(0xAA, bytes([DEFAULT_PIN_POLICY.get(p2, 2)]))[0]
        touchp = d.get(0xAB, bytes([DEFAULT_TOUCH_POLICY]))[0]
        if pinp == 0:
            pinp = DEFAULT_PIN_POLICY.get(p2, 2)
        if touchp == 0:
            touchp = DEFAULT_TOUCH_POLICY
        if pinp not in (1, 2, 3) or touchp not in (1, 2, 3):
            return SW_WRONG_DATA
        if alg == ALG_P256:
            k = ec.generate_private_key(ec.SECP256R1())
        elif alg == ALG_P384:
            k = ec.generate_private_key(ec.SECP384R1())
        elif alg == ALG_RSA2048:
            k = rsa.generate_private_key(65537, 2048)
        else:
            return SW_WRONG_DATA  # RSA-1024, RSA-3072/4096, Ed25519, X25519: not emulated
        self.s["keys"]["%02x" % p2] = {"alg": alg, "pin": pinp, "touch": touchp, "origin": 1, "pem": pem_of(k)}
        self.st.save()
        return tlv(0x7F49, self.pub_tlv(alg, k.public_key())) + SW_OK

    def general_auth(self, p1, p2, data):
        try:
            t = parse_tlv(data)
            if len(t) != 1 or t[0][0] != 0x7C:
                return SW_WRONG_DATA
            items = parse_tlv(t[0][1])
        except ValueError:
            return SW_WRONG_DATA
        if p2 == 0x9B:
            return self.mgm_auth(p1, items)
        meta, k = self.key(p2)
        if k is None:
            return SW_REF_NOT_FOUND
        if p1 != meta["alg"]:
            return SW_WRONG_DATA
        d = dict(items)
        if 0x82 not in d or d[0x82] != b"" or 0x81 not in d:
            return SW_WRONG_DATA  # only signing (no ECDH 85, no challenge-response 80/81)
        if meta["pin"] in (2, 3) and not self.pin_ok:
            return SW_SECURITY
        if meta["pin"] == 3 and not self.pin_always_ok:
            return SW_SECURITY
        self.signs += 1
        if self.pull_at_sign and self.signs >= self.pull_at_sign:
            self.logmsg("card pulled at signature %d" % self.signs)
            self.pulled = True
            return None
        if meta["touch"] in (2, 3) and not self.wait_touch(p2, meta["touch"]):
            return SW_SECURITY
        if meta["pin"] == 3:
            self.pin_always_ok = False
        sig = self.sign(meta["alg"], k, d[0x81])
        if sig is None:
            return SW_WRONG_DATA
        if self.pull_after_sign and self.signs >= self.pull_after_sign:
            self.logmsg("card pulled after signature %d" % self.signs)
            self.pull_now = True
        return tlv(0x7C, tlv(0x82, sig)) + SW_OK

    @staticmethod
    def sign(alg, k, m):
        if alg in (ALG_P256, ALG_P384):
            size = 32 if alg == ALG_P256 else 48
            if len(m) > size:
                return None
            m = m.rjust(size, b"\x00")
            h = hashes.SHA256() if size == 32 else hashes.SHA384()
            return k.sign(m, ec.ECDSA(utils.Prehashed(h)))
        n = k.private_numbers()
        mod = n.public_numbers.n
        if len(m) != 256 or int.from_bytes(m, "big") >= mod:
            return None
        return pow(int.from_bytes(m, "big"), n.d, mod).to_bytes(256, "big")  # raw RSA: the host pads

    def wait_touch(self, slot, policy):
        global touched
        if policy == 3 and time.monotonic() - self.last_touch < CACHED_TOUCH_SECONDS:
            return True
        flag = os.path.join(self.st.dir, "touch")
        waiting = os.path.join(self.st.dir, "touch-waiting")
        touched = False
        try:  # a touch before the card asks for one does not count
            os.unlink(flag)
        except FileNotFoundError:
            pass
        with open(waiting, "w") as f:
            f.write("%02x\n" % slot)
        self.logmsg("waiting for a touch (slot %02x)" % slot)
        timeout = self.touch_timeout
        try:  # a test may change the timeout while the card is in
            with open(os.path.join(self.st.dir, "touch-timeout")) as f:
                timeout = float(f.read())
        except (OSError, ValueError):
            pass
        deadline = time.monotonic() + timeout
        ok = False
        while time.monotonic() < deadline:
            if touched or os.path.exists(flag):
                ok = True
                break
            time.sleep(0.05)
        touched = False
        for p in (waiting, flag):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        self.logmsg("touched" if ok else "no touch: timeout")
        if ok:
            self.last_touch = time.monotonic()
        return ok

    # ---- YubiKey additions
    def get_version(self, p1, p2, data):
        return VERSION + SW_OK

    def get_serial(self, p1, p2, data):
        return self.s["serial"].to_bytes(4, "big") + SW_OK

    def attest(self, p1, p2, data):
        if p2 != 0x00 or p1 not in KEY_SLOTS:
            return SW_P1P2 if p2 != 0x00 else SW_REF_NOT_FOUND
        meta, k = self.key(p1)
        if k is None:
            return SW_REF_NOT_FOUND
        if meta["origin"] != 1:
            return SW_WRONG_DATA  # imported keys are not attested
        f9_der = dict(parse_tlv(bytes.fromhex(self.s["objects"]["%06x" % ATTEST_OBJ])))[0x70]
        f9 = x509.load_der_x509_certificate(f9_der)
        f9_key = serialization.load_pem_private_key(self.s["f9_key"].encode(), None)
        ser = self.s["serial"]
        exts = [
            ("1.3.6.1.4.1.41482.3.3", VERSION),
            ("1.3.6.1.4.1.41482.3.7", der_int(ser)),
            ("1.3.6.1.4.1.41482.3.8", bytes([meta["pin"], meta["touch"]])),
            ("1.3.6.1.4.1.41482.3.9", bytes([FORM_FACTOR])),
        ]
        cert = State.make_cert(None, f9_key, k.public_key(), f9, ca=False, extensions=exts,
                               subject_cn="YubiKey PIV Attestation %02x" % p1)
        return cert.public_bytes(serialization.Encoding.DER) + SW_OK

    def metadata(self, p1, p2, data):
        """GET METADATA (YubiKey 5.3): algorithm, policies, origin, public key, default flag, retries."""
        if p1 != 0x00:
            return SW_P1P2
        if p2 == 0x9B:
            return (tlv(0x01, bytes([self.s["mgm_alg"]])) + tlv(0x02, b"\x00\x01")
                    + tlv(0x05, b"\x01" if self.s["mgm"] == DEFAULT_MGM else b"\x00") + SW_OK)
        if p2 in (0x80, 0x81):
            w = "pin" if p2 == 0x80 else "puk"
            default = self.s[w] == ("123456" if w == "pin" else "12345678")
            return (tlv(0x01, b"\xFF") + tlv(0x02, b"\x00\x00") + tlv(0x05, b"\x01" if default else b"\x00")
                    + tlv(0x06, bytes([self.s[w + "_max"], self.s[w + "_tries"]])) + SW_OK)
        meta, k = self.key(p2)
        if k is None:
            return SW_REF_NOT_FOUND
        return (tlv(0x01, bytes([meta["alg"]])) + tlv(0x02, bytes([meta["pin"], meta["touch"]]))
                + tlv(0x03, bytes([meta["origin"]])) + tlv(0x04, self.pub_tlv(meta["alg"], k.public_key()))
                + SW_OK)

    def reset_applet(self, p1, p2, data):
        if self.s["pin_tries"] != 0 or self.s["puk_tries"] != 0:
            return SW_COND  # a YubiKey resets PIV only when PIN and PUK are both blocked
        keep = {k: self.s[k] for k in ("serial", "f9_key")}
        f9 = self.s["objects"]["%06x" % ATTEST_OBJ]
        fresh = self.st.factory()
        fresh.update(keep)
        fresh["objects"] = {"%06x" % ATTEST_OBJ: f9}
        self.st.s = fresh
        self.st.save()
        self.power_reset()
        self.selected = True
        return SW_OK


# ---------------------------------------------------------------- vpcd transport
def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            if not buf:
                raise
            continue
        if not chunk:
            return None
        buf += chunk
        quickack(sock)
    return buf


def quickack(sock):
    """Acknowledge at once: vpcd writes a message's length and body in two sends, and Nagle's
    algorithm holds the body until the length is acknowledged (a delayed ACK costs ~40 ms an APDU)."""
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def send_msg(sock, data):
    sock.sendall(struct.pack(">H", len(data)) + data)


def serve(sock, card):
    sock.settimeout(0.5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quickack(sock)
    while True:
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
            elif msg[0] in (0, 1, 2):  # power off, power on, reset: security status is lost
                card.power_reset()
            continue
        resp = card.process(msg)
        if resp is None:  # the card was pulled
            return
        card.logmsg("< %s" % resp.hex())
        send_msg(sock, resp)
        if card.pull_now:  # pulled once this answer is out
            time.sleep(0.2)
            return


def touch_cmd(state_dir, seconds):
    """--touch DIR: wait until the card in DIR waits for a touch, then touch it (for pty_drive.py
    scripts: `shell python3 tests/lib/piv_card.py --touch DIR` after expecting a touch prompt)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(state_dir, "touch-waiting")):
            open(os.path.join(state_dir, "touch"), "w").close()
            return 0
        time.sleep(0.05)
    print("piv_card: the card did not wait for a touch within %g s" % seconds, file=sys.stderr)
    return 1


def main():
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--touch":
        return touch_cmd(sys.argv[2], float(sys.argv[3]) if len(sys.argv) == 4 else 20.0)
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True, help="HOST:PORT of vpcd")
    ap.add_argument("--state", required=True, help="directory of the card's state")
    ap.add_argument("--log", help="APDU log file (PIN and PUK values are not logged)")
    ap.add_argument("--touch-timeout", type=float, default=15.0)
    ap.add_argument("--pull-at-sign", type=int, default=0)
    ap.add_argument("--pull-after-sign", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.state, mode=0o700, exist_ok=True)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log = open(a.log, "a") if a.log else None
    card = Card(State(a.state), log, a.touch_timeout, a.pull_at_sign, a.pull_after_sign)
    host, port = a.connect.rsplit(":", 1)
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = socket.create_connection((host, int(port)), timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                print("piv_card: cannot reach vpcd at %s" % a.connect, file=sys.stderr)
                return 1
            time.sleep(0.2)
    with open(os.path.join(a.state, "inserted"), "w") as f:
        f.write("%d\n" % os.getpid())
    print("piv_card: inserted", flush=True)
    serve(conn, card)
    conn.close()
    os.unlink(os.path.join(a.state, "inserted"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
