// mac.js FILE DATAKEY-FILE - check a SOPS document's MAC the way `sops --decrypt` does (sops-age
// does not check it): decrypt every ENC[AES256_GCM,...] value with the 32-byte data key (from
// `age -d`), SHA-512 over all values in document order (the sops section left out, nulls
// skipped), upper-case hex, compared with the decrypted "mac" (associated data: lastmodified).
// Written from SOPS's sources (sops.go Tree.Encrypt, aes/cipher.go) with Node's crypto only.
// Checked by hand against SOPS's own fixtures (functional-tests/res/format.enc.yaml and
// comments.enc.yaml, data key from their PGP test key): MAC OK. Maps of scalars only (no lists).
// Used by tests/e2e/export_sops.sh; exits 1 with a message when anything does not verify.
const crypto = require("crypto");
const fs = require("fs");
const YAML = require("yaml");

const [file, keyFile] = process.argv.slice(2);
const key = fs.readFileSync(keyFile);
const doc = YAML.parse(fs.readFileSync(file, "utf8"));

function dec(value, aad) {
  const m = /^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:(.*)\]$/.exec(value);
  if (!m) throw new Error("not an encrypted value: " + value.slice(0, 40));
  const d = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(m[2], "base64"));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(m[3], "base64"));
  return Buffer.concat([d.update(Buffer.from(m[1], "base64")), d.final()]).toString();
}

const re = new RegExp(doc.sops.encrypted_regex);
const h = crypto.createHash("sha512");
function walk(node, path, enc) {
  for (const [k, v] of Object.entries(node)) {
    if (path.length === 0 && k === "sops") continue;
    const e = enc || re.test(k);
    if (v === null) continue;
    if (typeof v === "object") { walk(v, [...path, k], e); continue; }
    let s = String(v);
    if (e && s !== "") s = dec(s, [...path, k].join(":") + ":");
    h.update(s);
  }
}
try {
  walk(doc, [], false);
  const want = h.digest("hex").toUpperCase();
  const got = dec(doc.sops.mac, doc.sops.lastmodified);
  if (got !== want) throw new Error("MAC mismatch");
  process.stdout.write("MAC OK\n");
} catch (e) {
  process.stderr.write("mac.js: " + e.message + "\n");
  process.exit(1);
}
