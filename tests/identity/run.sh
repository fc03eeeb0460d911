#!/usr/bin/env bash
# tests/identity/run.sh — every service's AWS identity (tests/identity/check.py):
# the grants of each identity's policy equal those derived from platform.yaml,
# trust policies, credentials (tests/identity/credentials.py: every connection key
# docs/catalog.md lists is produced; values read through the service's role), composed IAM/EKS managed resources validating against the
# provider schemas, IRSA ServiceAccount annotations; both Crossplane targets,
# both identity modes, both examples and tests/identity/platform.yaml.
# Usage: PLATFORMC=build/platformc bash tests/identity/run.sh
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$PWD/$PLATFORMC ;; esac
EXPECTED=79
PY=${PYTHON:-python3}
if ! "$PY" -c 'import yaml, jsonschema' 2>/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get install -y -qq python3-yaml python3-jsonschema >/dev/null 2>&1
	fi
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" tests/identity/check.py "$PLATFORMC" "$TMP/work" >"$TMP/out" 2>&1
status=$?
"$PY" tests/identity/credentials.py "$PLATFORMC" "$TMP/cred" >>"$TMP/out" 2>&1
status=$((status + $?))
cat "$TMP/out"
pass=$(grep -c '^ok ' "$TMP/out")
fail=$(grep -c '^FAIL ' "$TMP/out")
if [ $status -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "FAIL identity/check.py (exit $status)"
	fail=$((fail + 1))
fi
if [ $((pass + fail)) -lt $EXPECTED ]; then
	echo "FAIL identity/case-count: ran $((pass + fail)) cases, expected $EXPECTED"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
