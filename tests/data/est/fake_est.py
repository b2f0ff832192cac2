#!/usr/bin/env python3
"""A hostile EST gateway for offca-agent tests: serves TLS with a certificate the agent trusts
(from the pinned CA) and answers every simpleenroll/simplereenroll with the fixed base64 PKCS#7
in ANSWER_FILE (status 200). Usage: fake_est.py PORT CERT KEY ANSWER_FILE"""
import http.server, ssl, sys

port, cert, key, answer = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        body = open(answer, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
