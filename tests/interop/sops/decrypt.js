// decrypt.js FILE AGE-IDENTITY-FILE - decrypt a SOPS YAML document with sops-age (an independent
// SOPS implementation in JavaScript) and print the decrypted document as JSON.
// Used by tests/e2e/export_sops.sh. Exits non-zero (message on stderr) when sops-age refuses.
const fs = require("fs");
const { decryptSops } = require("sops-age");

const [file, idFile] = process.argv.slice(2);
const key = fs.readFileSync(idFile, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"));
decryptSops(fs.readFileSync(file, "utf8"), { secretKey: key, fileType: "yaml" })
  .then((doc) => process.stdout.write(JSON.stringify(doc) + "\n"))
  .catch((e) => { process.stderr.write("sops-age: " + e.message.split("\n")[0].replace(/"ENC\[[^"]*"/, "ENC[...]") + "\n"); process.exit(1); });
