#!/usr/bin/env bash
# tests/argocd/run.sh — the app-of-apps per cluster (check.py): no object owned by
# two Applications, prune per tier, sync windows, the claims' health check.
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$PWD/$PLATFORMC ;; esac
export SOURCE_DATE_EPOCH=1767225600 NO_COLOR=1
unset GITHUB_ACTIONS
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 tests/argocd/check.py "$PLATFORMC" "$TMP"
