#!/usr/bin/env bash
# tests/workloads/run.sh — every container of every API type, in every
# environment of both examples, has the ports and probes its API type implies
# (check.py derives the expectation from platform.yaml and stdlib/apis.yaml).
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
# the environment (PLATFORMC, PY, SOURCE_DATE_EPOCH, NO_COLOR, TMP) of every group
. "$(dirname "$0")/../lib.sh"
"$PY" tests/workloads/check.py "$PLATFORMC" "$TMP" minimal company
