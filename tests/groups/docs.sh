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

finish
