#!/usr/bin/env bash
# tests/argocd/run.sh — the app-of-apps per cluster (check.py): no object owned by
# two Applications, prune per tier, sync windows, the claims' health check.
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
# the environment (PLATFORMC, PY, SOURCE_DATE_EPOCH, NO_COLOR, TMP) of every group
. "$(dirname "$0")/../lib.sh"
"$PY" tests/argocd/check.py "$PLATFORMC" "$TMP"
