#!/usr/bin/env bash
# offca token list / keygen / show-key on a private SoftHSM2 token: every key type, the key is
# really sensitive and non-extractable (checked with OpenSC's pkcs11-tool, not with offca), the
# public key offca reports is the token's public-key object, signing on the token verifies,
# an existing label is refused, Ed25519 generates but is refused for signing with a clear reason.
source "$(dirname "$0")/../lib/e2e.sh"
need pkcs11-tool
need openssl
need python3
e2e_token ca
e2e_token edkeys
PIN=$(cat "$T/ca.pin")
URIS=()
p11() { pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "$PIN" "${@:2}" 2>/dev/null; }

# list: text and JSON (the JSON's top-level "module" is what scripts use)
"$OFFCA" token list > "$T/list.txt" || fail "token list"
grep -q "token: ca " "$T/list.txt" || fail "token list does not show token ca: $(cat "$T/list.txt")"
grep -q "login-required" "$T/list.txt" || fail "token list shows no flags"
"$OFFCA" token list --json > "$T/list.json" || fail "token list --json"
python3 - "$T/list.json" "$SOFTHSM_MODULE" <<'EOF' || fail "token list --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["module"] == sys.argv[2], d["module"]
toks = [s for s in d["slots"] if s["label"] == "ca"]
assert len(toks) == 1 and toks[0]["token_present"] and toks[0]["initialized"] and toks[0]["login_required"]
for k in ("slot_id", "serial", "manufacturer", "model", "user_pin_count_low", "user_pin_final_try",
          "user_pin_locked", "protected_auth_path", "removable", "slot_description"):
    assert k in toks[0], k
EOF
"$OFFCA" token list --module "$SOFTHSM_MODULE" --json | grep -q '"module"' || fail "token list --module"
pass "token list (text, --json with module, --module)"

