#!/usr/bin/env bash
# tests/workloads/run.sh — every container of every API type, in every
# environment of both examples, has the ports and probes its API type implies
# (check.py derives the expectation from platform.yaml and stdlib/apis.yaml).
# PLATFORMC: the binary (default build/platformc). Needs kubectl and Python's yaml.
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$PWD/$PLATFORMC ;; esac
export SOURCE_DATE_EPOCH=1767225600 NO_COLOR=1
unset GITHUB_ACTIONS
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 tests/workloads/check.py "$PLATFORMC" "$TMP" minimal company
