#!/usr/bin/env bash
# ---- threads: 1, 2 and 8 threads give the same diagnostics, exits and trees ----
# tests/threads.sh: 7 cases; exit 1 on a failure.
. "$(dirname "$0")/../lib.sh"

relay -n 7 threads/runner bash tests/threads.sh "$TMP"

finish
