#!/usr/bin/env bash
# tests/rollouts/run.sh — canaries (Rollout, steps per tier, the SLO analysis: promtool
# parses it and a unit test fails it when the SLO burns) and VPA recommendations (check.py).
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
# the environment (PLATFORMC, PY, SOURCE_DATE_EPOCH, NO_COLOR, TMP) of every group
. "$(dirname "$0")/../lib.sh"
"$PY" tests/rollouts/check.py "$PLATFORMC" "$TMP"
