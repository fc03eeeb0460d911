#!/usr/bin/env bash
# ---- crash safety: SIGKILL at random points, a full disk at every kind of call --
# tests/crash.sh: 12 cases; exit 1 on a failure.
. "$(dirname "$0")/../lib.sh"

relay -n 12 crash/runner bash tests/crash.sh "$TMP"

finish
