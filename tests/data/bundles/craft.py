#!/usr/bin/env python3
"""craft.py - write offca bundles byte for byte, including hostile ones, for the e2e tests.

usage: craft.py OUT [--direction in|out] [--issuer S] [--lie-size N] [--bad-sha] [--truncate N]
                [--trailing] ITEM...
ITEM = TYPE:PATH[:NAME]   NAME is taken verbatim after unicode_escape decoding, so "\\n" is a
                          newline and "\\x00" a NUL; default NAME = basename of PATH.
--lie-size N   the first ITEM section header claims N bytes
--bad-sha      the first item's SHA-256 in the manifest is wrong
--truncate N   drop the last N bytes of the file
--trailing     append a byte after the DONE section
The format is docs/bundles.md; this writes unsigned bundles only.
"""
import hashlib
import json
import os
import struct
import sys


def section(tag, data):
    return tag + struct.pack(">I", len(data)) + data


def main(argv):
    out, args = argv[1], argv[2:]
    direction, issuer, lie, bad_sha, truncate, trailing = "in", "", None, False, 0, False
    items = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--direction":
            direction = args[i + 1]; i += 2
        elif a == "--issuer":
            issuer = args[i + 1]; i += 2
        elif a == "--lie-size":
            lie = int(args[i + 1]); i += 2
        elif a == "--truncate":
            truncate = int(args[i + 1]); i += 2
        elif a == "--bad-sha":
            bad_sha = True; i += 1
        elif a == "--trailing":
            trailing = True; i += 1
        else:
            parts = a.split(":", 2)
            typ, path = parts[0], parts[1]
            name = parts[2].encode().decode("unicode_escape") if len(parts) > 2 else os.path.basename(path)
            with open(path, "rb") as f:
                items.append((typ, name, f.read()))
            i += 1
    manifest = {
        "format": 1, "direction": direction, "created": 1764000000, "issuer": issuer,
        "items": [{"type": t, "name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                  for (t, n, d) in items],
    }
    if bad_sha:
        manifest["items"][0]["sha256"] = "00" * 32
    mtext = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    blob = b"OFFCA-BUNDLE/1\n" + section(b"MANI", mtext)
    for k, (_, _, d) in enumerate(items):
        if k == 0 and lie is not None:
            blob += b"ITEM" + struct.pack(">I", lie) + d
        else:
            blob += section(b"ITEM", d)
    blob += section(b"DONE", b"")
    if trailing:
        blob += b"\n"
    if truncate:
        blob = blob[:-truncate]
    with open(out, "xb") as f:
        f.write(blob)


if __name__ == "__main__":
    main(sys.argv)
