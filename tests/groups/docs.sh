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

# compiler/ files call into each other without circles (tests/tools/include_graph.py derives
# who calls whom). The circles still there are listed, each exactly: one that grows, or a new
# one, fails. arena/util: allocation and formatting; compute/identity: a kind's access
# templates and the cluster's network; monitoring/rollouts/workload: API types and canaries.
if out=$("$PY" tests/tools/include_graph.py compiler --allow arena.c,util.c --allow compute.c,identity.c \
	--allow monitoring.c,rollouts.c,workload.c 2>&1); then
	ok docs/no-new-import-circles
else
	fail docs/no-new-import-circles "$(printf '%s\n' "$out" | grep '^circle:')"
fi
# ... and the tool finds a circle: two files calling each other (calls in comments and
# strings, and static functions, do not count)
mkdir -p "$TMP/circle"
printf '%s\n' 'int fb(void);' 'int fa(void) { return fb(); }' >"$TMP/circle/a.c"
printf '%s\n' 'int fa(void);' 'int fb(void) { return fa(); }' >"$TMP/circle/b.c"
printf '%s\n' 'static int fa(void) { return 1; }' '/* fb() */' 'int fc(void) { return fa() + (int)sizeof "fb()"; }' \
	>"$TMP/circle/c.c"
out=$("$PY" tests/tools/include_graph.py "$TMP/circle" 2>&1)
rc=$?
[ $rc = 1 ] && printf '%s\n' "$out" | grep -qx 'circle: a.c -> b.c; b.c -> a.c' && printf '%s\n' "$out" | grep -qx 'c.c: ' &&
	ok docs/import-circle-found || fail docs/import-circle-found "exit $rc: $out"

finish
