#!/usr/bin/env bash
# tests/rollouts/run.sh — canaries (Rollout, steps per tier, the SLO analysis: promtool
# parses it and a unit test fails it when the SLO burns) and VPA recommendations (check.py).
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$PWD/$PLATFORMC ;; esac
export SOURCE_DATE_EPOCH=1767225600 NO_COLOR=1
unset GITHUB_ACTIONS
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 tests/rollouts/check.py "$PLATFORMC" "$TMP"
