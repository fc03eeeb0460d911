#!/usr/bin/env bash
# ---- hostile input runs under a time and memory bound ------------------------
# tests/hostile.sh: 25 cases, each with its expected exit code; exit 1 on a failure.
# TESTS_QUICK=1: five of them (HOSTILE_QUICK_CASES), valid and invalid.
. "$(dirname "$0")/../lib.sh"

n=25
if want_quick; then export HOSTILE_CASES=$HOSTILE_QUICK_CASES; n=5; fi
relay -n "$n" hostile/runner bash tests/hostile.sh "$TMP"

finish
