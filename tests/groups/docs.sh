#!/usr/bin/env bash
# ---- docs that are tests: every yaml block and walkthrough step of the guide --
. "$(dirname "$0")/../lib.sh"

# tests/docs/run_guide.py: one case per block of docs/guide.md, exit 1 on a failure
relay -n 15 docs/runner "$PY" tests/docs/run_guide.py "$PLATFORMC" docs/guide.md "$TMP/docs"
# the runner fails on a bad example, a wrong expected output and an unmarked block
mkdir -p "$TMP/docs-neg"
printf '%s\n' '<!-- check: ok -->' '```yaml' 'platform: {name: x}' '```' \
	'<!-- walk: run -->' '```console' '$ echo hello' 'goodbye' '```' '```yaml' 'a: 1' '```' >"$TMP/docs-neg/neg.md"
n=$("$PY" tests/docs/run_guide.py "$PLATFORMC" "$TMP/docs-neg/neg.md" "$TMP/docs-neg" 2>&1 | grep -c '^FAIL ')
[ "$n" = 3 ] && ok docs/runner-can-fail || fail docs/runner-can-fail "expected 3 failures, got $n"

# no function of compiler/*.c over 120 lines without a `/* one piece: why */`
# above it (tests/tools/long_functions.py); the check itself can fail
out=$("$PY" tests/tools/long_functions.py 2>&1) && ok docs/long-functions-say-why || fail docs/long-functions-say-why "$out"
printf '%s\n' 'static int f(void)' '{' '	return 0;' '}' >"$TMP/long.c"
"$PY" tests/tools/long_functions.py --limit 2 "$TMP/long.c" >/dev/null 2>&1
[ $? = 1 ] && ok docs/long-functions-can-fail || fail docs/long-functions-can-fail

finish
