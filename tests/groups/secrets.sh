#!/usr/bin/env bash
# ---- secrets: every credential pattern anywhere is rejected, redacted; no Secret out
# tests/secrets.sh: 2 cases; exit 1 on a failure. TESTS_QUICK=1: one pattern.
. "$(dirname "$0")/../lib.sh"

want_quick && export SECRETS_QUICK=1
relay -n 2 secrets/runner bash tests/secrets.sh "$TMP"

finish
