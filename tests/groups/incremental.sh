#!/usr/bin/env bash
# ---- incremental: a render that keeps unchanged units of output gives the fresh tree ----
# tests/incremental/run.py: examples/company changed one kind of input at a time,
# rendered with the stat cache and fresh, compared byte for byte (manifest included);
# the units kept are counted (PLATFORMC_STATS=1). 17 cases; 7 under TESTS_QUICK=1.
. "$(dirname "$0")/../lib.sh"

n=17
want_quick && n=7
relay -n "$n" incremental/runner "$PY" tests/incremental/run.py "$PLATFORMC" "$TMP/incremental"

finish
