#!/usr/bin/env python3
"""bench/est_load.py - many EST endpoints against one offca-gateway (used by bench/est_bench.sh).

  est_load.py csrs N DIR FIRST                 make keys + CSRs DIR/NNNNNN.{key,csr} (SAN ep.bench.test)
  est_load.py enroll URL ROOT DIR TOKDIR A B   POST simpleenroll for endpoints A..B-1 (Basic, token-NNNNNN)
  est_load.py poll   URL ROOT DIR A B [renew]  POST again; 200 -> DIR/NNNNNN.crt (+ .chain)
  est_load.py renew  URL ROOT DIR A B          new key + CSR each, POST simplereenroll with the current cert
Prints "<count> <seconds> <status histogram>". Threads: EST_THREADS (default 4), one keep-alive
HTTPS connection each. Python's client is the slower side: the figures bound the gateway from below.
"""
import base64, collections, http.client, os, ssl, sys, threading, time
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

THREADS = int(os.environ.get("EST_THREADS", "4"))
SAN = "ep.bench.test"


def make(dirp, i):
    k = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SAN)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(SAN)]), critical=False)
           .sign(k, hashes.SHA256()))
    open(f"{dirp}/{i:06d}.key.new", "wb").write(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    open(f"{dirp}/{i:06d}.csr.new", "wb").write(base64.encodebytes(csr.public_bytes(serialization.Encoding.DER)))


def is_ca(c):
    try:
        return c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def p7_to_pem(b64):
    """the answer's certificates, leaf first (a PKCS#7 SET OF has no order to rely on)"""
    from cryptography.hazmat.primitives.serialization import pkcs7
    certs = pkcs7.load_der_pkcs7_certificates(base64.b64decode(b64))
    certs.sort(key=is_ca)
    return [c.public_bytes(serialization.Encoding.PEM) for c in certs]


def worker(mode, url, root, dirp, idx, hist, lock, tokdir):
    host = url.split("//")[1].split("/")[0]
    h, p = host.rsplit(":", 1)
    conn = None
    for i in idx:
        ctx = ssl.create_default_context(cafile=root)
        ctx.check_hostname = False
        if mode in ("renew", "pollrenew"):
            ctx.load_cert_chain(f"{dirp}/{i:06d}.fullchain", f"{dirp}/{i:06d}.key")
            conn = None  # one TLS session per client certificate
        if conn is None:
            conn = http.client.HTTPSConnection(h, int(p), context=ctx, timeout=60)
        hdr = {"Content-Type": "application/pkcs10"}
        if mode in ("enroll", "poll"):
            tok = open(f"{tokdir}/token-{i:06d}").read().strip()
            hdr["Authorization"] = "Basic " + base64.b64encode(tok.encode()).decode()
        suffix = ".csr.new" if mode in ("renew", "pollrenew") else ".csr"
        body = open(f"{dirp}/{i:06d}{suffix}", "rb").read()
        op = "simplereenroll" if mode in ("renew", "pollrenew") else "simpleenroll"
        conn.request("POST", "/.well-known/est/" + op, body=body, headers=hdr)
        r = conn.getresponse()
        data = r.read()
        if r.status == 200:
            pems = p7_to_pem(data)
            if mode == "pollrenew":
                os.replace(f"{dirp}/{i:06d}.key.new", f"{dirp}/{i:06d}.key")
            open(f"{dirp}/{i:06d}.fullchain", "wb").write(b"".join(pems))
        with lock:
            hist[r.status] += 1
        if mode in ("renew", "pollrenew"):
            conn.close()


def main():
    mode = sys.argv[1]
    if mode == "csrs":
        n, dirp, first = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        os.makedirs(dirp, exist_ok=True)
        t0 = time.time()
        for i in range(first, first + n):
            make(dirp, i)
            if not os.path.exists(f"{dirp}/{i:06d}.key"):
                os.replace(f"{dirp}/{i:06d}.key.new", f"{dirp}/{i:06d}.key")
                os.replace(f"{dirp}/{i:06d}.csr.new", f"{dirp}/{i:06d}.csr")
        print(n, round(time.time() - t0, 3))
        return
    url, root, dirp, a, b = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    tokdir = sys.argv[7] if len(sys.argv) > 7 else None
    if mode == "poll" and tokdir == "renew":
        mode, tokdir = "pollrenew", None
    idx = list(range(a, b))
    hist, lock = collections.Counter(), threading.Lock()
    chunks = [idx[k::THREADS] for k in range(THREADS)]
    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(mode, url, root, dirp, c, hist, lock, tokdir)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(len(idx), round(time.time() - t0, 3), dict(hist))


main()