for type in ec-p256 ec-p384 rsa-3072 rsa-4096; do
  label="key-$type"
  uri=$("$OFFCA" token keygen --token "pkcs11:token=ca" --label "$label" --type "$type" --pin-file "$T/ca.pin") \
    || fail "keygen $type"
  [[ "$uri" =~ ^pkcs11:token=ca\;id=(%[0-9a-f]{2}){16}\;object=$label\;type=private$ ]] || fail "keygen $type printed '$uri'"

  # attributes, read by OpenSC's pkcs11-tool
  p11 ca --list-objects --type privkey --label "$label" > "$T/obj.txt" || fail "pkcs11-tool list $label"
  grep -q "Access:.*sensitive" "$T/obj.txt" || fail "$label is not sensitive: $(cat "$T/obj.txt")"
  grep -q "never extractable" "$T/obj.txt" || fail "$label is extractable: $(cat "$T/obj.txt")"
  ! grep -q "Usage:.*\(decrypt\|unwrap\|derive\)" "$T/obj.txt" || fail "$label may do more than sign: $(cat "$T/obj.txt")"

  # offca's public key is the token's public-key object; the fingerprint is SHA-256 over the SPKI
  "$OFFCA" token show-key "$uri" --pin-file "$T/ca.pin" --selftest > "$T/show.txt" || fail "show-key $type"
  grep -q "^selftest: ok" "$T/show.txt" || fail "selftest line missing"
  sed -n '/BEGIN PUBLIC KEY/,/END PUBLIC KEY/p' "$T/show.txt" > "$T/offca-pub.pem"
  if [[ $type == rsa-* ]]; then
    p11 ca --read-object --type pubkey --label "$label" -o "$T/tok-pub.der" || fail "pkcs11-tool read pubkey"
    openssl pkey -pubin -inform DER -in "$T/tok-pub.der" -out "$T/tok-pub.pem" 2>/dev/null || fail "openssl read pubkey"
    cmp -s "$T/offca-pub.pem" "$T/tok-pub.pem" || fail "$type: offca's public key differs from the token's"
  else
    # pkcs11-tool 0.23 cannot export P-384 public keys; compare the token's CKA_EC_POINT instead
    # (a DER OCTET STRING: skip its 2-byte header) with the end of offca's SubjectPublicKeyInfo
    point=$(p11 ca --list-objects --type pubkey | awk -v l="$label" '
      /^Public Key Object/ { pt = "" }
      /^ *EC_POINT:/ { pt = $2 }
      $1 == "label:" && $2 == l { print substr(pt, 5) }')
    spki=$(openssl pkey -pubin -in "$T/offca-pub.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')
    [ -n "$point" ] && [[ $spki == *"$point" ]] || fail "$type: offca's public key is not the token's EC point $point"
  fi
  fp=$(openssl pkey -pubin -in "$T/offca-pub.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
  grep -q "^sha256: $fp\$" "$T/show.txt" || fail "$type: fingerprint differs from openssl's $fp"
  pass "keygen $type -> $uri (sensitive, never extractable, public key and fingerprint match)"
  URIS+=("$type $uri")
done

# token objects: every key with the URI keygen printed, and its kind
"$OFFCA" token objects --token "pkcs11:token=ca" --pin-file "$T/ca.pin" > "$T/objects.txt" || fail "token objects"
for e in "${URIS[@]}"; do
  type=${e%% *}; uri=${e#* }
  awk -v t="$type" -v u="$uri" '$1 == "private" && $2 == t && $3 == "key-" t && $4 == u { f = 1 } END { exit !f }' \
    "$T/objects.txt" || fail "token objects lacks '$type $uri': $(cat "$T/objects.txt")"
done
"$OFFCA" token objects --token "pkcs11:token=ca" --no-login > "$T/objects-pub.txt" || fail "token objects --no-login"
! grep -q "^private" "$T/objects-pub.txt" || fail "private objects visible without login"
grep -q "^public  ec-p384" "$T/objects-pub.txt" || fail "public objects missing: $(cat "$T/objects-pub.txt")"
pass "token objects lists the keys with their URIs"

# the key URI with only id=, or only object=, names the same key
id_uri=$(sed -n 's/^uri: \(pkcs11:token=ca;id=[^;]*\).*/\1/p' "$T/show.txt")
"$OFFCA" token show-key "$id_uri" --pin-file "$T/ca.pin" | grep -q "object=key-rsa-4096" || fail "open by id"
"$OFFCA" token show-key "pkcs11:token=ca;object=key-ec-p256;type=private?pin-source=file:$T/ca.pin" \
  | grep -q "^sha256: " || fail "open by object with pin-source"
pass "open by id=, by object= with pin-source=file:"
expect_fail "URI naming no token while two are present" "$OFFCA" token show-key \
  "pkcs11:object=key-ec-p256?pin-source=file:$T/ca.pin"
expect_err_match "2 tokens match"

# a key that needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE, as a YubiKey's PIV slot 9c
# through OpenSC): offca answers libp11's per-signature PIN request from the PIN file, prints nothing
p11 ca --keypairgen --key-type EC:secp384r1 --label always --id 0a0b --always-auth --sensitive >/dev/null \
  || fail "pkcs11-tool keypairgen --always-auth"
"$OFFCA" token show-key "pkcs11:token=ca;object=always" --pin-file "$T/ca.pin" --selftest > "$T/always.txt" \
  < /dev/null || fail "always-authenticate key"
grep -q "^selftest: ok" "$T/always.txt" || fail "always-authenticate selftest"
! grep -qi "enter" "$T/always.txt" || fail "a PIN prompt leaked to stdout: $(cat "$T/always.txt")"
pass "per-signature PIN (CKA_ALWAYS_AUTHENTICATE) from --pin-file"

# an existing label is refused, nothing new on the token
n_before=$(p11 ca --list-objects | grep -c "label:")
expect_fail "keygen with an existing label" "$OFFCA" token keygen --token "pkcs11:token=ca" --label key-ec-p256 \
  --type ec-p256 --pin-file "$T/ca.pin"
expect_err_match "already holds an object labelled 'key-ec-p256'"
[ "$(p11 ca --list-objects | grep -c "label:")" = "$n_before" ] || fail "a refused keygen changed the token"

# Ed25519: generated on a token of its own; refused for signing and for mixing, clearly
uri=$("$OFFCA" token keygen --token "pkcs11:token=edkeys" --label ed --type ed25519 --pin-file "$T/edkeys.pin") \
  || fail "keygen ed25519: $(cat "$T/last.err" 2>/dev/null)"
[[ "$uri" == pkcs11:token=edkeys\;id=*\;object=ed\;type=private ]] || fail "ed25519 uri $uri"
p11 edkeys --list-objects --type privkey > "$T/ed.txt"
grep -q "never extractable" "$T/ed.txt" || fail "ed25519 key is extractable: $(cat "$T/ed.txt")"
pass "keygen ed25519 -> $uri"
expect_fail "open an Ed25519 key" "$OFFCA" token show-key "$uri" --pin-file "$T/edkeys.pin"
expect_err_match "Ed25519.*libp11"
expect_fail "EC key next to an Ed25519 key" "$OFFCA" token keygen --token "pkcs11:token=edkeys" --label e2 \
  --type ec-p256 --pin-file "$T/edkeys.pin"
expect_err_match "Ed25519"
expect_fail "Ed25519 key next to CA keys" "$OFFCA" token keygen --token "pkcs11:token=ca" --label e3 \
  --type ed25519 --pin-file "$T/ca.pin"
expect_err_match "Ed25519"
# no PIN file: a no-echo prompt on the terminal (driven through a real pty); the PIN never shows up
cat > "$T/prompt.script" <<'EOS'
expect PIN for token 'ca':
send 123456
EOS
python3 "$OFFCA_SRC/tests/lib/pty_drive.py" "$T/prompt.script" -- "$OFFCA" token keygen --token "pkcs11:token=ca" \
  --label prompted --type ec-p256 > "$T/prompt.out" || fail "keygen with a prompted PIN: $(cat "$T/prompt.out")"
grep -q "object=prompted;type=private" "$T/prompt.out" || fail "prompted keygen printed no URI: $(cat "$T/prompt.out")"
! grep -q 123456 "$T/prompt.out" || fail "the PIN was echoed on the terminal"
pass "PIN from a no-echo terminal prompt"
pass "done"
