#!/usr/bin/env bash
# ---- hostile input runs under a time and memory bound ------------------------
# tests/hostile.sh: 25 cases, each with its expected exit code; exit 1 on a failure.
. "$(dirname "$0")/../lib.sh"

relay -n 25 hostile/runner bash tests/hostile.sh "$TMP"

finish
