#!/usr/bin/env bash
# ---- filesystem safety: symlinks, tampered manifest, unowned files ----------
# tests/fssafety.sh: 16 cases; exit 1 on a failure.
. "$(dirname "$0")/../lib.sh"

relay -n 16 fs/runner bash tests/fssafety.sh "$TMP"

finish
