#!/bin/sh
# Negative/positive self-test of tests/tools/validate_tree.py.
#   good/  : every document must validate (exit 0)
#   bad/*  : each file on its own must be rejected (exit 1 and at least one FAIL line)
# Usage: sh tests/validate/run.sh   (from anywhere; PYTHON and PLATFORMC_SCHEMAS are honoured)
here=$(cd "$(dirname "$0")" && pwd)
tool="$here/../tools/validate_tree.py"
py=${PY:-${PYTHON:-python3}}
pass=0 fail=0
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT

if "$py" "$tool" --quiet "$here/good" >"$out" 2>&1; then
    echo "ok   validate/good"; pass=$((pass + 1))
else
    echo "FAIL validate/good"; sed 's/^/    /' "$out"; fail=$((fail + 1))
fi

for f in "$here"/bad/*.yaml "$here"/bad/*.yml "$here"/bad/*.json; do
    [ -e "$f" ] || continue
    name=bad/$(basename "$f")
    "$py" "$tool" --quiet "$f" >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "^FAIL $f#" "$out"; then
        echo "ok   validate/$name"; pass=$((pass + 1))
    else
        echo "FAIL validate/$name (exit $rc, expected 1 with a FAIL line)"; sed 's/^/    /' "$out"
        fail=$((fail + 1))
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
