#!/usr/bin/env bash
# ---- filesystem safety: symlinks, tampered manifest, unowned files ----------
# tests/fssafety.sh: 18 cases; exit 1 on a failure.
. "$(dirname "$0")/../lib.sh"

relay -n 18 fs/runner bash tests/fssafety.sh "$TMP"

finish
