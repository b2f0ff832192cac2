# tests/data/ceremonies/lib.sh - shared by tests/e2e/ceremony_*.sh (after tests/lib/e2e.sh).
CER_DATA="$OFFCA_TEST_DATA/ceremonies"
PTY=(python3 "$OFFCA_SRC/tests/lib/pty_drive.py")
# The transcript PDF goes through cairo/fontconfig, whose caches LeakSanitizer reports.
export LSAN_OPTIONS="suppressions=$CER_DATA/lsan.supp"
need softhsm2-util
need openssl
need python3

# cer_home : a CA home in $T/home ($HOME_DIR)
cer_home() { HOME_DIR="$T/home"; "$OFFCA" init --home "$HOME_DIR" >/dev/null; }

# cer_creds FILE ID=PIN... : a 0600 credentials file (YAML) for token ids / officers
cer_creds() {
  local f=$1; shift
  (umask 077; { echo "module: $SOFTHSM_MODULE"; echo "pins:"; for kv in "$@"; do echo "  ${kv%%=*}: \"${kv#*=}\""; done; } > "$f")
}

# cer_last_event FILE : the event of the transcript's last entry
cer_events() { python3 -c 'import json,sys; [print(json.loads(l)["event"]) for l in open(sys.argv[1])]' "$1"; }
